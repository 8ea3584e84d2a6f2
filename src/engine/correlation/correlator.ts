/**
 * The Correlator: consumes base-rule matches (an alert, or a silent rule's
 * match, with its event) and raises correlation alerts. Pure and clock-free:
 * time is the events' own (stageTimestamp for k8s_audit).
 *
 * Out-of-order events: matches wait in a buffer until the watermark (the
 * newest event time seen) is `toleranceMs` past them, and are then applied in
 * event-time order. A match older than watermark - tolerance when it arrives
 * is late: counted and not applied. Alerts are therefore raised up to
 * `toleranceMs` of event time after the match that causes them; `flush()` at
 * the end of an input releases everything.
 *
 * Built in two halves for scaling out: `prepare()` turns a match into
 * serializable CorrelationInputs keyed by correlation + group (what a stream
 * layer would send through an internal topic keyed by `key`), and `accept()`
 * applies one; `consume()` does both in one process.
 */
import { renderForOutput } from '../../fields';
import type { EventView } from '../../fields/types';
import { formatIsoTime, type Alert } from '../alert';
import type { BoundField, CompiledCorrelation, OutputPart } from './compile';
import { isRising, Ordered, SlidingCount, Temporal, TumblingCount, type Entry, type Firing, type GroupWindow } from './windows';

/** A base rule's match, as the Correlator needs it: an Alert has these. */
export interface BaseMatch {
  rule: string;
  timeNs: bigint;
  hostname: string;
}

export interface RenderedValue {
  text: string;
  json: unknown;
}

/** One match for one correlation: plain data, safe to serialize (timeNs is a decimal string). */
export interface CorrelationInput {
  correlation: string;
  /** Group key: the group-by values (JSON text). Partition by `${correlation}\0${key}`. */
  key: string;
  rule: string;
  timeNs: string;
  hostname: string;
  /** Group-by field values. */
  group: Record<string, RenderedValue>;
  /** Other fields the output prints, from this match's event. */
  fields: Record<string, RenderedValue>;
  /** value_count: the counted values of this event (none when the field is absent). */
  values?: string[];
}

export interface CorrelatorOptions {
  /** How far (event time) a match may arrive behind the newest one and still count. Default 30 s. */
  toleranceMs?: number;
  /** Cap on groups held across all correlations. Default 100 000. */
  maxGroups?: number;
  /** Cap on matches waiting for the watermark. Default 100 000 (the oldest are applied early beyond it). */
  maxPending?: number;
  /** Called once, the first time a cap is hit (the lead's logger). */
  onLimit?: (message: string) => void;
}

export interface CorrelatorStats {
  /** Groups held now. */
  groups: number;
  /** Matches waiting for the watermark. */
  pending: number;
  /** Matches that arrived later than the tolerance (not counted). */
  late: number;
  /** Matches dropped because the group cap was reached. */
  droppedAtCap: number;
  /** Matches that fell inside a window that had already raised its alert. */
  suppressed: number;
  /** Correlation alerts raised. */
  alerts: number;
}

interface Group {
  window: GroupWindow;
  /** After an alert, matches before this time belong to the window that raised it. */
  mutedUntil: number;
}

interface Runtime {
  def: CompiledCorrelation;
  groups: Map<string, Group>;
  /** Bounded thresholds: windows in the order they close (timespan is fixed, so FIFO). */
  closing: { at: number; key: string }[];
}

interface Pending {
  t: number;
  seq: number;
  input: CorrelationInput;
}

export const DEFAULT_TOLERANCE_MS = 30_000;
/** Groups held at most, by default (CorrelatorOptions.maxGroups). */
export const DEFAULT_MAX_GROUPS = 100_000;
const SWEEP_EVERY = 4096;

export class Correlator {
  private readonly byRule = new Map<string, Runtime[]>();
  private readonly runtimes = new Map<string, Runtime>();
  private readonly toleranceMs: number;
  private readonly maxGroups: number;
  private readonly maxPending: number;
  /** Matches waiting for the watermark, in (t, seq) order from pendingHead on. */
  private pending: Pending[] = [];
  private pendingHead = 0;
  private seq = 0;
  private watermark = -Infinity;
  private released = -Infinity;
  private groupCount = 0;
  private sinceSweep = 0;
  private limitLogged = false;
  private readonly counters = { late: 0, droppedAtCap: 0, suppressed: 0, alerts: 0 };

