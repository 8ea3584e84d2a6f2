/**
 * kafkajs' produce-side record encoder, rewritten to make the same bytes with
 * one allocation per record, installed before kafkajs' produce request module
 * first loads.
 *
 * kafkajs encodes each record of a produce request through its growable
 * Encoder: a zero-filled 512-byte buffer per record and one more per header,
 * grown by copying when the value is larger, and the timestamp delta through
 * its Long class. Each of those buffers is its own ArrayBuffer (Buffer.alloc is
 * never pooled). With Kestrel's alerts (~1-2 KB of JSON and six headers) that
 * was about 50 µs of the consumer thread per alert in bench:kafka, more than
 * reading the events that raised them.
 *
 * This encoder computes the record's size first and writes it into one
 * `Buffer.allocUnsafe` (pooled below 4 KiB). The result has what kafkajs'
 * batch encoder reads of a record encoder (`buf` and `buffer`).
 */
import './kafka-read-committed';
import { replaceKafkajsModule } from './kafkajs-module';

type Bytes = Buffer | string | number | null | undefined;

export interface RecordInput {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: Bytes;
  value?: Bytes;
  headers?: Record<string, Bytes | Bytes[]>;
}

/** What kafkajs' RecordBatch encoder reads of an encoded record. */
export interface EncodedRecord {
  buf: Buffer;
  buffer: Buffer;
}

const zigzag32 = (n: number): number => ((n << 1) ^ (n >> 31)) >>> 0;

function uvarintSize(u: number): number {
  let size = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 128);
    size++;
  }
  return size;
}

/** Zigzag of a 64-bit delta (a JavaScript number; BigInt beyond 2^52). */
function zigzag64(n: number): number | bigint {
  const t = Math.trunc(n);
  if (Math.abs(t) < 2 ** 52) return t >= 0 ? t * 2 : -t * 2 - 1;
  const b = BigInt.asIntN(64, BigInt(t));
  return BigInt.asUintN(64, (b << 1n) ^ (b >> 63n));
}

function writeUvarint(buf: Buffer, at: number, u: number | bigint): number {
  if (typeof u === 'bigint') {
    while (u >= 0x80n) {
      buf[at++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    buf[at++] = Number(u);
    return at;
  }
  while (u >= 0x80) {
    buf[at++] = (u % 128) | 0x80;
    u = Math.floor(u / 128);
  }
  buf[at++] = u;
  return at;
}

const bigintSize = (u: bigint): number => {
  let size = 1;
  while (u >= 0x80n) {
    u >>= 7n;
    size++;
  }
  return size;
};

/** kafkajs' writeVarIntBytes semantics: a Buffer as is, anything else as the UTF-8 of String(x); null: length -1. */
const asBytes = (v: Bytes): Buffer | string | null => (v == null ? null : Buffer.isBuffer(v) ? v : String(v));
const byteLength = (v: Buffer | string | null): number => (v === null ? -1 : typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length);
const fieldSize = (len: number): number => (len < 0 ? 1 : uvarintSize(zigzag32(len)) + len);

function writeField(buf: Buffer, at: number, v: Buffer | string | null, len: number): number {
  at = writeUvarint(buf, at, zigzag32(len));
  if (v === null) return at;
  if (typeof v === 'string') buf.write(v, at, len, 'utf8');
  else v.copy(buf, at);
  return at + len;
}

/** The bytes kafkajs' Record encoder (recordBatch/record/v0) makes for `r`. */
export function encodeRecord({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }: RecordInput): EncodedRecord {
  const pairs: [string | null, Buffer | string | null][] = [];
  for (const k of Object.keys(headers)) {
    const hv = headers[k];
    for (const v of Array.isArray(hv) ? hv : [hv]) pairs.push([k, asBytes(v)]);
  }
  const k = asBytes(key);
  const v = asBytes(value);
  const keyLen = byteLength(k);
  const valueLen = byteLength(v);
  const ts = zigzag64(timestampDelta);
  const od = zigzag32(offsetDelta);
  const lens = pairs.map(([hk, hv]) => [byteLength(hk), byteLength(hv)]);
  let body = 1 + (typeof ts === 'bigint' ? bigintSize(ts) : uvarintSize(ts)) + uvarintSize(od) + fieldSize(keyLen) + fieldSize(valueLen) + uvarintSize(zigzag32(pairs.length));
  for (const [hk, hv] of lens) body += fieldSize(hk) + fieldSize(hv);
  const size = zigzag32(body);
  const buf = Buffer.allocUnsafe(uvarintSize(size) + body);
  let at = writeUvarint(buf, 0, size);
  buf[at++] = 0; // attributes: none used
  at = writeUvarint(buf, at, ts);
  at = writeUvarint(buf, at, od);
  at = writeField(buf, at, k, keyLen);
  at = writeField(buf, at, v, valueLen);
  at = writeUvarint(buf, at, zigzag32(pairs.length));
  for (let i = 0; i < pairs.length; i++) {
    at = writeField(buf, at, pairs[i][0], lens[i][0]);
    at = writeField(buf, at, pairs[i][1], lens[i][1]);
  }
  return { buf, buffer: buf };
}

const RECORD_MODULE = 'kafkajs/src/protocol/recordBatch/record/v0';
const PRODUCE_REQUEST_MODULE = 'kafkajs/src/protocol/requests/produce/v3/request';

/** True when kafkajs' produce requests encode their records here (its produce request module binds the encoder when it loads). */
export const recordEncoderInstalled = replaceKafkajsModule(RECORD_MODULE, () => encodeRecord, PRODUCE_REQUEST_MODULE);
