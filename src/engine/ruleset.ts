/**
 * A compiled ruleset: evaluates one event and returns its alerts. Built once
 * from rule files (see load.ts); immutable afterwards, so it can be swapped
 * atomically on reload and shared by all events of a worker.
 */
import { createHash } from 'node:crypto';
import { catalogFor, eventTimeNs, renderForOutput } from '../fields';
import type { EventView } from '../fields/types';
import { checkSyntax, compileSource, EvalContext, type CompiledRule, type CompiledSource } from '../language/compiler';
import { RuleCollection } from '../language/collector';
import { warningAt, type Diagnostic } from '../language/diagnostics';
import { atLeast, type Priority } from '../language/priority';
import { readRulesFile } from '../language/reader';
import { unusedDefinitions } from '../language/usage';
import type { RuleTestSpec } from '../language/rule-tests';
import { toText } from '../language/values';
import type { Alert } from './alert';
import { compileCorrelations, type CompiledCorrelation } from './correlation/compile';
import { Correlator, type CorrelatorOptions } from './correlation/correlator';
import { compileRollups, Rollup, type CompiledRollup, type RollupOptions } from './correlation/rollup';
import { RuleCost, type RuleCostStat } from './rule-cost';
import { assignIndexSlots, buildRuleIndex, type RuleIndex } from './rule-index';

export type RuleMatching = 'first' | 'all';

/** RulesetOptions.costSampleEvery's default: one evaluation in 64 per rule is timed. */
export const DEFAULT_COST_SAMPLE_EVERY = 64;

export interface RulesetOptions {
  /** Falco's rule_matching: `first` (default) raises at most one alert per event. */
  ruleMatching?: RuleMatching;
  /** Rules below this priority are not evaluated (Falco's `priority` setting). Default: Debug (all). */
  minPriority?: Priority;
  /** Host name written into alerts. */
  hostname?: string;
  /** Time one evaluation in this many per rule (0: never). Default 64. See rule-cost.ts. */
  costSampleEvery?: number;
  /** Called with each timed evaluation (rule name, nanoseconds): feed a histogram with it. */
  onCostSample?: (rule: string, ns: number) => void;
}

/** What one event gave: its alerts, and every match of a rule that feeds correlations or is silent. */
export interface DetailedResult {
  alerts: Alert[];
  /** Matches of silent rules and of correlation base rules, whatever rule_matching says. */
  matches: Alert[];
}

/** Per compiled rule (by its order): silent (no alert) and/or feeds a correlation. */
const SILENT = 1;
const FEEDS = 2;

export interface RulesFile {
  path: string;
  text: string;
}

interface SourceRuntime {
  compiled: CompiledSource;
  /** Enabled rules at or above the minimum priority, in load order. */
  active: CompiledRule[];
  index: RuleIndex;
  /** Slot of each indexed field key. */
  indexSlots: Map<string, number>;
  /** SILENT | FEEDS per rule order. */
  flags: Uint8Array;
  hasFeeders: boolean;
  cost: RuleCost;
}

export interface ItemTests {
  kind: 'rule' | 'correlation';
  name: string;
  source: string;
  enabled: boolean;
  /** Compiled for an evaluated source (and, for a correlation, enabled at the minimum priority). */
  evaluated: boolean;
  tests: RuleTestSpec[];
}

export interface RulesetSummary {
  /** `alert`: false for a silent rule (Kestrel's `alert: false`). */
  rules: { name: string; source: string; priority: Priority; enabled: boolean; alert: boolean; compiled: boolean; file: string; line: number }[];
}

export class Ruleset {
  private constructor(
    private readonly runtimes: Map<string, SourceRuntime>,
    private readonly collection: RuleCollection,
    readonly options: Required<Omit<RulesetOptions, 'onCostSample'>> & Pick<RulesetOptions, 'onCostSample'>,
    /** sha256 of the rule files, in load order: the ruleset's version. */
    readonly hash: string,
    /** Enabled correlation rules (Kestrel), for a Correlator. */
    readonly correlations: CompiledCorrelation[],
    /** Rules with a `rollup:` (Kestrel), for a Rollup. */
    readonly rollups: CompiledRollup[],
  ) {}

