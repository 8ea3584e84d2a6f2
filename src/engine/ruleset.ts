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
import type { Diagnostic } from '../language/diagnostics';
import { atLeast, type Priority } from '../language/priority';
import { readRulesFile } from '../language/reader';
import { toText } from '../language/values';
import type { Alert } from './alert';
import { assignIndexSlots, buildRuleIndex, type RuleIndex } from './rule-index';

export type RuleMatching = 'first' | 'all';

export interface RulesetOptions {
  /** Falco's rule_matching: `first` (default) raises at most one alert per event. */
  ruleMatching?: RuleMatching;
  /** Rules below this priority are not evaluated (Falco's `priority` setting). Default: Debug (all). */
  minPriority?: Priority;
  /** Host name written into alerts. */
  hostname?: string;
}

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
}

export interface RulesetSummary {
  rules: { name: string; source: string; priority: Priority; enabled: boolean; compiled: boolean; file: string; line: number }[];
}

export class Ruleset {
  private constructor(
    private readonly runtimes: Map<string, SourceRuntime>,
    private readonly collection: RuleCollection,
    readonly options: Required<RulesetOptions>,
    /** sha256 of the rule files, in load order: the ruleset's version. */
    readonly hash: string,
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

    const opts: Required<RulesetOptions> = { ruleMatching: options.ruleMatching ?? 'first', minPriority: options.minPriority ?? 'Debug', hostname: options.hostname ?? '' };
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
      const active = compiled.rules.filter((r) => r.enabled && atLeast(r.priority, opts.minPriority));
      const indexable = (key: string) => {
        const i = compiled.slots.info.find((s) => s.key === key);
        return i !== undefined && !i.numeric && !i.isList;
      };
      const index = buildRuleIndex(active, (n) => compiled.listItems(n), indexable);
      const indexSlots = new Map(compiled.slots.info.map((s, i) => [s.key, i]));
      assignIndexSlots(index, (key) => indexSlots.get(key));
      runtimes.set(rule.source, { compiled, active, index, indexSlots });
    }
    for (const [source, s] of skipped) {
      diagnostics.push({ severity: 'warning', file: s.file, line: s.line, col: 1, message: `${s.count} rule(s) of source '${source}' skipped: Kestrel evaluates k8s_audit and k8s_admission events only` });
    }
    if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
    return { ruleset: new Ruleset(runtimes, coll, opts, hash.digest('hex')), diagnostics };
  }

  /** Sources that have at least one compiled rule. */
  get sources(): string[] {
    return [...this.runtimes.keys()];
  }

  /** Every compiled rule (enabled or not), per source, in load order. */
  compiledRules(): CompiledRule[] {
    return [...this.runtimes.values()].flatMap((r) => r.compiled.rules);
  }

  summary(): RulesetSummary {
    const compiled = new Set(this.compiledRules().map((r) => r.name));
    return {
      rules: [...this.collection.rules.values()].map((r) => ({
        name: r.name, source: r.source, priority: r.priority, enabled: r.enabled, compiled: compiled.has(r.name), file: r.file, line: r.pos.line,
      })),
    };
  }

  /** Evaluate one event; returns its alerts (at most one with rule_matching `first`). */
  evaluate(view: EventView): Alert[] {
    const rt = this.runtimes.get(view.source);
    if (!rt) return [];
    const ctx = new EvalContext(view, rt.compiled.slots);
    let node = rt.index;
    while (node.key !== undefined) {
      const v = ctx.get(node.slot!);
      node = (v.length > 0 ? node.byValue.get(toText(v[0])) : undefined) ?? node.fallback!;
    }
    const candidates = node.rules;
    let alerts: Alert[] | undefined;
    for (let i = 0; i < candidates.length; i++) {
      const rule = candidates[i];
      if (!rule.predicate(ctx)) continue;
      (alerts ??= []).push(this.alert(rule, ctx));
      if (this.options.ruleMatching === 'first') break;
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
