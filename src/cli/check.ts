/** `kestrel check`: validate rule files like `falco -V`. */
import { loadCommandRules } from './common';

export function checkCommand(rules: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  const { ruleset, code, warnings } = loadCommandRules(rules, {}, err, true);
  if (!ruleset) return code;
  const s = ruleset.summary();
  const compiled = s.rules.filter((r) => r.compiled).length;
  const counts = `${s.rules.length} rules (${compiled} compiled for ${ruleset.sources.join(', ')}, ${s.rules.length - compiled} of other sources skipped)`;
  out.write(warnings > 0 ? `Ok, with ${warnings} warning(s): ${counts}\n` : `Ok: ${counts}\n`);
  return 0;
}
