/**
 * Alert shaping, between the engine and the sinks:
 *  - static fields (cluster, environment, ...) added to every alert's
 *    output_fields, globally and per input (webhook path / topic). They go into
 *    output_fields, not top-level keys, because that is where Falco's
 *    `append_output` and falcosidekick's `customfields` put them and the only
 *    place falcosidekick keeps (it drops unknown top-level keys);
 *  - optional throttling / deduplication over a time window, per rule (or per
 *    rule and output text). Suppressed alerts are never dropped silently: they
 *    are counted (totals for metrics) and the next alert that passes for the
 *    same key carries the count in `output_fields["kestrel.suppressed"]`.
 */
import type { Alert } from './alert';

/** The output field carrying how many alerts of the same key were suppressed before this one. */
export const SUPPRESSED_FIELD = 'kestrel.suppressed';

export type ThrottleKey = 'rule' | 'rule_output';

export interface ThrottleOptions {
  /** Length of a window in ms: after an alert passes, the same key is suppressed for this long. */
  windowMs: number;
  /** `rule` (one alert per rule per window) or `rule_output` (dedup identical alerts). Default rule. */
  key?: ThrottleKey;
  /** Only these rules are throttled (default: all). */
  rules?: string[];
  /** Bound on tracked keys; beyond it new keys pass unthrottled (never dropped). Default 10000. */
  maxKeys?: number;
}

export interface ShaperOptions {
  /** Fields added to every alert (lowest precedence). */
  staticFields?: Record<string, string>;
  throttle?: ThrottleOptions;
  /** Clock in ms (tests). */
  now?: () => number;
}

interface WindowState {
  /** When the current window opened (the time of the last alert that passed). */
  openedAt: number;
  /** Alerts suppressed since the last one that passed. */
  suppressed: number;
}

export interface ShaperStats {
  passed: number;
  /** Alerts suppressed by throttling, ever (each is also reported in a later alert when one passes). */
  suppressed: number;
  suppressedByRule: Map<string, number>;
}

export class AlertShaper {
  private readonly windows = new Map<string, WindowState>();
  private readonly throttledRules?: Set<string>;
  private readonly now: () => number;
  private lastPrune = 0;
  readonly stats: ShaperStats = { passed: 0, suppressed: 0, suppressedByRule: new Map() };
  /** Called once per suppressed alert (metrics hook). */
  onSuppressed: (alert: Alert) => void = () => {};

  constructor(private readonly options: ShaperOptions = {}) {
    this.now = options.now ?? Date.now;
    if (options.throttle?.rules) this.throttledRules = new Set(options.throttle.rules);
    if (options.throttle && !(options.throttle.windowMs > 0)) throw new Error('throttle window must be a positive number of ms');
  }

  /**
   * Shape alerts: returns those that pass (with static fields and, after a
   * suppression, the suppressed count), in order. `inputFields` (per webhook
   * path or topic) override the global static fields; neither overrides a
   * field the rule's output already set. `scope` (e.g. the webhook path or
   * input topic) keeps throttling windows of different inputs apart, so one
   * cluster's alerts never suppress another's.
   */
  shape(alerts: Alert[], inputFields?: Record<string, string>, scope = ''): Alert[] {
    const out: Alert[] = [];
    const t = this.now();
    for (const a of alerts) {
      let suppressedBefore = 0;
      const th = this.options.throttle;
      if (th && (!this.throttledRules || this.throttledRules.has(a.rule))) {
        const base = th.key === 'rule_output' ? `${a.rule}\u0000${a.message}` : a.rule;
        const key = scope ? `${scope}\u0000${base}` : base;
        const w = this.windows.get(key);
        if (w && t - w.openedAt < th.windowMs) {
          w.suppressed++;
          this.stats.suppressed++;
          this.stats.suppressedByRule.set(a.rule, (this.stats.suppressedByRule.get(a.rule) ?? 0) + 1);
          this.onSuppressed(a);
          continue;
        }
        if (w) {
          suppressedBefore = w.suppressed;
          w.openedAt = t;
          w.suppressed = 0;
        } else if (this.windows.size < (th.maxKeys ?? 10_000)) {
          this.windows.set(key, { openedAt: t, suppressed: 0 });
        }
      }
      out.push(this.decorate(a, inputFields, suppressedBefore));
    }
    this.stats.passed += out.length;
    this.prune(t);
    return out;
  }

  /** Suppressed alerts not yet reported in a later alert, by throttle key ([scope: ]rule[: output]). */
  pending(): { key: string; suppressed: number }[] {
    return [...this.windows].filter(([, w]) => w.suppressed > 0).map(([key, w]) => ({ key: key.replace(/\u0000/g, ': '), suppressed: w.suppressed }));
  }

  private decorate(a: Alert, inputFields: Record<string, string> | undefined, suppressed: number): Alert {
    const global = this.options.staticFields;
    if (!global && !inputFields && suppressed === 0) return a;
    const fields: Record<string, unknown> = { ...global, ...inputFields };
    for (const [k, v] of Object.entries(a.outputFields)) fields[k] = v;
    if (suppressed > 0) fields[SUPPRESSED_FIELD] = suppressed;
    return { ...a, outputFields: fields };
  }

  /** Forget windows that expired with nothing suppressed (bounded memory). */
  private prune(t: number): void {
    const th = this.options.throttle;
    if (!th || t - this.lastPrune < th.windowMs) return;
    this.lastPrune = t;
    for (const [k, w] of this.windows) if (w.suppressed === 0 && t - w.openedAt >= th.windowMs) this.windows.delete(k);
  }
}
