/** Breaker probing: quick first probe, growing waits for long outages, jitter, and callers woken at the probe. */
import { Breaker, isBreakerOpenError, probeWaitMs, type BreakerState } from '../../src/sinks/breaker';
import { retryDelayMs } from '../../src/sinks/http';

describe('probe waits', () => {
  test('every resetTimeoutMs for the first probes, then x1.5 per failed probe, capped', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 20].map((n) => Math.round(probeWaitMs(1000, 30_000, n)))).toEqual([1000, 1000, 1000, 1000, 1000, 1500, 2250, 3375, 5063, 25629, 30000]);
    expect(probeWaitMs(5000, 1000, 3)).toBe(5000); // the cap is never below the first wait
  });

  test('retry waits are spread between half and all of the backoff (not lockstep)', () => {
    expect([0, 0.5, 1].map((r) => retryDelayMs(200, () => r))).toEqual([100, 150, 200]);
    const draws = Array.from({ length: 50 }, () => retryDelayMs(1000));
    expect(new Set(draws.map((d) => Math.floor(d / 50))).size).toBeGreaterThan(5);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...draws)).toBeLessThanOrEqual(1000);
  });
});

describe('Breaker', () => {
  test('an output down for several probes: waits grow (with jitter); one success closes and resets them', async () => {
    let up = false;
    const b = new Breaker('out', async () => {
      if (!up) throw new Error('down');
    }, { timeoutMs: false, errorThresholdPercentage: 50, resetTimeoutMs: 100, volumeThreshold: 1, maxResetTimeoutMs: 1000 }, () => 0.5);
    const states: [BreakerState, number][] = [];
    const t0 = Date.now();
    b.onState = (_n, s) => states.push([s, Date.now() - t0]);
    await expect(b.fire()).rejects.toThrow('down');
    expect(b.state).toBe('open');
    const refused = await b.fire().catch((e) => e);
    expect(isBreakerOpenError(refused)).toBe(true);
    // seven failed probes
    for (let i = 0; i < 7; i++) {
      await b.whenUsable();
      expect(b.state).toBe('halfOpen');
      await expect(b.fire()).rejects.toThrow('down');
    }
    expect(b.failedProbes).toBe(7);
    expect(b.resetTimeoutMs).toBe(338); // 100 * 1.5^3, jitter factor 1.0 here
    up = true;
    await b.whenUsable();
    await b.fire();
    expect(b.state).toBe('closed');
    expect(b.failedProbes).toBe(0);
    const halfOpens = states.filter(([s]) => s === 'halfOpen').map(([, ms]) => ms);
    const opens = states.filter(([s]) => s === 'open').map(([, ms]) => ms);
    const waits = halfOpens.map((h, i) => h - opens[i]);
    // timers fire a little late, never early
    expect(waits.length).toBe(8);
    [100, 100, 100, 100, 100, 150, 225, 338].forEach((w, i) => {
      expect(waits[i]).toBeGreaterThanOrEqual(w - 5);
      expect(waits[i]).toBeLessThan(w + 150);
    });
    b.shutdown();
  });

  test('jitter: the first probe wait is drawn within ±20 % of resetTimeoutMs', async () => {
    const seen: number[] = [];
    for (const r of [0, 1]) {
      const b = new Breaker('j', async () => {
        throw new Error('x');
      }, { timeoutMs: false, errorThresholdPercentage: 50, resetTimeoutMs: 1000, volumeThreshold: 1 }, () => r);
      await b.fire().catch(() => {});
      seen.push(b.resetTimeoutMs);
      b.shutdown();
    }
    expect(seen).toEqual([800, 1200]);
  });
});
