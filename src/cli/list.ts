/** `kestrel fields` and `kestrel rules`: what the engine knows. */
import { catalogFor, KNOWN_SOURCES } from '../fields';
import { loadCommandRules, UsageError } from './common';

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
  return 0;
}
