/**
 * Rule reader: turns one rules file (YAML text) into typed items with their
 * locations. It checks shape and types only; meaning (what an append applies
 * to, which fields exist) is the collector's and the compiler's job.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { errorAt, warningAt, type Diagnostic, type WarningCode } from './diagnostics';
import { positionAt, scalarLocation, type Position, type ScalarLocation } from './location';
import { parsePriority, type Priority } from './priority';
import {
  CorrelationShapeError, readCorrelationType, readRollup, readStringList, readThreshold, readTimespan,
  type CorrelationCondition, type CorrelationType, type RollupSpec,
} from './correlation-item';
import { readTests, TestSpecError, type RuleTestSpec } from './rule-tests';

export type OverrideMode = 'append' | 'replace';

export interface ConditionText {
  text: string;
  loc: ScalarLocation;
}

export interface ExceptionSpec {
  name: string;
  /** A single field name (string) or a tuple of field names. */
  fields?: string | string[];
  comps?: string | string[];
  /** For tuple fields: a list of tuples; for a single field: a list of values. Items may be nested lists. */
  values?: unknown[];
  pos: Position;
}

interface ItemBase {
  name: string;
  file: string;
  pos: Position;
  append: boolean;
  override: Record<string, OverrideMode>;
  /** Position of each key, for errors about that key. */
  keys: Record<string, Position>;
}

export interface ListItem extends ItemBase {
  kind: 'list';
  items?: string[];
}

export interface MacroItem extends ItemBase {
  kind: 'macro';
  condition?: ConditionText;
}

export interface RuleItem extends ItemBase {
  kind: 'rule';
  condition?: ConditionText;
  output?: string;
  desc?: string;
  priority?: Priority;
  source?: string;
  tags?: string[];
  enabled?: boolean;
  exceptions?: ExceptionSpec[];
  skipIfUnknownFilter?: boolean;
  warnEvttypes?: boolean;
  /** Kestrel: `alert: false` makes a silent rule that only feeds correlations. */
  alert?: boolean;
  /** Kestrel: the rule's own tests (`kestrel test`). */
  tests?: RuleTestSpec[];
  /** Kestrel: repeats within a window become one summary alert. */
  rollup?: RollupSpec;
}

/** Kestrel: a correlation over matches of base rules (src/engine/correlation/). */
export interface CorrelationItem extends ItemBase {
  kind: 'correlation';
  type?: CorrelationType;
  rules?: string[];
  groupBy?: string[];
  timespanMs?: number;
  condition?: CorrelationCondition;
  output?: string;
  desc?: string;
  priority?: Priority;
  tags?: string[];
  enabled?: boolean;
  tests?: RuleTestSpec[];
}

export interface EngineVersionItem {
  kind: 'required_engine_version';
  version: string;
  file: string;
  pos: Position;
}

export interface PluginVersionItem {
  kind: 'required_plugin_versions';
  plugins: { name: string; version: string; alternatives: { name: string; version: string }[] }[];
  file: string;
  pos: Position;
}

export type RulesFileItem = ListItem | MacroItem | RuleItem | CorrelationItem | EngineVersionItem | PluginVersionItem;

export interface ReadResult {
  items: RulesFileItem[];
  diagnostics: Diagnostic[];
}

const RULE_KEYS = new Set([
  'rule', 'condition', 'output', 'desc', 'priority', 'source', 'tags', 'enabled', 'exceptions', 'append', 'override',
  'skip-if-unknown-filter', 'warn_evttypes', 'capture', 'capture_duration',
  // Kestrel additions (Falco would warn about them; they change nothing for Falco's keys).
  'alert', 'tests', 'rollup',
]);
const CORRELATION_KEYS = new Set([
  'correlation', 'type', 'rules', 'group_by', 'timespan', 'condition', 'output', 'desc', 'priority', 'tags', 'enabled',
  'append', 'override', 'tests',
]);
const MACRO_KEYS = new Set(['macro', 'condition', 'append', 'override', 'source']);
const LIST_KEYS = new Set(['list', 'items', 'append', 'override']);
const EXCEPTION_KEYS = new Set(['name', 'fields', 'comps', 'values']);

