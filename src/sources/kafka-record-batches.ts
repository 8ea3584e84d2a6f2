/**
 * Whole record batches for the Kafka input, instead of one kafkajs message per
 * record.
 *
 * kafkajs decodes every record of a fetch response into a message object on
 * the consumer thread: two 64-bit additions through its Long class and two
 * decimal strings (offset, timestamp), a header object, a value slice, then
 * again a Long parse per message to drop the ones below the fetch offset. For
 * ~1 KB audit events that was most of the consumer thread's time (about 3 µs
 * of the 5.4 µs a bare kafkajs consumer with `JSON.parse` spends per event),
 * and the Kafka input needs none of it: only each record's offset and value.
 *
 * So for the topics a Kafka input reads (`readWholeBatches`), the Fetch v11
 * response decoder (the version kafkajs uses with every broker of the last
 * years) yields one stand-in message per record batch: offset = the batch's
 * last offset, no key or value, the batch's producer and transaction flags in
 * `batchContext` (kafkajs' read_committed filter and control-record handling
 * work on them unchanged: a batch is all of one producer and one transaction),
 * and the batch's (decompressed) records under WHOLE_BATCH. The input frames
 * the records (record-framing.ts: offsets and value positions, no objects) and
 * hands the bytes to its workers.
 *
 * Everything else keeps kafkajs' own decoding: other topics (the correlation
 * stage's, a tool's), control batches, legacy message sets, a batch a codec
 * could not decode (its marker records, undecodable-batch.ts), other Fetch
 * versions. The input accepts both shapes.
 */
import './kafka-read-committed';
import { replaceKafkajsModule } from './kafkajs-module';
import type { RecordsView } from './record-framing';
import { isMarkerRecords } from './undecodable-batch';

/** The records of one v2 record batch, as fetched (decompressed); framed by record-framing.ts. */
export interface WholeBatch extends RecordsView {
  /** base offset + last offset delta: the next batch starts after it, whatever compaction removed. */
  lastOffset: number;
}

const WHOLE_BATCH = Symbol('kestrel.wholeBatch');

/** The whole batch a fetched message stands for, if it is one (see the top of this file). */
export function wholeBatchOf(message: object): WholeBatch | undefined {
  return (message as { [WHOLE_BATCH]?: WholeBatch })[WHOLE_BATCH];
}

const readers = new Map<string, number>();

/** Fetch `topics` as whole batches from now on; the returned function undoes it (counted: two inputs may share a topic). */
export function readWholeBatches(topics: readonly string[]): () => void {
  for (const t of topics) readers.set(t, (readers.get(t) ?? 0) + 1);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    for (const t of topics) {
      const n = (readers.get(t) ?? 1) - 1;
      if (n > 0) readers.set(t, n);
      else readers.delete(t);
    }
  };
}

// ---- the Fetch v11 response ----------------------------------------------

/** The part of kafkajs' protocol Decoder used here. */
interface Decoder {
  buffer: Buffer;
  offset: number;
  readInt16(): number;
  readInt32(): number;
  readInt64(): { toString(): string };
  readString(): string;
  readBytes(n: number): Buffer;
  canReadBytes(n: number): boolean;
  readArray<T>(read: (d: Decoder) => T): T[];
  readArrayAsync<T>(read: (d: Decoder) => Promise<T>): Promise<T[]>;
}
type Codec = { decompress(b: Buffer): Promise<Buffer> } | null;

const KAFKAJS = 'kafkajs/src/protocol/';
const RESPONSE_MODULE = `${KAFKAJS}requests/fetch/v11/response`;
/* eslint-disable @typescript-eslint/no-require-imports */
const DecoderClass = require(`${KAFKAJS}decoder`) as new (b: Buffer) => Decoder;
const decodeMessages = require(`${KAFKAJS}requests/fetch/v4/decodeMessages`) as (d: Decoder) => Promise<object[]>;
const decodeRecordBatch = require(`${KAFKAJS}recordBatch/v0/decoder`) as (d: Decoder) => Promise<{ records: object[] }>;
const { lookupCodecByAttributes } = require(`${KAFKAJS}message/compression`) as { lookupCodecByAttributes(attributes: number): Codec };

/** Record batch v2 layout: header bytes (through the record count), and where its fields sit. */
const HEADER_BYTES = 61;
const MAGIC_AT = 16;
const ATTRIBUTES_AT = 21;
const LAST_OFFSET_DELTA_AT = 23;
const FIRST_TIMESTAMP_AT = 27;
const PRODUCER_ID_AT = 43;
const COUNT_AT = 57;
const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;

