/**
 * One input partition's share of exactly_once: its queue of evaluated jobs and
 * its own transactional producer (transactional id = prefix + topic +
 * partition), created on first use.
 *
 * Creating the producer is what fences a previous owner: InitProducerId on the
 * same transactional id bumps the epoch (the old producer's requests now fail
 * with INVALID_PRODUCER_EPOCH) and returns only once the old owner's open
 * transaction is finished (aborted, or committed if it was already
 * committing). Only after that is the group's committed offset read: that
 * offset is final, so alerts of messages below it were already committed by
 * the previous owner and are not written again, even when our consumer fetched
 * an older offset at the handover (the gap KIP-447 closes for Java clients).
 */
import type { ProducerRecord, TopicOffsets } from 'kafkajs';
import type { JobOutput } from './outputs';

/** The part of a kafkajs transaction used here (a fake in unit tests). */
export interface Txn {
  send(record: ProducerRecord): Promise<unknown>;
  sendOffsets(offsets: { consumerGroupId: string; topics: TopicOffsets[] }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** The part of a kafkajs transactional producer used here. */
export interface TxnProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  transaction(): Promise<Txn>;
}

export interface PartitionProducers {
  /** A new, unconnected transactional producer with this transactional id. */
  create(transactionalId: string): TxnProducer;
  /** The consumer group's committed offset of the partition (undefined when there is none). */
  committedOffset(topic: string, partition: number): Promise<number | undefined>;
}

export interface Queued {
  out: JobOutput;
  /** One past the job's last offset: what the transaction commits for the partition. */
  next: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

export interface Ready {
  producer: TxnProducer;
  /** Committed offset when the producer took over: messages below it are already committed. */
  floor: number;
}

/** The transactional id of one input partition's producer. */
export function transactionalId(prefix: string, topic: string, partition: number): string {
  return `${prefix}-${topic}-${partition}`;
}

export class PartitionTxn {
  queue: Queued[] = [];
  flushing: Promise<void> | undefined;
  /** No longer assigned: queued work still commits with the existing producer, no new one is made. */
  revoked = false;
  /** Another process took the transactional id over: nothing of this partition commits here any more. */
  fenced = false;
  /** Highest offset committed for the partition by this producer (never goes back). */
  committed = 0;
  retireTimer: NodeJS.Timeout | undefined;
  private ready_: Promise<Ready> | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly transactionalId: string,
    private readonly producers: PartitionProducers,
    /** The assignment token: a new one each time the partition is assigned to this process again. */
    readonly generation = 0,
  ) {}

  get hasProducer(): boolean {
    return this.ready_ !== undefined;
  }

  get busy(): boolean {
    return this.flushing !== undefined || this.queue.length > 0;
  }

  /** The partition's producer: created, fenced in and its floor read on first use (again after a discard). */
  ready(): Promise<Ready> {
    if (!this.ready_) {
      const p = this.init();
      this.ready_ = p;
      p.catch(() => {
        if (this.ready_ === p) this.ready_ = undefined;
      });
    }
    return this.ready_;
  }

  private async init(): Promise<Ready> {
    const producer = this.producers.create(this.transactionalId);
    try {
      await producer.connect();
      // kafkajs sends InitProducerId at the first transaction: an empty one fences the previous owner now.
      await (await producer.transaction()).abort();
      const floor = (await this.producers.committedOffset(this.topic, this.partition)) ?? 0;
      this.committed = Math.max(this.committed, floor);
      return { producer, floor };
    } catch (e) {
      await producer.disconnect().catch(() => {});
      throw e;
    }
  }

  /** Forget the producer (fenced, broken or retired) and disconnect it; a later ready() makes a new one. */
  async discard(): Promise<void> {
    const r = this.ready_;
    this.ready_ = undefined;
    if (r) await r.then((x) => x.producer.disconnect()).catch(() => {});
  }

  /** Drop every queued job uncommitted. */
  rejectQueued(e: Error): void {
    const q = this.queue;
    this.queue = [];
    for (const j of q) j.reject(e);
  }
}
