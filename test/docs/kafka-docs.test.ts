/**
 * The doc examples marked `<!-- docs-test: kafka -->` (conventions in
 * docs.test.ts), run against this test run's Kafka broker: naming
 * KAFKA_BROKERS here makes test/setup/global-setup.ts start one (or use the
 * cluster already in KAFKA_BROKERS), and the examples find it in
 * $KAFKA_BROKERS.
 */
import { BLOCKS, describeDocBlocks } from './run-doc-blocks';

const kafkaBlocks = BLOCKS.filter((b) => b.needsKafka && b.skipReason === undefined);

test('the broker of the test run is known to the Kafka examples', () => {
  expect(process.env.KAFKA_BROKERS).toMatch(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/);
  expect(kafkaBlocks.length).toBeGreaterThanOrEqual(0); // none yet: docs/kafka.md's walkthrough is to come
});

describeDocBlocks((b) => b.needsKafka === true && b.skipReason === undefined, () => ({ KAFKA_BROKERS: process.env.KAFKA_BROKERS }));
