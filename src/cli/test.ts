/**
 * `kestrel test`: runs the `tests:` written in rule files. Each test feeds its
 * events (inline, or a file of events relative to the rules file) through the
 * whole ruleset with rule_matching `all`, correlations included, and checks
 * whether the rule or correlation fired, how often, and with which
 * output_fields. One PASS/FAIL line per test, then a summary.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DocumentSplitter, DEFAULT_SPLITTER_OPTIONS } from '../decode/documents';
import { decodeDocument, decodeParsed } from '../decode/events';
import { eventTimeNs, stringifyOutputJson } from '../fields';
import type { EventView } from '../fields/types';
import type { Alert } from '../engine/alert';
import { readRuleFiles } from '../engine/load';
import { Ruleset, type ItemTests } from '../engine/ruleset';
import type { Diagnostic } from '../language/diagnostics';
import type { RuleTestSpec } from '../language/rule-tests';
import { printDiagnostics } from './common';

export interface TestOutcome {
  item: string;
  kind: 'rule' | 'correlation';
  index: number;
  name?: string;
  status: 'pass' | 'fail' | 'skip';
  /** Why it failed or was skipped. */
  reason?: string;
}

export interface TestReport {
  /** Rule-load diagnostics; with an error no test ran. */
  diagnostics: Diagnostic[];
  outcomes: TestOutcome[];
}

class TestInputError extends Error {}

/** Load the rules and run every test they carry. */
export function runRuleTests(paths: string[]): TestReport {
  const read = readRuleFiles(paths);
  const built = Ruleset.build(read.files, { ruleMatching: 'all', costSampleEvery: 0 });
  const diagnostics = [...read.diagnostics, ...built.diagnostics];
  if (!built.ruleset || diagnostics.some((d) => d.severity === 'error')) return { diagnostics, outcomes: [] };
  const base = built.ruleset;
  const variants = new Map<string, Ruleset>();
  const rulesetFor = (spec: RuleTestSpec): Ruleset => {
    if (!spec.withRules?.length) return base;
    const extra = spec.withRules.map((p) => resolve(dirname(spec.file), p));
    const key = extra.join('\0');
    let rs = variants.get(key);
    if (!rs) {
      const more = readRuleFiles(extra);
      const b = Ruleset.build([...read.files, ...more.files], { ruleMatching: 'all', costSampleEvery: 0 });
      const errors = [...more.diagnostics, ...b.diagnostics].filter((d) => d.severity === 'error');
      if (!b.ruleset || errors.length > 0) throw new TestInputError(`with_rules: ${errors.map((d) => `${d.file}:${d.line}: ${d.message}`).join('; ')}`);
      rs = b.ruleset;
      variants.set(key, rs);
    }
    return rs;
  };

  const outcomes: TestOutcome[] = [];
  for (const item of base.itemTests()) {
    for (const spec of item.tests) {
      const o: TestOutcome = { item: item.name, kind: item.kind, index: spec.index, name: spec.name, status: 'pass' };
      outcomes.push(o);
      if (!item.evaluated && item.enabled) {
        o.status = 'skip';
        o.reason = item.source ? `source '${item.source}' is not evaluated` : 'not evaluated';
        continue;
      }
      try {
        const rs = rulesetFor(spec);
        const alerts = fire(rs, item, eventsOf(spec, item.source || 'k8s_audit'));
        const problem = judge(spec, alerts, item.enabled);
        if (problem) {
          o.status = 'fail';
          o.reason = problem;
        }
      } catch (e) {
        if (!(e instanceof TestInputError)) throw e;
        o.status = 'fail';
        o.reason = e.message;
      }
    }
  }
  return { diagnostics, outcomes };
}

