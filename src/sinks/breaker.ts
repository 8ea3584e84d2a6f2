/**
 * Circuit breakers (opossum) around sinks. While a breaker is open, calls fail
 * fast; after a reset wait it lets one probe through (half-open) and closes
 * on success. The pipeline reacts to state changes: open → pause every assigned
 * partition (backpressure to Kafka, not to memory); closed → resume. Callers
 * retry failed deliveries; nothing here drops an alert.
 *
 * Recovery is noticed quickly and without hammering a long-dead output: the
 * first probes come every `resetTimeoutMs` (default 1 s); after
 * FAST_PROBES failed ones (a short outage is over by then) each wait is 1.5
 * times the previous, up to `maxResetTimeoutMs` (default 30 s); a success
 * starts again from `resetTimeoutMs`. Every wait is
 * jittered (±20 %) so breakers of several processes do not probe in step.
 * `whenUsable()` lets a retrying caller wake at the probe instead of sleeping
 * a blind backoff.
 */
import CircuitBreaker from 'opossum';
import type { Priority } from '../language/priority';
import type { AlertSink, OutgoingAlert } from './types';

export type BreakerState = 'closed' | 'open' | 'halfOpen';

export interface BreakerOptions {
  timeoutMs: number | false;
  errorThresholdPercentage: number;
  /** Wait before the first half-open probe after opening. */
  resetTimeoutMs: number;
  volumeThreshold: number;
  /** Cap of the probe wait, which grows x1.5 per failed probe after the first few. Default 30000 (at least resetTimeoutMs). */
  maxResetTimeoutMs?: number;
}

/** Failed probes after which the probe wait starts growing. */
export const FAST_PROBES = 5;

/** The wait before probe number `failedProbes + 1`, before jitter. */
export function probeWaitMs(resetTimeoutMs: number, maxResetTimeoutMs: number, failedProbes: number): number {
  return Math.min(Math.max(resetTimeoutMs, maxResetTimeoutMs), resetTimeoutMs * 1.5 ** Math.max(0, failedProbes - FAST_PROBES + 1));
}

/** The rejection of a call while the breaker is open (or half-open with its probe under way). */
export function isBreakerOpenError(e: unknown): boolean {
  return (e as { code?: unknown })?.code === 'EOPENBREAKER';
}

/** A guarded async function with a readable state and one state listener. */
export class Breaker<A extends unknown[], R> {
  private readonly cb: CircuitBreaker<A, R>;
  state: BreakerState = 'closed';
  onState: (name: string, state: BreakerState) => void = () => {};
  /** Probes that failed since the breaker last closed. */
  failedProbes = 0;
  /** The current wait before the next probe (jittered), for logs and tests. */
  resetTimeoutMs: number;
  private waiters: (() => void)[] = [];

  constructor(readonly name: string, fn: (...args: A) => Promise<R>, private readonly opts: BreakerOptions, private readonly random: () => number = Math.random) {
    this.resetTimeoutMs = opts.resetTimeoutMs;
    this.cb = new CircuitBreaker(fn, {
      name,
      timeout: opts.timeoutMs,
      errorThresholdPercentage: opts.errorThresholdPercentage,
      resetTimeout: opts.resetTimeoutMs,
      volumeThreshold: opts.volumeThreshold,
      rollingCountTimeout: 10_000,
    });
    const set = (s: BreakerState) => {
      this.state = s;
      this.onState(name, s);
      if (s !== 'open') this.wake();
    };
    // Runs before opossum's own 'open' listener, which starts the reset timer with options.resetTimeout.
    this.cb.prependListener('open', () => {
      this.failedProbes = this.state === 'halfOpen' ? this.failedProbes + 1 : 0;
      const wait = probeWaitMs(opts.resetTimeoutMs, opts.maxResetTimeoutMs ?? 30_000, this.failedProbes);
      this.resetTimeoutMs = Math.max(1, Math.round(wait * (0.8 + 0.4 * this.random())));
      (this.cb as unknown as { options: { resetTimeout: number } }).options.resetTimeout = this.resetTimeoutMs;
    });
    this.cb.on('open', () => set('open'));
    this.cb.on('halfOpen', () => set('halfOpen'));
    this.cb.on('close', () => {
      this.failedProbes = 0;
      set('closed');
    });
  }

  fire(...args: A): Promise<R> {
    return this.cb.fire(...args);
  }

  /**
   * Resolves at once when closed; otherwise at the next half-open (a probe may
   * go) or close. A caller refused while a probe is under way waits for its outcome.
   */
  whenUsable(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  shutdown(): void {
    this.cb.shutdown();
    this.wake();
  }
}

/** An AlertSink whose `send` goes through a breaker. */
export class BreakerSink implements AlertSink {
  readonly breaker: Breaker<[OutgoingAlert[]], void>;

  constructor(readonly sink: AlertSink, opts: BreakerOptions) {
    this.breaker = new Breaker(sink.name, (alerts: OutgoingAlert[]) => sink.send(alerts), opts);
  }

  get name(): string {
    return this.sink.name;
  }

  get minPriority(): Priority {
    return this.sink.minPriority;
  }

  send(alerts: OutgoingAlert[]): Promise<void> {
    return this.breaker.fire(alerts);
  }

  async close(): Promise<void> {
    this.breaker.shutdown();
    await this.sink.close();
  }
}
