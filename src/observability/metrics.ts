/**
 * The one Prometheus registry of a Kestrel process: one metric name per
 * concept for every input and output (labels say which). Falco's own name is
 * exported beside Kestrel's where Falco has one, so Falco dashboards work.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BatchedHistogram, EVALUATION_BUCKETS } from './batched-histogram';

export const BREAKER_STATE_VALUE = { closed: 0, halfOpen: 1, open: 2 } as const;

export class Metrics {
  readonly registry = new Registry();
  private readonly c = <T extends string>(name: string, help: string, labelNames: T[] = []) => new Counter({ name, help, labelNames, registers: [this.registry] });
  private readonly g = <T extends string>(name: string, help: string, labelNames: T[] = []) => new Gauge({ name, help, labelNames, registers: [this.registry] });

  // inputs
  readonly received = this.c('kestrel_input_messages_total', 'Payloads taken by an input (Kafka messages, webhook documents, file documents)', ['input']);
  readonly events = this.c('kestrel_events_total', 'Audit events decoded and evaluated', ['input']);
  readonly rejected = this.c('kestrel_rejected_total', 'Payloads that could not be decoded', ['input']);
  readonly deadLetters = this.c('kestrel_dead_letters_total', 'Undecodable payloads written to the dead-letter topic', ['input']);
  readonly deadLettersUnrouted = this.c('kestrel_dead_letters_unrouted_total', 'Undecodable payloads only logged (no dead_letters topic configured)', ['input']);
  readonly webhookRequests = this.c('kestrel_webhook_requests_total', 'Webhook requests by path and HTTP status', ['path', 'code']);
  readonly spoolBytes = this.g('kestrel_spool_bytes', 'Undelivered bytes in a webhook spool', ['input']);
  readonly spoolRequests = this.g('kestrel_spool_requests', 'Undelivered requests in a webhook spool', ['input']);
  readonly spoolOldest = this.g('kestrel_spool_oldest_seconds', 'Age of the oldest undelivered request in a webhook spool', ['input']);
  // engine
  readonly alerts = this.c('kestrel_alerts_total', 'Alerts raised (after throttling)', ['rule', 'priority']);
  readonly falcoMatches = this.c('falcosecurity_falco_rules_matches_total', "Rule matches, under Falco's metric name", ['rule_name', 'priority', 'source']);
  readonly suppressed = this.c('kestrel_alerts_suppressed_total', 'Alerts suppressed by throttling (counted in the next alert of the same key)', ['rule']);
  /** Fed by the rule workers' bucket counts (EVALUATION_BUCKETS). */
  readonly evaluation = new BatchedHistogram('kestrel_evaluation_seconds', 'Decode + rule evaluation time per payload', EVALUATION_BUCKETS, this.registry);
  readonly correlationGroups = this.g('kestrel_correlation_groups', 'Correlation groups held in memory (every correlation, every internal partition of this process)');
  readonly correlationAlerts = this.c('kestrel_correlation_alerts_total', 'Correlation alerts raised (before throttling)', ['rule']);
  readonly correlationStateLimit = this.c('kestrel_correlation_state_limit_total', 'Base-rule matches dropped because the correlation group cap (correlation.max_groups) was reached');
  readonly correlationLate = this.c('kestrel_correlation_late_total', 'Base-rule matches that arrived later than correlation.tolerance_ms (not counted)');
  readonly correlationInputs = this.c('kestrel_correlation_inputs_total', 'Prepared base-rule matches, by stage: local (this process correlates), produced (to the internal topic), consumed (from it), duplicate (an input message read twice: taken once)', ['stage']);
  readonly ruleCostSeconds = this.c('kestrel_rule_evaluation_seconds_total', 'Estimated time spent evaluating each rule (one evaluation in 64 is timed; its time counts for 64)', ['rule']);
  readonly ruleCostSamples = this.c('kestrel_rule_evaluation_samples_total', 'Timed rule evaluations behind kestrel_rule_evaluation_seconds_total', ['rule']);
  readonly ruleReloads = this.c('kestrel_rules_reloads_total', 'Rule reloads (SIGHUP, file watch), by result', ['result']);
  readonly rulesetInfo = this.g('kestrel_ruleset_info', 'The running ruleset (its sha256 in the hash label)', ['hash']);
  // outputs
  readonly outputAlerts = this.c('kestrel_output_alerts_total', 'Alerts delivered, by output', ['output']);
  readonly outputFailures = this.c('kestrel_output_failures_total', 'Failed deliveries (retried), by output', ['output']);
  readonly producerRenewals = this.c('kestrel_producer_renewals_total', "Output producers replaced after the broker lost their idempotence state (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH), by the output (or forwarding webhook input) whose send met it", ['output']);
  readonly breaker = this.g('kestrel_breaker_state', 'Circuit breaker state per output: 0 closed, 1 half-open, 2 open', ['output']);
  // Kafka inputs
  readonly commits = this.c('kestrel_commits_total', 'Offset commits (or exactly_once transactions)', ['result']);
  readonly lag = this.g('kestrel_consumer_lag', 'Messages between the last dispatched offset and the high watermark', ['topic', 'partition']);
  readonly paused = this.g('kestrel_paused_partitions', 'Assigned partitions currently paused');
  readonly undecodableBatches = this.c('kestrel_undecodable_batches_total', 'Record batches that could not be decompressed or parsed (their partition is held)', ['topic', 'partition']);
  readonly stalled = this.g('kestrel_partitions_stalled', 'Assigned partitions held at an undecodable record batch');
  readonly assigned = this.g('kestrel_assigned_partitions', 'Partitions assigned to this consumer');
  // workers and the process
  readonly queueDepth = this.g('kestrel_worker_queue_depth', 'Payloads in flight per rule worker (dispatched, not yet delivered)', ['worker']);
  readonly queueBytes = this.g('kestrel_worker_queue_bytes', 'Bytes in flight per rule worker', ['worker']);
  readonly workerHeap = this.g('kestrel_worker_heap_bytes', "V8 heap of each rule worker (total size, as of its last job; the process's nodejs_* metrics cover only the main thread)", ['worker']);
  readonly healthy = this.g('kestrel_pipeline_healthy', '1 while the pipeline runs, 0 once it failed');

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'kestrel_' });
  }
}
