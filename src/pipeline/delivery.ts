/**
 * Delivering one job's output (alerts to every sink at or above its minimum
 * priority, undecodable messages to the dead-letter topic) until it succeeds.
 * A failed send is retried with backoff, never dropped: while a sink is down
 * its breaker is open and the pipeline pauses the partitions, so retries are
 * cheap and memory stays bounded. Only a shutdown that runs out of time stops
 * retrying (`Aborted`), and then the job's offsets are not committed.
 *
 * exactly_once (Transactor): jobs are queued in evaluation order and flushed in
 * Kafka transactions holding their alerts, their dead letters and the consumed
 * offsets (sendOffsets), so a read_committed reader sees each alert once.
 */
import type { Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { atLeast } from '../language/priority';
import { Breaker, type BreakerSink } from '../sinks/breaker';
import { alertMessage, deadLetterMessage, type DeadLetter, type KafkaDeadLetters } from '../sinks/kafka';
import type { OutgoingAlert } from '../sinks/types';
import type { AlertKey } from '../config/types';
import type { Metrics } from '../observability/metrics';

export class Aborted extends Error {
  constructor() {
    super('delivery aborted by shutdown');
  }
}

export interface JobOutput {
  alerts: OutgoingAlert[];
  letters: DeadLetter[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Deliverer {
  /** Set when shutdown gives up: retry loops end with Aborted. */
  aborted = false;

  constructor(
    private readonly sinks: BreakerSink[],
    private readonly dlq: Breaker<[DeadLetter[]], void> | undefined,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** Call `fn` until it resolves; logs the first failure and every 10th. */
  async retry(sink: string, fn: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.aborted) throw new Aborted();
      try {
        await fn();
        if (attempt > 0) this.logger.info({ sink, attempts: attempt + 1 }, 'delivery succeeded after retries');
        return;
      } catch (e) {
        if (this.aborted) throw new Aborted();
        const open = (e as { code?: string }).code === 'EOPENBREAKER';
        if (!open) this.metrics.sinkFailures.inc({ sink });
        if (attempt === 0 || attempt % 10 === 0) this.logger.warn({ sink, attempt: attempt + 1, err: (e as Error).message }, open ? 'sink breaker open; delivery waits' : 'sink delivery failed; retrying');
        await sleep(Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  /** Alerts to the given sinks (all by default), dead letters to the DLQ. */
  async deliver(out: JobOutput, sinks: BreakerSink[] = this.sinks, withLetters = true): Promise<void> {
    const work: Promise<void>[] = [];
    for (const s of sinks) {
      const selected = out.alerts.filter((a) => atLeast(a.alert.priority, s.minPriority));
      if (selected.length > 0) work.push(this.retry(s.name, () => s.send(selected)));
    }
    if (withLetters && out.letters.length > 0) work.push(this.deadLetters(out.letters));
    await Promise.all(work);
  }

  private async deadLetters(letters: DeadLetter[]): Promise<void> {
    if (!this.dlq) {
      // No DLQ configured: never silent, every one is logged and counted.
      for (const l of letters) {
        this.logger.error({ ...l.origin, reason: l.reason }, 'undecodable message (no dlq.topic configured)');
        this.metrics.dropped.inc({ topic: l.origin.topic });
      }
      return;
    }
    const dlq = this.dlq;
    await this.retry('dlq', () => dlq.fire(letters));
    for (const l of letters) this.metrics.dlqSends.inc({ topic: l.origin.topic });
  }
}

/** The dead-letter producer behind a breaker. */
export function dlqBreaker(dlq: KafkaDeadLetters, opts: ConstructorParameters<typeof Breaker>[2]): Breaker<[DeadLetter[]], void> {
  return new Breaker('dlq', (letters: DeadLetter[]) => dlq.send(letters), opts);
}

interface Queued {
  out: JobOutput;
  topic: string;
  partition: number;
  /** One past the job's last offset: what the transaction commits for its partition. */
  next: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class Transactor {
  private queue: Queued[] = [];
  private flushing: Promise<void> | undefined;
  readonly breaker: Breaker<[Queued[]], void>;

  constructor(
    private readonly producer: Producer,
    private readonly groupId: string,
    private readonly output: { topic: string; key: AlertKey; minPriority: import('../language/priority').Priority },
    private readonly dlqTopic: string | undefined,
    /** stdout / file: delivered (at least once) before the transaction that commits the offsets. */
    private readonly otherSinks: BreakerSink[],
    private readonly deliverer: Deliverer,
    private readonly metrics: Metrics,
    breakerOpts: ConstructorParameters<typeof Breaker>[2],
  ) {
    // No opossum timeout here: a transaction still running must not be retried concurrently.
    this.breaker = new Breaker('kafka', (batch: Queued[]) => this.transact(batch), { ...breakerOpts, timeoutMs: false });
  }

  /** Resolves once the job's alerts and offsets are committed in a transaction. */
  submit(out: JobOutput, topic: string, partition: number, next: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ out, topic, partition, next, resolve, reject });
      this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
    });
  }

  /** Waits for queued work (used by shutdown). */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        // Without a DLQ topic, dead letters are logged and counted by the deliverer instead.
        const letters = this.dlqTopic ? [] : batch.flatMap((q) => q.out.letters);
        await this.deliverer.deliver({ alerts: batch.flatMap((q) => q.out.alerts), letters }, this.otherSinks, !this.dlqTopic);
        await this.deliverer.retry('kafka', () => this.breaker.fire(batch));
        for (const q of batch) q.resolve();
      } catch (e) {
        for (const q of batch) q.reject(e as Error);
      }
    }
  }

  private async transact(batch: Queued[]): Promise<void> {
    const offsets = new Map<string, Map<number, number>>();
    for (const q of batch) {
      const parts = offsets.get(q.topic) ?? new Map<number, number>();
      parts.set(q.partition, Math.max(parts.get(q.partition) ?? 0, q.next));
      offsets.set(q.topic, parts);
    }
    const alerts = batch.flatMap((q) => q.out.alerts).filter((a) => atLeast(a.alert.priority, this.output.minPriority));
    const letters = batch.flatMap((q) => q.out.letters);
    const txn = await this.producer.transaction();
    try {
      if (alerts.length > 0) await txn.send({ topic: this.output.topic, acks: -1, messages: alerts.map((a) => alertMessage(a, this.output.key)) });
      if (letters.length > 0 && this.dlqTopic) await txn.send({ topic: this.dlqTopic, acks: -1, messages: letters.map(deadLetterMessage) });
      await txn.sendOffsets({
        consumerGroupId: this.groupId,
        topics: [...offsets].map(([topic, parts]) => ({ topic, partitions: [...parts].map(([partition, offset]) => ({ partition, offset: String(offset) })) })),
      });
      await txn.commit();
    } catch (e) {
      await txn.abort().catch(() => {});
      throw e;
    }
    this.metrics.commits.inc({ result: 'ok' });
    if (this.dlqTopic) for (const l of letters) this.metrics.dlqSends.inc({ topic: l.origin.topic });
  }
}
