/**
 * A renewable idempotent producer for the outputs (alerts, dead letters,
 * webhook forwarding). kafkajs never resets an idempotent producer's id or
 * sequence numbers: after a broker lost its producer state (an unclean
 * restart, expired producer metadata) every send fails with
 * OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID or INVALID_PRODUCER_EPOCH
 * for ever. On such an error the handle replaces the producer with a fresh one
 * (a new producer id, sequences from 0), once per failed generation, and
 * rethrows: the caller's retry (through the output's breaker) sends the batch
 * again with the new producer. A batch the old producer did write before the
 * error is then written twice (at_least_once: counted as a duplicate, never lost).
 */
import type { Producer, ProducerRecord, RecordMetadata } from 'kafkajs';

/** kafkajs protocol error types after which a producer's idempotence state is unusable. */
export const FATAL_PRODUCER_STATE = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']);

/** The fatal producer-state type in `e` or the errors it wraps (kafkajs keeps the protocol error in `cause`), if any. */
export function fatalProducerState(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; depth < 10 && typeof cur === 'object' && cur !== null; depth++) {
    const { type, cause, originalError } = cur as { type?: unknown; cause?: unknown; originalError?: unknown };
    if (typeof type === 'string' && FATAL_PRODUCER_STATE.has(type)) return type;
    cur = cause ?? originalError;
  }
  return undefined;
}

/** What a sink needs of a producer. */
export interface ProducerHandle {
  send(record: ProducerRecord, sender?: string): Promise<RecordMetadata[]>;
}

export interface RenewalNotice {
  /** The sink whose send met the error (the metric's label). */
  sender: string;
  /** The kafkajs error type, e.g. OUT_OF_ORDER_SEQUENCE_NUMBER. */
  type: string;
  /** The error's message. */
  cause: string;
  /** Renewals of this handle so far, this one included. */
  renewals: number;
}

/** Bound on waiting for the replaced producer to disconnect (it may be talking to a broker that lost it). */
const OLD_DISCONNECT_MS = 5_000;

export class RenewableProducer implements ProducerHandle {
  private producer: Producer;
  /** Resolves once `producer` is connected; a failed connect is retried by the next send. */
  private connected: Promise<void> | undefined;
  private generation = 0;
  renewals = 0;

  /** `make` builds an unconnected producer; `onRenew` is called once per renewal (log and metric). */
  constructor(private readonly make: () => Producer, private readonly onRenew: (n: RenewalNotice) => void = () => {}) {
    this.producer = make();
  }

  async connect(): Promise<void> {
    this.connected = this.producer.connect();
    await this.connected;
  }

  async send(record: ProducerRecord, sender = 'kafka'): Promise<RecordMetadata[]> {
    let generation: number;
    do {
      generation = this.generation;
      await this.ready();
    } while (generation !== this.generation);
    try {
      return await this.producer.send(record);
    } catch (e) {
      const type = fatalProducerState(e);
      // Concurrent sends of one generation all fail the same way: one renewal for them all.
      if (type && generation === this.generation) this.renew({ sender, type, cause: (e as Error).message });
      throw e;
    }
  }

  private async ready(): Promise<void> {
    try {
      await (this.connected ??= this.producer.connect());
    } catch (e) {
      this.connected = undefined; // the next send connects again
      throw e;
    }
  }

  private renew(n: Omit<RenewalNotice, 'renewals'>): void {
    const old = this.producer;
    this.generation++;
    this.renewals++;
    this.producer = this.make();
    this.connected = undefined;
    this.onRenew({ ...n, renewals: this.renewals });
    const timer = new Promise<void>((r) => setTimeout(r, OLD_DISCONNECT_MS).unref());
    void Promise.race([old.disconnect().catch(() => {}), timer]);
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}
