/**
 * Rule collector: applies the items of several files, in load order, into one
 * set of definitions. Later items replace, append to, override or enable
 * earlier ones, as in Falco. Nothing is compiled here: macros and lists stay
 * text until a rule of a known source uses them.
 */
import { errorAt, warningAt, type Diagnostic } from './diagnostics';
import type { Position } from './location';
import type { Priority } from './priority';
import type { ConditionText, CorrelationItem, ExceptionSpec, ListItem, MacroItem, RuleItem, RulesFileItem } from './reader';
import type { CorrelationCondition, CorrelationType, RollupSpec } from './correlation-item';
import type { RuleTestSpec } from './rule-tests';
import { compareVersions, ENGINE_VERSION, normalizeEngineVersion, PLUGIN_VERSIONS } from '../version';

export interface ListDef {
  name: string;
  items: string[];
  file: string;
  pos: Position;
}

export interface MacroDef {
  name: string;
  /** Condition text pieces; appends add pieces, joined with a space. */
  condition: ConditionText[];
  file: string;
  pos: Position;
}

export interface RuleDef {
  name: string;
  condition: ConditionText[];
  output: string;
  desc: string;
  priority: Priority;
  source: string;
  tags: string[];
  enabled: boolean;
  exceptions: ExceptionSpec[];
  skipIfUnknownFilter: boolean;
  /** Kestrel: false for a silent rule (evaluated, feeds correlations, raises no alert). */
  alert: boolean;
  /** Kestrel: the rule's tests, numbered in order. */
  tests: RuleTestSpec[];
  /** Kestrel: summary of repeated alerts, when set. */
  rollup?: RollupSpec;
  file: string;
  pos: Position;
}

/** Kestrel: a correlation rule as collected (appends and overrides applied). */
export interface CorrelationDef {
  name: string;
  type: CorrelationType;
  rules: string[];
  groupBy: string[];
  timespanMs: number;
  condition?: CorrelationCondition;
  output: string;
  desc: string;
  priority: Priority;
  tags: string[];
  enabled: boolean;
  tests: RuleTestSpec[];
  file: string;
  pos: Position;
}

export class RuleCollection {
  readonly lists = new Map<string, ListDef>();
  readonly macros = new Map<string, MacroDef>();
  /** In load order: a redefined rule keeps its first place, as in Falco. */
  readonly rules = new Map<string, RuleDef>();
  /** Kestrel's correlation rules, in load order. */
  readonly correlations = new Map<string, CorrelationDef>();
  readonly diagnostics: Diagnostic[] = [];

  add(items: RulesFileItem[]): void {
    for (const item of items) {
      switch (item.kind) {
        case 'required_engine_version': {
          const want = normalizeEngineVersion(item.version);
          if (!want) this.error(item.file, item.pos, `invalid required_engine_version '${item.version}'`);
          else if (compareVersions(want, ENGINE_VERSION) > 0) {
            this.error(item.file, item.pos, `rules require engine version ${item.version} (${want}), but Kestrel's engine version is ${ENGINE_VERSION}`);
          }
          break;
        }
        case 'required_plugin_versions':
          for (const req of item.plugins) {
            const choices = [req, ...req.alternatives];
            const known = choices.filter((c) => PLUGIN_VERSIONS[c.name] !== undefined);
            if (known.length === 0) {
              this.diagnostics.push(warningAt('LOAD_UNKNOWN_PLUGIN', item.file, item.pos, `plugin '${req.name}' is not built into Kestrel; rules that need its fields will not compile`));
            } else if (!known.some((c) => pluginCompatible(PLUGIN_VERSIONS[c.name], c.version))) {
              const c = known[0];
              this.error(item.file, item.pos, `rules require plugin ${c.name} version ${c.version}, but Kestrel provides ${PLUGIN_VERSIONS[c.name]}`);
            }
          }
          break;
        case 'list':
          this.addList(item);
          break;
        case 'macro':
          this.addMacro(item);
          break;
        case 'rule':
          this.addRule(item);
          break;
        case 'correlation':
          this.addCorrelation(item);
          break;
      }
    }
  }