  constructor(correlations: CompiledCorrelation[], private readonly options: CorrelatorOptions = {}) {
    this.toleranceMs = options.toleranceMs ?? DEFAULT_TOLERANCE_MS;
    this.maxGroups = options.maxGroups ?? DEFAULT_MAX_GROUPS;
    this.maxPending = options.maxPending ?? 100_000;
    for (const def of correlations) {
      const rt: Runtime = { def, groups: new Map(), closing: [] };
      this.runtimes.set(def.name, rt);
      for (const r of new Set(def.rules)) {
        const list = this.byRule.get(r) ?? [];
        list.push(rt);
        this.byRule.set(r, list);
      }
    }
  }

  /** Names of the base rules that feed some correlation. */
  get feeders(): Set<string> {
    return new Set(this.byRule.keys());
  }

  get size(): number {
    return this.runtimes.size;
  }

  /** Prepare and accept one base-rule match; returns the correlation alerts that became due. */
  consume(match: BaseMatch, view: EventView): Alert[] {
    const out: Alert[] = [];
    for (const input of this.prepare(match, view)) out.push(...this.accept(input));
    return out;
  }

  /** The inputs one match gives (one per correlation that names its rule). */
  prepare(match: BaseMatch, view: EventView): CorrelationInput[] {
    const rts = this.byRule.get(match.rule);
    if (!rts) return [];
    return rts.map(({ def }) => {
      const group: Record<string, RenderedValue> = {};
      for (const f of def.groupBy) group[f.key] = render(f, view);
      const fields: Record<string, RenderedValue> = {};
      for (const f of def.outputFields) fields[f.key] = render(f, view);
      const input: CorrelationInput = {
        correlation: def.name, key: JSON.stringify(def.groupBy.map((f) => group[f.key].text)), rule: match.rule,
        timeNs: match.timeNs.toString(), hostname: match.hostname, group, fields,
      };
      if (def.valueField) input.values = safeExtract(def.valueField, view).map(String);
      return input;
    });
  }

  /** Apply one prepared input; returns the correlation alerts that became due. */
  accept(input: CorrelationInput): Alert[] {
    if (!this.runtimes.has(input.correlation)) return [];
    const t = nsToMs(BigInt(input.timeNs));
    if (t < this.released) {
      this.counters.late++;
      return [];
    }
    insertSorted(this.pending, this.pendingHead, { t, seq: this.seq++, input });
    return this.advanceTo(t);
  }

  /** Move the watermark with an event that matched no base rule (it may close windows). */
  advance(timeNs: bigint): Alert[] {
    return this.advanceTo(nsToMs(timeNs));
  }

  /** End of input: apply every waiting match and judge every open window. */
  flush(): Alert[] {
    return this.release(Infinity);
  }

  stats(): CorrelatorStats {
    return { groups: this.groupCount, pending: this.pending.length - this.pendingHead, ...this.counters };
  }

  private advanceTo(t: number): Alert[] {
    if (t > this.watermark) this.watermark = t;
    let bound = this.watermark - this.toleranceMs;
    if (this.pending.length - this.pendingHead > this.maxPending) {
      bound = Math.max(bound, this.pending[this.pending.length - this.maxPending - 1].t);
      this.limit(`correlation: more than ${this.maxPending} matches wait for the watermark; applying the oldest early`);
    }
    return bound > this.released ? this.release(bound) : [];
  }

  /** Apply waiting matches with t <= bound, in event-time order, and judge windows that closed before bound. */
  private release(bound: number): Alert[] {
    const out: Alert[] = [];
    const from = this.pendingHead;
    while (this.pendingHead < this.pending.length && this.pending[this.pendingHead].t <= bound) {
      const p = this.pending[this.pendingHead++];
      this.closeBefore(p.t, out);
      this.apply(p, out);
    }
    const n = this.pendingHead - from;
    if (this.pendingHead === this.pending.length) {
      this.pending = [];
      this.pendingHead = 0;
    } else if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
    this.closeBefore(bound, out);
    this.released = bound;
    this.sinceSweep += n;
    if (this.sinceSweep >= SWEEP_EVERY) this.sweep();
    return out;
  }

  private apply(p: Pending, out: Alert[]): void {
    const rt = this.runtimes.get(p.input.correlation)!;
    let group = rt.groups.get(p.input.key);
    if (!group) {
      if (this.groupCount >= this.maxGroups) this.sweep();
      if (this.groupCount >= this.maxGroups) {
        this.counters.droppedAtCap++;
        this.limit(`correlation: the cap of ${this.maxGroups} groups is reached; new groups are dropped until old ones expire`);
        return;
      }
      group = { window: makeWindow(rt.def), mutedUntil: -Infinity };
      rt.groups.set(p.input.key, group);
      this.groupCount++;
    }
    if (p.t < group.mutedUntil) {
      this.counters.suppressed++;
      return;
    }
    const before = group.window.closesAt();
    const entry: Entry = { t: p.t, timeNs: BigInt(p.input.timeNs), rule: p.input.rule, values: p.input.values, ref: p.input };
    const firing = group.window.add(entry);
    const after = group.window.closesAt();
    if (after !== undefined && after !== before) rt.closing.push({ at: after, key: p.input.key });
    if (firing) {
      if (rt.def.condition === undefined || isRising(rt.def.condition)) group.mutedUntil = firing.first.t + rt.def.timespanMs;
      out.push(this.alert(rt.def, firing));
    }
  }

