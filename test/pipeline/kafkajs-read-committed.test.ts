/**
 * Why the exactly_once tests decide committed records from the transaction
 * markers (test/chaos/committed.ts) instead of trusting kafkajs'
 * read_committed: kafkajs' filter expects the fetch response's aborted
 * transactions ordered by first offset, but the broker lists them in the order
 * their abort markers were written. Two owners' transactions aborted by their
 * partitions' next owners (a SIGKILL leaves one open per partition) can come
 * in the other order, and the first records of the earlier one are yielded.
 */
const filterAbortedMessages = require('kafkajs/src/consumer/filterAbortedMessages') as (a: { messages: Msg[]; abortedTransactions: { producerId: string; firstOffset: string }[] }) => Msg[];

interface Msg {
  offset: string;
  key: Buffer | null;
  isControlRecord?: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}

const ABORT = Buffer.from([0, 0, 0, 0]);
const rec = (offset: number, producerId: string): Msg => ({ offset: String(offset), key: Buffer.from('k'), batchContext: { producerId, inTransaction: true } });
const abort = (offset: number, producerId: string): Msg => ({ offset: String(offset), key: ABORT, isControlRecord: true, batchContext: { producerId, inTransaction: true } });

// Output partition: P's transaction starts at 10, Q's at 11; Q is aborted first (marker 13), P later (marker 15).
const messages = [rec(10, 'P'), rec(11, 'Q'), rec(12, 'P'), abort(13, 'Q'), rec(14, 'R'), abort(15, 'P')];
const yielded = (aborted: { producerId: string; firstOffset: string }[]) =>
  filterAbortedMessages({ messages, abortedTransactions: aborted }).filter((m) => !m.isControlRecord).map((m) => `${m.batchContext.producerId}@${m.offset}`);

test('kafkajs read_committed: aborted transactions listed in first-offset order are all filtered', () => {
  expect(yielded([{ producerId: 'P', firstOffset: '10' }, { producerId: 'Q', firstOffset: '11' }])).toEqual(['R@14']);
});

test('kafkajs read_committed: listed in abort-marker order (as the broker does), the first record of the later-aborted transaction leaks', () => {
  expect(yielded([{ producerId: 'Q', firstOffset: '11' }, { producerId: 'P', firstOffset: '10' }])).toEqual(['P@10', 'R@14']);
});
