/**
 * A topic's committed records, decided from the transaction markers
 * themselves (what Java's read_committed consumer yields), for checking
 * exactly_once from outside.
 *
 * kafkajs' own read_committed filter (consumer/filterAbortedMessages.js)
 * assumes the fetch response's aborted-transaction list is ordered by first
 * offset and steps into at most one aborted transaction per record; the
 * broker lists them in the order their abort markers were written. When a
 * transaction is aborted late (a SIGKILLed owner's open transaction, aborted
 * only when the next owner's producer fences it) while others start and end
 * after its first record, kafkajs yields some of its aborted records.
 *
 * Here the records are read uncommitted, control records included, and a
 * transactional record counts once the next marker of its producer on that
 * partition is COMMIT (control key version 0, type 1); an ABORT drops it.
 */
import { Kafka, logLevel } from 'kafkajs';

export interface CommittedRecord {
  partition: number;
  offset: number;
  value: string;
  headers: Record<string, string>;
}

interface RawMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  isControlRecord: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}

const COMMIT = Buffer.from([0, 0, 0, 1]);

/** Every committed record of `topic` up to its current end, in offset order per partition. */
export async function committedRecords(brokers: string[], topic: string, timeoutMs = 30_000): Promise<CommittedRecord[]> {
  const kafka = new Kafka({ clientId: 'committed-reader', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  await admin.disconnect();
  const raw = new Map<number, Map<number, RawMessage>>();
  const consumer = kafka.consumer({ groupId: `committed-${topic}-${Math.random().toString(36).slice(2)}`, readUncommitted: true, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = () => [...ends].every(([p, high]) => high === 0 || (raw.get(p)?.has(high - 1) ?? false));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const part = raw.get(batch.partition) ?? new Map<number, RawMessage>();
      raw.set(batch.partition, part);
      // Batch.rawMessages keeps the control records that batch.messages leaves out.
      for (const m of (batch as unknown as { rawMessages: RawMessage[] }).rawMessages) part.set(Number(m.offset), m);
    },
  });
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`committed reader: ${topic} not read to its end within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await consumer.disconnect();
  const out: CommittedRecord[] = [];
  for (const [partition, msgs] of [...raw].sort((a, b) => a[0] - b[0])) {
    const open = new Map<string, CommittedRecord[]>();
    for (const [offset, m] of [...msgs].sort((a, b) => a[0] - b[0])) {
      const pid = m.batchContext.producerId;
      if (m.isControlRecord) {
        if (m.key && Buffer.from(m.key).equals(COMMIT)) out.push(...(open.get(pid) ?? []));
        open.delete(pid);
        continue;
      }
      const rec = { partition, offset, value: m.value?.toString() ?? '', headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])) };
      if (!m.batchContext.inTransaction) out.push(rec);
      else open.set(pid, [...(open.get(pid) ?? []), rec]);
    }
  }
  return out;
}

/**
 * The committed values of `topic`, read again (2 s apart, `tries` reads at most) while one of
 * `expected` is missing: a kafkajs reader may have shown an aborted copy of an alert whose
 * committed copy (the next owner's) is a moment later.
 */
export async function committedValues(brokers: string[], topic: string, expected: string[], tries = 3): Promise<string[]> {
  const want = new Set(expected);
  for (let i = 1; ; i++) {
    const got = (await committedRecords(brokers, topic)).map((r) => r.value);
    const have = new Set(got);
    if (i >= tries || [...want].every((v) => have.has(v))) return got;
    await new Promise((r) => setTimeout(r, 2_000));
  }
}
