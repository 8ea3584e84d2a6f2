/**
 * A bounded, fsync'ed on-disk spool (write-ahead log) for a webhook input:
 * a request is answered 200 as soon as its documents are on disk, and the
 * pipeline drains the spool in order at the outputs' pace, so an output outage
 * of any length (up to the spool's size) or a restart loses nothing. When the
 * spool is full the webhook answers 503 with Retry-After, well inside
 * kube-apiserver's 30 s request timeout, and the sender keeps the batch.
 *
 * Layout: DIR/segment-<n>.log files of records, and DIR/cursor (the first
 * record not yet delivered: segment and byte offset). A record is
 *   u32 length of the rest | u32 crc32 of the rest | f64 time (ms) |
 *   u16 route length | route (utf8) | u32 documents | (u32 length | bytes)*
 * A torn record at the end (a crash mid-write) fails its length or CRC check
 * and is cut off at open; it was never acknowledged to the sender.
 * Delivery is at least once: after a crash, records delivered after the last
 * cursor write are delivered again.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

export interface SpoolOptions {
  dir: string;
  /** Undelivered bytes beyond which append refuses (SpoolFull). */
  maxBytes: number;
  /** A new segment is started past this size; delivered segments are deleted. */
  segmentBytes?: number;
}

export interface SpoolEntry {
  route: string;
  documents: Buffer[];
  /** When the request was spooled (ms since the epoch). */
  time: number;
  /** Where the next record starts: what ack() moves the cursor to. */
  readonly next: { segment: number; offset: number };
}

export class SpoolFull extends Error {
  constructor(readonly bytes: number, readonly max: number) {
    super(`spool full (${bytes} of ${max} bytes undelivered); retry later`);
  }
}

const SEGMENT = /^segment-(\d{8})\.log$/;
const segName = (n: number) => `segment-${String(n).padStart(8, '0')}.log`;

export class Spool {
  private writer: FileHandle | undefined;
  private writeSegment = 0;
  private writeOffset = 0;
  /** Bytes of every segment, to know the undelivered total. */
  private readonly sizes = new Map<number, number>();
  private read = { segment: 0, offset: 0 };
  private cursor = { segment: 0, offset: 0 };
  private chain: Promise<unknown> = Promise.resolve();
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly oldest: number[] = [];

  private constructor(private readonly opts: Required<SpoolOptions>) {}

  /** Open (or create) the spool in `dir`, recovering from a crash. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const s = new Spool({ segmentBytes: 64 * 1024 * 1024, ...options });
    mkdirSync(s.opts.dir, { recursive: true });
    s.cursor = s.readCursor();
    const segments = readdirSync(s.opts.dir).flatMap((f) => (SEGMENT.test(f) ? [Number(SEGMENT.exec(f)![1])] : [])).sort((a, b) => a - b);
    for (const n of segments) {
      if (n < s.cursor.segment) rmSync(join(s.opts.dir, segName(n)), { force: true });
      // Every undelivered record is checked (and its time counted); a torn tail is cut off.
      else s.sizes.set(n, s.validLength(n));
    }
    const last = segments.length ? segments[segments.length - 1] : s.cursor.segment;
    s.writeSegment = Math.max(last, s.cursor.segment);
    s.writeOffset = s.sizes.get(s.writeSegment) ?? 0;
    s.read = { ...s.cursor };
    s.writer = await open(join(s.opts.dir, segName(s.writeSegment)), 'a');
    s.sizes.set(s.writeSegment, s.writeOffset);
    return s;
  }

  /** Undelivered bytes and the age of the oldest undelivered request (metrics). */
  depth(now = Date.now()): { bytes: number; entries: number; oldestAgeMs: number } {
    let bytes = 0;
    for (const [n, size] of this.sizes) if (n >= this.cursor.segment) bytes += size - (n === this.cursor.segment ? this.cursor.offset : 0);
    return { bytes, entries: this.oldest.length, oldestAgeMs: this.oldest.length ? now - this.oldest[0] : 0 };
  }

  /** Append one request's documents and fsync; resolves once they are durable. Throws SpoolFull. */
  append(route: string, documents: Buffer[], time = Date.now()): Promise<void> {
    const record = encode(route, documents, time);
    const run = this.chain.then(async () => {
      if (this.closed) throw new Error('spool closed');
      const { bytes } = this.depth();
      if (bytes > 0 && bytes + record.length > this.opts.maxBytes) throw new SpoolFull(bytes, this.opts.maxBytes);
      if (this.writeOffset > 0 && this.writeOffset + record.length > this.opts.segmentBytes) await this.roll();
      await this.writer!.write(record, 0, record.length, null);
      await this.writer!.sync();
      this.writeOffset += record.length;
      this.sizes.set(this.writeSegment, this.writeOffset);
      this.oldest.push(time);
      this.wake?.();
    });
    this.chain = run.catch(() => {});
    return run;
  }