  /** Compile rule files (already read) into a ruleset; errors leave `ruleset` undefined. */
  static build(files: RulesFile[], options: RulesetOptions = {}): { ruleset?: Ruleset; diagnostics: Diagnostic[] } {
    const coll = new RuleCollection();
    const diagnostics: Diagnostic[] = [];
    const hash = createHash('sha256');
    for (const f of files) {
      hash.update(f.path).update('\0').update(f.text).update('\0');
      const read = readRulesFile(f.path, f.text);
      diagnostics.push(...read.diagnostics);
      coll.add(read.items);
    }
    diagnostics.push(...coll.diagnostics, ...checkSyntax(coll));

    const opts = {
      ruleMatching: options.ruleMatching ?? 'first', minPriority: options.minPriority ?? 'Debug', hostname: options.hostname ?? '',
      costSampleEvery: options.costSampleEvery ?? DEFAULT_COST_SAMPLE_EVERY, onCostSample: options.onCostSample,
    };
    const correlated = new Set([...coll.correlations.values()].filter((c) => c.enabled && atLeast(c.priority, opts.minPriority)).flatMap((c) => c.rules));
    const runtimes = new Map<string, SourceRuntime>();
    const skipped = new Map<string, { count: number; file: string; line: number }>();
    for (const rule of coll.rules.values()) {
      const catalog = catalogFor(rule.source);
      if (!catalog) {
        const s = skipped.get(rule.source) ?? { count: 0, file: rule.file, line: rule.pos.line };
        s.count++;
        skipped.set(rule.source, s);
        continue;
      }
      if (runtimes.has(rule.source)) continue;
      const { compiled, diagnostics: d } = compileSource(coll, rule.source, catalog);
      diagnostics.push(...d);
      // A base rule of a correlation is evaluated whatever its priority; below the minimum it only feeds.
      const active = compiled.rules.filter((r) => r.enabled && (atLeast(r.priority, opts.minPriority) || correlated.has(r.name)));
      const flags = new Uint8Array(compiled.rules.length);
      for (const r of compiled.rules) {
        const silent = coll.rules.get(r.name)!.alert === false || !atLeast(r.priority, opts.minPriority);
        flags[r.order] = (silent ? SILENT : 0) | (correlated.has(r.name) ? FEEDS : 0);
      }
      const indexable = (key: string) => {
        const i = compiled.slots.info.find((s) => s.key === key);
        return i !== undefined && !i.numeric && !i.isList;
      };
      const index = buildRuleIndex(active, (n) => compiled.listItems(n), indexable);
      const indexSlots = new Map(compiled.slots.info.map((s, i) => [s.key, i]));
      assignIndexSlots(index, (key) => indexSlots.get(key));
      const cost = new RuleCost(compiled.rules, opts.costSampleEvery, opts.onCostSample);
      runtimes.set(rule.source, { compiled, active, index, indexSlots, flags, hasFeeders: flags.some((f) => f !== 0), cost });
    }
    const compiledNames = new Map([...runtimes.values()].flatMap((rt) => rt.compiled.rules.map((r) => [r.name, r.source] as [string, string])));
    const corr = compileCorrelations(coll, compiledNames);
    diagnostics.push(...corr.diagnostics);
    const rolls = compileRollups(coll, compiledNames);
    diagnostics.push(...rolls.diagnostics);
    for (const r of coll.rules.values()) {
      if (r.alert === false && !correlated.has(r.name) && compiledNames.has(r.name)) {
        diagnostics.push(warningAt('LOAD_UNUSED_SILENT_RULE', r.file, r.pos, `rule '${r.name}' has 'alert: false' but no enabled correlation uses it`));
      }
    }
    for (const [source, s] of skipped) {
      diagnostics.push(warningAt('LOAD_UNKNOWN_SOURCE', s.file, { line: s.line, col: 1 }, `${s.count} rule(s) of source '${source}' skipped: Kestrel evaluates k8s_audit and k8s_admission events only`));
    }
    if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
    // As in Falco, only a ruleset that compiled is checked for unused macros and lists.
    diagnostics.push(...unusedDefinitions(coll));
    const correlations = corr.correlations.filter((c) => atLeast(c.priority, opts.minPriority));
    return { ruleset: new Ruleset(runtimes, coll, opts, hash.digest('hex'), correlations, rolls.rollups), diagnostics };
  }

  /** Sources that have at least one compiled rule. */
  get sources(): string[] {
    return [...this.runtimes.keys()];
  }

  /** Whether any compiled condition, exception or output reads field `name` (e.g. evt.num). */
  usesField(name: string): boolean {
    return [...this.runtimes.values()].some((rt) => rt.compiled.slots.info.some((s) => s.def.name === name));
  }

  /** Every compiled rule (enabled or not), per source, in load order. */
  compiledRules(): CompiledRule[] {
    return [...this.runtimes.values()].flatMap((r) => r.compiled.rules);
  }

  summary(): RulesetSummary {
    const compiled = new Set(this.compiledRules().map((r) => r.name));
    return {
      rules: [...this.collection.rules.values()].map((r) => ({
        name: r.name, source: r.source, priority: r.priority, enabled: r.enabled, alert: r.alert, compiled: compiled.has(r.name), file: r.file, line: r.pos.line,
      })),
    };
  }

