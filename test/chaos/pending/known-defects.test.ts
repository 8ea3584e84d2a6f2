/**
 * A chaos scenario that fails on today's main, kept out of the default run
 * (jest.config.js ignores test/chaos/pending/) so CI stays green until the
 * fixes land in src/pipeline/. Run it with:
 *
 *   npx jest test/chaos/pending --selectProjects integration --testPathIgnorePatterns=/node_modules/
 *
 * A broker outage longer than kafkajs' retry budget (~10 s): kafkajs crashes
 * the consumer and restarts it itself, but its crash path first calls
 * disconnect(), which emits STOP and DISCONNECT before CRASH{restart:true};
 * KafkaInput.start() (src/pipeline/kafka-input.ts) takes that STOP for a
 * zombie consumer and fails the pipeline, so Kestrel exits 1 while the broker
 * comes back. With no supervisor restarting it, nothing after the outage is
 * detected (at_least_once: offsets were not committed, so a restarted process
 * re-reads them: nothing is lost, detection stops until then).
 * With that exit deferred until CRASH says whether kafkajs restarts (tried on
 * dist/ only), Kestrel rides out the outage and a second defect shows: the
 * output's idempotent producer (src/pipeline/service.ts, buildOutputs(), the
 * `plain` producer) gets OUT_OF_ORDER_SEQUENCE_NUMBER on every send after the
 * broker's unclean restart, for ever (kafkajs never resets an idempotent
 * producer's id or sequences); the breaker cycles open/half-open and no
 * alert is delivered again (736 of 900 missing after 60 s, process running).
 */
import { brokerRestart, killAll } from '../scenarios';

afterAll(() => killAll());

test('broker down 15 s (killed, then back with its data), at_least_once: Kestrel rides it out and none is missing', async () => {
  const t = await brokerRestart('at_least_once', 'outage');
  expect([t.missing, t.extra]).toEqual([0, 0]);
}, 150_000);

