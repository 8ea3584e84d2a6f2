/**
 * Alert rollups: for a rule with `rollup: {timespan, group_by}`, the first
 * alert of a group goes out at once and opens a window of `timespan` (event
 * time); further alerts of that rule and group inside the window are held
 * back and counted; when the window is over, one summary alert reports them
 * (nothing when there were none). Nothing is dropped: past the cap on open
 * windows, alerts pass through unrolled.
 *
 * Pure and clock-free like the Correlator: windows close when an event
 * newer than their end is seen (advance) or at flush().
 */
import { catalogFor, renderForOutput } from '../../fields';
import type { EventView } from '../../fields/types';
import type { RuleCollection } from '../../language/collector';
import { errorAt, type Diagnostic } from '../../language/diagnostics';
import { formatIsoTime, type Alert } from '../alert';
import { bindField, CorrelationError, type BoundField } from './compile';

export interface CompiledRollup {
  rule: string;
  timespanMs: number;
  groupBy: BoundField[];
}

export function compileRollups(coll: RuleCollection, compiledRules: Map<string, string>): { rollups: CompiledRollup[]; diagnostics: Diagnostic[] } {
  const rollups: CompiledRollup[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const def of coll.rules.values()) {
    if (!def.rollup || !compiledRules.has(def.name)) continue;
    try {
      const catalog = catalogFor(def.source)!;
      rollups.push({ rule: def.name, timespanMs: def.rollup.timespanMs, groupBy: def.rollup.groupBy.map((f) => bindField(catalog, f)) });
    } catch (e) {
      if (!(e instanceof CorrelationError)) throw e;
      diagnostics.push(errorAt('LOAD_ERR_VALIDATE', def.file, def.pos, `rule '${def.name}': rollup: ${e.message}`));
    }
  }
  return { rollups, diagnostics };
}

export interface RollupOptions {
  /** Cap on open windows; past it alerts pass through unrolled. Default 100 000. */
  maxWindows?: number;
  onLimit?: (message: string) => void;
}

export interface RollupStats {
  /** Windows open now. */
  open: number;
  /** Alerts held back into a summary. */
  rolledUp: number;
  /** Summary alerts raised. */
  summaries: number;
  /** Alerts passed through unrolled because the cap was reached. */
  passedAtCap: number;
}

interface Window {
  key: string;
  endMs: number;
  opened: Alert;
  count: number;
  last?: Alert;
}

export class Rollup {
  private readonly specs = new Map<string, CompiledRollup>();
  private readonly open = new Map<string, Window>();
  /** Open windows by end time (kept sorted: ends are not monotonic with out-of-order alerts). */
  private byEnd: Window[] = [];
  private readonly maxWindows: number;
  private limitLogged = false;
  private readonly counters = { rolledUp: 0, summaries: 0, passedAtCap: 0 };

  constructor(rollups: CompiledRollup[], private readonly options: RollupOptions = {}) {
    for (const r of rollups) this.specs.set(r.rule, r);
    this.maxWindows = options.maxWindows ?? 100_000;
  }

  /** Alerts to emit now for this alert: itself (first of its window, or unrolled), none (held back), plus summaries that became due. */
  consume(alert: Alert, view: EventView): Alert[] {
    return this.consumeKeyed(alert, this.keyOf(alert, view));
  }

  /** The window key of an alert of a rule with a rollup (undefined: its rule has none). Where the event is (a rule worker). */
  keyOf(alert: Alert, view: EventView): string | undefined {
    const spec = this.specs.get(alert.rule);
    if (!spec) return undefined;
    return `${alert.rule}\0${JSON.stringify(spec.groupBy.map((f) => renderForOutput(f.def, safe(f, view), view).text))}`;
  }

  /** consume() with the key computed elsewhere (keyOf, next to the event): the service's main thread has no event. */
  consumeKeyed(alert: Alert, key: string | undefined): Alert[] {
    const out = this.advance(alert.timeNs);
    const spec = this.specs.get(alert.rule);
    if (!spec || key === undefined) {
      out.push(alert);
      return out;
    }
    const w = this.open.get(key);
    if (w) {
      w.count++;
      if (!w.last || alert.timeNs >= w.last.timeNs) w.last = alert;
      this.counters.rolledUp++;
      return out;
    }
    if (this.open.size >= this.maxWindows) {
      this.counters.passedAtCap++;
      if (!this.limitLogged) {
        this.limitLogged = true;
        this.options.onLimit?.(`rollup: the cap of ${this.maxWindows} open windows is reached; alerts pass through unrolled`);
      }
      out.push(alert);
      return out;
    }
    const win: Window = { key, endMs: toMs(alert.timeNs) + spec.timespanMs, opened: alert, count: 0 };
    this.open.set(key, win);
    let i = this.byEnd.length;
    while (i > 0 && this.byEnd[i - 1].endMs > win.endMs) i--;
    this.byEnd.splice(i, 0, win);
    out.push(alert);
    return out;
  }

  /** An event at this time: windows that ended before it close. */
  advance(timeNs: bigint): Alert[] {
    return this.closeBefore(toMs(timeNs));
  }

  /** End of input: close every window. */
  flush(): Alert[] {
    return this.closeBefore(Infinity);
  }

  stats(): RollupStats {
    return { open: this.open.size, ...this.counters };
  }

  private closeBefore(t: number): Alert[] {
    const out: Alert[] = [];
    let n = 0;
    while (n < this.byEnd.length && this.byEnd[n].endMs < t) {
      const w = this.byEnd[n++];
      this.open.delete(w.key);
      if (w.count > 0) out.push(this.summary(w));
    }
    if (n > 0) this.byEnd = this.byEnd.slice(n);
    return out;
  }

  private summary(w: Window): Alert {
    this.counters.summaries++;
    const last = w.last!;
    const first = formatIsoTime(w.opened.timeNs);
    const lastTime = formatIsoTime(last.timeNs);
    return {
      ...last,
      message: `${last.message} (rollup: ${w.count} more since ${first}, last at ${lastTime})`,
      outputFields: { ...last.outputFields, 'rollup.count': w.count, 'rollup.first_time': first, 'rollup.last_time': lastTime },
    };
  }
}

function safe(f: BoundField, view: EventView) {
  try {
    return f.def.extract(view, f.arg);
  } catch {
    return [];
  }
}

function toMs(ns: bigint): number {
  return Number(ns / 1000n) / 1000;
}