  private addList(item: ListItem): void {
    const existing = this.lists.get(item.name);
    const mode = item.append ? 'append' : item.override.items;
    if (mode) {
      if (!existing) return this.error(item.file, item.pos, `list '${item.name}' has '${item.append ? 'append: true' : 'override'}' but no earlier list of that name exists`);
      existing.items = mode === 'append' ? [...existing.items, ...(item.items ?? [])] : [...(item.items ?? [])];
      return;
    }
    this.lists.set(item.name, { name: item.name, items: [...(item.items ?? [])], file: item.file, pos: item.pos });
  }

  private addMacro(item: MacroItem): void {
    const existing = this.macros.get(item.name);
    const mode = item.append ? 'append' : item.override.condition;
    if (mode) {
      if (!existing) return this.error(item.file, item.pos, `macro '${item.name}' has '${item.append ? 'append: true' : 'override'}' but no earlier macro of that name exists`);
      existing.condition = mode === 'append' ? [...existing.condition, item.condition!] : [item.condition!];
      return;
    }
    this.macros.set(item.name, { name: item.name, condition: [item.condition!], file: item.file, pos: item.pos });
  }

  private addRule(item: RuleItem): void {
    const existing = this.rules.get(item.name);
    const overriding = item.append || Object.keys(item.override).length > 0;
    const enableOnly = !overriding && item.enabled !== undefined && Object.keys(item.keys).every((k) => k === 'rule' || k === 'enabled');
    if (enableOnly) {
      if (!existing) return this.error(item.file, item.pos, `rule '${item.name}' sets 'enabled' but no earlier rule of that name exists`);
      existing.enabled = item.enabled!;
      return;
    }
    if (!overriding) {
      const def: RuleDef = {
        name: item.name, condition: [item.condition!], output: item.output ?? '', desc: item.desc ?? '',
        priority: item.priority!, source: item.source ?? 'syscall', tags: item.tags ?? [], enabled: item.enabled ?? true,
        exceptions: item.exceptions ?? [], skipIfUnknownFilter: item.skipIfUnknownFilter ?? false,
        alert: item.alert ?? true, tests: numbered(item.tests ?? []), rollup: item.rollup, file: item.file, pos: item.pos,
      };
      // Falco keeps a redefined rule at its original place in the load order.
      this.rules.set(item.name, def);
      return;
    }
    if (!existing) return this.error(item.file, item.pos, `rule '${item.name}' has '${item.append ? 'append: true' : 'override'}' but no earlier rule of that name exists`);
    if (item.source !== undefined && item.source !== existing.source) {
      return this.error(item.file, item.keys.source ?? item.pos, `rule '${item.name}' is appended with source '${item.source}' but was defined with source '${existing.source}'`);
    }
    const modeOf = (key: string) => (item.append ? 'append' : item.override[key]);
    if (item.append) {
      for (const key of ['priority', 'enabled', 'skip-if-unknown-filter', 'alert', 'rollup']) {
        if (item.keys[key]) return this.error(item.file, item.keys[key], `rule '${item.name}': key '${key}' cannot be appended; use override with replace`);
      }
    }
    if (item.condition && modeOf('condition')) {
      existing.condition = modeOf('condition') === 'append' ? [...existing.condition, item.condition] : [item.condition];
    }
    if (item.output !== undefined && modeOf('output')) existing.output = modeOf('output') === 'append' ? `${existing.output} ${item.output}` : item.output;
    if (item.desc !== undefined && modeOf('desc')) existing.desc = modeOf('desc') === 'append' ? `${existing.desc} ${item.desc}` : item.desc;
    if (item.tags !== undefined && modeOf('tags')) existing.tags = modeOf('tags') === 'append' ? [...existing.tags, ...item.tags] : item.tags;
    if (item.priority !== undefined && item.override.priority) existing.priority = item.priority;
    if (item.enabled !== undefined && item.override.enabled) existing.enabled = item.enabled;
    if (item.alert !== undefined && item.override.alert) existing.alert = item.alert;
    if (item.rollup !== undefined && item.override.rollup) existing.rollup = item.rollup;
    if (item.tests !== undefined && modeOf('tests')) existing.tests = numbered(modeOf('tests') === 'append' ? [...existing.tests, ...item.tests] : item.tests);
    if (item.exceptions && modeOf('exceptions')) {
      if (modeOf('exceptions') === 'replace') existing.exceptions = item.exceptions;
      else {
        for (const ex of item.exceptions) {
          const same = existing.exceptions.find((e) => e.name === ex.name);
          if (same && ex.fields === undefined && ex.comps === undefined) {
            // Appending values to an exception the rule already has.
            same.values = [...(same.values ?? []), ...(ex.values ?? [])];
          } else if (same) {
            return this.error(item.file, ex.pos, `rule '${item.name}': exception '${ex.name}' already exists; an append may only add values to it`);
          } else {
            existing.exceptions = [...existing.exceptions, ex];
          }
        }
      }
    }
  }

