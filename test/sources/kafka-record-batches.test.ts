/**
 * Whole record batches (src/sources/kafka-record-batches.ts): the Fetch v11
 * decoder yields one stand-in per record batch of a registered topic, and
 * framing its records gives exactly the offsets and values kafkajs' own
 * decoder gives as messages. Batches are encoded with kafkajs' own encoders.
 */
import { decodeFetchResponse, readWholeBatches, wholeBatchOf, type WholeBatch } from '../../src/sources/kafka-record-batches';
import { frameRecords } from '../../src/sources/record-framing';
import { FetchedRecords } from '../../src/pipeline/fetched';

import { batch, GZIP, kafkajsV11, response, type Msg } from '../support/kafka-batches';
import { inKafkaClientProcess } from '../support/kafka-client-process';

const framed = (w: WholeBatch, from = 0) => {
  const out: [number, string | null][] = [];
  const problem = frameRecords(w, from, (offset, start, length) => out.push([offset, length < 0 ? null : w.records.subarray(start, start + length).toString()]));
  return { out, problem };
};

const plain = [
  { delta: 0, value: '{"a":1}', key: 'k1', headers: { h: 'v', h2: 'w' } },
  { delta: 1, value: null },
  { delta: 2, value: '' },
  { delta: 5, value: 'x'.repeat(300), key: '' }, // offsets 3-4 removed by compaction
];

describe('frameRecords', () => {
  test('offsets (with compaction gaps), values (null, empty, long), keys and headers skipped', async () => {
    const b = await batch(100, plain);
    const w: WholeBatch = { records: b.subarray(61), count: 4, baseOffset: 100, lastOffset: 105 };
    expect(framed(w)).toEqual({ out: [[100, '{"a":1}'], [101, null], [102, ''], [105, 'x'.repeat(300)]], problem: undefined });
    expect(framed(w, 102).out.map(([o]) => o)).toEqual([102, 105]);
  });

  test('records that do not frame name the problem', async () => {
    const b = await batch(0, plain);
    const records = b.subarray(61);
    expect(framed({ records, count: 5, baseOffset: 0, lastOffset: 5 }).problem).toBe('the batch holds 4 of its 5 records');
    expect(framed({ records: records.subarray(0, records.length - 3), count: 4, baseOffset: 0, lastOffset: 5 }).problem).toBe('the batch holds 3 of its 4 records');
    // A value length past its record's end.
    const bad = Buffer.from(records);
    const valueLengthAt = 1 + 1 + 1 + 1 + 1 + 2; // length, attributes, timestamp delta, offset delta, key length, key 'k1'
    bad[valueLengthAt] = 0x7e; // 63
    expect(framed({ records: bad, count: 4, baseOffset: 0, lastOffset: 5 }).problem).toBe('record 0 of the batch is malformed');
  });
});

