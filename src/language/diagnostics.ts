/** A located problem in a rules file. Rendered as `FILE:LINE:COL: message`. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  file: string;
  /** 1-based; 0 when the problem has no position (e.g. an unreadable file). */
  line: number;
  col: number;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file;
  return d.severity === 'warning' ? `${where}: warning: ${d.message}` : `${where}: ${d.message}`;
}

/** Thrown by loading APIs that refuse to return a partial ruleset. */
export class RulesLoadError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n'));
    this.name = 'RulesLoadError';
  }
}