/** Which keys each item kind accepts in `override:`, and with which modes. */
export const OVERRIDABLE: Record<'rule' | 'macro' | 'list' | 'correlation', Record<string, OverrideMode[]>> = {
  rule: {
    condition: ['append', 'replace'], output: ['append', 'replace'], desc: ['append', 'replace'],
    tags: ['append', 'replace'], exceptions: ['append', 'replace'], priority: ['replace'], enabled: ['replace'],
    alert: ['replace'], tests: ['append', 'replace'], rollup: ['replace'],
  },
  correlation: {
    rules: ['append', 'replace'], output: ['append', 'replace'], desc: ['append', 'replace'], tags: ['append', 'replace'],
    tests: ['append', 'replace'], type: ['replace'], group_by: ['replace'], timespan: ['replace'], condition: ['replace'],
    priority: ['replace'], enabled: ['replace'],
  },
  macro: { condition: ['append', 'replace'] },
  list: { items: ['append', 'replace'] },
};

class ItemError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

export function readRulesFile(file: string, text: string): ReadResult {
  const diagnostics: Diagnostic[] = [];
  const items: RulesFileItem[] = [];
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const at = (offset: number): Position => positionAt({ lineCounter }, offset);
  // Shape errors are Falco's LOAD_ERR_YAML_VALIDATE; YAML syntax errors are reported below.
  const error = (offset: number, message: string) => diagnostics.push(errorAt('LOAD_ERR_YAML_VALIDATE', file, at(offset), message));
  const warn: Warn = (code, offset, message) => diagnostics.push(warningAt(code, file, at(offset), message));

  if (doc.errors.length > 0) {
    for (const e of doc.errors) diagnostics.push(errorAt('LOAD_ERR_YAML_PARSE', file, at(e.pos[0]), `YAML syntax error: ${firstLine(e.message)}`));
    return { items, diagnostics };
  }
  for (const w of doc.warnings) warn('LOAD_YAML_WARNING', w.pos[0], firstLine(w.message));

  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return { items, diagnostics };
  if (!isSeq(root)) {
    error(nodeStart(root), 'rules file content is not a sequence of list, macro and rule items');
    return { items, diagnostics };
  }

  const ctx: Ctx = { file, text, lineCounter };
  for (const node of root.items) {
    // An empty item (a bare `-`) is accepted and ignored, as Falco does.
    if (node === null || (isScalar(node) && node.value === null)) continue;
    if (!isMap(node)) {
      error(nodeStart(node as Node), 'item is not a mapping (expected one of: list, macro, rule, required_engine_version, required_plugin_versions)');
      continue;
    }
    try {
      const item = readItem(ctx, node, warn);
      if (item) items.push(item);
    } catch (e) {
      if (e instanceof ItemError) error(e.offset, e.message);
      else if (e instanceof TestSpecError || e instanceof CorrelationShapeError) error(nodeStart(e.node ?? undefined, node), e.message);
      else throw e;
    }
  }
  return { items, diagnostics };
}

interface Ctx {
  file: string;
  text: string;
  lineCounter: LineCounter;
}

type Warn = (code: WarningCode, offset: number, message: string) => void;