  /** The `tests:` of every rule and correlation, in load order (for `kestrel test`). */
  itemTests(): ItemTests[] {
    const compiled = new Set(this.compiledRules().map((r) => r.name));
    const correlations = new Map(this.correlations.map((c) => [c.name, c]));
    const rules: ItemTests[] = [...this.collection.rules.values()].map((r) => ({
      kind: 'rule', name: r.name, source: r.source, enabled: r.enabled, evaluated: compiled.has(r.name), tests: r.tests,
    }));
    const corrs: ItemTests[] = [...this.collection.correlations.values()].map((c) => ({
      kind: 'correlation', name: c.name, source: correlations.get(c.name)?.source ?? '', enabled: c.enabled, evaluated: correlations.has(c.name), tests: c.tests,
    }));
    return [...rules, ...corrs].filter((i) => i.tests.length > 0);
  }

  /** A Correlator for this ruleset's correlation rules (undefined when it has none). */
  newCorrelator(options: CorrelatorOptions = {}): Correlator | undefined {
    return this.correlations.length > 0 ? new Correlator(this.correlations, options) : undefined;
  }

  /** A Rollup for this ruleset's rules with `rollup:` (undefined when none has one). */
  newRollup(options: RollupOptions = {}): Rollup | undefined {
    return this.rollups.length > 0 ? new Rollup(this.rollups, options) : undefined;
  }

  /**
   * Sampled evaluation cost per compiled rule, most expensive first (see
   * rule-cost.ts). Counts are exact; times are estimates from the samples.
   */
  costStats(): RuleCostStat[] {
    return [...this.runtimes.values()].flatMap((rt) => rt.cost.snapshot()).sort((a, b) => b.estimatedTotalNs - a.estimatedTotalNs || b.evaluations - a.evaluations || a.rule.localeCompare(b.rule));
  }

  /** Evaluate one event; returns its alerts (at most one with rule_matching `first`). */
  evaluate(view: EventView): Alert[] {
    return this.run(view, undefined);
  }

  /** Evaluate one event, also returning the matches that feed correlations (and of silent rules). */
  evaluateDetailed(view: EventView): DetailedResult {
    const matches: Alert[] = [];
    return { alerts: this.run(view, matches), matches };
  }

  private run(view: EventView, matches: Alert[] | undefined): Alert[] {
    const rt = this.runtimes.get(view.source);
    if (!rt) return [];
    const ctx = new EvalContext(view, rt.compiled.slots);
    let node = rt.index;
    while (node.key !== undefined) {
      const v = ctx.get(node.slot!);
      node = (v.length > 0 ? node.byValue.get(toText(v[0])) : undefined) ?? node.fallback!;
    }
    const candidates = node.rules;
    const first = this.options.ruleMatching === 'first';
    const { flags, cost } = rt;
    // With rule_matching first, rules after the first alert still run when they feed correlations.
    const keepFeeding = matches !== undefined && rt.hasFeeders;
    let alerts: Alert[] | undefined;
    let done = false;
    for (let i = 0; i < candidates.length; i++) {
      const rule = candidates[i];
      const f = flags[rule.order];
      if (done && f === 0) continue;
      if (!cost.evaluate(rule, ctx)) continue;
      let alert: Alert | undefined;
      if (f !== 0 && matches) matches.push((alert = this.alert(rule, ctx)));
      if ((f & SILENT) !== 0 || done) continue;
      (alerts ??= []).push(alert ?? this.alert(rule, ctx));
      if (first) {
        done = true;
        if (!keepFeeding) break;
      }
    }
    return alerts ?? [];
  }

  private alert(rule: CompiledRule, ctx: EvalContext): Alert {
    const slots = this.runtimes.get(rule.source)!.compiled.slots;
    let message = '';
    const outputFields: Record<string, unknown> = {};
    for (const part of rule.output) {
      if (typeof part === 'string') {
        message += part;
        continue;
      }
      const r = renderForOutput(slots.info[part.slot].def, ctx.get(part.slot), ctx.view);
      message += r.text;
      outputFields[part.key] = r.json;
    }
    const timeNs = ctx.view.tsNs ?? eventTimeNs(ctx.view.obj, ctx.view.source) ?? BigInt(Date.now()) * 1_000_000n;
    return {
      timeNs, rule: rule.name, priority: rule.priority, source: rule.source, tags: rule.tags,
      hostname: ctx.view.hostname ?? this.options.hostname, message: message.trim(), outputFields,
    };
  }
}
