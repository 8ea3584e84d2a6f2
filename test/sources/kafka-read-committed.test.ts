/**
 * Kestrel's read_committed filter (src/sources/kafka-read-committed.ts): the
 * records of aborted transactions never reach the input, whatever order the
 * broker lists the aborted transactions in. test/pipeline/kafkajs-read-committed.test.ts
 * shows kafkajs's own filter leaking in the same case.
 */
import { filterAborted, type FetchedRecord } from '../../src/sources/kafka-read-committed';
import { inKafkaClientProcess } from '../support/kafka-client-process';

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);
const rec = (offset: number, producerId: string, inTransaction = true): FetchedRecord => ({ offset: String(offset), key: Buffer.from('k'), batchContext: { producerId, inTransaction } });
const marker = (offset: number, producerId: string, key = ABORT): FetchedRecord => ({ offset: String(offset), key, isControlRecord: true, batchContext: { producerId, inTransaction: true } });
const kept = (messages: FetchedRecord[], aborted: { producerId: string; firstOffset: string }[]) =>
  filterAborted({ messages, abortedTransactions: aborted }).filter((m) => !m.isControlRecord).map((m) => `${m.batchContext.producerId}@${m.offset}`);

// P's transaction starts at 10, Q's at 11; Q is aborted first (marker 13), P later (marker 15).
const twoAborted = [rec(10, 'P'), rec(11, 'Q'), rec(12, 'P'), marker(13, 'Q'), rec(14, 'R'), marker(15, 'P')];

test('aborted transactions listed in abort-marker order (as the broker does) are all dropped', () => {
  expect(kept(twoAborted, [{ producerId: 'Q', firstOffset: '11' }, { producerId: 'P', firstOffset: '10' }])).toEqual(['R@14']);
  expect(kept(twoAborted, [{ producerId: 'P', firstOffset: '10' }, { producerId: 'Q', firstOffset: '11' }])).toEqual(['R@14']);
});

test('transactions that began before the first fetched record are all taken in', () => {
  // The fetch starts at 20; P began at 5 and Q at 7, both still open here, aborted at 23 and 24.
  const messages = [rec(20, 'P'), rec(21, 'Q'), rec(22, 'S'), marker(23, 'P'), marker(24, 'Q'), rec(25, 'P'), rec(26, 'Q')];
  expect(kept(messages, [{ producerId: 'Q', firstOffset: '7' }, { producerId: 'P', firstOffset: '5' }])).toEqual(['S@22', 'P@25', 'Q@26']);
});

test('committed transactions, records outside transactions and an empty list are kept', () => {
  const messages = [rec(1, 'P'), rec(2, 'P', false), marker(3, 'P', COMMIT), rec(4, 'Q')];
  expect(kept(messages, [])).toEqual(['P@1', 'P@2', 'Q@4']);
  expect(kept(messages, [{ producerId: 'P', firstOffset: '1' }])).toEqual(['P@2', 'Q@4']);
  expect(filterAborted({ messages, abortedTransactions: null })).toBe(messages);
});

test('in a Kestrel process, kafkajs batches use this filter (the built client module installs it before kafkajs loads)', () => {
  const script = `
    const kafka = require('./dist/src/sources/kafka.js');
    const rc = require('./dist/src/sources/kafka-read-committed.js');
    const Batch = require('kafkajs/src/consumer/batch');
    const m = (offset, producerId, key, control) => ({ offset: String(offset), key: Buffer.from(key), isControlRecord: control, batchContext: { producerId, inTransaction: true } });
    const messages = [m(10, 'P', 'k', false), m(11, 'Q', 'k', false), m(12, 'P', 'k', false), m(13, 'Q', [0,0,0,0], true), m(14, 'R', 'k', false), m(15, 'P', [0,0,0,0], true)];
    const b = new Batch('t', '10', { partition: 0, highWatermark: '16', messages, abortedTransactions: [{ producerId: 'Q', firstOffset: '11' }, { producerId: 'P', firstOffset: '10' }] });
    console.log(JSON.stringify({ installed: rc.readCommittedFilterInstalled, client: typeof kafka.createKafka === 'function' || Object.keys(kafka).length > 0, offsets: b.messages.map((x) => x.offset) }));
  `;
  expect(inKafkaClientProcess(script)).toEqual({ installed: true, client: true, offsets: ['14'] });
});
