/**
 * exactly_once for Kafka inputs, one transactional producer per input
 * partition (the zombie-fencing pattern Kafka Streams used before KIP-447).
 *
 * Jobs are queued per partition in evaluation order and flushed in that
 * partition's own Kafka transactions, holding their alerts for the Kafka
 * output, their dead letters and the partition's consumed offset
 * (sendOffsets), so a read_committed reader sees each alert once. When the
 * partition moves to another consumer, the new owner's producer (same
 * transactional id) fences ours: our open transaction is aborted, every later
 * one fails with INVALID_PRODUCER_EPOCH, and the jobs still queued here are
 * dropped uncommitted (Fenced, an Aborted: not a pipeline failure) for the new
 * owner to re-read. Other outputs (stdout, file, HTTP) are delivered at least
 * once, before the transaction that commits the offsets.
 *
 * A job carries the assignment token of the partition when it was read
 * (`token()`). A partition revoked and assigned back to this process while one
 * of its jobs was still being evaluated gets a new token: the late job is
 * dropped uncommitted (Fenced), as the new assignment re-reads its messages;
 * committing it with the new producer would write its alerts twice.
 *
 * The cost: one producer (its own broker connections) and one transaction
 * coordinator entry per partition this process was assigned. A revoked
 * partition's producer is closed once its queue has drained and no job came
 * for `lingerMs` (jobs still being evaluated when the partition was revoked).
 */
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaOutputConfig } from '../config/types';
import type { Metrics } from '../observability/metrics';
import { Breaker, type BreakerOptions } from '../sinks/breaker';
import { alertMessage, deadLetterMessage } from '../sinks/kafka';
import type { AlertOrigin } from '../sinks/types';
import { inputMessage } from './correlation-topic';
import { Fenced, isFenced } from './fencing';
import type { JobOutput, OutputSet } from './outputs';
import { PartitionTxn, transactionalId, type PartitionProducers, type Queued, type Txn } from './partition-txn';
import { renderer } from './output-factory';
import { alertFilter } from './selection';

export { transactionalId } from './partition-txn';

type Outcome = 'committed' | 'fenced' | 'revoked';

