/**
 * The exactly_once handover on the real broker, many rounds: the owner of an
 * input partition sends its transaction's commit (EndTxn) and is gone; the
 * next owner's producer (same transactional id) takes over at once and reads
 * the group's committed offset: the floor below which it writes no alert.
 *
 * EndTxn returns once the coordinator has decided (PREPARE_COMMIT); the
 * markers, the one that makes the transactional offset commit visible
 * included, are written afterwards. A committed-offset fetch in that gap
 * (kafkajs has no require_stable, KIP-447) can see the previous offset. The
 * contract under test (partition-txn.ts): the new owner's InitProducerId
 * returns only once the previous transaction is complete, and the floor is
 * read after it, so the floor is always the final offset of that transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { PartitionTxn } from '../../src/pipeline/partition-txn';
import { kafkaPartitionProducers, transactionalId } from '../../src/pipeline/transactor';
import { createTopics, kafka, readTopic } from '../pipeline/kafka-helpers';

const ROUNDS = 40;
let admin: Admin;

beforeAll(async () => {
  admin = kafka().admin();
  await admin.connect();
});

afterAll(async () => {
  await admin.disconnect();
});

test(`handover right after EndTxn, ${ROUNDS} rounds: the new owner's floor is always the previous transaction's final offset`, async () => {
  const id = randomUUID().slice(0, 8);
  const [input, out, group] = [`in-${id}`, `out-${id}`, `g-${id}`];
  await createTopics(admin, { [input]: 1, [out]: 1 });
  const producers = kafkaPartitionProducers(kafka(), group, { transactionTimeout: 30_000 });
  const tid = transactionalId(`kestrel-${group}`, input, 0);
  const rows: { round: number; floor: number; final: number; committed: boolean; staleAfterEndTxn: boolean }[] = [];
  try {
    let owner = new PartitionTxn(input, 0, tid, producers, 1);
    for (let round = 1; round <= ROUNDS; round++) {
      const { producer } = await owner.ready();
      const txn = await producer.transaction();
      await txn.send({ topic: out, acks: -1, messages: [{ value: `alert-${round}` }] });
      await txn.sendOffsets({ consumerGroupId: group, topics: [{ topic: input, partitions: [{ partition: 0, offset: String(round) }] }] });
      // Odd rounds: the next owner arrives while EndTxn is under way; even rounds: right after EndTxn returned.
      const ending = txn.commit().then(() => true, () => false);
      if (round % 2 === 0) await ending;
      // What a consumer joining now would fetch (kafkajs: OffsetFetch without require_stable).
      const raw = Number((await admin.fetchOffsets({ groupId: group, topics: [input] }))[0].partitions[0].offset);
      // The next owner: same transactional id, InitProducerId, then the committed offset.
      const next = new PartitionTxn(input, 0, tid, producers, round + 1);
      const { floor } = await next.ready();
      const committed = await ending;
      const final = Number((await admin.fetchOffsets({ groupId: group, topics: [input] }))[0].partitions[0].offset);
      rows.push({ round, floor, final, committed, staleAfterEndTxn: round % 2 === 0 && raw < round });
      await owner.discard();
      owner = next;
    }
    await owner.discard();
  } finally {
    await producers.close();
  }
  const stale = rows.filter((r) => r.staleAfterEndTxn).length;
  const wrong = rows.filter((r) => r.floor !== r.final);
  const committed = rows.filter((r) => r.committed).length;
  console.log(`eos handover: ${ROUNDS} rounds, ${committed} commits; offset fetched right after EndTxn returned was stale in ${stale} of ${ROUNDS / 2}; floor after InitProducerId differed from the final offset in ${wrong.length}`);
  expect(wrong).toEqual([]);
  // Every commit's alert is visible once to a read_committed reader.
  const alerts = (await readTopic(out, committed, { readCommitted: true, settleMs: 1_000 })).map((r) => String(r.value));
  expect(alerts).toEqual(rows.filter((r) => r.committed).map((r) => `alert-${r.round}`));
}, 120_000);
