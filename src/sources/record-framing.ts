/**
 * Kafka record framing (the v2 record batch's records: a zigzag varint length,
 * then attributes, timestamp delta, offset delta, key, value, headers), read
 * in place without an object per record. Used to check a codec's output
 * (undecodable-batch.ts) and to frame the whole batches the Kafka input takes
 * (kafka-record-batches.ts).
 */

/** Records as fetched: `count` length-prefixed records, offsets relative to `baseOffset`. */
export interface RecordsView {
  records: Buffer;
  count: number;
  baseOffset: number;
}

/** Where the last varint read ended (a module variable: no tuple per read on the per-record path). */
let next = 0;

/** Zigzag varint at `at`; sets `next`. NaN when it runs past `end` or beyond 5 bytes. */
function varint(b: Buffer, at: number, end: number): number {
  let raw = 0;
  for (let i = 0; i < 5; i++) {
    if (at + i >= end) return NaN;
    const byte = b[at + i];
    raw |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) === 0) {
      next = at + i + 1;
      return (raw >>> 1) ^ -(raw & 1);
    }
  }
  return NaN;
}

/** Skips a varlong (the timestamp delta); sets `next`. False when it runs past `end`. */
function skipVarlong(b: Buffer, at: number, end: number): boolean {
  for (let i = 0; i < 10 && at + i < end; i++) {
    if ((b[at + i] & 0x80) === 0) {
      next = at + i + 1;
      return true;
    }
  }
  return false;
}

/** Why `records` does not frame `count` length-prefixed records (kafkajs would throw decoding it), or undefined. */
export function framingProblem(records: Buffer, count: number): string | undefined {
  let at = 0;
  for (let i = 0; i < count; i++) {
    const size = varint(records, at, records.length);
    if (!(size >= 0) || next + size > records.length) return `decompressed bytes hold ${i} of the batch's ${count} records`;
    at = next + size;
  }
  return undefined;
}

/**
 * Calls `visit(offset, start, length)` for each record at or after `from`
 * (length -1: a null value), in order. Returns why the records cannot be
 * framed (the batch is then undecodable), or undefined.
 */
export function frameRecords(batch: RecordsView, from: number, visit: (offset: number, start: number, length: number) => void): string | undefined {
  const b = batch.records;
  let at = 0;
  for (let i = 0; i < batch.count; i++) {
    const size = varint(b, at, b.length);
    const end = next + size;
    if (!(size > 0) || end > b.length) return `the batch holds ${i} of its ${batch.count} records`;
    // attributes (1 byte), timestamp delta
    if (!skipVarlong(b, next + 1, end)) return `record ${i} of the batch is malformed`;
    const delta = varint(b, next, end);
    const keyLength = varint(b, next, end);
    if (Number.isNaN(delta) || Number.isNaN(keyLength) || keyLength < -1) return `record ${i} of the batch is malformed`;
    const valueLength = varint(b, next + Math.max(0, keyLength), end);
    const start = next;
    if (Number.isNaN(valueLength) || valueLength < -1 || start + Math.max(0, valueLength) > end) return `record ${i} of the batch is malformed`;
    const offset = batch.baseOffset + delta;
    if (offset >= from) visit(offset, start, valueLength);
    at = end;
  }
  return undefined;
}
