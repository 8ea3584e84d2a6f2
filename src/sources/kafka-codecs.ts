/**
 * Kafka record-batch compression: kafkajs ships gzip only and throws
 * `KafkaJSNotImplemented` on a snappy, lz4 or zstd batch, which librdkafka
 * clients (Fluent Bit, Vector, kcat) and the Java client write. Every codec
 * here is pure JavaScript or WebAssembly shipped inside its npm package (no
 * native build, nothing downloaded at install):
 *   snappy  kafkajs-snappy (snappyjs; raw and xerial-framed blocks, as Java writes)
 *   lz4     LZ4 frames (what Kafka uses since message format v1) built here
 *           from lz4js' block primitives: lz4js' own frame writer leaves the
 *           block-independence flag unset, which brokers refuse
 *   zstd    fzstd to decompress (streams frames of unknown content size, as
 *           librdkafka writes them), @bokuweb/zstd-wasm to compress
 *
 * `registerCodecs()` installs them into kafkajs' global codec table; call it
 * before a client reads or writes (the client factory does). Idempotent.
 */
// Before kafkajs loads: its read_committed filter is replaced (kafka-read-committed.ts).
import './kafka-read-committed';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import * as fzstd from 'fzstd';
import { guardedCodec, type Codec } from './undecodable-batch';


// Untyped CommonJS packages: the small surface used here, typed.
const snappyCodec = require('kafkajs-snappy') as () => Codec;
const lz4js = require('lz4js') as {
  compressBound(n: number): number;
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
};
const xxh32 = require('lz4js/xxh32') as { hash(seed: number, src: Uint8Array, index: number, length: number): number };
const zstdWasm = require('@bokuweb/zstd-wasm') as { init(): Promise<void>; compress(src: Uint8Array, level?: number): Uint8Array };

/**
 * Largest decompressed batch accepted. A batch cannot legitimately exceed the
 * broker's fetch size by more than its compression ratio; this bound stops a
 * forged lz4 header from making us allocate gigabytes (the batch fails to
 * decode instead, like any corrupt batch).
 */
export const MAX_DECOMPRESSED_BYTES = 1024 * 1024 * 1024;

export type OutputCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const OUTPUT_COMPRESSIONS: readonly OutputCompression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

const TYPES: Record<OutputCompression, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/** The kafkajs `compression` value for a configured output compression name. */
export function compressionType(name: OutputCompression): CompressionTypes {
  const t = TYPES[name];
  if (t === undefined) throw new Error(`unknown compression '${String(name)}': expected one of ${OUTPUT_COMPRESSIONS.join(', ')}`);
  return t;
}

const toBuffer = (a: Uint8Array | number[]): Buffer => (Buffer.isBuffer(a) ? a : a instanceof Uint8Array ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : Buffer.from(a));

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_BYTES = 64 * 1024; // block size code 4
const LZ4_BLOCK_MAX: Record<number, number> = { 4: 0x10000, 5: 0x40000, 6: 0x100000, 7: 0x400000 };
const LZ4_UNCOMPRESSED = 0x80000000;

/** One LZ4 frame of independent 64 KiB blocks, no checksums (what Kafka's Java client writes). */
export function lz4FrameCompress(src: Uint8Array): Buffer {
  const flg = 0x60; // version 01, block independence
  const bd = 4 << 4;
  const header = Buffer.from([0, 0, 0, 0, flg, bd, 0]);
  header.writeUInt32LE(LZ4_MAGIC, 0);
  header[6] = (xxh32.hash(0, header, 4, 2) >>> 8) & 0xff;
  const parts: Buffer[] = [header];
  const table = new Uint32Array(1 << 16);
  const out = Buffer.allocUnsafe(lz4js.compressBound(LZ4_BLOCK_BYTES));
  for (let at = 0; at < src.length; at += LZ4_BLOCK_BYTES) {
    const block = src.subarray(at, Math.min(src.length, at + LZ4_BLOCK_BYTES));
    table.fill(0);
    const n = lz4js.compressBlock(block, out, 0, block.length, table);
    const size = Buffer.allocUnsafe(4);
    if (n === 0 || n >= block.length) {
      size.writeUInt32LE((LZ4_UNCOMPRESSED | block.length) >>> 0, 0);
      parts.push(size, Buffer.from(block));
    } else {
      size.writeUInt32LE(n, 0);
      parts.push(size, Buffer.from(out.subarray(0, n)));
    }
  }
  parts.push(Buffer.alloc(4)); // end mark
  return Buffer.concat(parts);
}

