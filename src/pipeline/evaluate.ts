/**
 * The middle of the one data path, shared by every input: raw payloads go to
 * a rule worker (decode + evaluate), the alerts that come back are shaped
 * (static fields, throttling) on this thread, and undecodable payloads become
 * dead letters. The input then hands the result to the output set and
 * acknowledges once it is delivered.
 */
import type { PayloadFormat } from '../decode/envelope';
import { alertJson, type Alert } from '../engine/alert';
import type { AlertShaper } from '../engine/shaping';
import { DEFAULT_COST_SAMPLE_EVERY } from '../engine/ruleset';
import type { Metrics } from '../observability/metrics';
import type { DeadLetter } from '../sinks/kafka';
import type { AlertOrigin, OutgoingAlert } from '../sinks/types';
import type { CorrelationStage } from './correlation-stage';
import type { JobOutput } from './outputs';
import type { Packed, WorkerPool } from './pool';

export interface JobSpec {
  /** The input's name (metrics, throttling scope). */
  input: string;
  format: PayloadFormat;
  source: string;
  /** Static fields of this input. */
  fields?: Record<string, string>;
  /** Where payload `i` came from (alert headers, dead letters). */
  origin: (i: number) => AlertOrigin;
  /** AKS diagnostic records: the categories read. */
  aksCategories?: string[];
}

export interface EvaluatedJob extends JobOutput {
  events: number;
}

/** Where an alert's event came from: its payload's origin, and its record inside a payload of many. */
function originOf(spec: JobSpec, a: { i: number; record?: number }): AlertOrigin {
  const o = spec.origin(a.i);
  return a.record === undefined ? o : { ...o, record: a.record };
}

export class Evaluator {
  /** Correlation rules and rollups (the service sets it when the rules have any; a reload may add them). */
  correlation: CorrelationStage | undefined;

  constructor(
    readonly pool: WorkerPool,
    private readonly shaper: AlertShaper,
    private readonly metrics: Metrics,
    private readonly shapes: boolean,
  ) {}

  /** `values` are the raw payloads, or already packed (pool.ts `Packed`). */
  run(worker: number, values: (Uint8Array | null)[] | Packed, spec: JobSpec): Promise<EvaluatedJob> {
    // Posted now (not after an await): the caller's payload references can be dropped at once.
    return this.complete(this.pool.run(worker, values, spec.format, spec.source, spec.aksCategories), spec, worker);
  }

  private async complete(pending: ReturnType<WorkerPool['run']>, spec: JobSpec, worker: number): Promise<EvaluatedJob> {
    const res = await pending;
    this.metrics.workerHeap.set({ worker: String(worker) }, res.heap);
    this.metrics.evaluation.add(res.timing);
    this.metrics.events.inc({ input: spec.input }, res.events);
    for (const [rule, ns, n] of res.costs ?? []) {
      this.metrics.ruleCostSeconds.inc({ rule }, (ns * DEFAULT_COST_SAMPLE_EVERY) / 1e9);
      this.metrics.ruleCostSamples.inc({ rule }, n);
    }
    // Rollups hold some alerts back and add summaries; correlation rules add their alerts (correlation-stage.ts).
    const stage = this.correlation;
    const { kept, raised, inputs } = stage ? stage.replay(res.steps, res.alerts, (a) => a.alert) : { kept: res.alerts, raised: [], inputs: [] };
    const own = kept.map((a) => ({ alert: a.alert, json: a.json, origin: originOf(spec, a), context: a.context }));
    const alerts = this.shape([...own, ...raised.map((r) => ({ alert: r.alert, json: alertJson(r.alert), origin: spec.origin(r.i) }))], spec.fields, spec.input);
    this.count(alerts);
    const letters: DeadLetter[] = res.rejects.map((r) => {
      this.metrics.rejected.inc({ input: spec.input });
      return { value: r.value, reason: r.reason, origin: originOf(spec, r) };
    });
    const job: EvaluatedJob = { alerts, letters, events: res.events };
    if (inputs.length > 0) {
      job.correlation = inputs.map((r) => ({ input: r.input, origin: originOf(spec, r) }));
      this.metrics.correlationInputs.inc({ stage: 'produced' }, inputs.length);
    }
    return job;
  }

  /** End of input or shutdown: the alerts of every open correlation window and rollup. */
  flushCorrelation(): OutgoingAlert[] {
    const flushed = this.correlation?.flush() ?? [];
    const alerts = this.shape(flushed.map((alert) => ({ alert, json: alertJson(alert) })));
    this.count(alerts);
    return alerts;
  }

  /** Alerts of another stage (the kafka-mode correlation consumer): shaped and counted like the workers' ones. */
  finish(raised: { alert: Alert; origin?: AlertOrigin }[]): OutgoingAlert[] {
    const alerts = this.shape(raised.map(({ alert, origin }) => ({ alert, json: alertJson(alert), origin })));
    this.count(alerts);
    return alerts;
  }

  private shape(alerts: OutgoingAlert[], fields?: Record<string, string>, input?: string): OutgoingAlert[] {
    if (!this.shapes && !fields) return alerts;
    // Shaping may add fields: such alerts are rendered again; unchanged ones keep their JSON.
    const out: OutgoingAlert[] = [];
    for (const a of alerts) {
      const shaped = this.shaper.shape([a.alert], fields, input)[0];
      if (shaped) out.push(shaped === a.alert ? a : { ...a, alert: shaped, json: alertJson(shaped) });
    }
    return out;
  }

  private count(alerts: OutgoingAlert[]): void {
    for (const a of alerts) {
      this.metrics.alerts.inc({ rule: a.alert.rule, priority: a.alert.priority });
      this.metrics.falcoMatches.inc({ rule_name: a.alert.rule, priority: a.alert.priority, source: a.alert.source });
    }
  }
}
