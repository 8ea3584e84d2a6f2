/**
 * Circuit breakers (opossum) around sinks. While a breaker is open, calls fail
 * fast; after `resetTimeoutMs` it lets one probe through (half-open) and closes
 * on success. The pipeline reacts to state changes: open → pause every assigned
 * partition (backpressure to Kafka, not to memory); closed → resume. Callers
 * retry failed deliveries; nothing here drops an alert.
 */
import CircuitBreaker from 'opossum';
import type { Priority } from '../language/priority';
import type { AlertSink, OutgoingAlert } from './types';

export type BreakerState = 'closed' | 'open' | 'halfOpen';

export interface BreakerOptions {
  timeoutMs: number | false;
  errorThresholdPercentage: number;
  resetTimeoutMs: number;
  volumeThreshold: number;
}

/** A guarded async function with a readable state and one state listener. */
export class Breaker<A extends unknown[], R> {
  private readonly cb: CircuitBreaker<A, R>;
  state: BreakerState = 'closed';
  onState: (name: string, state: BreakerState) => void = () => {};

  constructor(readonly name: string, fn: (...args: A) => Promise<R>, opts: BreakerOptions) {
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
    };
    this.cb.on('open', () => set('open'));
    this.cb.on('halfOpen', () => set('halfOpen'));
    this.cb.on('close', () => set('closed'));
  }

  fire(...args: A): Promise<R> {
    return this.cb.fire(...args);
  }

  shutdown(): void {
    this.cb.shutdown();
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
