/**
 * The middle of the one data path, shared by every input: raw payloads go to
 * a rule worker (decode + evaluate), the alerts that come back are shaped
 * (static fields, throttling) on this thread, and undecodable payloads become
 * dead letters. The input then hands the result to the output set and
 * acknowledges once it is delivered.
 */
import type { PayloadFormat } from '../decode/envelope';
import { alertJson } from '../engine/alert';
import type { AlertShaper } from '../engine/shaping';
import type { Metrics } from '../observability/metrics';
import type { DeadLetter } from '../sinks/kafka';
import type { AlertOrigin, OutgoingAlert } from '../sinks/types';
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
  constructor(
    readonly pool: WorkerPool,
    private readonly shaper: AlertShaper,
    private readonly metrics: Metrics,
    private readonly shapes: boolean,
  ) {}

  /** `values` are the raw payloads, or already packed (pool.ts `Packed`). */
  run(worker: number, values: (Uint8Array | null)[] | Packed, spec: JobSpec): Promise<EvaluatedJob> {
    // Posted now (not after an await): the caller's payload references can be dropped at once.
    return this.finish(this.pool.run(worker, values, spec.format, spec.source, spec.aksCategories), spec);
  }

  private async finish(pending: ReturnType<WorkerPool['run']>, spec: JobSpec): Promise<EvaluatedJob> {
    const res = await pending;
    for (const s of res.seconds) this.metrics.evaluation.observe(s);
    this.metrics.events.inc({ input: spec.input }, res.events);
    let alerts: OutgoingAlert[];
    if (!this.shapes && !spec.fields) alerts = res.alerts.map((a) => ({ alert: a.alert, json: a.json, origin: originOf(spec, a), context: a.context }));
    else {
      // Shaping may add fields: such alerts are rendered again; unchanged ones keep the worker's JSON.
      const shaped = res.alerts.map((a) => ({ a, shaped: this.shaper.shape([a.alert], spec.fields, spec.input)[0] }));
      alerts = shaped.filter((s) => s.shaped).map(({ a, shaped }) => ({ alert: shaped!, json: shaped === a.alert ? a.json : alertJson(shaped!), origin: originOf(spec, a), context: a.context }));
    }
    for (const a of alerts) {
      this.metrics.alerts.inc({ rule: a.alert.rule, priority: a.alert.priority });
      this.metrics.falcoMatches.inc({ rule_name: a.alert.rule, priority: a.alert.priority, source: a.alert.source });
    }
    const letters: DeadLetter[] = res.rejects.map((r) => {
      this.metrics.rejected.inc({ input: spec.input });
      return { value: r.value, reason: r.reason, origin: originOf(spec, r) };
    });
    return { alerts, letters, events: res.events };
  }
}
