/** The output set with fake outputs: shares, retries, deadlines, open breakers, dead letters. */
import pino from 'pino';
import { Metrics } from '../../src/observability/metrics';
import { DeliveryFailed, OutputSet, retryDelay, type Output } from '../../src/pipeline/outputs';
import { alertFilter } from '../../src/pipeline/selection';
import type { BreakerState } from '../../src/sinks/breaker';
import type { OutgoingAlert } from '../../src/sinks/types';
import { makeAlert } from '../sinks/helpers';

class FakeOutput implements Output {
  received: string[] = [];
  failures = 0;
  breaker: { state: BreakerState } = { state: 'closed' };
  constructor(readonly name: string, readonly select = alertFilter({})) {}
  async send(alerts: OutgoingAlert[]): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error(`${this.name} down`);
    }
    this.received.push(...alerts.map((a) => a.alert.rule));
  }
  async close(): Promise<void> {}
}

const alerts = [
  makeAlert(1, { rule: 'Exec', priority: 'Notice', tags: ['exec'] }),
  makeAlert(2, { rule: 'Secret', priority: 'Warning', tags: ['secrets'] }),
];
const silent = pino({ level: 'silent' });

describe('OutputSet', () => {
  test('each output gets its selection; retries until delivered; counts per output', async () => {
    const metrics = new Metrics(false);
    const all = new FakeOutput('all');
    const warn = new FakeOutput('warn', alertFilter({ minPriority: 'Warning' }));
    all.failures = 2;
    await new OutputSet([all, warn], undefined, silent, metrics).deliver({ alerts, letters: [] });
    expect(all.received).toEqual(['Exec', 'Secret']);
    expect(warn.received).toEqual(['Secret']);
    const text = await metrics.registry.metrics();
    expect(text).toContain('kestrel_output_failures_total{output="all"} 2');
    expect(text).toContain('kestrel_output_alerts_total{output="all"} 2');
    expect(text).toContain('kestrel_output_alerts_total{output="warn"} 1');
  });

  test('with a deadline, an open breaker fails at once and a down output fails in time', async () => {
    const down = new FakeOutput('down');
    down.breaker.state = 'open';
    const set = new OutputSet([down], undefined, silent, new Metrics(false));
    await expect(set.deliver({ alerts, letters: [] }, { deadline: Date.now() + 5_000 })).rejects.toThrow(new DeliveryFailed('down', 'unavailable (breaker open)'));
    down.breaker.state = 'closed';
    down.failures = 1_000;
    const started = Date.now();
    await expect(set.deliver({ alerts, letters: [] }, { deadline: Date.now() + 300 })).rejects.toBeInstanceOf(DeliveryFailed);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test('without a dead-letter topic, letters are logged and counted, never silent', async () => {
    const metrics = new Metrics(false);
    await new OutputSet([], undefined, silent, metrics).deliver({ alerts: [], letters: [{ value: null, reason: 'invalid JSON', origin: { input: 'file', line: 3 } }] });
    expect(await metrics.registry.metrics()).toContain('kestrel_dead_letters_unrouted_total{input="file"} 1');
  });

  test('retry delays grow to 2 s and are jittered ±50 %', () => {
    expect([0, 1, 5, 10].map((a) => retryDelay(a, () => 0.5))).toEqual([50, 100, 1600, 2000]);
    expect(retryDelay(10, () => 0)).toBe(1000);
    expect(retryDelay(10, () => 0.999)).toBe(2998);
  });
});
