/**
 * Field slots: every distinct field expression used by a ruleset (a field,
 * its argument, the transformers around it) gets one slot number. During one
 * event each slot is extracted at most once (lazy and memoized), however many
 * rules and outputs read it.
 */
import type { EventView, FieldDef, FieldValue } from '../fields/types';

export type Extractor = (ctx: EvalContext) => FieldValue[];

export interface SlotInfo {
  key: string;
  /** The underlying field (for a transformer, the innermost one). */
  def: FieldDef;
  /** Whether values are integers compared numerically (len(), uint64 fields). */
  numeric: boolean;
  /** Whether the expression may yield several values. */
  isList: boolean;
}

export class SlotRegistry {
  private readonly byKey = new Map<string, number>();
  readonly extractors: Extractor[] = [];
  readonly info: SlotInfo[] = [];

  /** Slot for `key`, creating it with `make()` on first use. */
  slot(key: string, make: () => { extract: Extractor; info: Omit<SlotInfo, 'key'> }): number {
    let n = this.byKey.get(key);
    if (n === undefined) {
      const { extract, info } = make();
      n = this.extractors.length;
      this.extractors.push(extract);
      this.info.push({ key, ...info });
      this.byKey.set(key, n);
    }
    return n;
  }

  get size(): number {
    return this.extractors.length;
  }
}

const EMPTY: FieldValue[] = [];

/** Per-event evaluation state: the event and its memoized slot values. */
export class EvalContext {
  private readonly cache: (FieldValue[] | undefined)[];

  constructor(readonly view: EventView, private readonly slots: SlotRegistry) {
    this.cache = new Array(slots.size);
  }

  get(slot: number): FieldValue[] {
    let v = this.cache[slot];
    if (v === undefined) {
      try {
        v = this.slots.extractors[slot](this);
      } catch {
        // A malformed event must not break evaluation: a field that cannot be read is absent.
        v = EMPTY;
      }
      this.cache[slot] = v;
    }
    return v;
  }
}
