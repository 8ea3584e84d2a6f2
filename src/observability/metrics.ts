/** Prometheus metrics of `kestrel consume` (one registry per pipeline, so tests can run several). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const BREAKER_STATE_VALUE = { closed: 0, halfOpen: 1, open: 2 } as const;

export class Metrics {
  readonly registry = new Registry();
  private readonly c = <T extends string>(name: string, help: string, labelNames: T[] = []) => new Counter({ name, help, labelNames, registers: [this.registry] });
  private readonly g = <T extends string>(name: string, help: string, labelNames: T[] = []) => new Gauge({ name, help, labelNames, registers: [this.registry] });

  readonly consumed = this.c('kestrel_messages_consumed_total', 'Kafka messages dispatched to rule workers', ['topic', 'partition']);
  readonly events = this.c('kestrel_events_total', 'Audit events decoded from messages');
  readonly decodeFailures = this.c('kestrel_decode_failures_total', 'Messages that could not be decoded', ['topic']);
  readonly dlqSends = this.c('kestrel_dlq_messages_total', 'Messages written to the dead-letter topic', ['topic']);
  readonly dropped = this.c('kestrel_undecodable_unrouted_total', 'Undecodable messages logged but not sent anywhere (no dlq.topic configured)', ['topic']);
  readonly alerts = this.c('kestrel_alerts_total', 'Alerts raised', ['rule', 'priority']);
  readonly sinkFailures = this.c('kestrel_sink_failures_total', 'Failed sink deliveries (retried)', ['sink']);
  readonly commits = this.c('kestrel_commits_total', 'Offset commits', ['result']);
  readonly ruleReloads = this.c('kestrel_rule_reloads_total', 'Rule reloads (SIGHUP), by result', ['result']);
  readonly evaluation = new Histogram({
    name: 'kestrel_evaluation_seconds',
    help: 'Decode + rule evaluation time per message',
    buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25],
    registers: [this.registry],
  });
  readonly lag = this.g('kestrel_consumer_lag', 'Messages between the last dispatched offset and the high watermark', ['topic', 'partition']);
  readonly queueDepth = this.g('kestrel_worker_queue_depth', 'Messages in flight per rule worker (dispatched, not yet delivered)', ['worker']);
  readonly queueBytes = this.g('kestrel_worker_queue_bytes', 'Bytes in flight per rule worker', ['worker']);
  readonly paused = this.g('kestrel_paused_partitions', 'Assigned partitions currently paused');
  readonly breaker = this.g('kestrel_breaker_state', 'Circuit breaker state per sink: 0 closed, 1 half-open, 2 open', ['sink']);
  readonly assigned = this.g('kestrel_assigned_partitions', 'Partitions assigned to this consumer');

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'kestrel_' });
  }
}
