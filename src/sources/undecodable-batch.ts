/**
 * A compressed record batch that cannot be decoded (corrupt compressed bytes,
 * a codec failure, decompressed bytes that do not hold the batch's records)
 * must not stop the consumer. kafkajs decodes a whole fetch response at once:
 * one throwing batch fails the fetch of every partition on that broker, the
 * consumer crashes, kafkajs restarts it, and it fails again at the same
 * offset, for ever.
 *
 * So every codec's `decompress` is guarded: on failure it returns, in place of
 * the batch's records, marker records that carry the reason and the batch's
 * offset range in headers (UNDECODABLE_BATCH_HEADER). kafkajs hands them to the
 * partition they belong to like any record; the Kafka input recognises them
 * and holds that partition (pipeline/kafka-input.ts) while the others go on.
 *
 * kafkajs passes `decompress` only the compressed bytes, as a view into the
 * fetch response: the 61-byte batch header (base offset, record count) sits
 * just before them. It is read there and checked (magic 2, the codec's
 * attribute bits, a batch length that matches the payload exactly); when it
 * does not check out, the error is rethrown as before rather than guessed at.
 */
import { randomBytes } from 'node:crypto';
import { framingProblem } from './record-framing';

/** What kafkajs expects of a codec: `compress` gets the record encoder, `decompress` the batch bytes. */
export interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** Header of a marker record: the reason the batch could not be decoded. */
export const UNDECODABLE_BATCH_HEADER = 'kestrel.undecodable_batch';
const FIRST_OFFSET_HEADER = 'kestrel.batch.first_offset';
const LAST_OFFSET_HEADER = 'kestrel.batch.last_offset';
const TOKEN_HEADER = 'kestrel.batch.token';
/**
 * Markers are made in this process only, and carry this process's random token:
 * a record someone produced with the same headers is not a marker (it cannot
 * hold a partition); it is an ordinary record (with no value: a dead letter).
 */
export const MARKER_TOKEN = randomBytes(16).toString('hex');

export interface UndecodableBatch {
  reason: string;
  /** The batch's base offset and last offset (strings, as kafkajs offsets are). */
  firstOffset: string;
  lastOffset: string;
}

/** The v2 record batch header fields used here (Kafka's DefaultRecordBatch layout). */
export interface BatchHeader {
  baseOffset: bigint;
  lastOffsetDelta: number;
  count: number;
}

const HEADER_BYTES = 61;
/** Bytes of the header after its length field: what the length field counts besides the records. */
const LENGTH_OVERHEAD = 49;

/** The header of the batch whose compressed records `payload` is, when `payload` is kafkajs' view into the batch. */
export function batchHeaderBefore(payload: Buffer, codecId: number): BatchHeader | undefined {
  if (payload.byteOffset < HEADER_BYTES) return undefined;
  const h = Buffer.from(payload.buffer, payload.byteOffset - HEADER_BYTES, HEADER_BYTES);
  if (h.readInt8(16) !== 2) return undefined;
  if ((h.readInt16BE(21) & 0x7) !== codecId) return undefined;
  if (h.readInt32BE(8) !== LENGTH_OVERHEAD + payload.length) return undefined;
  const count = h.readInt32BE(57);
  const lastOffsetDelta = h.readInt32BE(23);
  if (count <= 0 || lastOffsetDelta < 0) return undefined;
  return { baseOffset: h.readBigInt64BE(0), lastOffsetDelta, count };
}

function varInt(n: number): Buffer {
  let z = ((n << 1) ^ (n >> 31)) >>> 0;
  const out: number[] = [];
  while (z > 0x7f) {
    out.push((z & 0x7f) | 0x80);
    z >>>= 7;
  }
  out.push(z);
  return Buffer.from(out);
}

const bytesField = (s: string) => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([varInt(b.length), b]);
};

/**
 * `count` marker records (kafkajs decodes exactly the count the header names),
 * null key and value, the reason and offset range in headers. Offset deltas run
 * 0, 1, ... up to the batch's last delta, so markers survive kafkajs dropping
 * records below the fetch offset.
 */
export function markerRecords(h: BatchHeader, reason: string): Buffer {
  const first = h.baseOffset.toString();
  const last = (h.baseOffset + BigInt(h.lastOffsetDelta)).toString();
  const headers = Buffer.concat([
    varInt(4),
    bytesField(UNDECODABLE_BATCH_HEADER), bytesField(reason),
    bytesField(TOKEN_HEADER), bytesField(MARKER_TOKEN),
    bytesField(FIRST_OFFSET_HEADER), bytesField(first),
    bytesField(LAST_OFFSET_HEADER), bytesField(last),
  ]);
  const records: Buffer[] = [];
  for (let i = 0; i < h.count; i++) {
    // attributes, timestamp delta 0, offset delta, null key, null value, headers
    const body = Buffer.concat([Buffer.from([0, 0]), varInt(Math.min(i, h.lastOffsetDelta)), varInt(-1), varInt(-1), headers]);
    records.push(varInt(body.length), body);
  }
  return Buffer.concat(records);
}

type Headers = Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined;

/** The undecodable batch a consumed record stands for, if it is a marker (made by this process). */
export function undecodableBatch(headers: Headers): UndecodableBatch | undefined {
  const reason = headers?.[UNDECODABLE_BATCH_HEADER];
  if (reason === undefined) return undefined;
  const str = (v: unknown) => String(Array.isArray(v) ? v[0] : v ?? '');
  if (str(headers?.[TOKEN_HEADER]) !== MARKER_TOKEN) return undefined;
  return { reason: str(reason), firstOffset: str(headers?.[FIRST_OFFSET_HEADER]), lastOffset: str(headers?.[LAST_OFFSET_HEADER]) };
}

/** The marker record buffers this process made: whoever decodes a batch must hand them to kafkajs's record decoder. */
const markerBuffers = new WeakSet<Buffer>();

/** Whether `records` (a codec's output) are markers standing for an undecodable batch. */
export function isMarkerRecords(records: Buffer): boolean {
  return markerBuffers.has(records);
}

const marked = (records: Buffer): Buffer => {
  markerBuffers.add(records);
  return records;
};

const CODEC_IDS: Record<string, number> = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/** `make`'s codec with a decompression that turns failures into marker records (see the top of this file). */
export function guardedCodec(name: 'gzip' | 'snappy' | 'lz4' | 'zstd', make: () => Codec): () => Codec {
  const id = CODEC_IDS[name];
  return () => {
    const inner = make();
    return {
      compress: (encoder) => inner.compress(encoder),
      async decompress(payload) {
        let records: Buffer;
        try {
          records = await inner.decompress(payload);
        } catch (e) {
          const h = batchHeaderBefore(payload, id);
          if (!h) throw e;
          return marked(markerRecords(h, `${name}: ${(e as Error).message.split('\n')[0]}`));
        }
        const h = batchHeaderBefore(payload, id);
        const problem = h && framingProblem(records, h.count);
        return problem ? marked(markerRecords(h!, `${name}: ${problem}`)) : records;
      },
    };
  };
}
