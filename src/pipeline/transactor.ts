/**
 * exactly_once for Kafka inputs: jobs are queued in evaluation order and
 * flushed in Kafka transactions holding their alerts for the Kafka output, their
 * dead letters and the consumed offsets (sendOffsets), so a read_committed
 * reader sees each alert once. Other outputs (stdout, file, HTTP) are delivered
 * at least once, before the transaction that commits the offsets.
 */
import type { Producer } from 'kafkajs';
import type { KafkaOutputConfig } from '../config/types';
import type { Metrics } from '../observability/metrics';
import { Breaker, type BreakerOptions } from '../sinks/breaker';
import { alertMessage, deadLetterMessage } from '../sinks/kafka';
import type { JobOutput, OutputSet } from './outputs';
import { alertFilter } from './selection';

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
  private readonly select: (a: JobOutput['alerts'][number]) => boolean;

  constructor(
    private readonly producer: Producer,
    private readonly groupId: string,
    /** The Kafka output, written inside the transactions (the output set skips it). */
    private readonly output: KafkaOutputConfig,
    private readonly dlqTopic: string | undefined,
    private readonly outputs: OutputSet,
    private readonly metrics: Metrics,
    breakerOpts: BreakerOptions,
  ) {
    // No opossum timeout here: a transaction still running must not be retried concurrently.
    this.select = alertFilter(output);
    this.breaker = new Breaker(output.name, (batch: Queued[]) => this.transact(batch), { ...breakerOpts, timeoutMs: false });
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
        // Without a dead-letter topic, dead letters are logged and counted by the output set instead.
        const letters = this.dlqTopic ? [] : batch.flatMap((q) => q.out.letters);
        await this.outputs.deliver({ alerts: batch.flatMap((q) => q.out.alerts), letters }, { only: (o) => o.name !== this.output.name, letters: !this.dlqTopic });
        await this.outputs.retry(this.output.name, () => this.breaker.fire(batch));
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
    const alerts = batch.flatMap((q) => q.out.alerts).filter(this.select);
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
    if (this.dlqTopic) for (const l of letters) this.metrics.deadLetters.inc({ input: l.origin.topic ?? 'unknown' });
  }
}
