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
  /** The slot key of the indexed field (e.g. `jevt.value[/stage]`), undefined when no index helps. */
  key?: string;
  /** Candidate rules per value of the indexed field, in load order. */
  byValue: Map<string, CompiledRule[]>;
  /** Rules to run when the value has no bucket (or the field is absent). */
  fallback: CompiledRule[];
}

type Constraint = Map<string, Set<string>>;

export function buildRuleIndex(rules: CompiledRule[], listItems: (name: string) => string[] | undefined, indexable: (key: string) => boolean): RuleIndex {
  const constraints = rules.map((r) => requiredValues(r.ast, listItems, indexable));
  const counts = new Map<string, number>();
  for (const c of constraints) for (const k of c?.keys() ?? []) counts.set(k, (counts.get(k) ?? 0) + 1);
  let key: string | undefined;
  let best = 0;
  for (const [k, n] of counts) if (n > best) [key, best] = [k, n];
  if (!key || best < 2) return { byValue: new Map(), fallback: rules };

  const fallback: CompiledRule[] = [];
  const byValue = new Map<string, CompiledRule[]>();
  const sets = rules.map((_, i) => constraints[i]?.get(key!));
  for (const s of sets) for (const v of s ?? []) byValue.set(v, []);
  rules.forEach((rule, i) => {
    const s = sets[i];
    if (!s) {
      fallback.push(rule);
      for (const bucket of byValue.values()) bucket.push(rule);
    } else {
      for (const v of s) byValue.get(v)!.push(rule);
    }
  });
  return { key, byValue, fallback };
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
