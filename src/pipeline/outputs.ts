/**
 * The output set: one fan-out for every input. Each output (Kafka topic,
 * HTTP/falcosidekick, file, stdout) receives its selection of a job's alerts
 * through its own circuit breaker; undecodable payloads go to the dead-letter
 * topic. `deliver` resolves only when every output took its share, so the
 * caller acknowledges (Kafka commit, HTTP 200) only delivered work.
 *
 * A failed send is retried with jittered backoff (never in lockstep), never
 * dropped. Kafka inputs wait as long as it takes (their partitions are paused
 * while a breaker is open, so waiting costs no memory); webhook requests pass
 * a deadline and fail fast while a needed output's breaker is open, so the
 * sender gets a 503 in time to retry. A shutdown that runs out of time sets
 * `aborted`: retries end with `Aborted` and nothing is acknowledged.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics';
import type { Breaker, BreakerState } from '../sinks/breaker';
import type { DeadLetter } from '../sinks/kafka';
import type { AlertSink, OutgoingAlert } from '../sinks/types';
import type { CorrelationRecord } from './correlation-topic';
import type { AlertPredicate } from './selection';

export class Aborted extends Error {
  constructor() {
    super('delivery aborted by shutdown');
  }
}

/** Delivery did not finish in time (webhook): the caller answers 503 and the sender retries. */
export class DeliveryFailed extends Error {
  constructor(readonly output: string, cause: string) {
    super(`output ${output}: ${cause}`);
  }
}

export interface JobOutput {
  alerts: OutgoingAlert[];
  letters: DeadLetter[];
  /** Correlation mode kafka: the prepared base-rule matches, for the internal topic (delivered with the alerts). */
  correlation?: CorrelationRecord[];
}

/** One configured output: where alerts go, which ones, and its breaker. */
export interface Output {
  name: string;
  select: AlertPredicate;
  /** The guarded send (through `breaker`). */
  send(alerts: OutgoingAlert[]): Promise<void>;
  breaker: { readonly state: BreakerState };
  close(): Promise<void>;
}

export interface DeliverOptions {
  /** Epoch ms after which delivery gives up with DeliveryFailed (and an open breaker fails at once). */
  deadline?: number;
  /** Only these outputs (default all). */
  only?: (o: Output) => boolean;
  /** Send dead letters too (default true). */
  letters?: boolean;
}

/** Where correlation mode kafka sends a job's prepared matches (the internal topic; resolves once acknowledged). */
export type CorrelationSink = (records: CorrelationRecord[]) => Promise<void>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Backoff before retry `attempt`: exponential to 2 s, jittered ±50 % so outputs and jobs do not retry in lockstep. */
export function retryDelay(attempt: number, random = Math.random): number {
  return Math.round(Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)) * (0.5 + random()));
}

export class OutputSet {
  /** Set when shutdown gives up: retry loops end with Aborted. */
  aborted = false;
  /** Correlation mode kafka (at_least_once): a job's prepared matches are delivered with its alerts. */
  correlationSink: CorrelationSink | undefined;

  constructor(
    readonly outputs: Output[],
    private readonly deadLetters: Breaker<[DeadLetter[]], void> | undefined,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** Names of outputs whose breaker is not closed. */
  notClosed(): { name: string; state: BreakerState }[] {
    const all = [...this.outputs.map((o) => ({ name: o.name, state: o.breaker.state })), ...(this.deadLetters ? [{ name: 'dead_letters', state: this.deadLetters.state }] : [])];
    return all.filter((b) => b.state !== 'closed');
  }

  async deliver(out: JobOutput, opts: DeliverOptions = {}): Promise<void> {
    const work: Promise<void>[] = [];
    for (const o of this.outputs) {
      if (opts.only && !opts.only(o)) continue;
      const share = out.alerts.filter(o.select);
      if (share.length === 0) continue;
      if (opts.deadline !== undefined && o.breaker.state === 'open') throw new DeliveryFailed(o.name, 'unavailable (breaker open)');
      work.push(this.retry(o.name, () => o.send(share), opts.deadline).then(() => void this.metrics.outputAlerts.inc({ output: o.name }, share.length)));
    }
    if (opts.letters !== false && out.letters.length > 0) work.push(this.sendLetters(out.letters, opts.deadline));
    const sink = this.correlationSink;
    if (sink && out.correlation?.length) work.push(this.retry('correlation', () => sink(out.correlation!), opts.deadline));
    await Promise.all(work);
  }

  /** Call `fn` until it resolves (or the deadline passes); logs the first failure and every 10th. */
  async retry(name: string, fn: () => Promise<void>, deadline?: number): Promise<void> {
    let cause = 'unavailable (breaker open)';
    for (let attempt = 0; ; attempt++) {
      if (this.aborted) throw new Aborted();
      try {
        await (deadline === undefined ? fn() : withDeadline(fn(), deadline, name));
        if (attempt > 0) this.logger.info({ output: name, attempts: attempt + 1 }, 'delivery succeeded after retries');
        return;
      } catch (e) {
        if (this.aborted) throw new Aborted();
        if (e instanceof DeliveryFailed) throw e;
        const open = (e as { code?: string }).code === 'EOPENBREAKER';
        if (!open) {
          this.metrics.outputFailures.inc({ output: name });
          cause = (e as Error).message;
        }
        if (attempt === 0 || attempt % 10 === 0) this.logger.warn({ output: name, attempt: attempt + 1, err: (e as Error).message }, open ? 'output breaker open; delivery waits' : 'output delivery failed; retrying');
        const wait = retryDelay(attempt);
        // A caller with a deadline (a webhook sender) is better served by a prompt 503 than by waiting for a probe.
        if (deadline !== undefined && (open || Date.now() + wait >= deadline)) throw new DeliveryFailed(name, cause);
        await sleep(wait);
      }
    }
  }

  private async sendLetters(letters: DeadLetter[], deadline?: number): Promise<void> {
    const input = (l: DeadLetter) => l.origin.input ?? l.origin.topic ?? 'unknown';
    if (!this.deadLetters) {
      // No dead-letter topic configured: never silent, every one is logged and counted.
      for (const l of letters) {
        this.logger.error({ ...l.origin, reason: l.reason }, 'undecodable input (no dead_letters topic configured)');
        this.metrics.deadLettersUnrouted.inc({ input: input(l) });
      }
      return;
    }
    const dlq = this.deadLetters;
    await this.retry('dead_letters', () => dlq.fire(letters), deadline);
    for (const l of letters) this.metrics.deadLetters.inc({ input: input(l) });
  }

  async close(): Promise<void> {
    this.deadLetters?.shutdown();
    await Promise.allSettled(this.outputs.map((o) => o.close()));
  }
}

function withDeadline<T>(p: Promise<T>, deadline: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeliveryFailed(name, 'did not answer in time')), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
