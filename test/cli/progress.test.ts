import { PassThrough } from 'node:stream';
import { ProgressLine } from '../../src/cli/progress';

function terminal(isTTY: boolean) {
  const s = new PassThrough() as PassThrough & { isTTY?: boolean };
  s.isTTY = isTTY;
  let text = '';
  s.on('data', (d) => (text += d));
  return { stream: s, text: () => text };
}

describe('the progress line of kestrel run', () => {
  test('on a terminal: events, rate over the last interval, rejected, alerts; erased on stop', async () => {
    const t = terminal(true);
    const counts = { events: 0, rejected: 0, alerts: 0 };
    let now = 1_000;
    const p = new ProgressLine(t.stream, () => counts, { intervalMs: 20, now: () => now });
    expect(p.active).toBe(true);
    counts.events = 5000;
    counts.alerts = 7;
    now += 2_000;
    p.tick();
    counts.events = 8000;
    counts.rejected = 1;
    now += 1_000;
    p.tick();
    p.clear();
    p.clear();
    p.stop();
    await new Promise((r) => setImmediate(r));
    expect(t.text()).toBe(
      '\r\x1b[Kkestrel: 5000 events, 2500 events/s, 0 rejected, 7 alerts' +
      '\r\x1b[Kkestrel: 8000 events, 3000 events/s, 1 rejected, 7 alerts' +
      '\r\x1b[K',
    );
  });

  test('the timer draws the line about every interval', async () => {
    const t = terminal(true);
    const p = new ProgressLine(t.stream, () => ({ events: 1, rejected: 0, alerts: 0 }), { intervalMs: 10 });
    const draws = () => t.text().split('kestrel: 1 events').length - 1;
    // Polled rather than timed: on a loaded machine timers fire late, not early.
    for (let waited = 0; draws() < 2 && waited < 5_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    p.stop();
    expect(draws()).toBeGreaterThanOrEqual(2);
  });

  test('not a terminal: nothing, ever', async () => {
    const t = terminal(false);
    const p = new ProgressLine(t.stream, () => ({ events: 1, rejected: 0, alerts: 0 }), { intervalMs: 5 });
    expect(p.active).toBe(false);
    await new Promise((r) => setTimeout(r, 30));
    p.stop();
    expect(t.text()).toBe('');
  });
});
