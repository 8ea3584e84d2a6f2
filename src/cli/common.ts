import { resolve } from 'node:path';
import { loadRuleset, type readRuleFiles } from '../engine/load';
import type { Ruleset, RulesetOptions } from '../engine/ruleset';
import { printDiagnostics } from '../language/diagnostics';

export { printDiagnostics };

/** The project's own rules/ folder, used when no -r is given. */
export const DEFAULT_RULES_DIR = resolve(__dirname, '../../../rules');

/** A mistake in how the command was called: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** Write to a stream, waiting when its buffer is full (so a slow reader slows us down, not our memory). */
export function writeWithBackpressure(stream: NodeJS.WritableStream, text: string): Promise<void> | undefined {
  if (stream.write(text)) return undefined;
  return new Promise((res) => stream.once('drain', () => res()));
}

export interface CommandRules {
  /** Undefined when the rules did not load (or none can be evaluated): exit with `code`. */
  ruleset?: Ruleset;
  code: number;
  errors: number;
  warnings: number;
}

/**
 * Load rules for a command with the one printing policy: every diagnostic on
 * `err`, then, when the rules cannot be used, one summary line and exit code 1.
 * No rule file at all is a usage error (exit 2). With `requireRules`, a ruleset
 * in which no rule was compiled (e.g. only syscall rules) is refused too.
 */
export function loadCommandRules(paths: string[], options: RulesetOptions, err: NodeJS.WritableStream, requireRules: boolean, read?: ReturnType<typeof readRuleFiles>): CommandRules {
  const { ruleset, diagnostics, files } = loadRuleset(paths, options, read);
  const failed = diagnostics.some((d) => d.severity === 'error');
  if (files.length === 0 && !failed) {
    throw new UsageError(`no rule files in ${paths.join(', ')} (a directory is read for its *.yaml and *.yml files)`);
  }
  const { errors, warnings } = printDiagnostics(diagnostics, err);
  if (!ruleset) {
    err.write(`kestrel: ${errors} error(s), ${warnings} warning(s) in rules\n`);
    return { code: 1, errors, warnings };
  }
  if (requireRules && ruleset.compiledRules().length === 0) {
    const total = ruleset.summary().rules.length;
    err.write(total === 0
      ? 'kestrel: no rule to evaluate: the rule files define no rule\n'
      : `kestrel: no rule to evaluate: none of the ${total} rule(s) is of source k8s_audit or k8s_admission (a rule without 'source:' is a syscall rule, as in Falco)\n`);
    return { code: 1, errors, warnings };
  }
  return { ruleset, code: 0, errors, warnings };
}
