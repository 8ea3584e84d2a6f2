/** `kestrel check`: validate rule files like `falco -V`. */
import { loadRuleset } from '../engine/load';
import { printDiagnostics } from './common';

export function checkCommand(rules: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  const { ruleset, diagnostics } = loadRuleset(rules);
  printDiagnostics(diagnostics, err);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  if (!ruleset || errors > 0) {
    err.write(`kestrel: ${errors} error(s) in rules\n`);
    return 1;
  }
  const s = ruleset.summary();
  const compiled = s.rules.filter((r) => r.compiled).length;
  out.write(`Ok: ${s.rules.length} rules (${compiled} compiled for ${ruleset.sources.join(', ') || 'no source'}, ${s.rules.length - compiled} of other sources skipped)\n`);
  return 0;
}
