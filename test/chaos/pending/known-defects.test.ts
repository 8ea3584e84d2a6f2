/**
 * Chaos scenarios that fail on today's main, kept out of the default run
 * (jest.config.js ignores test/chaos/pending/) so CI stays green until the
 * fixes land in src/pipeline/. Run them with:
 *
 *   npx jest test/chaos/pending --testPathIgnorePatterns=/node_modules/
 *
 * 1. A broker outage longer than kafkajs' retry budget (~10 s): kafkajs crashes
 *    the consumer and restarts it itself, but its crash path first calls
 *    disconnect(), which emits STOP and DISCONNECT before CRASH{restart:true};
 *    KafkaInput.start() (src/pipeline/kafka-input.ts) takes that STOP for a
 *    zombie consumer and fails the pipeline, so Kestrel exits 1 while the broker
 *    comes back. With no supervisor restarting it, nothing after the outage is
 *    detected (at_least_once: offsets were not committed, so a restarted process
 *    re-reads them: nothing is lost, detection stops until then).
 *    With that exit deferred until CRASH says whether kafkajs restarts (tried on
 *    dist/ only), Kestrel rides out the outage and a second defect shows: the
 *    output's idempotent producer (src/pipeline/service.ts, buildOutputs(), the
 *    `plain` producer) gets OUT_OF_ORDER_SEQUENCE_NUMBER on every send after the
 *    broker's unclean restart, for ever (kafkajs never resets an idempotent
 *    producer's id or sequences); the breaker cycles open/half-open and no
 *    alert is delivered again (736 of 900 missing after 60 s, process running).
 * 2. exactly_once across rebalances: one transactional producer per process
 *    cannot fence the previous owner of a moved partition (kafkajs has no
 *    KIP-447): a member whose partition moves away may still commit an open
 *    transaction holding that partition's alerts and offsets after the new owner
 *    read the committed offset, so a read_committed reader sees duplicates
 *    (issue 9, item 13: one transactional producer per input partition).
 *    The rebalance storm shows it every time (73 duplicates of 1,500); the
 *    SIGKILL scenario shows it when the restarted member's join moves a
 *    partition away from the survivor mid-transaction (0 in one run, 42 of 1,200
 *    in the next).
 */
import type { Admin } from 'kafkajs';
import { kafka } from '../../pipeline/kafka-helpers';
import { brokerRestart, killAll, rebalanceStorm, sigkill } from '../scenarios';

let admin: Admin;
beforeAll(async () => {
  admin = kafka().admin();
  await admin.connect();
});
afterAll(async () => {
  await killAll();
  await admin.disconnect();
});

test('broker down 15 s (killed, then back with its data), at_least_once: Kestrel rides it out and none is missing', async () => {
  const t = await brokerRestart('at_least_once', 'outage');
  expect([t.missing, t.extra]).toEqual([0, 0]);
}, 150_000);

test('rebalance storm, exactly_once: every alert exactly once for a read_committed reader', async () => {
  const t = await rebalanceStorm(admin, 'exactly_once');
  expect([t.missing, t.extra, t.duplicates]).toEqual([0, 0, 0]);
}, 120_000);

test('SIGKILL of one of two consumers mid-stream, restarted, exactly_once: every alert exactly once for a read_committed reader', async () => {
  const t = await sigkill(admin, 'exactly_once');
  expect([t.missing, t.extra, t.duplicates]).toEqual([0, 0, 0]);
}, 90_000);
