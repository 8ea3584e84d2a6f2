/**
 * Rule index: most audit rules start with a test such as
 * `jevt.value[/stage] in (ResponseComplete)` or `ka.verb=create`. We find,
 * for each rule, the values a single-valued field *must* have for the rule to
 * match, pick the field that constrains most rules, and bucket rules by
 * value. An event then only runs the rules of its bucket plus the rules the
 * index cannot constrain, still in load order.
 */
import type { ConditionNode } from '../language/ast';
import type { CompiledRule } from '../language/compiler';

export interface RuleIndex {
  /** The slot key of the indexed field (e.g. `jevt.value[/stage]`), undefined for a leaf. */
  key?: string;
  /** The evaluation slot of `key` (set by the ruleset that owns the index). */
  slot?: number;
  /** Sub-index per value of the indexed field. */
  byValue: Map<string, RuleIndex>;
  /** When the value has no bucket (or the field is absent): the rules the index cannot constrain. */
  fallback?: RuleIndex;
  /** Leaf: the rules to run, in load order. */
  rules: CompiledRule[];
}

/** Give every inner node the slot number of its key. */
export function assignIndexSlots(node: RuleIndex, slotOf: (key: string) => number | undefined): void {
  if (node.key === undefined) return;
  node.slot = slotOf(node.key);
  for (const child of node.byValue.values()) assignIndexSlots(child, slotOf);
  if (node.fallback) assignIndexSlots(node.fallback, slotOf);
}

type Constraint = Map<string, Set<string>>;

/** Buckets smaller than this are run as they are: another lookup would cost more than it saves. */
const MIN_BUCKET = 6;
const MAX_DEPTH = 3;

export function buildRuleIndex(rules: CompiledRule[], listItems: (name: string) => string[] | undefined, indexable: (key: string) => boolean): RuleIndex {
  const constraints = new Map(rules.map((r) => [r, requiredValues(r.ast, listItems, indexable)]));
  return build(rules, constraints, new Set(), 0);
}

function build(rules: CompiledRule[], constraints: Map<CompiledRule, Constraint | undefined>, used: Set<string>, depth: number): RuleIndex {
  const leaf: RuleIndex = { byValue: new Map(), rules };
  if (rules.length < MIN_BUCKET || depth >= MAX_DEPTH) return leaf;
  const counts = new Map<string, number>();
  for (const r of rules) for (const k of constraints.get(r)?.keys() ?? []) if (!used.has(k)) counts.set(k, (counts.get(k) ?? 0) + 1);
  let key: string | undefined;
  let best = 0;
  for (const [k, n] of counts) if (n > best) [key, best] = [k, n];
  if (!key || best < 2) return leaf;

  const fallback: CompiledRule[] = [];
  const buckets = new Map<string, CompiledRule[]>();
  const sets = rules.map((r) => constraints.get(r)?.get(key!));
  for (const s of sets) for (const v of s ?? []) buckets.set(v, []);
  rules.forEach((rule, i) => {
    const s = sets[i];
    if (!s) {
      fallback.push(rule);
      for (const bucket of buckets.values()) bucket.push(rule);
    } else {
      for (const v of s) buckets.get(v)!.push(rule);
    }
  });
  const next = new Set([...used, key]);
  const byValue = new Map<string, RuleIndex>();
  for (const [v, bucket] of buckets) byValue.set(v, build(bucket, constraints, next, depth + 1));
  return { key, byValue, fallback: build(fallback, constraints, next, depth + 1), rules: [] };
}

/** Per field key, the set of values it must have for `node` to hold; undefined when unconstrained. */
function requiredValues(node: ConditionNode, listItems: (n: string) => string[] | undefined, indexable: (key: string) => boolean): Constraint | undefined {
  switch (node.type) {
    case 'binary': {
      if (node.field.type !== 'field') return undefined;
      const key = node.field.arg === undefined ? node.field.name : `${node.field.name}[${node.field.arg}]`;
      if (!indexable(key)) return undefined;
      const expand = (v: string) => listItems(v) ?? [v];
      let values: string[];
      if ((node.op === '=' || node.op === '==') && node.value.type === 'value') values = [node.value.value];
      else if (node.op === 'in' && node.value.type === 'list') values = node.value.items.flatMap((i) => expand(i.value));
      else if (node.op === 'in' && node.value.type === 'value') values = expand(node.value.value);
      else return undefined;
      return new Map([[key, new Set(values)]]);
    }
    case 'and': {
      let out: Constraint | undefined;
      for (const op of node.operands) {
        const c = requiredValues(op, listItems, indexable);
        if (!c) continue;
        out ??= new Map();
        for (const [k, s] of c) {
          const prev = out.get(k);
          out.set(k, prev ? new Set([...prev].filter((v) => s.has(v))) : s);
        }
      }
      return out;
    }
    case 'or': {
      const parts = node.operands.map((op) => requiredValues(op, listItems, indexable));
      if (parts.some((p) => !p)) return undefined;
      const out: Constraint = new Map();
      for (const k of parts[0]!.keys()) {
        if (!parts.every((p) => p!.has(k))) continue;
        out.set(k, new Set(parts.flatMap((p) => [...p!.get(k)!])));
      }
      return out.size ? out : undefined;
    }
    default:
      return undefined;
  }
}
