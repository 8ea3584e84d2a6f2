/**
 * The produce record encoder (src/sources/kafka-record-encoder.ts) makes the
 * bytes kafkajs' own encoder makes, for every shape of key, value, headers
 * and delta kafkajs accepts.
 */
import { encodeRecord, type RecordInput } from '../../src/sources/kafka-record-encoder';
import { inKafkaClientProcess } from '../support/kafka-client-process';

// jest's module registry: kafkajs' own encoder (the replacement is installed only under Node's cache).
const kafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: RecordInput) => { buffer: Buffer };

const alert = JSON.stringify({ output: 'Privileged pod created (user=system:admin ns=default é ✓)', priority: 'Warning', rule: 'Create Privileged Pod', time: '2026-12-02T09:00:00.000000000Z' });
const cases: [string, RecordInput][] = [
  ['an alert as Kestrel sends it', { offsetDelta: 17, timestampDelta: 0, key: 'Create Privileged Pod', value: alert, headers: { rule: 'Create Privileged Pod', priority: 'Warning', source: 'k8s_audit', input_topic: 'audit', input_partition: '3', input_offset: '123456789' } }],
  ['Buffer key and value, Buffer and array headers', { offsetDelta: 0, key: Buffer.from([0, 1, 2, 255]), value: Buffer.alloc(5000, 7), headers: { a: Buffer.from('x'), b: ['1', Buffer.from('2'), 'three'] } }],
  ['null key and value, no headers', { offsetDelta: 1, key: null, value: null }],
  ['empty strings', { key: '', value: '', headers: { '': '' } }],
  ['number value and header (String() of it)', { value: 42 as unknown as string, headers: { n: 7 as unknown as string } }],
  ['a large offset delta and timestamp deltas', { offsetDelta: 1_000_000, timestampDelta: 1234567, value: 'v' }],
  ['a negative timestamp delta', { timestampDelta: -5000, value: 'v' }],
  ['a timestamp delta beyond 2^31', { timestampDelta: 2 ** 40 + 3, value: 'v' }],
  ['a timestamp delta beyond 2^52', { timestampDelta: 2 ** 53 - 1, value: 'v' }],
  ['a negative timestamp delta beyond 2^52', { timestampDelta: -(2 ** 53 - 1), value: 'v' }],
  ['a value of exactly 63 and 64 bytes (varint boundary)', { key: 'x'.repeat(63), value: 'y'.repeat(64) }],
  ['a multi-byte UTF-8 key and header', { key: '日本語', value: 'ok', headers: { 'ключ': 'значение' } }],
];

test.each(cases)('%s: the same bytes as kafkajs', (_name, input) => {
  expect(encodeRecord(input).buffer.toString('hex')).toBe(kafkajsRecord(input).buffer.toString('hex'));
});

test('the result has what kafkajs\' batch encoder reads (buf, buffer) and is one exact buffer', () => {
  const r = encodeRecord({ value: 'abc' });
  expect(Buffer.isBuffer(r.buf)).toBe(true);
  expect([r.buffer === r.buf, r.buffer.length]).toEqual([true, kafkajsRecord({ value: 'abc' }).buffer.length]);
});

test('in a Kestrel process, kafkajs produce requests encode records with it', () => {
  const script = `
    const enc = require('./dist/src/sources/kafka-record-encoder.js');
    const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
    console.log(JSON.stringify({ installed: enc.recordEncoderInstalled, ours: Record === enc.encodeRecord }));
  `;
  expect(inKafkaClientProcess(script)).toEqual({ installed: true, ours: true });
});