function readItem(ctx: Ctx, map: YAMLMap, warn: Warn): RulesFileItem | undefined {
  const pairs = new Map<string, Pair>();
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (key === undefined) throw new ItemError('item keys must be plain strings', nodeStart(pair.key as Node, map));
    if (pairs.has(key)) throw new ItemError(`duplicate key '${key}'`, nodeStart(pair.key as Node, map));
    pairs.set(key, pair);
  }
  const pos = positionAt(ctx, nodeStart(map));
  const keys: Record<string, Position> = {};
  for (const [k, p] of pairs) keys[k] = positionAt(ctx, nodeStart(p.key as Node, map));

  if (pairs.has('required_engine_version')) {
    const v = pairs.get('required_engine_version')!.value as Node;
    if (!isScalar(v) || (typeof v.value !== 'number' && typeof v.value !== 'string')) {
      throw new ItemError('required_engine_version must be a number or a version string', nodeStart(v, map));
    }
    return { kind: 'required_engine_version', version: String(v.source ?? v.value), file: ctx.file, pos };
  }
  if (pairs.has('required_plugin_versions')) {
    return { kind: 'required_plugin_versions', plugins: readPluginVersions(pairs.get('required_plugin_versions')!.value as Node, map), file: ctx.file, pos };
  }

  const kind = (['rule', 'macro', 'list', 'correlation'] as const).find((k) => pairs.has(k));
  if (!kind) {
    const first = [...pairs.keys()][0] ?? '';
    warn('LOAD_UNKNOWN_ITEM', nodeStart(map), `unknown top level item '${first}' (ignored)`);
    return undefined;
  }
  const allowed = kind === 'rule' ? RULE_KEYS : kind === 'macro' ? MACRO_KEYS : kind === 'list' ? LIST_KEYS : CORRELATION_KEYS;
  for (const [k, p] of pairs) {
    if (!allowed.has(k)) warn('LOAD_UNKNOWN_ITEM', nodeStart(p.key as Node, map), `unknown key '${k}' in ${kind} (ignored)`);
  }

  const str = (key: string): string | undefined => {
    const p = pairs.get(key);
    if (!p) return undefined;
    const v = p.value as Node | null;
    if (v === null) return '';
    if (!isScalar(v) || typeof v.value === 'object') throw new ItemError(`'${key}' must be a string`, nodeStart(v, map));
    return v.value === null ? '' : String(v.value);
  };
  const bool = (key: string): boolean | undefined => {
    const p = pairs.get(key);
    if (!p) return undefined;
    const v = p.value as Node | null;
    if (!isScalar(v) || typeof v.value !== 'boolean') throw new ItemError(`'${key}' must be true or false`, nodeStart(v, map));
    return v.value;
  };
  const cond = (key: string): ConditionText | undefined => {
    const p = pairs.get(key);
    if (!p) return undefined;
    const v = p.value as Node | null;
    if (!isScalar(v) || typeof v.value === 'object' && v.value !== null) {
      throw new ItemError(`'${key}' must be a string`, nodeStart(v, map));
    }
    return { text: v.value === null ? '' : String(v.value), loc: scalarLocation(ctx.file, ctx.text, ctx.lineCounter, v as Scalar) };
  };

  const name = str(kind);
  if (!name) throw new ItemError(`${kind} name must be a non-empty string`, nodeStart(pairs.get(kind)!.value as Node, map));
  const append = bool('append') ?? false;
  const override = readOverride(kind, pairs.get('override'), map);
  if (append && Object.keys(override).length > 0) {
    throw new ItemError(`keys 'override' and 'append: true' cannot be used together`, nodeStart(pairs.get('override')!.key as Node, map));
  }
  for (const k of Object.keys(override)) {
    if (!pairs.has(k)) throw new ItemError(`'override' names key '${k}' but the item does not set it`, nodeStart(pairs.get('override')!.value as Node, map));
  }
  const base = { name, file: ctx.file, pos, append, override, keys };
  // Names a condition cannot refer to, as Falco checks them (its identifier and bare-string tokens).
  if (kind === 'macro' && !/^[a-zA-Z]+[a-zA-Z0-9_]*$/.test(name)) {
    warn('LOAD_INVALID_MACRO_NAME', nodeStart(map), `macro name '${name}' cannot be used in a condition: macro names match [a-zA-Z]+[a-zA-Z0-9_]*`);
  }
  if (kind === 'list' && !/^[^()"'\s=,]+$/.test(name)) {
    warn('LOAD_INVALID_LIST_NAME', nodeStart(map), `list name '${name}' cannot be used in a condition: it must not contain spaces, quotes, parentheses, '=' or ','`);
  }

  if (kind === 'list') {
    const p = pairs.get('items');
    let items: string[] | undefined;
    if (p) {
      const v = p.value as Node | null;
      if (v === null) items = [];
      else if (!isSeq(v)) throw new ItemError(`list '${name}': 'items' must be a sequence`, nodeStart(v, map));
      else items = v.items.map((it) => scalarText(it as Node, `list '${name}' item`, map));
    }
    if (items === undefined) throw new ItemError(`list '${name}' has no 'items'`, nodeStart(map));
    return { kind, ...base, items };
  }
  if (kind === 'macro') {
    const condition = cond('condition');
    if (condition === undefined) throw new ItemError(`macro '${name}' has no 'condition'`, nodeStart(map));
    return { kind, ...base, condition };
  }

  const testsPair = pairs.get('tests');
  const tests = testsPair ? readTests(`${kind} '${name}'`, ctx.file, testsPair.value as Node | null, (n) => positionAt(ctx, nodeStart(n, map))) : undefined;
  let priority: Priority | undefined;
  const prio = str('priority');
  if (prio !== undefined) {
    priority = parsePriority(prio);
    if (!priority) throw new ItemError(`${kind} '${name}': invalid priority '${prio}' (expected one of emergency, alert, critical, error, warning, notice, informational, info, debug)`, nodeStart(pairs.get('priority')!.value as Node, map));
  }
  let tags: string[] | undefined;
  const tp = pairs.get('tags');
  if (tp) {
    const v = tp.value as Node | null;
    if (v === null) tags = [];
    else if (!isSeq(v)) throw new ItemError(`${kind} '${name}': 'tags' must be a sequence`, nodeStart(v, map));
    else tags = v.items.map((it) => scalarText(it as Node, `${kind} '${name}' tag`, map));
  }
  if (kind === 'correlation') {
    const what = `correlation '${name}'`;
    const node = (k: string) => pairs.get(k)?.value as Node | null;
    const item: CorrelationItem = {
      kind, ...base, output: str('output'), desc: str('desc'), priority, tags, enabled: bool('enabled'), tests,
      type: pairs.has('type') ? readCorrelationType(what, node('type')) : undefined,
      rules: pairs.has('rules') ? readStringList(what, 'rules', node('rules')) : undefined,
      groupBy: pairs.has('group_by') ? readStringList(what, 'group_by', node('group_by')) : undefined,
      timespanMs: pairs.has('timespan') ? readTimespan(what, node('timespan')) : undefined,
      condition: pairs.has('condition') ? readThreshold(what, node('condition')) : undefined,
    };
    if (!append && Object.keys(override).length === 0 && !isEnableOnly(pairs)) {
      for (const k of ['type', 'rules', 'timespan', 'output', 'priority'] as const) {
        if (!pairs.has(k)) throw new ItemError(`${what} has no '${k}'`, nodeStart(map));
      }
    }
    return item;
  }
  const ep = pairs.get('exceptions');
  const exceptions = ep ? readExceptions(ctx, name, ep.value as Node | null, map, warn, append || override.exceptions !== undefined) : undefined;
  const rule: RuleItem = {
    kind, ...base,
    condition: cond('condition'), output: str('output'), desc: str('desc'), priority, source: str('source'),
    tags, enabled: bool('enabled'), exceptions,
    skipIfUnknownFilter: bool('skip-if-unknown-filter'), warnEvttypes: bool('warn_evttypes'),
    alert: bool('alert'), tests,
    rollup: pairs.has('rollup') ? readRollup(`rule '${name}'`, pairs.get('rollup')!.value as Node | null) : undefined,
  };
  if (!append && Object.keys(override).length === 0 && !isEnableOnly(pairs)) {
    for (const k of ['condition', 'output', 'desc'] as const) {
      if (!pairs.has(k)) throw new ItemError(`rule '${name}' has no '${k}'`, nodeStart(map));
    }
    if (!pairs.has('priority')) {
      // Falco refuses this; published rule files (k8sadmission's) still have such rules,
      // so Kestrel loads them at the lowest priority and says so.
      warn('LOAD_NO_PRIORITY', nodeStart(map), `rule '${name}' has no 'priority'; using Debug`);
      rule.priority = 'Debug';
    }
  }
  return rule;
}