export interface TransactorOptions {
  groupId: string;
  /** Stable prefix of the transactional ids (delivery.transactional_id). */
  prefix: string;
  /** The Kafka output, written inside the transactions (the output set skips it). */
  output: KafkaOutputConfig;
  dlqTopic: string | undefined;
  outputs: OutputSet;
  metrics: Metrics;
  breaker: BreakerOptions;
  producers: PartitionProducers;
  logger?: Logger;
  /** Correlation mode kafka: the internal topic the jobs' prepared matches are written to, inside the same transaction. */
  correlationTopic?: string;
  /** How long a revoked partition's drained producer waits for late jobs before it is closed (default 5 s). */
  lingerMs?: number;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class Transactor {
  /** The Kafka output's breaker, shared by every partition's transactions (readiness, pause). */
  readonly breaker: Breaker<[PartitionTxn, Queued[]], Outcome>;
  private readonly parts = new Map<string, PartitionTxn>();
  private readonly select: (a: JobOutput['alerts'][number]) => boolean;
  /** The output's payload format (OCSF, ECS, include_event), as for every other output. */
  private readonly render: ReturnType<typeof renderer>;
  private readonly lingerMs: number;
  private generations = 0;

  constructor(private readonly o: TransactorOptions) {
    this.select = alertFilter(o.output);
    this.render = renderer(o.output);
    this.lingerMs = o.lingerMs ?? 5_000;
    // No opossum timeout here: a transaction still running must not be retried concurrently.
    this.breaker = new Breaker(o.output.name, (st: PartitionTxn, batch: Queued[]) => this.transact(st, batch), { ...o.breaker, timeoutMs: false });
  }

  /** The partition's current assignment token: a job read now is submitted with it. */
  token(topic: string, partition: number): number {
    return this.part(topic, partition).generation;
  }

  /**
   * Resolves once the job's alerts and offset are committed in its partition's transaction; rejects with Fenced when it was dropped.
   * `token` (from token() when the job was read): a job of an earlier assignment of the partition is dropped.
   */
  submit(out: JobOutput, topic: string, partition: number, next: number, token?: number): Promise<void> {
    const st = this.part(topic, partition);
    if (token !== undefined && token !== st.generation) return Promise.reject(new Fenced(topic, partition, 'was assigned again since the job was read'));
    if (st.fenced) return Promise.reject(new Fenced(topic, partition, 'was fenced by its new owner'));
    if (st.revoked && !st.hasProducer) return Promise.reject(new Fenced(topic, partition, 'is no longer assigned'));
    return new Promise((resolve, reject) => {
      st.queue.push({ out, next, resolve, reject });
      this.kick(st);
    });
  }

  /** Start the partition's flush loop unless it runs; a job queued while the loop was ending restarts it. */
  private kick(st: PartitionTxn): void {
    if (st.flushing) return;
    st.flushing = this.flush(st).finally(() => {
      st.flushing = undefined;
      if (st.queue.length > 0) this.kick(st);
    });
  }

  /** Waits for queued work (used by shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const busy = [...this.parts.values()].map((st) => st.flushing).filter((f): f is Promise<void> => f !== undefined);
      if (busy.length === 0) return;
      await Promise.allSettled(busy);
    }
  }

  /**
   * The consumer group gave this process a new assignment (for the input
   * reading `topics`): producers of partitions no longer assigned are closed
   * once drained; a partition assigned again after it was revoked or fenced
   * starts over with a new producer, which fences whoever had it meanwhile.
   */
  assigned(topics: readonly string[], assignment: Record<string, number[]>): void {
    const now = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => key(t, p))));
    for (const [k, st] of this.parts) {
      if (!topics.includes(st.topic)) continue;
      if (!now.has(k)) {
        if (!st.revoked) this.retire(st);
      } else if (st.revoked || st.fenced) {
        this.retire(st);
        this.parts.set(k, this.fresh(st.topic, st.partition));
      }
    }
  }

  /** Producers currently open (one per partition with work since its assignment). */
  get openProducers(): number {
    let n = 0;
    for (const st of this.parts.values()) if (st.hasProducer) n++;
    return n;
  }

  /** Close every producer (after idle(), at shutdown). */
  async close(): Promise<void> {
    this.breaker.shutdown();
    const all = [...this.parts.values()];
    for (const st of all) if (st.retireTimer) clearTimeout(st.retireTimer);
    await Promise.allSettled(all.map((st) => st.discard()));
  }

  private part(topic: string, partition: number): PartitionTxn {
    const k = key(topic, partition);
    let st = this.parts.get(k);
    if (!st) {
      st = this.fresh(topic, partition);
      this.parts.set(k, st);
    }
    return st;
  }

  private fresh(topic: string, partition: number): PartitionTxn {
    return new PartitionTxn(topic, partition, transactionalId(this.o.prefix, topic, partition), this.o.producers, ++this.generations);
  }

  /** A revoked partition: its queued work still commits, then its producer is closed. The entry stays so late jobs are refused. */
  private retire(st: PartitionTxn): void {
    st.revoked = true;
    const check = () => {
      st.retireTimer = undefined;
      if (st.busy) {
        st.retireTimer = setTimeout(check, this.lingerMs);
        st.retireTimer.unref();
        return;
      }
      if (st.hasProducer) this.o.logger?.info({ transactionalId: st.transactionalId }, 'partition revoked: transactional producer closed');
      void st.discard();
    };
    if (st.retireTimer) clearTimeout(st.retireTimer);
    st.retireTimer = setTimeout(check, this.lingerMs);
    st.retireTimer.unref();
  }

  private async flush(st: PartitionTxn): Promise<void> {
    const { outputs, output, dlqTopic } = this.o;
    while (st.queue.length > 0) {
      const batch = st.queue;
      st.queue = [];
      try {
        // Without a dead-letter topic, dead letters are logged and counted by the output set instead.
        const letters = dlqTopic ? [] : batch.flatMap((q) => q.out.letters);
        await outputs.deliver({ alerts: batch.flatMap((q) => q.out.alerts), letters }, { only: (x) => x.name !== output.name, letters: !dlqTopic });
        let outcome: Outcome = 'committed';
        await outputs.retry(output.name, async () => void (outcome = await this.breaker.fire(st, batch)));
        if (outcome === 'committed') {
          for (const q of batch) q.resolve();
          continue;
        }
        const why = outcome === 'fenced' ? 'was fenced by its new owner' : 'is no longer assigned';
        const dropped = batch.length + st.queue.length;
        this.o.logger?.warn({ topic: st.topic, partition: st.partition, transactionalId: st.transactionalId, jobs: dropped }, `partition ${why}: its queued jobs are dropped uncommitted (the new owner re-reads them)`);
        const err = new Fenced(st.topic, st.partition, why);
        for (const q of batch) q.reject(err);
        st.rejectQueued(err);
      } catch (e) {
        for (const q of batch) q.reject(e as Error);
      }
    }
  }

  private async transact(st: PartitionTxn, batch: Queued[]): Promise<Outcome> {
    if (st.fenced) return 'fenced';
    if (st.revoked && !st.hasProducer) return 'revoked';
    const { producer, floor } = await st.ready();
    const { output, dlqTopic, metrics, groupId } = this.o;
    // Messages below the floor were committed by the previous owner before we fenced it.
    const fresh = (origin: AlertOrigin | undefined) => origin?.offset === undefined || Number(origin.offset) >= floor;
    const alerts = batch.flatMap((q) => q.out.alerts).filter((a) => this.select(a) && fresh(a.origin));
    const letters = dlqTopic ? batch.flatMap((q) => q.out.letters).filter((l) => fresh(l.origin)) : [];
    const matches = this.o.correlationTopic ? batch.flatMap((q) => q.out.correlation ?? []).filter((r) => fresh(r.origin)) : [];
    const next = Math.max(st.committed, ...batch.map((q) => q.next));
    if (alerts.length === 0 && letters.length === 0 && matches.length === 0 && next <= st.committed) return 'committed';
    let txn: Txn | undefined;
    try {
      txn = await producer.transaction();
      if (alerts.length > 0) await txn.send({ topic: output.topic, acks: -1, messages: alerts.map((a) => alertMessage(this.render ? this.render(a) : a, output.key)) });
      if (letters.length > 0) await txn.send({ topic: dlqTopic!, acks: -1, messages: letters.map(deadLetterMessage) });
      if (matches.length > 0) await txn.send({ topic: this.o.correlationTopic!, acks: -1, messages: matches.map((r) => inputMessage(r.input, r.origin)) });
      await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: st.topic, partitions: [{ partition: st.partition, offset: String(next) }] }] });
      await txn.commit();
    } catch (e) {
      const aborted = txn ? await txn.abort().then(() => true, () => false) : false;
      if (isFenced(e)) {
        st.fenced = true;
        metrics.commits.inc({ result: 'fenced' });
        await st.discard();
        return 'fenced';
      }
      // A producer left mid-transaction is replaced; the new one's InitProducerId aborts what it left open.
      if (!aborted) await st.discard();
      metrics.commits.inc({ result: 'failed' });
      throw e;
    }
    st.committed = next;
    metrics.commits.inc({ result: 'ok' });
    for (const l of letters) metrics.deadLetters.inc({ input: l.origin.topic ?? 'unknown' });
    return 'committed';
  }
}

