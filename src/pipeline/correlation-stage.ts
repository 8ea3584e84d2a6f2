/**
 * Correlation rules and rollups on the service's main thread. The rule
 * workers return, beside their alerts, each event's steps (correlation-steps.ts);
 * `replay` applies them in order to this process's Rollup and (local mode)
 * its one Correlator, exactly as `kestrel run` does event by event. In kafka
 * mode the prepared inputs are handed back instead, for the internal topic
 * (correlation-consumer.ts correlates them), and only the rollup stays here.
 *
 * A rules reload keeps the correlation state when the correlation rules did
 * not change; otherwise the old state is flushed (its due alerts go out with
 * the next job) and a new Correlator starts empty. The same for rollups.
 */
import type { Logger } from 'pino';
import type { CorrelationConfig } from '../config/types';
import type { Alert } from '../engine/alert';
import type { Correlator, CorrelationInput } from '../engine/correlation/correlator';
import type { Rollup } from '../engine/correlation/rollup';
import type { Ruleset } from '../engine/ruleset';
import type { Metrics } from '../observability/metrics';
import type { EventStep } from './correlation-steps';

/** An alert this stage raised (a correlation alert or a rollup summary), with the payload whose event made it due. */
export interface RaisedAlert {
  alert: Alert;
  i: number;
}

export interface Replayed<T> {
  /** The job's own alerts that go out (rollup holds some back). */
  kept: T[];
  raised: RaisedAlert[];
  /** kafka mode: the inputs for the internal topic, with the payload (and record) of their event. */
  inputs: { input: CorrelationInput; i: number; record?: number }[];
}

/** What identifies a set of correlation rules / rollups (their compiled form without the bound functions). */
export function signature(items: readonly object[]): string {
  return JSON.stringify(items, (k, v) => (k === 'def' || k === 'file' || k === 'line' ? undefined : v));
}

/** Keeps the correlation metrics of correlators (one here, or one per internal partition) up to date. */
export class CorrelationMetrics {
  private readonly seen = new WeakMap<Correlator, { dropped: number; late: number }>();

  constructor(private readonly metrics: Metrics) {}

  /** Prepared matches: `local` (this process's correlator), `produced` (to the internal topic), `consumed` (from it), `duplicate` (written twice, taken once). */
  inputs(stage: 'local' | 'produced' | 'consumed' | 'duplicate', n: number): void {
    if (n > 0) this.metrics.correlationInputs.inc({ stage }, n);
  }

  alerts(alerts: readonly Alert[]): void {
    for (const a of alerts) this.metrics.correlationAlerts.inc({ rule: a.rule });
  }

  /** After correlators took inputs: groups held (all of them), cap hits and late matches since the last call. */
  observe(correlators: Iterable<Correlator>): void {
    let groups = 0;
    for (const c of correlators) {
      const s = c.stats();
      groups += s.groups;
      const before = this.seen.get(c) ?? { dropped: 0, late: 0 };
      if (s.droppedAtCap > before.dropped) this.metrics.correlationStateLimit.inc(s.droppedAtCap - before.dropped);
      if (s.late > before.late) this.metrics.correlationLate.inc(s.late - before.late);
      this.seen.set(c, { dropped: s.droppedAtCap, late: s.late });
    }
    this.metrics.correlationGroups.set(groups);
  }
}

export class CorrelationStage {
  private correlator: Correlator | undefined;
  private rollup: Rollup | undefined;
  private correlationSig = '';
  private correlationNames = new Set<string>();
  private rollupSig = '';
  /** Alerts flushed from a state a reload replaced: they go out with the next job. */
  private carried: Alert[] = [];
  private readonly counters: CorrelationMetrics;

  constructor(ruleset: Ruleset, private readonly cfg: CorrelationConfig, metrics: Metrics, private readonly logger: Logger) {
    this.counters = new CorrelationMetrics(metrics);
    this.swap(ruleset);
  }

  /** Whether the running rules have correlation rules. */
  get correlates(): boolean {
    return this.correlationSig !== '[]';
  }

  /** A reload swapped the ruleset: keep the state unless the correlation rules or rollups changed. */
  swap(rs: Ruleset): void {
    const cSig = signature(rs.correlations);
    if (cSig !== this.correlationSig) {
      if (this.correlator) {
        this.carried.push(...this.correlator.flush());
        this.logger.info('correlation rules changed: their state starts over');
      }
      this.correlationSig = cSig;
      for (const c of rs.correlations) this.correlationNames.add(c.name);
      this.correlator = this.cfg.mode === 'local' ? rs.newCorrelator({ toleranceMs: this.cfg.toleranceMs, maxGroups: this.cfg.maxGroups, onLimit: (m) => this.logger.warn(m) }) : undefined;
    }
    const rSig = signature(rs.rollups);
    if (rSig !== this.rollupSig) {
      if (this.rollup) this.carried.push(...this.rollup.flush());
      this.rollupSig = rSig;
      this.rollup = rs.newRollup({ onLimit: (m) => this.logger.warn(m) });
    }
  }

  /**
   * Apply a job's steps in event order. `alerts` are the job's alerts (the
   * steps say which event raised each); `alertOf` reads the Alert of one.
   */
  replay<T>(steps: readonly EventStep[] | undefined, alerts: readonly T[], alertOf: (a: T) => Alert): Replayed<T> {
    const raised: RaisedAlert[] = this.carried.map((alert) => ({ alert, i: 0 }));
    this.carried = [];
    const inputs: Replayed<T>['inputs'] = [];
    if (!steps) return { kept: [...alerts], raised, inputs };
    const kept: T[] = [];
    const { correlator, rollup } = this;
    let k = 0;
    for (const s of steps) {
      const add = (list: Alert[]) => {
        for (const alert of list) raised.push({ alert, i: s.i });
      };
      if (rollup && s.t !== undefined) add(rollup.advance(s.t));
      for (let j = 0; j < s.alerts && k < alerts.length; j++, k++) {
        const a = alerts[k];
        if (!rollup) {
          kept.push(a);
          continue;
        }
        const own = alertOf(a);
        for (const out of rollup.consumeKeyed(own, s.rollupKeys?.[j])) out === own ? kept.push(a) : raised.push({ alert: out, i: s.i });
      }
      if (s.inputs) {
        if (correlator) {
          for (const input of s.inputs) add(correlator.accept(input));
          this.counters.inputs('local', s.inputs.length);
        }
        else if (this.cfg.mode === 'kafka') for (const input of s.inputs) inputs.push({ input, i: s.i, record: s.record });
      } else if (correlator && s.t !== undefined) add(correlator.advance(s.t));
    }
    for (; k < alerts.length; k++) kept.push(alerts[k]);
    this.observe(raised);
    return { kept, raised, inputs };
  }

  /** End of input or shutdown: every waiting match applied, every open window judged. */
  flush(): Alert[] {
    const out = [...this.carried, ...(this.correlator?.flush() ?? []), ...(this.rollup?.flush() ?? [])];
    this.carried = [];
    this.observe(out.map((alert) => ({ alert, i: 0 })));
    return out;
  }

  private observe(raised: RaisedAlert[]): void {
    if (!this.correlator) return;
    this.counters.observe([this.correlator]);
    // Rollup summaries keep their rule's name; only correlation alerts are counted here.
    this.counters.alerts(raised.map((r) => r.alert).filter((a) => this.correlationNames.has(a.rule)));
  }
}