/** `- rule: X` with only `enabled:` changes an existing rule's state. */
function isEnableOnly(pairs: Map<string, Pair>): boolean {
  return pairs.has('enabled') && [...pairs.keys()].every((k) => k === 'rule' || k === 'correlation' || k === 'enabled');
}

function readOverride(kind: 'rule' | 'macro' | 'list' | 'correlation', pair: Pair | undefined, map: YAMLMap): Record<string, OverrideMode> {
  const out: Record<string, OverrideMode> = {};
  if (!pair) return out;
  const v = pair.value as Node | null;
  if (!isMap(v)) throw new ItemError(`'override' must be a mapping of key: append|replace`, nodeStart(v, map));
  for (const p of v.items) {
    const key = isScalar(p.key) ? String(p.key.value) : '';
    const mode = isScalar(p.value) ? String(p.value.value) : '';
    const modes = OVERRIDABLE[kind][key];
    if (!modes) {
      throw new ItemError(`'override' key '${key}' is not overridable in a ${kind} (overridable: ${Object.keys(OVERRIDABLE[kind]).join(', ')})`, nodeStart(p.key as Node, map));
    }
    if (!modes.includes(mode as OverrideMode)) {
      throw new ItemError(`'override' of '${key}' must be ${modes.join(' or ')}, not '${mode}'`, nodeStart(p.value as Node, map));
    }
    out[key] = mode as OverrideMode;
  }
  return out;
}

