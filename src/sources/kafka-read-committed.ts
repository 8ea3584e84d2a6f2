/**
 * A correct read_committed filter for kafkajs (2.2.x), installed before
 * kafkajs is first loaded.
 *
 * kafkajs drops the records of aborted transactions with a filter that
 * expects the fetch response's aborted-transaction list ordered by first
 * offset and steps into at most one of them per record. The broker lists them
 * in the order their abort markers were written, so when two producers'
 * transactions are aborted out of order (a killed exactly_once process leaves
 * one open per partition; each is aborted when that partition's next owner
 * fences it), the first records of one of them are handed to the consumer as
 * if committed. Kestrel's own consumers (the Kafka input and the correlation
 * stage) read with read_committed, so they would evaluate aborted records.
 *
 * This filter does what the Java consumer does: the list sorted by first
 * offset, every transaction whose first offset is at or below the record's
 * offset taken in (not just one), a producer's records dropped from there
 * until its abort marker.
 *
 * kafkajs's batch module binds the filter when it is loaded, so the
 * replacement goes into Node's module cache first; every module of ours that
 * loads kafkajs at run time imports this one before it.
 */
import { replaceKafkajsModule } from './kafkajs-module';

const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]);

export interface FetchedRecord {
  offset: string;
  key: Buffer | Uint8Array | null | undefined;
  isControlRecord?: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}

export interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

const isAbortMarker = (r: FetchedRecord): boolean => r.isControlRecord === true && r.key != null && Buffer.from(r.key).equals(ABORT_MARKER_KEY);

/** The records of `messages` that are not part of an aborted transaction (control records kept: kafkajs drops them next). */
export function filterAborted<T extends FetchedRecord>({ messages, abortedTransactions }: { messages: T[]; abortedTransactions?: AbortedTransaction[] | null }): T[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return messages;
  const pending = abortedTransactions
    .map((t) => ({ producerId: String(t.producerId), first: BigInt(t.firstOffset) }))
    .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const aborting = new Set<string>();
  let next = 0;
  return messages.filter((m) => {
    const offset = BigInt(m.offset);
    while (next < pending.length && pending[next].first <= offset) aborting.add(pending[next++].producerId);
    const producerId = String(m.batchContext.producerId);
    if (isAbortMarker(m)) {
      aborting.delete(producerId);
      return true;
    }
    return !(m.batchContext.inTransaction && aborting.has(producerId));
  });
}

const FILTER_MODULE = 'kafkajs/src/consumer/filterAbortedMessages';
const BATCH_MODULE = 'kafkajs/src/consumer/batch';

/** True when kafkajs's batches use filterAborted (false if kafkajs's batch module was loaded before this module). */
export const readCommittedFilterInstalled = replaceKafkajsModule(FILTER_MODULE, () => filterAborted, BATCH_MODULE);
