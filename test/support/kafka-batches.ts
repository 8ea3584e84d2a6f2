/**
 * Kafka record batches and Fetch v11 responses encoded with kafkajs' own
 * encoders, for tests of what Kestrel decodes from them.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const Long = require('kafkajs/src/utils/long') as { fromValue(v: number | string): unknown };
const Encoder = require('kafkajs/src/protocol/encoder') as new () => Enc;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (b: object) => Promise<{ buffer: Buffer }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: object) => unknown;
export const kafkajsV11 = require('kafkajs/src/protocol/requests/fetch/v11/response') as { decode(b: Buffer): Promise<Decoded> };

interface Enc {
  buffer: Buffer;
  writeInt16(n: number): Enc;
  writeInt32(n: number): Enc;
  writeInt64(n: unknown): Enc;
  writeString(s: string): Enc;
  writeBytes(b: Buffer): Enc;
}
export interface Msg { offset: string; value: Buffer | null; isControlRecord: boolean; batchContext: { producerId: string; inTransaction: boolean } }
export interface Decoded { responses: { topicName: string; partitions: { partition: number; messages: Msg[] }[] }[] }

export const GZIP = 1;
export interface RecordSpec { delta: number; value: string | null; key?: string; headers?: Record<string, string> }

export async function batch(firstOffset: number, records: RecordSpec[], opts: { compression?: number; transactional?: boolean; producerId?: number; control?: boolean; lastOffsetDelta?: number } = {}): Promise<Buffer> {
  const encoded = await RecordBatch({
    compression: opts.compression ?? 0,
    firstOffset: Long.fromValue(firstOffset),
    firstTimestamp: 1764000000000,
    maxTimestamp: 1764000000000,
    lastOffsetDelta: opts.lastOffsetDelta ?? records[records.length - 1].delta,
    transactional: opts.transactional ?? false,
    producerId: Long.fromValue(opts.producerId ?? -1),
    records: records.map((r) => Record({ offsetDelta: r.delta, key: r.key === undefined ? null : Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value), headers: r.headers ?? {} })),
  });
  const b = Buffer.from(encoded.buffer);
  if (opts.control) b.writeInt16BE(b.readInt16BE(21) | 0x20, 21); // kafkajs cannot encode a control batch; the flag is all that differs
  return b;
}

/** A Fetch v11 response: each topic with one partition (0) holding `records`. */
export function response(topics: { name: string; records: Buffer; aborted?: [number, number][] }[]): Buffer {
  const e = new Encoder().writeInt32(0).writeInt16(0).writeInt32(0).writeInt32(topics.length);
  for (const t of topics) {
    e.writeString(t.name).writeInt32(1);
    e.writeInt32(0).writeInt16(0).writeInt64(Long.fromValue(1000)).writeInt64(Long.fromValue(1000)).writeInt64(Long.fromValue(0));
    const aborted = t.aborted ?? [];
    e.writeInt32(aborted.length);
    for (const [producerId, first] of aborted) e.writeInt64(Long.fromValue(producerId)).writeInt64(Long.fromValue(first));
    e.writeInt32(-1).writeBytes(t.records);
  }
  return Buffer.from(e.buffer);
}

