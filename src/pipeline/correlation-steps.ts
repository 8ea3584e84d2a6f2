/**
 * The rule worker's share of correlation rules and rollups. Only the worker
 * has the event, so it does what needs it: it prepares each base-rule match
 * into CorrelationInputs (Correlator.prepare) and computes each alert's rollup
 * window key (Rollup.keyOf). The main thread (correlation-stage.ts) replays
 * these steps in event order into the one Correlator and Rollup, exactly as
 * `kestrel run` does event by event.
 *
 * A run of events that matched nothing is one step carrying their latest
 * time: advancing the clocks several times without a match in between is the
 * same as advancing once to the latest time.
 */
import type { Alert } from '../engine/alert';
import type { Correlator, CorrelationInput } from '../engine/correlation/correlator';
import type { Rollup } from '../engine/correlation/rollup';
import type { Ruleset } from '../engine/ruleset';
import { eventTimeNs } from '../fields';
import type { EventView } from '../fields/types';

/** One event's (or a run of quiet events') share, in the order the worker evaluated them. */
export interface EventStep {
  /** Index of the payload in its job. */
  i: number;
  /** The event's record inside a payload of many (CloudWatch, AKS envelopes). */
  record?: number;
  /** Event time, ns (absent: the event has none; a quiet run: the latest). */
  t?: bigint;
  /** How many of the job's alerts (consecutive, after those of the previous steps) this event raised. */
  alerts: number;
  /** Rollup window key of each of those alerts (absent: no rollup applies). */
  rollupKeys?: (string | undefined)[];
  /** The prepared inputs of this event's base-rule matches. */
  inputs?: CorrelationInput[];
}

/** Records steps for one ruleset with correlation rules or rollups (`forRuleset` gives undefined without). */
export class StepRecorder {
  private steps: EventStep[] = [];

  private constructor(private readonly ruleset: Ruleset, private readonly correlator: Correlator | undefined, private readonly rollup: Rollup | undefined) {}

  static forRuleset(ruleset: Ruleset): StepRecorder | undefined {
    const correlator = ruleset.newCorrelator();
    const rollup = ruleset.newRollup();
    return correlator || rollup ? new StepRecorder(ruleset, correlator, rollup) : undefined;
  }

  /** Evaluate one event of payload `i` (record `record` of it); returns its alerts (as Ruleset.evaluate does) and records its step. */
  evaluate(view: EventView, i: number, record?: number): Alert[] {
    const t = view.tsNs ?? eventTimeNs(view.obj, view.source);
    const { alerts, matches } = this.correlator ? this.ruleset.evaluateDetailed(view) : { alerts: this.ruleset.evaluate(view), matches: [] };
    const inputs = this.correlator && matches.length > 0 ? matches.flatMap((m) => this.correlator!.prepare(m, view)) : undefined;
    if (alerts.length === 0 && !inputs?.length) {
      const last = this.steps[this.steps.length - 1];
      // Quiet events only move time: merge into the previous quiet step.
      if (last && last.alerts === 0 && !last.inputs) {
        if (t !== undefined && (last.t === undefined || t > last.t)) last.t = t;
        last.i = i;
        return alerts;
      }
      this.steps.push(t === undefined ? { i, alerts: 0 } : { i, t, alerts: 0 });
      return alerts;
    }
    const step: EventStep = { i, alerts: alerts.length };
    if (record !== undefined) step.record = record;
    if (t !== undefined) step.t = t;
    if (this.rollup && alerts.length > 0) {
      const keys = alerts.map((a) => this.rollup!.keyOf(a, view));
      if (keys.some((k) => k !== undefined)) step.rollupKeys = keys;
    }
    if (inputs?.length) step.inputs = inputs;
    this.steps.push(step);
    return alerts;
  }

  /** The steps recorded since the last take. */
  take(): EventStep[] {
    const s = this.steps;
    this.steps = [];
    return s;
  }
}
