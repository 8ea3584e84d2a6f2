/**
 * The records of one fetched kafkajs batch as parallel arrays: offset, the
 * offset a job ending at the record resolves and commits (a whole batch's
 * last offset for its last record, so the next fetch starts after the batch
 * whatever compaction removed from its end), and where the value sits.
 *
 * kafkajs hands the Kafka input either ordinary messages or whole record
 * batches (sources/kafka-record-batches.ts); both become the same arrays, with
 * no object per record. A job's values are packed from here into one
 * transferred buffer: a batch's span is copied at once, and the worker finds
 * each value by its start.
 */
import type { KafkaMessage } from 'kafkajs';
import { wholeBatchOf } from '../sources/kafka-record-batches';
import { frameRecords } from '../sources/record-framing';
import { undecodableBatch, type UndecodableBatch } from '../sources/undecodable-batch';
import type { Packed } from './pool';

export class FetchedRecords {
  readonly offsets: number[] = [];
  readonly ends: number[] = [];
  /** Value lengths, -1 for a null value. */
  readonly lengths: number[] = [];
  private readonly sources: (Uint8Array | null)[] = [];
  private readonly starts: number[] = [];
  /** The undecodable batch the records stop before, if any (the partition is held there). */
  held: UndecodableBatch | undefined;
  /** The last offset of the last whole batch taken (resolved when every record was dispatched: a batch may end in records compaction removed). */
  tail: number | undefined;

  get length(): number {
    return this.offsets.length;
  }

  /** The records of `messages` at or after `fetchedOffset`, up to the first undecodable batch. */
  static from(messages: readonly KafkaMessage[], fetchedOffset: number): FetchedRecords {
    const f = new FetchedRecords();
    for (const m of messages) {
      const whole = wholeBatchOf(m);
      if (whole) {
        const first = f.length;
        const problem = frameRecords(whole, fetchedOffset, (offset, start, length) => f.add(offset, whole.records, start, length));
        if (problem) {
          f.truncate(first);
          f.held = { reason: problem, firstOffset: String(whole.baseOffset), lastOffset: String(whole.lastOffset) };
          break;
        }
        if (f.length > first) f.ends[f.length - 1] = whole.lastOffset;
        f.tail = whole.lastOffset;
        continue;
      }
      const held = undecodableBatch(m.headers);
      if (held) {
        f.held = held;
        break;
      }
      const offset = Number(m.offset);
      f.add(offset, m.value, 0, m.value ? m.value.length : -1);
    }
    return f;
  }

  /** A record; its end is its own offset until the batch it closes says otherwise (from()). */
  private add(offset: number, source: Uint8Array | null, start: number, length: number): void {
    this.offsets.push(offset);
    this.ends.push(offset);
    this.sources.push(source);
    this.starts.push(start);
    this.lengths.push(length);
  }

  private truncate(n: number): void {
    for (const a of [this.offsets, this.ends, this.sources, this.starts, this.lengths]) a.length = n;
  }

  /** Records [from, from + n) packed for a worker: each run of records from one source is one copy. */
  pack(from: number, n: number): Packed {
    const lengths = new Int32Array(n);
    const starts = new Int32Array(n);
    // Spans to copy: [source, first byte, end byte), one per run of records sharing a source.
    const spans: [Uint8Array, number, number][] = [];
    let total = 0;
    for (let k = 0; k < n; k++) {
      const i = from + k;
      const len = this.lengths[i];
      lengths[k] = len;
      const src = this.sources[i];
      if (!src || len < 0) continue;
      const span = spans.length > 0 ? spans[spans.length - 1] : undefined;
      if (span && span[0] === src && this.starts[i] >= span[2]) {
        total += this.starts[i] + len - span[2];
        span[2] = this.starts[i] + len;
      } else {
        spans.push([src, this.starts[i], this.starts[i] + len]);
        total += len;
      }
      starts[k] = total - len;
    }
    // Its own ArrayBuffer (transferred, never pooled), not zero-filled: every byte read is written below.
    const bytes = Buffer.allocUnsafeSlow(total);
    let pos = 0;
    for (const [src, start, end] of spans) {
      bytes.set(src.subarray(start, end), pos);
      pos += end - start;
    }
    return { buf: bytes.buffer, lengths, starts };
  }
}
