/**
 * Guarded decompression, through kafkajs' own record-batch encoder and
 * decoder: a corrupt compressed batch decodes into marker records at its
 * offsets (reason and offset range in headers) instead of throwing, a good one
 * decodes unchanged, and a payload whose batch header cannot be found fails
 * as before.
 */
import { CompressionTypes } from 'kafkajs';
import { registerCodecs } from '../../src/sources/kafka-codecs';
import { guardedCodec, undecodableBatch } from '../../src/sources/undecodable-batch';
import { framingProblem } from '../../src/sources/record-framing';

// kafkajs internals (CommonJS, untyped): the encoder its producer uses and the decoder its consumer uses.
/* eslint-disable @typescript-eslint/no-var-requires */
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (o: object) => Promise<{ buffer: Buffer }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (o: object) => unknown;
const Long = require('kafkajs/src/utils/long') as { fromValue(v: number | string): unknown };
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: unknown) => Promise<{ records: { offset: string; key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer> }[] }>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown;

registerCodecs();

async function batch(compression: CompressionTypes, values: string[], firstOffset = 40): Promise<Buffer> {
  const records = values.map((value, i) => Record({ offsetDelta: i, timestampDelta: 0, key: Buffer.from(`k${i}`), value: Buffer.from(value), headers: {} }));
  const e = await RecordBatch({ compression, firstOffset: Long.fromValue(firstOffset), lastOffsetDelta: values.length - 1, records });
  return e.buffer;
}

/** As the consumer sees it: the batch inside a larger fetch response buffer (a view, as kafkajs slices it). */
async function decode(b: Buffer) {
  const response = Buffer.concat([Buffer.alloc(100, 7), b]);
  return decodeBatch(new Decoder(response.subarray(100)));
}

const values = ['{"kind":"Event","a":1}', '{"kind":"Event","a":2}', '{"kind":"Event","a":3}'];

test('a good batch of every codec decodes unchanged through the guard', async () => {
  for (const c of [CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD]) {
    const { records } = await decode(await batch(c, values));
    expect(records.map((r) => [r.offset, String(r.value), undecodableBatch(r.headers)])).toEqual(values.map((v, i) => [String(40 + i), v, undefined]));
  }
});

test('a corrupt compressed batch becomes one marker per record, at the batch offsets, with the reason and range', async () => {
  for (const [c, name] of [[CompressionTypes.GZIP, 'gzip'], [CompressionTypes.LZ4, 'lz4'], [CompressionTypes.ZSTD, 'zstd'], [CompressionTypes.Snappy, 'snappy']] as const) {
    const b = await batch(c, values);
    b.fill(0xff, 61 + 4, b.length - 2); // the compressed payload (after the header and its 4-byte frame start), not its last bytes
    const { records } = await decode(b);
    expect(records.map((r) => [r.offset, r.key, r.value])).toEqual([['40', null, null], ['41', null, null], ['42', null, null]]);
    const marks = records.map((r) => undecodableBatch(r.headers)!);
    expect(marks.map((m) => [m.firstOffset, m.lastOffset])).toEqual([['40', '42'], ['40', '42'], ['40', '42']]);
    expect(marks[0].reason.startsWith(`${name}: `)).toBe(true);
    expect(marks[0].reason.length).toBeGreaterThan(name.length + 2);
  }
});

test('gzip with a malformed second member (Java brokers accept it, Node refuses it): markers with zlib\'s reason', async () => {
  const b = await batch(CompressionTypes.GZIP, values, 7);
  const withTail = Buffer.concat([b, Buffer.from([0x1f, 0x8b, 0, 1, 2, 3])]);
  withTail.writeInt32BE(withTail.length - 12, 8); // the batch length covers the tail
  const { records } = await decode(withTail);
  expect(records.map((r) => [r.offset, undecodableBatch(r.headers)])).toEqual(
    ['7', '8', '9'].map((o) => [o, { reason: 'gzip: unknown compression method', firstOffset: '7', lastOffset: '9' }]),
  );
});

test('decompressed bytes that do not frame the batch\'s records: markers, not a crash', async () => {
  const junk = guardedCodec('lz4', () => ({ compress: async () => Buffer.alloc(0), decompress: async () => Buffer.from([0x06, 1, 2, 3]) }))();
  const b = await batch(CompressionTypes.LZ4, values, 0);
  const payload = b.subarray(61);
  const out = await junk.decompress(payload);
  // What kafkajs would then decode: three marker records.
  expect(framingProblem(out, 3)).toBeUndefined();
  expect(framingProblem(Buffer.from([0x06, 1, 2, 3]), 3)).toBe("decompressed bytes hold 1 of the batch's 3 records");
  expect(framingProblem(Buffer.from([0x06, 1, 2]), 1)).toBe("decompressed bytes hold 0 of the batch's 1 records");
});

test('a payload whose batch header is not right before it (not kafkajs\' view): the codec error is thrown as before', async () => {
  const failing = guardedCodec('gzip', () => ({ compress: async () => Buffer.alloc(0), decompress: async () => Promise.reject(new Error('incorrect header check')) }))();
  await expect(failing.decompress(Buffer.from('not gzip at all'))).rejects.toThrow('incorrect header check');
  const b = await batch(CompressionTypes.GZIP, values);
  // The right place, but the header names another codec (gzip): not trusted either.
  const lz4 = guardedCodec('lz4', () => ({ compress: async () => Buffer.alloc(0), decompress: async () => Promise.reject(new Error('lz4: truncated frame')) }))();
  await expect(lz4.decompress(b.subarray(61))).rejects.toThrow('lz4: truncated frame');
});
