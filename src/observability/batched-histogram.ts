/**
 * A Prometheus histogram fed with bucket counts instead of one observation at
 * a time: each rule worker counts its payloads' evaluation times into buckets
 * (`BucketCounts`) and sends them with the job's result, so the main thread
 * adds a dozen numbers per job instead of observing every payload (with
 * ~1 KB Kafka events that was a hundred thousand observations a second on the
 * thread that also fetches and delivers).
 *
 * It is registered in prom-client's registry as a metric of its own and
 * exports what a prom-client Histogram exports: `_bucket{le}` (cumulative,
 * +Inf included), `_sum`, `_count`.
 */
import type { Registry } from 'prom-client';

/** Upper bounds (seconds) of kestrel_evaluation_seconds: decode + evaluation of one payload, counted by the rule workers. */
export const EVALUATION_BUCKETS: readonly number[] = [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25];

/** Counts per bucket (the last one is +Inf), then the sum of the observed values. */
export type BucketCounts = Float64Array;

/** An empty `BucketCounts` for `buckets`. */
export function bucketCounts(buckets: readonly number[]): BucketCounts {
  return new Float64Array(buckets.length + 2);
}

/** Counts `value` into `counts` (upper bounds inclusive, as Prometheus' `le`). */
export function countInto(counts: BucketCounts, buckets: readonly number[], value: number): void {
  let i = 0;
  while (i < buckets.length && value > buckets[i]) i++;
  counts[i]++;
  counts[buckets.length + 1] += value;
}

export class BatchedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private totals: BucketCounts;

  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[], registry: Registry) {
    this.totals = bucketCounts(buckets);
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** Adds a worker's counts (same buckets). */
  add(counts: BucketCounts): void {
    if (counts.length !== this.totals.length) throw new Error(`${this.name}: ${counts.length - 2} buckets given, ${this.buckets.length + 1} expected`);
    for (let i = 0; i < counts.length; i++) this.totals[i] += counts[i];
  }

  reset(): void {
    this.totals = bucketCounts(this.buckets);
  }

  /** What prom-client's registry renders (the shape of its own histograms). */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName: string }[] }> {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    let acc = 0;
    const n = this.buckets.length;
    for (let i = 0; i < n; i++) {
      acc += this.totals[i];
      values.push({ labels: { le: this.buckets[i] }, value: acc, metricName: `${this.name}_bucket` });
    }
    acc += this.totals[n];
    values.push({ labels: { le: '+Inf' }, value: acc, metricName: `${this.name}_bucket` });
    values.push({ labels: {}, value: this.totals[n + 1], metricName: `${this.name}_sum` });
    values.push({ labels: {}, value: acc, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
