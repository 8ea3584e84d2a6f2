/** `kestrel fields` and `kestrel rules`: what the engine knows. */
import { catalogFor, KNOWN_SOURCES } from '../fields';
import { DocumentSplitter, DEFAULT_SPLITTER_OPTIONS } from '../decode/documents';
import { decodeDocument } from '../decode/events';
import { loadRuleset } from '../engine/load';
import type { RuleCostStat } from '../engine/rule-cost';
import type { RuleMatching } from '../engine/ruleset';
import { openInput } from '../sources/file';
import { loadCommandRules, printDiagnostics, UsageError } from './common';

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

export function fieldsCommand(source: string | undefined, out: NodeJS.WritableStream = process.stdout): number {
  const sources = source ? [source] : [...KNOWN_SOURCES];
  for (const s of sources) {
    const catalog = catalogFor(s);
    if (!catalog) throw new UsageError(`unknown source '${s}' (known: ${KNOWN_SOURCES.join(', ')})`);
    out.write(`Source ${s}\n`);
    const rows = [['NAME', 'TYPE', 'ARGUMENT', 'DESCRIPTION']];
    for (const f of catalog.all()) {
      const arg = f.arg ? `${f.arg.required ? 'required' : 'optional'} ${f.arg.kind}` : '';
      rows.push([f.name, f.isList ? `list(${f.type})` : f.type, arg, f.desc]);
    }
    out.write(table(rows) + '\n');
  }
  return 0;
}

export function rulesCommand(rules: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  const { ruleset, code } = loadCommandRules(rules, {}, err, false);
  if (!ruleset) return code;
  const rows = [['RULE', 'SOURCE', 'PRIORITY', 'ENABLED', 'STATUS']];
  for (const r of ruleset.summary().rules) rows.push([r.name, r.source, r.priority, String(r.enabled), r.compiled ? 'compiled' : 'skipped (source not evaluated)']);
  out.write(table(rows));
  if (ruleset.correlations.length > 0) {
    const corr = [['CORRELATION', 'TYPE', 'PRIORITY', 'TIMESPAN', 'BASE RULES']];
    for (const c of ruleset.correlations) corr.push([c.name, c.type, c.priority, `${c.timespanMs / 1000}s`, c.rules.join(', ')]);
    out.write('\n' + table(corr));
  }
  return 0;
}

/** Per-rule cost, most expensive first: estimated total, mean per evaluation, exact counts. */
export function formatCostTable(stats: RuleCostStat[]): string {
  const total = stats.reduce((a, s) => a + s.estimatedTotalNs, 0);
  const rows = [['RANK', 'EST_TOTAL_MS', 'SHARE', 'MEAN_US', 'EVALUATIONS', 'MATCHES', 'SAMPLES', 'RULE']];
  stats.forEach((s, i) => rows.push([
    String(i + 1), (s.estimatedTotalNs / 1e6).toFixed(3), total > 0 ? `${((100 * s.estimatedTotalNs) / total).toFixed(1)}%` : '-',
    (s.meanNs / 1e3).toFixed(2), String(s.evaluations), String(s.matches), String(s.samples), s.rule,
  ]));
  return table(rows);
}

export interface CostOptions {
  rules: string[];
  input?: string;
  ruleMatching: RuleMatching;
  source: string;
}

/** `kestrel rules --cost -i FILE`: evaluate a sample, timing every evaluation, and rank the rules. */
export async function rulesCostCommand(opts: CostOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { ruleset, diagnostics } = loadRuleset(opts.rules, { ruleMatching: opts.ruleMatching, costSampleEvery: 1 });
  printDiagnostics(diagnostics.filter((d) => d.severity === 'error'), err);
  if (!ruleset) return 1;
  const splitter = new DocumentSplitter(DEFAULT_SPLITTER_OPTIONS);
  const label = opts.input && opts.input !== '-' ? opts.input : 'stdin';
  let events = 0;
  let rejected = 0;
  const handle = (docs: ReturnType<DocumentSplitter['push']>) => {
    for (const doc of docs) {
      const d = doc.ok ? decodeDocument(doc.text, opts.source) : doc;
      if (!d.ok) {
        rejected++;
        err.write(`kestrel: ${label}:${doc.line}: rejected: ${d.reason}\n`);
        continue;
      }
      for (const ev of d.events) ruleset.evaluateDetailed({ ...ev, num: ++events });
    }
  };
  try {
    for await (const chunk of openInput(opts.input) as AsyncIterable<Buffer>) handle(splitter.push(chunk));
  } catch (e) {
    err.write(`kestrel: cannot read ${label}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 1;
  }
  handle(splitter.end());
  out.write(`rule cost on ${events} events (${rejected} rejected), rule_matching ${opts.ruleMatching}, every evaluation timed:\n`);
  out.write(formatCostTable(ruleset.costStats()));
  return 0;
}