describe('decodeFetchResponse', () => {
  test('an unregistered topic decodes exactly as kafkajs decodes it', async () => {
    const raw = response([{ name: 'other', records: Buffer.concat([await batch(0, plain), await batch(6, plain.slice(0, 2), { compression: GZIP })]) }]);
    expect(await decodeFetchResponse(raw)).toEqual(await kafkajsV11.decode(raw));
  });

  test('a registered topic: one stand-in per batch whose framed records are what kafkajs yields as messages', async () => {
    const records = Buffer.concat([
      await batch(0, plain),
      await batch(6, plain.slice(0, 2), { compression: GZIP }),
      await batch(8, [{ delta: 0, value: 'in txn' }, { delta: 1, value: 'also' }], { transactional: true, producerId: 7 }),
      await batch(10, [{ delta: 0, value: '\u0000\u0000\u0000\u0000', key: '\u0000\u0000\u0000\u0000' }], { transactional: true, producerId: 7, control: true }),
      // Compaction removed the last two records of this one: it still ends at 13.
      await batch(11, [{ delta: 0, value: 'after' }], { lastOffsetDelta: 2 }),
    ]);
    // The fetch's size limit cut the next batch: it is left for the next fetch, as kafkajs does.
    const cut = (await batch(14, [{ delta: 0, value: 'cut' }])).subarray(0, 70);
    const raw = response([{ name: 'audit', records: Buffer.concat([records, cut]) }, { name: 'other', records }]);
    const release = readWholeBatches(['audit']);
    const ours = await decodeFetchResponse(raw);
    release();
    const theirs = await kafkajsV11.decode(raw);
    const msgs = ours.responses[0].partitions[0].messages as Msg[];
    // Four stand-ins and kafkajs' own control record (its key marks an abort).
    expect(msgs.map((m) => [m.offset, wholeBatchOf(m) ? 'whole' : 'kafkajs', m.isControlRecord, m.batchContext.producerId, m.batchContext.inTransaction])).toEqual([
      ['5', 'whole', false, '-1', false],
      ['7', 'whole', false, '-1', false],
      ['9', 'whole', false, '7', true],
      ['10', 'kafkajs', true, '7', true],
      ['13', 'whole', false, '-1', false],
    ]);
    // The other topic of the same response is kafkajs' own decoding.
    expect(ours.responses[1]).toEqual(theirs.responses[1]);
    const expected = theirs.responses[0].partitions[0].messages.filter((m) => !m.isControlRecord).map((m) => [Number(m.offset), m.value === null ? null : m.value.toString()]);
    const f = FetchedRecords.from(msgs.filter((m) => !m.isControlRecord) as never, 0);
    const packed = f.pack(0, f.length);
    const values = f.offsets.map((o, i) => [o, f.lengths[i] < 0 ? null : Buffer.from(packed.buf, packed.starts![i], f.lengths[i]).toString()]);
    expect(values).toEqual(expected);
    expect(expected).toHaveLength(9);
    // A job that ends at a batch's last record resolves and commits the batch's last offset (13, not 11).
    expect(f.ends).toEqual([0, 1, 2, 5, 6, 7, 8, 9, 13]);
    expect(f.tail).toBe(13);
  });

  test('records below the fetch offset are left out; a batch whose records do not frame holds the input there', async () => {
    const raw = response([{ name: 'audit', records: Buffer.concat([await batch(0, plain), await batch(6, plain.slice(0, 2))]) }]);
    const release = readWholeBatches(['audit']);
    const msgs = (await decodeFetchResponse(raw)).responses[0].partitions[0].messages;
    release();
    const f = FetchedRecords.from(msgs as never, 2);
    expect([f.offsets, f.ends, f.tail, f.held]).toEqual([[2, 5, 6, 7], [2, 5, 6, 7], 7, undefined]);
    const broken = { ...(msgs[1] as object) } as Msg;
    const w = wholeBatchOf(msgs[1])!;
    Object.getOwnPropertySymbols(msgs[1]).forEach((s) => ((broken as unknown as Record<symbol, unknown>)[s] = { ...w, count: 3 }));
    const g = FetchedRecords.from([msgs[0], broken] as never, 0);
    expect([g.offsets, g.held]).toEqual([[0, 1, 2, 5], { reason: 'the batch holds 2 of its 3 records', firstOffset: '6', lastOffset: '7' }]);
  });
});

test('in a Kestrel process, kafkajs decodes Fetch v11 responses with this module', () => {
  const script = `
    const rb = require('./dist/src/sources/kafka-record-batches.js');
    const v11 = require('kafkajs/src/protocol/requests/fetch/v11/response');
    console.log(JSON.stringify({ installed: rb.wholeBatchDecoderInstalled, ours: v11.decode === rb.decodeFetchResponse, parse: typeof v11.parse }));
  `;
  expect(inKafkaClientProcess(script)).toEqual({ installed: true, ours: true, parse: 'function' });
});
