/**
 * Rule-loading problems as values: each has a code, a severity and a place.
 * The codes are Falco's `load_result` codes where Falco has one, so a Falco
 * user recognises them; Kestrel's own codes follow the same naming.
 */
import type { Position } from './location';

/** Errors: the ruleset is not built. */
export const ERROR_CODES = {
  LOAD_ERR_FILE_READ: 'a rules file or directory cannot be read',
  LOAD_ERR_YAML_PARSE: 'a rules file is not valid YAML',
  LOAD_ERR_YAML_VALIDATE: 'an item has the wrong shape: a missing or mistyped key, an invalid priority, a bad override',
  LOAD_ERR_COMPILE_CONDITION: 'a condition does not parse or compile (syntax, unknown field, operator, value)',
  LOAD_ERR_COMPILE_OUTPUT: 'an output template names an unknown field',
  LOAD_ERR_VALIDATE: 'an item is inconsistent with the others: append without a definition, undefined macro, macro cycle, bad exception, version requirement',
} as const;

/** Warnings: the ruleset is built; something in it is probably not what was meant. */
export const WARNING_CODES = {
  LOAD_UNKNOWN_SOURCE: 'rules of a source Kestrel does not evaluate (e.g. syscall) are skipped',
  LOAD_UNKNOWN_FILTER: 'a rule with skip-if-unknown-filter names an unknown field and is skipped',
  LOAD_UNUSED_MACRO: 'a macro is not referred to by any rule or macro',
  LOAD_UNUSED_LIST: 'a list is not referred to by any rule, macro or list',
  LOAD_UNKNOWN_ITEM: 'an unknown top-level item or key is ignored',
  LOAD_APPEND_NO_VALUES: 'an exception is appended or overridden without values',
  LOAD_EXCEPTION_NAME_NOT_UNIQUE: 'a rule defines two exceptions with the same name',
  LOAD_INVALID_MACRO_NAME: 'a macro name a condition cannot refer to (not [a-zA-Z]+[a-zA-Z0-9_]*)',
  LOAD_INVALID_LIST_NAME: 'a list name a condition cannot refer to (spaces, quotes, parentheses, = or ,)',
  LOAD_UNKNOWN_PLUGIN: 'required_plugin_versions names a plugin Kestrel does not build in (Kestrel only)',
  LOAD_NO_PRIORITY: 'a rule has no priority and is loaded at Debug (Falco refuses it; Kestrel only)',
  LOAD_YAML_WARNING: 'the YAML parser warns about a construct it accepted (Kestrel only)',
  LOAD_NO_RULES_FILES: 'a rules directory holds no .yaml/.yml file (Kestrel only)',
  LOAD_UNUSED_SILENT_RULE: "a rule with 'alert: false' feeds no enabled correlation, so it has no effect (Kestrel only)",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type WarningCode = keyof typeof WARNING_CODES;
export type DiagnosticCode = ErrorCode | WarningCode;

interface Located {
  file: string;
  /** 1-based; 0 when the problem has no position (e.g. an unreadable file). */
  line: number;
  col: number;
  message: string;
}

/** A located problem in a rules file. Rendered as `FILE:LINE:COL: error|warning CODE: message`. */
export type Diagnostic = (Located & { severity: 'error'; code: ErrorCode }) | (Located & { severity: 'warning'; code: WarningCode });

export function errorAt(code: ErrorCode, file: string, pos: Position | undefined, message: string): Diagnostic {
  return { severity: 'error', code, file, line: pos?.line ?? 0, col: pos?.col ?? 0, message };
}

export function warningAt(code: WarningCode, file: string, pos: Position | undefined, message: string): Diagnostic {
  return { severity: 'warning', code, file, line: pos?.line ?? 0, col: pos?.col ?? 0, message };
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file;
  return `${where}: ${d.severity} ${d.code}: ${d.message}`;
}

export function countDiagnostics(diags: readonly Diagnostic[]): { errors: number; warnings: number } {
  let errors = 0;
  for (const d of diags) if (d.severity === 'error') errors++;
  return { errors, warnings: diags.length - errors };
}

/** Where printed diagnostics go: a stream (one line each) or a function (a logger). */
export type DiagnosticSink = NodeJS.WritableStream | ((line: string, diagnostic: Diagnostic) => void);

/**
 * The one printing policy for rule loading, used by `run`, `check`, `rules`,
 * the service at start and every reload: every error and every warning, one
 * line each, in the order found. Returns the counts, for a summary line.
 */
export function printDiagnostics(diags: readonly Diagnostic[], sink: DiagnosticSink = process.stderr): { errors: number; warnings: number } {
  for (const d of diags) {
    const line = formatDiagnostic(d);
    if (typeof sink === 'function') sink(line, d);
    else sink.write(`${line}\n`);
  }
  return countDiagnostics(diags);
}

/** Thrown by loading APIs that refuse to return a partial ruleset. */
export class RulesLoadError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n'));
    this.name = 'RulesLoadError';
  }
}