  private closeBefore(bound: number, out: Alert[]): void {
    for (const rt of this.runtimes.values()) {
      let i = 0;
      while (i < rt.closing.length && rt.closing[i].at < bound) {
        const { at, key } = rt.closing[i++];
        const group = rt.groups.get(key);
        if (!group || group.window.closesAt() !== at) continue;
        const firing = group.window.close();
        if (firing) out.push(this.alert(rt.def, firing));
      }
      if (i > 0) rt.closing.splice(0, i);
    }
  }

  /** Forget groups whose windows hold nothing recent enough to matter. */
  private sweep(): void {
    this.sinceSweep = 0;
    const now = this.released;
    for (const rt of this.runtimes.values()) {
      for (const [key, g] of rt.groups) {
        if (g.mutedUntil <= now && g.window.idle(now)) {
          rt.groups.delete(key);
          this.groupCount--;
        }
      }
    }
  }

  private limit(message: string): void {
    if (this.limitLogged) return;
    this.limitLogged = true;
    this.options.onLimit?.(message);
  }

  private alert(def: CompiledCorrelation, f: Firing): Alert {
    this.counters.alerts++;
    const latest = f.last.ref as CorrelationInput;
    const corr: Record<string, RenderedValue> = {
      'correlation.count': { text: String(f.count), json: f.count },
      'correlation.first_time': { text: formatIsoTime(f.first.timeNs), json: formatIsoTime(f.first.timeNs) },
      'correlation.last_time': { text: formatIsoTime(f.last.timeNs), json: formatIsoTime(f.last.timeNs) },
      'correlation.rules': { text: `(${f.rules.join(',')})`, json: f.rules },
    };
    if (f.values) corr['correlation.values'] = { text: `(${f.values.join(',')})`, json: f.values };
    const lookup = (part: Exclude<OutputPart, string>): [string, RenderedValue] =>
      'correlation' in part ? [part.correlation, corr[part.correlation]] : [part.field.key, latest.group[part.field.key] ?? latest.fields[part.field.key]];
    let message = '';
    const outputFields: Record<string, unknown> = {};
    for (const part of def.output) {
      if (typeof part === 'string') {
        message += part;
        continue;
      }
      const [key, v] = lookup(part);
      message += v.text;
      outputFields[key] = v.json;
    }
    for (const [k, v] of Object.entries(latest.group)) outputFields[k] = v.json;
    for (const [k, v] of Object.entries(corr)) outputFields[k] = v.json;
    return {
      timeNs: f.last.timeNs, rule: def.name, priority: def.priority, source: def.source, tags: def.tags,
      hostname: latest.hostname, message: message.trim(), outputFields,
    };
  }
}

function makeWindow(def: CompiledCorrelation): GroupWindow {
  switch (def.type) {
    case 'temporal':
      return new Temporal(def.timespanMs, def.rules);
    case 'temporal_ordered':
      return new Ordered(def.timespanMs, def.rules);
    default: {
      const byValue = def.type === 'value_count';
      return isRising(def.condition!) ? new SlidingCount(def.timespanMs, def.condition!, byValue) : new TumblingCount(def.timespanMs, def.condition!, byValue);
    }
  }
}

function safeExtract(f: BoundField, view: EventView) {
  try {
    return f.def.extract(view, f.arg);
  } catch {
    return [];
  }
}

function render(f: BoundField, view: EventView): RenderedValue {
  return renderForOutput(f.def, safeExtract(f, view), view);
}

/** ns → ms with microsecond precision, exact in a double for any realistic date. */
function nsToMs(ns: bigint): number {
  return Number(ns / 1000n) / 1000;
}

/** Insert keeping (t, seq) order; matches mostly arrive in order, so search from the end. */
function insertSorted(list: Pending[], head: number, p: Pending): void {
  let i = list.length;
  while (i > head && list[i - 1].t > p.t) i--;
  if (i === list.length) list.push(p);
  else list.splice(i, 0, p);
}
