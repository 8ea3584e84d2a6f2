/**
 * kestrel_evaluation_seconds is fed with the workers' bucket counts
 * (src/observability/batched-histogram.ts): its exposition must be what a
 * prom-client Histogram observing the same values one by one renders.
 */
import { Histogram, Registry } from 'prom-client';
import { BatchedHistogram, bucketCounts, countInto, EVALUATION_BUCKETS } from '../../src/observability/batched-histogram';

// Binary fractions, so the sum does not depend on the order of addition.
const values = [0, 2 ** -17, 2 ** -14, 2 ** -12, 2 ** -12, 2 ** -8, 0.25, 0.5, 8];

test('bucket counts added in two jobs render exactly as prom-client observing each value', async () => {
  const reference = new Registry();
  const h = new Histogram({ name: 'kestrel_evaluation_seconds', help: 'Decode + rule evaluation time per payload', buckets: [...EVALUATION_BUCKETS], registers: [reference] });
  for (const v of values) h.observe(v);

  const ours = new Registry();
  const b = new BatchedHistogram('kestrel_evaluation_seconds', 'Decode + rule evaluation time per payload', EVALUATION_BUCKETS, ours);
  for (const job of [values.slice(0, 4), values.slice(4)]) {
    const counts = bucketCounts(EVALUATION_BUCKETS);
    for (const v of job) countInto(counts, EVALUATION_BUCKETS, v);
    b.add(counts);
  }
  expect(await ours.metrics()).toBe(await reference.metrics());
  expect(await ours.metrics()).toContain('kestrel_evaluation_seconds_bucket{le="0.00001"} 2\n');
  expect(await ours.metrics()).toContain('kestrel_evaluation_seconds_count 9\n');

  b.reset();
  expect(await ours.metrics()).toContain('kestrel_evaluation_seconds_bucket{le="+Inf"} 0\n');
});

test('counts of other buckets are refused', () => {
  const b = new BatchedHistogram('h', 'h', [1, 2], new Registry());
  expect(() => b.add(new Float64Array(3))).toThrow('h: 1 buckets given, 3 expected');
});