/** Decode one LZ4 frame (independent or linked blocks, optional checksums and content size). */
export function lz4FrameDecompress(src: Buffer, maxBytes = MAX_DECOMPRESSED_BYTES): Buffer {
  const fail = (why: string): never => {
    throw new Error(`lz4: ${why}`);
  };
  if (src.length < 7 || src.readUInt32LE(0) !== LZ4_MAGIC) fail('not an LZ4 frame (bad magic number)');
  const flg = src[4];
  if (flg >> 6 !== 1) fail(`unsupported frame version ${flg >> 6}`);
  const blockMax = LZ4_BLOCK_MAX[(src[5] >> 4) & 7] ?? fail(`invalid block size code ${(src[5] >> 4) & 7}`);
  const blockChecksum = (flg & 0x10) !== 0;
  let i = 6 + ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0) + 1;
  // First pass: block sizes, to bound and allocate the output once.
  let total = 0;
  const blocks: [start: number, size: number, raw: boolean][] = [];
  for (;;) {
    if (i + 4 > src.length) fail('truncated frame');
    const word = src.readUInt32LE(i);
    i += 4;
    if (word === 0) break;
    const raw = (word & LZ4_UNCOMPRESSED) !== 0;
    const size = word & 0x7fffffff;
    if (size > blockMax || i + size > src.length) fail('block larger than the frame allows');
    blocks.push([i, size, raw]);
    total += raw ? size : blockMax;
    if (total > maxBytes) fail(`more than ${maxBytes} bytes decompressed`);
    i += size + (blockChecksum ? 4 : 0);
  }
  const out = Buffer.allocUnsafe(total);
  let d = 0;
  for (const [start, size, raw] of blocks) {
    if (raw) {
      src.copy(out, d, start, start + size);
      d += size;
    } else {
      const before = d;
      d = lz4js.decompressBlock(src, out, start, size, d);
      if (d - before > blockMax || d > total) fail('corrupt block');
    }
  }
  return out.subarray(0, d);
}

const lz4Codec = (): Codec => ({
  async compress(encoder) {
    return lz4FrameCompress(encoder.buffer);
  },
  async decompress(buffer) {
    return lz4FrameDecompress(buffer);
  },
});

let zstdReady: Promise<void> | undefined;
const zstdCodec = (): Codec => ({
  async compress(encoder) {
    zstdReady ??= zstdWasm.init();
    await zstdReady;
    return toBuffer(zstdWasm.compress(encoder.buffer, 3));
  },
  async decompress(buffer) {
    return toBuffer(fzstd.decompress(buffer));
  },
});

let registered = false;

/**
 * Make kafkajs read and write snappy, lz4 and zstd batches (gzip is built in),
 * every codec's decompression guarded (undecodable-batch.ts). Safe to call repeatedly.
 */
export function registerCodecs(): void {
  if (registered) return;
  const table = CompressionCodecs as unknown as Record<number, () => Codec>;
  table[CompressionTypes.GZIP] = guardedCodec('gzip', table[CompressionTypes.GZIP]);
  table[CompressionTypes.Snappy] = guardedCodec('snappy', snappyCodec);
  table[CompressionTypes.LZ4] = guardedCodec('lz4', lz4Codec);
  table[CompressionTypes.ZSTD] = guardedCodec('zstd', zstdCodec);
  registered = true;
}
