/**
 * The doc examples marked `<!-- docs-test: kafka -->` (conventions in
 * test/docs/docs.test.ts), run against this test run's Kafka broker (the
 * integration project's global setup starts one, or uses the cluster already
 * in KAFKA_BROKERS); the examples find it in $KAFKA_BROKERS.
 */
import { describeDocBlocks } from '../docs/run-doc-blocks';
import { DocShell } from '../docs/run-shell';

test("the examples' shell sees the test run's broker in $KAFKA_BROKERS", () => {
  const brokers = process.env.KAFKA_BROKERS ?? '';
  expect(brokers).toMatch(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/);
  const shell = new DocShell({ KAFKA_BROKERS: brokers });
  try {
    expect(shell.run('echo "$KAFKA_BROKERS"', { strict: true, timeoutMs: 10_000 }).output).toBe(`${brokers}\n`);
  } finally {
    shell.dispose();
  }
});

describeDocBlocks((b) => b.needsKafka === true && b.skipReason === undefined, () => ({ KAFKA_BROKERS: process.env.KAFKA_BROKERS }));
