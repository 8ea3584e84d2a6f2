/**
 * Per-group window state of one correlation. Pure and clock-free: matches
 * arrive in event-time order (the Correlator reorders them) and time is the
 * event's own, in milliseconds.
 *
 * - Rising thresholds (gte, gt) on event_count / value_count use a sliding
 *   window: the correlation fires at the match that makes the condition true.
 * - Bounded thresholds (lte, lt, eq) can only be judged when the window is
 *   over: the window starts at a group's first match and is judged when its
 *   timespan has passed (tumbling).
 * - temporal fires when every listed rule matched within the timespan (any
 *   order); temporal_ordered when they matched in the listed order.
 */
import type { CorrelationCondition, ThresholdOp } from '../../language/correlation-item';

export interface Entry {
  /** Event time, ms since the epoch (fractional). */
  t: number;
  timeNs: bigint;
  rule: string;
  /** value_count: the counted values of this match. */
  values?: string[];
  /** Opaque to the window: carried to the firing (the latest one renders the output). */
  ref: unknown;
}

export interface Firing {
  first: Entry;
  last: Entry;
  count: number;
  /** value_count: the distinct values, in order of first appearance. */
  values?: string[];
  /** Base rules that took part, in order of first match. */
  rules: string[];
}

export interface GroupWindow {
  /** Add the next match (event-time order); a firing when the condition now holds. */
  add(e: Entry): Firing | undefined;
  /** Bounded thresholds: the time the current window is judged, undefined when there is none. */
  closesAt(): number | undefined;
  /** Bounded thresholds: judge and empty the window. */
  close(): Firing | undefined;
  /** True when nothing inside the window is newer than `before`: the group can be forgotten. */
  idle(before: number): boolean;
}

export function holds(op: ThresholdOp, limit: number, n: number): boolean {
  switch (op) {
    case 'gte': return n >= limit;
    case 'gt': return n > limit;
    case 'lte': return n <= limit;
    case 'lt': return n < limit;
    case 'eq': return n === limit;
  }
}

export const isRising = (c: CorrelationCondition): boolean => c.op === 'gte' || c.op === 'gt';

function distinct(entries: Entry[]): string[] {
  const seen = new Set<string>();
  for (const e of entries) for (const v of e.values ?? []) seen.add(v);
  return [...seen];
}

function rulesOf(entries: Entry[]): string[] {
  return [...new Set(entries.map((e) => e.rule))];
}

/**
 * event_count / value_count over a sliding window, rising threshold. Each
 * match costs O(1) amortized: expired matches leave from the front, and
 * distinct values are counted incrementally.
 */
export class SlidingCount implements GroupWindow {
  private entries: Entry[] = [];
  private head = 0;
  /** value_count: how many matches in the window carry each value. */
  private readonly valueCounts = new Map<string, number>();

  constructor(private readonly spanMs: number, private readonly cond: CorrelationCondition, private readonly byValue: boolean) {}

  add(e: Entry): Firing | undefined {
    const from = e.t - this.spanMs;
    while (this.head < this.entries.length && this.entries[this.head].t < from) this.forget(this.entries[this.head++]);
    if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    this.entries.push(e);
    if (this.byValue) for (const v of e.values ?? []) this.valueCounts.set(v, (this.valueCounts.get(v) ?? 0) + 1);
    const n = this.byValue ? this.valueCounts.size : this.entries.length - this.head;
    if (!holds(this.cond.op, this.cond.value, n)) return undefined;
    const inWindow = this.entries.slice(this.head);
    const firing = { first: inWindow[0], last: e, count: n, values: this.byValue ? distinct(inWindow) : undefined, rules: rulesOf(inWindow) };
    this.entries = [];
    this.head = 0;
    this.valueCounts.clear();
    return firing;
  }

  private forget(e: Entry): void {
    if (!this.byValue) return;
    for (const v of e.values ?? []) {
      const c = (this.valueCounts.get(v) ?? 0) - 1;
      if (c > 0) this.valueCounts.set(v, c);
      else this.valueCounts.delete(v);
    }
  }