function readExceptions(ctx: Ctx, rule: string, node: Node | null, map: YAMLMap, warn: Warn, updating: boolean): ExceptionSpec[] {
  if (node === null) return [];
  if (!isSeq(node)) throw new ItemError(`rule '${rule}': 'exceptions' must be a sequence`, nodeStart(node, map));
  const names = new Set<string>();
  return node.items.map((n) => {
    const m = n as Node;
    if (!isMap(m)) throw new ItemError(`rule '${rule}': each exception must be a mapping`, nodeStart(m, map));
    const js = m.toJSON() as Record<string, unknown>;
    for (const k of Object.keys(js)) {
      if (!EXCEPTION_KEYS.has(k)) throw new ItemError(`rule '${rule}': unknown exception key '${k}'`, nodeStart(m, map));
    }
    if (typeof js.name !== 'string' || js.name === '') throw new ItemError(`rule '${rule}': exception has no 'name'`, nodeStart(m, map));
    if (names.has(js.name)) warn('LOAD_EXCEPTION_NAME_NOT_UNIQUE', nodeStart(m, map), `rule '${rule}': exception '${js.name}' is defined more than once in the same rule`);
    names.add(js.name);
    const ex: ExceptionSpec = { name: js.name, pos: positionAt(ctx, nodeStart(m, map)) };
    const strOrList = (key: 'fields' | 'comps') => {
      const v = js[key];
      if (v === undefined || v === null) return undefined;
      if (typeof v === 'string') return v;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
      throw new ItemError(`rule '${rule}' exception '${js.name}': '${key}' must be a string or a list of strings`, nodeStart(m, map));
    };
    ex.fields = strOrList('fields');
    ex.comps = strOrList('comps');
    if (js.values !== undefined && js.values !== null) {
      if (!Array.isArray(js.values)) throw new ItemError(`rule '${rule}' exception '${js.name}': 'values' must be a list`, nodeStart(m, map));
      ex.values = js.values;
    } else if (updating) {
      warn('LOAD_APPEND_NO_VALUES', nodeStart(m, map), `rule '${rule}': exception '${js.name}' is appended or overridden with no values`);
    }
    return ex;
  });
}

function readPluginVersions(node: Node | null, map: YAMLMap): PluginVersionItem['plugins'] {
  if (!isSeq(node)) throw new ItemError('required_plugin_versions must be a sequence', nodeStart(node, map));
  return node.items.map((n) => {
    const js = (n as Node).toJSON?.() as any;
    const ok = (o: any) => o && typeof o.name === 'string' && (typeof o.version === 'string' || typeof o.version === 'number');
    if (!ok(js)) throw new ItemError('each required plugin needs a name and a version', nodeStart(n as Node, map));
    const alts = Array.isArray(js.alternatives) ? js.alternatives : [];
    for (const a of alts) if (!ok(a)) throw new ItemError('each plugin alternative needs a name and a version', nodeStart(n as Node, map));
    return { name: js.name, version: String(js.version), alternatives: alts.map((a: any) => ({ name: a.name, version: String(a.version) })) };
  });
}

function scalarText(node: Node, what: string, map: YAMLMap): string {
  if (!isScalar(node) || node.value === null || typeof node.value === 'object') {
    throw new ItemError(`${what} must be a string`, nodeStart(node, map));
  }
  return String(node.value);
}

function nodeStart(node: Node | null | undefined, parent?: Node): number {
  return node?.range?.[0] ?? parent?.range?.[0] ?? 0;
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}