/** The test's events, decoded as the engine sees them. */
function eventsOf(spec: RuleTestSpec, source: string): EventView[] {
  if (spec.event !== undefined) {
    const d = decodeParsed(spec.event, source);
    if (!d.ok) throw new TestInputError(`${spec.file}:${spec.pos.line}: event rejected: ${d.reason}`);
    return d.events;
  }
  const path = resolve(dirname(spec.file), spec.eventsFile!);
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (e) {
    throw new TestInputError(`events_file ${spec.eventsFile}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const splitter = new DocumentSplitter(DEFAULT_SPLITTER_OPTIONS);
  const views: EventView[] = [];
  for (const doc of [...splitter.push(text), ...splitter.end()]) {
    const d = doc.ok ? decodeDocument(doc.text, source) : doc;
    if (!d.ok) throw new TestInputError(`${spec.eventsFile}:${doc.line}: event rejected: ${d.reason}`);
    views.push(...d.events.map((v) => ({ ...v, num: views.length + 1 })));
  }
  if (views.length === 0) throw new TestInputError(`events_file ${spec.eventsFile} holds no events`);
  return views;
}

/** Alerts of the tested item over the events: a rule's (silent ones included) or a correlation's. */
function fire(rs: Ruleset, item: ItemTests, events: EventView[]): Alert[] {
  const out: Alert[] = [];
  const correlator = item.kind === 'correlation' ? rs.newCorrelator() : undefined;
  const rollup = item.kind === 'rule' ? rs.newRollup() : undefined;
  for (const view of events) {
    const { alerts, matches } = rs.evaluateDetailed(view);
    if (item.kind === 'rule') {
      // Alerts go through the rule's rollup, as in kestrel run; a silent rule's matches count as they are.
      const own = alerts.filter((a) => a.rule === item.name);
      if (rollup) {
        const t = view.tsNs ?? eventTimeNs(view.obj, view.source);
        if (t !== undefined) out.push(...rollup.advance(t).filter((a) => a.rule === item.name));
        for (const a of own) out.push(...rollup.consume(a, view));
      } else out.push(...own);
      for (const m of matches) if (m.rule === item.name && !alerts.includes(m)) out.push(m);
      continue;
    }
    if (!correlator) continue;
    const due: Alert[] = [];
    for (const m of matches) due.push(...correlator.consume(m, view));
    const t = view.tsNs ?? eventTimeNs(view.obj, view.source);
    if (matches.length === 0 && t !== undefined) due.push(...correlator.advance(t));
    out.push(...due.filter((a) => a.rule === item.name));
  }
  if (correlator) out.push(...correlator.flush().filter((a) => a.rule === item.name));
  if (rollup) out.push(...rollup.flush().filter((a) => a.rule === item.name));
  return out;
}

function judge(spec: RuleTestSpec, alerts: Alert[], enabled: boolean): string | undefined {
  const disabled = enabled ? '' : ' (it is disabled)';
  const got = alerts.length === 0 ? 'no alert' : alerts.length === 1 ? '1 alert' : `${alerts.length} alerts`;
  if (spec.expect === 'does_not_fire') return alerts.length === 0 ? undefined : `expected does_not_fire, got ${got}`;
  if (alerts.length === 0) return `expected fires, got no alert${disabled}`;
  if (spec.count !== undefined && alerts.length !== spec.count) return `expected ${spec.count} alert(s), got ${alerts.length}`;
  for (const [key, want] of Object.entries(spec.outputFields ?? {})) {
    const fields = alerts[0].outputFields;
    if (!(key in fields)) return `expected output_fields '${key}' = ${stringifyOutputJson(want)}, got no such field`;
    if (!sameJson(fields[key], want)) return `expected output_fields '${key}' = ${stringifyOutputJson(want)}, got ${stringifyOutputJson(fields[key])}`;
  }
  return undefined;
}

/** Equal as JSON values (a YAML 42 equals a bigint 42n). */
function sameJson(a: unknown, b: unknown): boolean {
  return stringifyOutputJson(a) === stringifyOutputJson(b);
}

export function formatOutcome(o: TestOutcome): string {
  const label = `${o.item}: test ${o.index}${o.name ? ` (${o.name})` : ''}`;
  if (o.status === 'pass') return `PASS ${label}`;
  return `${o.status === 'fail' ? 'FAIL' : 'SKIP'} ${label}: ${o.reason}`;
}

export function testCommand(rules: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  const report = runRuleTests(rules);
  printDiagnostics(report.diagnostics, err);
  if (report.diagnostics.some((d) => d.severity === 'error')) {
    err.write(`kestrel: rules do not load; no test ran\n`);
    return 1;
  }
  for (const o of report.outcomes) out.write(formatOutcome(o) + '\n');
  const n = (s: TestOutcome['status']) => report.outcomes.filter((o) => o.status === s).length;
  const items = new Set(report.outcomes.map((o) => `${o.kind}\0${o.item}`)).size;
  out.write(`kestrel test: ${n('pass')} passed, ${n('fail')} failed, ${n('skip')} skipped (${report.outcomes.length} tests of ${items} rules and correlations)\n`);
  return n('fail') > 0 ? 1 : 0;
}
