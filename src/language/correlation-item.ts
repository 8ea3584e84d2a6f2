/**
 * Shape of a `correlation:` item (Sigma correlation vocabulary): which base
 * rules it counts, how matches are grouped, over which timespan and with
 * which threshold. Read here; compiled and run by src/engine/correlation/.
 */
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';

export const CORRELATION_TYPES = ['event_count', 'value_count', 'temporal', 'temporal_ordered'] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

export const THRESHOLD_OPS = ['gte', 'gt', 'lte', 'lt', 'eq'] as const;
export type ThresholdOp = (typeof THRESHOLD_OPS)[number];

export interface CorrelationCondition {
  op: ThresholdOp;
  value: number;
  /** value_count: the field whose distinct values are counted. */
  field?: string;
}

export class CorrelationShapeError extends Error {
  constructor(message: string, readonly node: Node | null | undefined) {
    super(message);
  }
}

/** `30s`, `5m`, `1h`, `2d` → milliseconds. */
export function parseTimespan(text: string): number | undefined {
  const m = /^\s*(\d+)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  const ms = Number(m[1]) * unit;
  return ms > 0 ? ms : undefined;
}

export function readCorrelationType(what: string, node: Node | null): CorrelationType {
  if (!isScalar(node) || !CORRELATION_TYPES.includes(node.value as CorrelationType)) {
    throw new CorrelationShapeError(`${what}: 'type' must be one of ${CORRELATION_TYPES.join(', ')}`, node);
  }
  return node.value as CorrelationType;
}

export function readStringList(what: string, key: string, node: Node | null): string[] {
  const items = isSeq(node) ? node.items : isScalar(node) && node.value !== null ? [node] : undefined;
  if (!items) throw new CorrelationShapeError(`${what}: '${key}' must be a list of strings`, node);
  return items.map((n) => {
    if (!isScalar(n) || n.value === null || typeof n.value === 'object') throw new CorrelationShapeError(`${what}: '${key}' must be a list of strings`, n as Node);
    return String(n.value);
  });
}

export function readTimespan(what: string, node: Node | null): number {
  const ms = isScalar(node) ? parseTimespan(String(node.value)) : undefined;
  if (ms === undefined) throw new CorrelationShapeError(`${what}: 'timespan' must be a duration such as 30s, 5m, 1h or 1d`, node);
  return ms;
}

export function readThreshold(what: string, node: Node | null): CorrelationCondition {
  if (!isMap(node)) throw new CorrelationShapeError(`${what}: 'condition' must be a mapping such as {gte: 10}`, node);
  const js = (node as YAMLMap).toJSON() as Record<string, unknown>;
  let cond: CorrelationCondition | undefined;
  for (const [k, v] of Object.entries(js)) {
    if (k === 'field') continue;
    if (!THRESHOLD_OPS.includes(k as ThresholdOp)) throw new CorrelationShapeError(`${what}: unknown condition '${k}' (expected one of ${THRESHOLD_OPS.join(', ')}, and 'field' for value_count)`, node);
    if (cond) throw new CorrelationShapeError(`${what}: 'condition' takes one comparison`, node);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new CorrelationShapeError(`${what}: condition '${k}' must be a non-negative integer`, node);
    cond = { op: k as ThresholdOp, value: v };
  }
  if (!cond) throw new CorrelationShapeError(`${what}: 'condition' needs one of ${THRESHOLD_OPS.join(', ')}`, node);
  if (js.field !== undefined) {
    if (typeof js.field !== 'string' || js.field === '') throw new CorrelationShapeError(`${what}: condition 'field' must be a field name`, node);
    cond.field = js.field;
  }
  return cond;
}

/** `rollup:` of a rule: repeats of the rule per group within the timespan become one summary alert. */
export interface RollupSpec {
  timespanMs: number;
  groupBy: string[];
}

export function readRollup(what: string, node: Node | null): RollupSpec {
  if (!isMap(node)) throw new CorrelationShapeError(`${what}: 'rollup' must be a mapping such as {timespan: 10m, group_by: [ka.user.name]}`, node);
  const map = node as YAMLMap;
  const get = (k: string) => map.items.find((p) => isScalar(p.key) && p.key.value === k)?.value as Node | null | undefined;
  for (const p of map.items) {
    const k = isScalar(p.key) ? String(p.key.value) : '';
    if (k !== 'timespan' && k !== 'group_by') throw new CorrelationShapeError(`${what}: unknown rollup key '${k}' (expected timespan, group_by)`, p.key as Node);
  }
  const span = get('timespan');
  if (span === undefined) throw new CorrelationShapeError(`${what}: 'rollup' needs a 'timespan'`, node);
  const groupBy = get('group_by');
  return { timespanMs: readTimespan(what, span), groupBy: groupBy === undefined ? [] : readStringList(what, 'group_by', groupBy) };
}