  closesAt(): undefined {
    return undefined;
  }

  close(): undefined {
    return undefined;
  }

  idle(before: number): boolean {
    const last = this.entries[this.entries.length - 1];
    return last === undefined || last.t + this.spanMs < before;
  }
}

/** event_count / value_count over a tumbling window from a group's first match, bounded threshold. */
export class TumblingCount implements GroupWindow {
  private entries: Entry[] = [];

  constructor(private readonly spanMs: number, private readonly cond: CorrelationCondition, private readonly byValue: boolean) {}

  add(e: Entry): Firing | undefined {
    // A match after the window's end judges the old window first, then opens a new one.
    const end = this.closesAt();
    const firing = end !== undefined && e.t > end ? this.close() : undefined;
    this.entries.push(e);
    return firing;
  }

  closesAt(): number | undefined {
    return this.entries.length ? this.entries[0].t + this.spanMs : undefined;
  }

  close(): Firing | undefined {
    const entries = this.entries;
    this.entries = [];
    if (entries.length === 0) return undefined;
    const values = this.byValue ? distinct(entries) : undefined;
    const n = values ? values.length : entries.length;
    if (!holds(this.cond.op, this.cond.value, n)) return undefined;
    return { first: entries[0], last: entries[entries.length - 1], count: n, values, rules: rulesOf(entries) };
  }

  idle(): boolean {
    return this.entries.length === 0;
  }
}

/** temporal: every listed rule matched within the timespan, in any order. */
export class Temporal implements GroupWindow {
  private latest = new Map<string, Entry>();

  constructor(private readonly spanMs: number, private readonly rules: string[]) {}

  add(e: Entry): Firing | undefined {
    const from = e.t - this.spanMs;
    for (const [r, x] of this.latest) if (x.t < from) this.latest.delete(r);
    this.latest.set(e.rule, e);
    if (this.latest.size < this.rules.length) return undefined;
    const entries = [...this.latest.values()].sort((a, b) => a.t - b.t);
    this.latest = new Map();
    return { first: entries[0], last: e, count: entries.length, rules: this.rules.filter((r) => entries.some((x) => x.rule === r)) };
  }

  closesAt(): undefined {
    return undefined;
  }

  close(): undefined {
    return undefined;
  }

  idle(before: number): boolean {
    for (const x of this.latest.values()) if (x.t + this.spanMs >= before) return false;
    return true;
  }
}

/**
 * temporal_ordered: rules[0], then rules[1], ... within the timespan of the
 * first. partial[k] is the latest-starting sequence that has matched
 * rules[0..k] (the latest start leaves the most time to finish).
 */
export class Ordered implements GroupWindow {
  private partial: (Entry[] | undefined)[];

  constructor(private readonly spanMs: number, private readonly rules: string[]) {
    this.partial = new Array(rules.length - 1).fill(undefined);
  }

  add(e: Entry): Firing | undefined {
    const from = e.t - this.spanMs;
    for (let k = 0; k < this.partial.length; k++) if (this.partial[k] && this.partial[k]![0].t < from) this.partial[k] = undefined;
    const i = this.rules.indexOf(e.rule);
    if (i < 0) return undefined;
    if (i === 0) {
      this.partial[0] = [e];
      return undefined;
    }
    const before = this.partial[i - 1];
    if (!before) return undefined;
    const seq = [...before, e];
    if (i === this.rules.length - 1) {
      this.partial.fill(undefined);
      return { first: seq[0], last: e, count: seq.length, rules: [...this.rules] };
    }
    const cur = this.partial[i];
    if (!cur || cur[0].t <= seq[0].t) this.partial[i] = seq;
    return undefined;
  }

  closesAt(): undefined {
    return undefined;
  }

  close(): undefined {
    return undefined;
  }

  idle(before: number): boolean {
    return this.partial.every((p) => !p || p[0].t + this.spanMs < before);
  }
}
