/**
 * Typed reading of one YAML mapping with errors that name the full key, e.g.
 * `config: kafka.brokers: must be a non-empty list of host:port`. Unknown keys
 * are errors too (allow()): a typo must not silently fall back to a default.
 */
import { parsePriority, type Priority } from '../language/priority';

export class ConfigError extends Error {
  constructor(key: string, problem: string) {
    super(`config: ${key}: ${problem}`);
  }
}

export const PRIORITY_PROBLEM = 'must be a Falco priority (emergency, alert, critical, error, warning, notice, informational, debug)';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a recorded key holds: a value (or section), or a free-form map of names (fields, headers). */
export type KeyKind = 'key' | 'map';

let recording: Map<string, KeyKind> | undefined;

/** `outputs[1].breaker.timeout_ms` -> `outputs[].breaker.timeout_ms`. */
export function genericKey(key: string): string {
  return key.replace(/\[\d+\]/g, '[]');
}

/**
 * Run `fn` and return every key a Section read meanwhile (list indexes
 * generalised to `[]`): the loader's own record of the keys it accepts, which
 * the reference test compares with deploy/kestrel.reference.yaml.
 */
export function recordKeys<T>(fn: () => T): { value: T; keys: Map<string, KeyKind> } {
  const outer = recording;
  const keys = new Map<string, KeyKind>();
  recording = keys;
  try {
    return { value: fn(), keys };
  } finally {
    recording = outer;
  }
}

export class Section {
  private readonly seen = new Set<string>();
  private constructor(readonly path: string, private readonly obj: Obj) {}

  /** `value` must be a mapping (or absent/null: an empty section). */
  static of(path: string, value: unknown): Section {
    if (value === undefined || value === null) return new Section(path, {});
    if (!isObj(value)) throw new ConfigError(path || '(top level)', 'must be a mapping');
    return new Section(path, value);
  }

  key(k: string): string {
    return this.path ? `${this.path}.${k}` : k;
  }

  has(k: string): boolean {
    return this.obj[k] !== undefined && this.obj[k] !== null;
  }

  raw(k: string): unknown {
    this.seen.add(k);
    if (recording && !recording.has(genericKey(this.key(k)))) recording.set(genericKey(this.key(k)), 'key');
    return this.obj[k] ?? undefined;
  }

  section(k: string): Section {
    return Section.of(this.key(k), this.raw(k));
  }

  /** Optional sub-section: undefined when the key is absent. */
  optionalSection(k: string): Section | undefined {
    return this.has(k) ? this.section(k) : (this.raw(k), undefined);
  }

  string(k: string, dflt?: string): string {
    const v = this.raw(k);
    if (v === undefined) {
      if (dflt === undefined) throw new ConfigError(this.key(k), 'is required');
      return dflt;
    }
    if (typeof v !== 'string' || v.trim() === '') throw new ConfigError(this.key(k), 'must be a non-empty string');
    return v;
  }

  optionalString(k: string): string | undefined {
    return this.has(k) ? this.string(k) : (this.raw(k), undefined);
  }

  bool(k: string, dflt: boolean): boolean {
    const v = this.raw(k);
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw new ConfigError(this.key(k), 'must be true or false');
    return v;
  }

  /** Integer in [min, max]. */
  int(k: string, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw(k);
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new ConfigError(this.key(k), max === Number.MAX_SAFE_INTEGER ? `must be an integer >= ${min}` : `must be an integer from ${min} to ${max}`);
    }
    return v;
  }

  oneOf<T extends string>(k: string, allowed: readonly T[], dflt: T): T {
    const v = this.raw(k);
    if (v === undefined) return dflt;
    const s = typeof v === 'string' ? v.toLowerCase() : v;
    if (!allowed.includes(s as T)) throw new ConfigError(this.key(k), `must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
    return s as T;
  }

  /** A list of non-empty strings; a single string is accepted as a one-item list. */
  stringList(k: string, dflt: string[] | undefined, what = 'must be a non-empty list of strings'): string[] {
    const v = this.raw(k);
    if (v === undefined) {
      if (dflt === undefined) throw new ConfigError(this.key(k), what);
      return dflt;
    }
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string' || s.trim() === '')) throw new ConfigError(this.key(k), what);
    return list.map((s: string) => s.trim());
  }

  /** Optional integer in [min, max]: undefined when absent. */
  optionalInt(k: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    return this.has(k) ? this.int(k, min, min, max) : (this.raw(k), undefined);
  }

  /** Optional list of strings: undefined when absent. */
  optionalStringList(k: string): string[] | undefined {
    return this.has(k) ? this.stringList(k, undefined) : (this.raw(k), undefined);
  }

  /** A mapping of names to scalar values (static fields, HTTP headers), as strings. */
  stringMap(k: string): Record<string, string> {
    const v = this.raw(k);
    recording?.set(genericKey(this.key(k)), 'map');
    if (v === undefined) return {};
    if (!isObj(v)) throw new ConfigError(this.key(k), 'must be a mapping of names to strings');
    const out: Record<string, string> = {};
    for (const [name, val] of Object.entries(v)) {
      if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean') throw new ConfigError(`${this.key(k)}.${name}`, 'must be a string');
      out[name] = String(val);
    }
    return out;
  }

  /** A list of mappings (inputs, outputs, webhook paths), one Section per item named `key[i]`. */
  sectionList(k: string, what: string, dflt?: Section[]): Section[] {
    const v = this.raw(k);
    if (v === undefined && dflt !== undefined) return dflt;
    if (!Array.isArray(v) || v.length === 0) throw new ConfigError(this.key(k), what);
    return v.map((item, i) => Section.of(`${this.key(k)}[${i}]`, item));
  }

  /** A Falco priority name (case-insensitive, `info` too): the one priority parser of every config. */
  priority(k: string, dflt: Priority): Priority {
    const v = this.raw(k);
    if (v === undefined) return dflt;
    const p = typeof v === 'string' ? parsePriority(v) : undefined;
    if (!p) throw new ConfigError(this.key(k), `${PRIORITY_PROBLEM}, got ${JSON.stringify(v)}`);
    return p;
  }

  /** Reject keys that were never read (the alternative to listing them with allow()). */
  done(): void {
    for (const k of Object.keys(this.obj)) if (!this.seen.has(k)) throw new ConfigError(this.key(k), 'unknown key');
  }

  /** Reject unknown keys up front (before "is required" errors that a typo would cause). */
  allow(...keys: string[]): this {
    for (const k of Object.keys(this.obj)) if (!keys.includes(k)) throw new ConfigError(this.key(k), 'unknown key');
    return this;
  }
}