/** Real producers for the partitions (kafkajs), and the group's committed offsets through one admin client. */
export function kafkaPartitionProducers(kafka: Kafka, groupId: string, opts: { transactionTimeout: number }): PartitionProducers & { close(): Promise<void> } {
  let admin: ReturnType<Kafka['admin']> | undefined;
  let connected: Promise<void> | undefined;
  return {
    create: (id) => kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1, transactionTimeout: opts.transactionTimeout, allowAutoTopicCreation: false }),
    async committedOffset(topic, partition) {
      admin ??= kafka.admin();
      const a = admin;
      connected ??= a.connect().catch((e) => {
        connected = undefined;
        throw e;
      });
      await connected;
      const [t] = await a.fetchOffsets({ groupId, topics: [topic] });
      const offset = Number(t?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
      return offset >= 0 ? offset : undefined;
    },
    async close() {
      if (admin && connected) await admin.disconnect().catch(() => {});
    },
  };
}

/**
 * The Kafka client an exactly_once Kafka input uses: every consumer it makes
 * reports its group assignments to `onJoin` (kafkajs' GROUP_JOIN), so the
 * transactor learns which partitions were revoked without a hook in the input.
 */
export function reportingAssignments(kafka: Kafka, onJoin: (assignment: Record<string, number[]>) => void): Kafka {
  return new Proxy(kafka, {
    get(target, prop, receiver) {
      if (prop !== 'consumer') return Reflect.get(target, prop, receiver);
      return (cfg: Parameters<Kafka['consumer']>[0]) => {
        const consumer = target.consumer(cfg);
        consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => onJoin(payload.memberAssignment));
        return consumer;
      };
    },
  });
}
