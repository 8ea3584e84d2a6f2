/**
 * `npm run conformance`: runs Falco's own k8s_audit regression cases and the
 * upstream rule files from ../shared/conformance (read in place, never
 * copied) and prints `N passed, M failed`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DocumentSplitter } from '../decode/documents';
import { decodeDocument } from '../decode/events';
import type { Alert } from '../engine/alert';
import { loadRuleset } from '../engine/load';
import { formatDiagnostic } from '../language/diagnostics';
import { parseCondition } from '../language/parser';
import { parsePriority } from '../language/priority';

export const CONFORMANCE_DIR = resolve(process.env.KESTREL_CONFORMANCE_DIR ?? resolve(__dirname, '../../../../shared/conformance'));

interface Case {
  name: string;
  rules: string[];
  input: string;
  expect: { detect: boolean; priority?: string; counts?: Record<string, number>; rejected_inputs?: number };
}

export interface CheckResult {
  name: string;
  ok: boolean;
  detail?: string;
}

/** Feed a trace file through the same decoding path as `kestrel run`. */
export function evaluateTrace(rules: string[], tracePath: string): { alerts: Alert[]; rejected: number; errors: string[] } {
  const { ruleset, diagnostics } = loadRuleset(rules);
  if (!ruleset) return { alerts: [], rejected: 0, errors: diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic) };
  const splitter = new DocumentSplitter();
  const docs = [...splitter.push(readFileSync(tracePath)), ...splitter.end()];
  const alerts: Alert[] = [];
  let rejected = 0;
  for (const doc of docs) {
    const decoded = doc.ok ? decodeDocument(doc.text, 'k8s_audit') : doc;
    if (!decoded.ok) {
      rejected++;
      continue;
    }
    for (const ev of decoded.events) alerts.push(...ruleset.evaluate(ev));
  }
  return { alerts, rejected, errors: [] };
}

export function runLegacyCase(c: Case, base: string): CheckResult {
  const { alerts, rejected, errors } = evaluateTrace(c.rules.map((r) => join(base, r)), join(base, c.input));
  const name = `falco-legacy/${c.name}`;
  if (errors.length) return { name, ok: false, detail: `rules failed to load:\n    ${errors.join('\n    ')}` };
  const problems: string[] = [];
  const e = c.expect;
  if (e.detect === false && alerts.length > 0) problems.push(`expected no alert, got ${alerts.map((a) => a.rule).join(', ')}`);
  if (e.detect === true && alerts.length === 0) problems.push('expected an alert, got none');
  if (e.priority) {
    const want = parsePriority(e.priority);
    if (!alerts.some((a) => a.priority === want)) problems.push(`expected an alert of priority ${want}, got ${alerts.map((a) => a.priority).join(', ') || 'none'}`);
  }
  for (const [rule, n] of Object.entries(e.counts ?? {})) {
    const got = alerts.filter((a) => a.rule === rule).length;
    if (got !== n) problems.push(`expected ${n} alert(s) of '${rule}', got ${got}`);
  }
  const wantRejected = e.rejected_inputs ?? 0;
  if (rejected !== wantRejected) problems.push(`expected ${wantRejected} rejected input(s), got ${rejected}`);
  return { name, ok: problems.length === 0, detail: problems.join('; ') || undefined };
}

/** Every condition of every macro and rule in a YAML rules file. */
export function conditionsOf(file: string): { what: string; condition: string }[] {
  const items = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>[] | null;
  const out: { what: string; condition: string }[] = [];
  for (const it of items ?? []) {
    if (typeof it?.condition !== 'string') continue;
    out.push({ what: it.rule ? `rule '${it.rule}'` : `macro '${it.macro}'`, condition: it.condition });
  }
  return out;
}

export function runAll(dir = CONFORMANCE_DIR): CheckResult[] {
  const results: CheckResult[] = [];
  const legacy = join(dir, 'falco-legacy');
  const cases = parseYaml(readFileSync(join(legacy, 'cases.yaml'), 'utf8')) as Case[];
  for (const c of cases) results.push(runLegacyCase(c, legacy));

  const latest = join(dir, 'upstream-latest');
  const k8s = join(latest, 'k8s_audit_rules.yaml');
  const { ruleset, diagnostics } = loadRuleset([k8s]);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  results.push({ name: 'upstream-latest/k8s_audit_rules.yaml loads without error', ok: !!ruleset && errors.length === 0, detail: errors.map(formatDiagnostic).join('\n    ') || undefined });
  if (ruleset) {
    const s = ruleset.summary().rules.filter((r) => r.source === 'k8s_audit');
    const notCompiled = s.filter((r) => !r.compiled).map((r) => r.name);
    results.push({ name: `upstream-latest: all ${s.length} k8s_audit rules compile`, ok: notCompiled.length === 0 && s.length > 0, detail: notCompiled.join(', ') || undefined });
  }
  for (const f of readdirSync(latest).filter((n) => n.endsWith('.yaml')).sort()) {
    const conds = conditionsOf(join(latest, f));
    const failed: string[] = [];
    for (const c of conds) {
      try {
        parseCondition(c.condition);
      } catch (e) {
        failed.push(`${c.what}: ${(e as Error).message}`);
      }
    }
    results.push({ name: `upstream-latest/${f}: all ${conds.length} conditions parse`, ok: failed.length === 0, detail: failed.join('\n    ') || undefined });
  }
  return results;
}

function main(): number {
  if (!existsSync(CONFORMANCE_DIR)) {
    process.stderr.write(`conformance: data not found at ${CONFORMANCE_DIR} (set KESTREL_CONFORMANCE_DIR)\n`);
    return 1;
  }
  const results = runAll();
  for (const r of results) process.stdout.write(`${r.ok ? 'PASS' : 'FAIL'} ${r.name}${r.detail ? `\n    ${r.detail}` : ''}\n`);
  const tally = (rs: CheckResult[]) => `${rs.filter((r) => r.ok).length} passed, ${rs.filter((r) => !r.ok).length} failed`;
  process.stdout.write(`falco-legacy: ${tally(results.filter((r) => r.name.startsWith('falco-legacy/')))}\n`);
  process.stdout.write(`upstream-latest: ${tally(results.filter((r) => r.name.startsWith('upstream-latest')))}\n`);
  const passed = results.filter((r) => r.ok).length;
  process.stdout.write(`total: ${tally(results)}\n`);
  return passed === results.length ? 0 : 1;
}

if (require.main === module) process.exitCode = main();
