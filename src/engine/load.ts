/** Reading rule files from disk: the only I/O of rule loading. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorAt, warningAt, type Diagnostic } from '../language/diagnostics';
import { Ruleset, type RulesetOptions, type RulesFile } from './ruleset';

/** Expand `-r` arguments: a directory means its *.yaml / *.yml files in name order. */
export function resolveRulePaths(paths: string[]): { files: string[]; diagnostics: Diagnostic[] } {
  const files: string[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      diagnostics.push(errorAt('LOAD_ERR_FILE_READ', p, undefined, 'no such file or directory'));
      continue;
    }
    if (st.isDirectory()) {
      const names = readdirSync(p).filter((n) => /\.ya?ml$/.test(n)).sort();
      if (names.length === 0) diagnostics.push(warningAt('LOAD_NO_RULES_FILES', p, undefined, 'directory holds no .yaml rule files'));
      files.push(...names.map((n) => join(p, n)));
    } else files.push(p);
  }
  return { files, diagnostics };
}

export function readRuleFiles(paths: string[]): { files: RulesFile[]; diagnostics: Diagnostic[] } {
  const resolved = resolveRulePaths(paths);
  const files: RulesFile[] = [];
  for (const path of resolved.files) {
    try {
      files.push({ path, text: readFileSync(path, 'utf8') });
    } catch (e) {
      resolved.diagnostics.push(errorAt('LOAD_ERR_FILE_READ', path, undefined, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`));
    }
  }
  return { files, diagnostics: resolved.diagnostics };
}

/** Read (unless `read` has the files already) and compile; `files` are the rule files found (in load order), whether or not they compiled. */
export function loadRuleset(paths: string[], options: RulesetOptions = {}, read = readRuleFiles(paths)): { ruleset?: Ruleset; diagnostics: Diagnostic[]; files: string[] } {
  const { files, diagnostics } = read;
  const built = Ruleset.build(files, options);
  const all = [...diagnostics, ...built.diagnostics];
  const found = files.map((f) => f.path);
  if (all.some((d) => d.severity === 'error')) return { diagnostics: all, files: found };
  return { ruleset: built.ruleset, diagnostics: all, files: found };
}