  /** The next undelivered record, in order; waits for one. Undefined once closed. */
  async next(): Promise<SpoolEntry | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      const size = this.sizes.get(this.read.segment) ?? 0;
      if (this.read.offset < size) return this.readAt(this.read.segment, this.read.offset);
      if (this.read.segment < this.writeSegment) {
        this.read = { segment: this.read.segment + 1, offset: 0 };
        continue;
      }
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }

  /** The entry (and everything before it) is delivered: move and persist the cursor, drop delivered segments. */
  ack(entry: SpoolEntry): void {
    const { segment, offset } = entry.next;
    // The end of a finished segment is the start of the next one: the finished one can go.
    this.cursor = segment < this.writeSegment && offset >= (this.sizes.get(segment) ?? 0) ? { segment: segment + 1, offset: 0 } : { segment, offset };
    this.oldest.shift();
    const tmp = join(this.opts.dir, 'cursor.tmp');
    writeFileSync(tmp, JSON.stringify(this.cursor));
    renameSync(tmp, join(this.opts.dir, 'cursor'));
    for (const n of [...this.sizes.keys()]) {
      if (n < this.cursor.segment) {
        rmSync(join(this.opts.dir, segName(n)), { force: true });
        this.sizes.delete(n);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.chain;
    await this.writer?.close();
  }

  private readAt(segment: number, offset: number): SpoolEntry {
    const fd = openSync(join(this.opts.dir, segName(segment)), 'r');
    try {
      const head = Buffer.alloc(8);
      readExact(fd, head, offset);
      const len = head.readUInt32LE(0);
      const body = Buffer.alloc(len);
      readExact(fd, body, offset + 8);
      const e = decode(body);
      const next = { segment, offset: offset + 8 + len };
      this.read = next;
      return { ...e, next };
    } finally {
      closeSync(fd);
    }
  }

  private async roll(): Promise<void> {
    await this.writer!.close();
    this.writeSegment++;
    this.writeOffset = 0;
    this.writer = await open(join(this.opts.dir, segName(this.writeSegment)), 'a');
    this.sizes.set(this.writeSegment, 0);
  }

  private readCursor(): { segment: number; offset: number } {
    try {
      const c = JSON.parse(readFileSync(join(this.opts.dir, 'cursor'), 'utf8'));
      if (Number.isInteger(c.segment) && Number.isInteger(c.offset)) return c;
    } catch {
      // no cursor yet: from the start
    }
    return { segment: 0, offset: 0 };
  }

  /** Length of the valid prefix of a segment; a torn tail is truncated away. */
  private validLength(n: number): number {
    const path = join(this.opts.dir, segName(n));
    const buf = readFileSync(path);
    let off = n === this.cursor.segment ? this.cursor.offset : 0;
    let valid = off;
    while (off + 8 <= buf.length) {
      const len = buf.readUInt32LE(off);
      if (off + 8 + len > buf.length) break;
      const body = buf.subarray(off + 8, off + 8 + len);
      if (crc32(body) !== buf.readUInt32LE(off + 4)) break;
      off += 8 + len;
      valid = off;
      this.oldest.push(body.readDoubleLE(0));
    }
    if (valid < buf.length) {
      truncateSync(path, valid);
      const fd = openSync(path, 'r+');
      fsyncSync(fd);
      closeSync(fd);
    }
    return valid;
  }
}

function readExact(fd: number, buf: Buffer, position: number): void {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) throw new Error('spool record cut short');
    got += n;
  }
}

function encode(route: string, documents: Buffer[], time: number): Buffer {
  const r = Buffer.from(route, 'utf8');
  const size = 8 + 2 + r.length + 4 + documents.reduce((n, d) => n + 4 + d.length, 0);
  const body = Buffer.alloc(size);
  let o = body.writeDoubleLE(time, 0);
  o = body.writeUInt16LE(r.length, o);
  o += r.copy(body, o);
  o = body.writeUInt32LE(documents.length, o);
  for (const d of documents) {
    o = body.writeUInt32LE(d.length, o);
    o += d.copy(body, o);
  }
  const head = Buffer.alloc(8);
  head.writeUInt32LE(body.length, 0);
  head.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([head, body]);
}

function decode(body: Buffer): Omit<SpoolEntry, 'next'> {
  const time = body.readDoubleLE(0);
  const rl = body.readUInt16LE(8);
  const route = body.toString('utf8', 10, 10 + rl);
  let o = 10 + rl;
  const n = body.readUInt32LE(o);
  o += 4;
  const documents: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const len = body.readUInt32LE(o);
    documents.push(body.subarray(o + 4, o + 4 + len));
    o += 4 + len;
  }
  return { route, documents, time };
}