  private addCorrelation(item: CorrelationItem): void {
    const existing = this.correlations.get(item.name);
    const overriding = item.append || Object.keys(item.override).length > 0;
    const enableOnly = !overriding && item.enabled !== undefined && Object.keys(item.keys).every((k) => k === 'correlation' || k === 'enabled');
    if (enableOnly) {
      if (!existing) return this.error(item.file, item.pos, `correlation '${item.name}' sets 'enabled' but no earlier correlation of that name exists`);
      existing.enabled = item.enabled!;
      return;
    }
    if (!overriding) {
      this.correlations.set(item.name, {
        name: item.name, type: item.type!, rules: item.rules!, groupBy: item.groupBy ?? [], timespanMs: item.timespanMs!,
        condition: item.condition, output: item.output ?? '', desc: item.desc ?? '', priority: item.priority!, tags: item.tags ?? [],
        enabled: item.enabled ?? true, tests: numbered(item.tests ?? []), file: item.file, pos: item.pos,
      });
      return;
    }
    if (!existing) return this.error(item.file, item.pos, `correlation '${item.name}' has '${item.append ? 'append: true' : 'override'}' but no earlier correlation of that name exists`);
    const modeOf = (key: string) => (item.append ? 'append' : item.override[key]);
    if (item.append) {
      for (const key of ['type', 'group_by', 'timespan', 'condition', 'priority', 'enabled']) {
        if (item.keys[key]) return this.error(item.file, item.keys[key], `correlation '${item.name}': key '${key}' cannot be appended; use override with replace`);
      }
    }
    const join = (a: string, b: string | undefined, mode: string | undefined) => (b === undefined || !mode ? a : mode === 'append' ? `${a} ${b}` : b);
    existing.output = join(existing.output, item.output, modeOf('output'));
    existing.desc = join(existing.desc, item.desc, modeOf('desc'));
    if (item.rules && modeOf('rules')) existing.rules = modeOf('rules') === 'append' ? [...existing.rules, ...item.rules] : item.rules;
    if (item.tags && modeOf('tags')) existing.tags = modeOf('tags') === 'append' ? [...existing.tags, ...item.tags] : item.tags;
    if (item.tests && modeOf('tests')) existing.tests = numbered(modeOf('tests') === 'append' ? [...existing.tests, ...item.tests] : item.tests);
    if (item.type && item.override.type) existing.type = item.type;
    if (item.groupBy && item.override.group_by) existing.groupBy = item.groupBy;
    if (item.timespanMs && item.override.timespan) existing.timespanMs = item.timespanMs;
    if (item.condition && item.override.condition) existing.condition = item.condition;
    if (item.priority && item.override.priority) existing.priority = item.priority;
    if (item.enabled !== undefined && item.override.enabled) existing.enabled = item.enabled;
  }

  /** Every collector error is an inconsistency between items: Falco's LOAD_ERR_VALIDATE. */
  private error(file: string, pos: Position, message: string): void {
    this.diagnostics.push(errorAt('LOAD_ERR_VALIDATE', file, pos, message));
  }
}

/** Falco's plugin check: same major version, provided >= required. */
function pluginCompatible(provided: string, required: string): boolean {
  const p = provided.split('.').map(Number);
  const r = required.split('.').map(Number);
  if (p[0] !== r[0]) return false;
  return compareVersions(provided, required) >= 0;
}

/** Tests keep their place in the (possibly appended) list as their number. */
function numbered(tests: RuleTestSpec[]): RuleTestSpec[] {
  return tests.map((t, i) => (t.index === i + 1 ? t : { ...t, index: i + 1 }));
}