/** One batch decoded by kafkajs (the cases this file leaves to it); false at a partial batch (the tail of a fetch). */
async function byKafkajs(buf: Buffer, at: number, out: object[]): Promise<boolean> {
  try {
    out.push(...(await decodeRecordBatch(new DecoderClass(buf.subarray(at)))).records);
    return true;
  } catch (e) {
    if ((e as Error).name === 'KafkaJSPartialMessageError') return false;
    throw e;
  }
}

/** A partition's record set as whole batches (one stand-in message each). */
async function wholeBatches(d: Decoder): Promise<object[]> {
  const at = d.offset;
  const size = d.canReadBytes(4) ? d.buffer.readInt32BE(at) : 0;
  // Empty, truncated or a legacy message set: kafkajs' own path.
  if (size <= MAGIC_AT || !d.canReadBytes(4 + size) || d.buffer[at + 4 + MAGIC_AT] !== 2) return decodeMessages(d);
  d.offset += 4;
  const buf = d.readBytes(size);
  const out: object[] = [];
  for (let pos = 0; buf.length - pos >= 12; ) {
    const end = pos + 12 + buf.readInt32BE(pos + 8);
    if (end > buf.length) break; // the partial batch a fetch's size limit cuts
    if (end - pos < HEADER_BYTES || buf[pos + MAGIC_AT] !== 2) {
      if (!(await byKafkajs(buf, pos, out))) break;
      pos = end;
      continue;
    }
    const attributes = buf.readInt16BE(pos + ATTRIBUTES_AT);
    const count = buf.readInt32BE(pos + COUNT_AT);
    const codec = attributes & CONTROL ? null : lookupCodecByAttributes(attributes);
    let records = buf.subarray(pos + HEADER_BYTES, end);
    if (codec) records = await codec.decompress(records);
    if (attributes & CONTROL || isMarkerRecords(records)) {
      if (!(await byKafkajs(buf, pos, out))) break;
    } else if (count > 0) {
      const base = buf.readBigInt64BE(pos);
      const last = base + BigInt(buf.readInt32BE(pos + LAST_OFFSET_DELTA_AT));
      const whole: WholeBatch = { records, count, baseOffset: Number(base), lastOffset: Number(last) };
      out.push({
        offset: last.toString(),
        timestamp: buf.readBigInt64BE(pos + FIRST_TIMESTAMP_AT).toString(),
        key: null,
        value: null,
        headers: {},
        magicByte: 2,
        attributes: 0,
        isControlRecord: false,
        batchContext: { firstOffset: base.toString(), producerId: buf.readBigInt64BE(pos + PRODUCER_ID_AT).toString(), inTransaction: (attributes & TRANSACTIONAL) !== 0, isControlBatch: false },
        [WHOLE_BATCH]: whole,
      });
    }
    pos = end;
  }
  return out;
}

async function decodePartition(d: Decoder, whole: boolean) {
  const partition = d.readInt32();
  const errorCode = d.readInt16();
  const highWatermark = d.readInt64().toString();
  const lastStableOffset = d.readInt64().toString();
  const lastStartOffset = d.readInt64().toString();
  const abortedTransactions = d.readArray((t) => ({ producerId: t.readInt64().toString(), firstOffset: t.readInt64().toString() }));
  const preferredReadReplica = d.readInt32();
  const messages = whole ? await wholeBatches(d) : await decodeMessages(d);
  return { partition, errorCode, highWatermark, lastStableOffset, lastStartOffset, abortedTransactions, preferredReadReplica, messages };
}

/** Fetch v11 response (the layout of kafkajs' own decoder, which it replaces). */
export async function decodeFetchResponse(raw: Buffer) {
  const d = new DecoderClass(raw);
  const clientSideThrottleTime = d.readInt32();
  const errorCode = d.readInt16();
  const sessionId = d.readInt32();
  const responses = await d.readArrayAsync(async (t) => {
    const topicName = t.readString();
    const whole = readers.has(topicName);
    return { topicName, partitions: await t.readArrayAsync((p) => decodePartition(p, whole)) };
  });
  // As kafkajs: the broker did not throttle this request; a client-side throttle is honoured by the caller.
  return { throttleTime: 0, clientSideThrottleTime, errorCode, sessionId, responses };
}

/**
 * True when kafkajs's Fetch v11 responses are decoded here. The fetch request module requires its
 * response module on every request, so the replacement takes effect from the next fetch, whenever it is made.
 */
export const wholeBatchDecoderInstalled = replaceKafkajsModule(RESPONSE_MODULE, (original) => ({ ...original, decode: decodeFetchResponse }));
