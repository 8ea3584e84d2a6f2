/**
 * Hot reload: a RulesetHolder owns the running ruleset and replaces it as one
 * reference assignment, so an evaluation sees either the old or the new
 * ruleset, never a mix (take `holder.current` once per batch). A new ruleset
 * that does not compile is rejected: its errors are logged as FILE:LINE:COL
 * lines and the old one keeps running. Counts reloads and failures and exposes
 * the loaded ruleset's version (its sha256 hash).
 *
 * Worker threads: the main thread reloads (reads and validates the files) and
 * sends `currentFiles` to the workers, which call `adopt(files)`; building is
 * deterministic, so a set of files that compiled once compiles in every worker.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { formatDiagnostic, type Diagnostic } from '../language/diagnostics';
import { readRuleFiles, resolveRulePaths } from './load';
import { Ruleset, type RulesetOptions, type RulesFile } from './ruleset';

export interface ReloadResult {
  ok: boolean;
  /** False when the files were unchanged (same hash): nothing swapped. */
  changed: boolean;
  hash: string;
  /** Error diagnostics of a rejected ruleset, FILE:LINE:COL: message. */
  errors: string[];
}

export interface HolderStats {
  reloads: number;
  failures: number;
  lastReloadAt?: Date;
  lastError?: string;
}

export class RulesetHolder {
  private ruleset: Ruleset;
  private files: RulesFile[];
  readonly stats: HolderStats = { reloads: 0, failures: 0 };
  private listeners: ((rs: Ruleset, previous: Ruleset) => void)[] = [];
  private resultListeners: ((r: ReloadResult) => void)[] = [];

  private constructor(
    private readonly paths: string[],
    private readonly options: RulesetOptions,
    ruleset: Ruleset,
    files: RulesFile[],
    private readonly log: (line: string) => void,
  ) {
    this.ruleset = ruleset;
    this.files = files;
  }

  /** Load the initial ruleset; `holder` is undefined when it does not compile. */
  static load(paths: string[], options: RulesetOptions = {}, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): { holder?: RulesetHolder; diagnostics: Diagnostic[] } {
    const built = build(paths, options);
    if (!built.ruleset) return { diagnostics: built.diagnostics };
    return { holder: new RulesetHolder(paths, options, built.ruleset, built.files, log), diagnostics: built.diagnostics };
  }

  /** The running ruleset. */
  get current(): Ruleset {
    return this.ruleset;
  }

  /** sha256 of the loaded rule files: the ruleset's version. */
  get hash(): string {
    return this.ruleset.hash;
  }

  /** The rule files (path and text) the current ruleset was built from, for workers. */
  get currentFiles(): RulesFile[] {
    return this.files;
  }

  /** Called after every successful swap. */
  onSwap(listener: (rs: Ruleset, previous: Ruleset) => void): void {
    this.listeners.push(listener);
  }

  /** Called with the result of every reload that did not swap (failed or unchanged); swaps go to onSwap. */
  onUnswapped(listener: (r: ReloadResult) => void): void {
    this.resultListeners.push(listener);
  }

  /** Re-read the rule paths; swap if they compile, keep the old ruleset otherwise. */
  reload(): ReloadResult {
    const built = build(this.paths, this.options);
    const r = this.apply(built);
    if (!r.changed) for (const l of this.resultListeners) l(r);
    return r;
  }

  /** Swap to a ruleset built from already-read files (a worker receiving the main thread's files). */
  adopt(files: RulesFile[]): ReloadResult {
    const b = Ruleset.build(files, this.options);
    return this.apply({ ...b, files });
  }

  private apply(built: { ruleset?: Ruleset; diagnostics: Diagnostic[]; files: RulesFile[] }): ReloadResult {
    if (!built.ruleset) {
      this.stats.failures++;
      const errors = built.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
      this.stats.lastError = errors[0] ?? 'unknown error';
      this.log(`kestrel: rules reload failed (${errors.length} error(s)); still running ruleset ${this.ruleset.hash.slice(0, 12)}`);
      for (const e of errors) this.log(e);
      return { ok: false, changed: false, hash: this.ruleset.hash, errors };
    }
    if (built.ruleset.hash === this.ruleset.hash) {
      this.log(`kestrel: rules unchanged (ruleset ${this.ruleset.hash.slice(0, 12)})`);
      return { ok: true, changed: false, hash: this.ruleset.hash, errors: [] };
    }
    const previous = this.ruleset;
    this.ruleset = built.ruleset;
    this.files = built.files;
    this.stats.reloads++;
    this.stats.lastReloadAt = new Date();
    this.log(`kestrel: rules reloaded: ruleset ${built.ruleset.hash.slice(0, 12)} (was ${previous.hash.slice(0, 12)}), ${built.ruleset.compiledRules().length} rules`);
    for (const l of this.listeners) l(built.ruleset, previous);
    return { ok: true, changed: true, hash: built.ruleset.hash, errors: [] };
  }

  /**
   * Watch the rule paths (files, and directories for added/removed files) and
   * reload, debounced, after changes. Returns a function that stops watching.
   */
  watch(debounceMs = 500): () => void {
    const watchers: FSWatcher[] = [];
    let timer: NodeJS.Timeout | undefined;
    const trigger = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        this.reload();
      }, debounceMs);
      timer.unref();
    };
    // Watch folders, not files: editors and ConfigMap updates replace files by rename.
    const files = new Set(resolveRulePaths(this.paths).files.map((f) => resolve(f)));
    const dirs = new Set<string>();
    for (const p of this.paths) dirs.add(isDir(p) ? resolve(p) : dirname(resolve(p)));
    for (const p of dirs) {
      try {
        const w = watch(p, { persistent: false }, (_event, name) => {
          const full = name ? join(p, name.toString()) : undefined;
          // ConfigMap volumes swap a ..data symlink: any change there counts.
          if (!full || files.has(full) || this.paths.some((q) => resolve(q) === p) || name!.toString().startsWith('..')) trigger();
        });
        w.on('error', () => {});
        watchers.push(w);
      } catch {
        this.log(`kestrel: cannot watch ${p}; reload with SIGHUP`);
      }
    }
    return () => {
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    };
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function build(paths: string[], options: RulesetOptions): { ruleset?: Ruleset; diagnostics: Diagnostic[]; files: RulesFile[] } {
  const read = readRuleFiles(paths);
  const built = Ruleset.build(read.files, options);
  const diagnostics = [...read.diagnostics, ...built.diagnostics];
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics, files: read.files };
  return { ruleset: built.ruleset, diagnostics, files: read.files };
}
