/**
 * Value checks shared by every config reader (the service layout, the legacy
 * consume and serve layouts, the serve flags), so each rule exists once:
 * broker addresses, secret files, environment variables, URLs.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './fields';

export type Env = Record<string, string | undefined>;

export const BROKERS_PROBLEM = 'must be a non-empty list of host:port';

/** `host:port`, `1.2.3.4:9092` or a bracketed IPv6 address `[::1]:9092`; port 1-65535. */
export function isHostPort(s: string): boolean {
  const m = /^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(s);
  return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 65535;
}

/** Validate a broker list; `key` names the config key or environment variable in the error. */
export function brokersFrom(key: string, list: string[]): string[] {
  const bad = list.find((b) => !isHostPort(b));
  if (list.length === 0) throw new ConfigError(key, BROKERS_PROBLEM);
  if (bad !== undefined) throw new ConfigError(key, `${BROKERS_PROBLEM} (IPv6 as [::1]:9092), got ${JSON.stringify(bad)}`);
  return list;
}

/** Read a token or password file (trimmed); unreadable or empty is a ConfigError on `key`. */
export function readSecretFile(path: string, key: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new ConfigError(key, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (text === '') throw new ConfigError(key, `${path} is empty`);
  return text;
}

/** A comma-separated environment list; undefined when unset. */
export function envList(env: Env, name: string): string[] | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const list = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new ConfigError(name, 'must be a non-empty comma-separated list');
  return list;
}

export function envString(env: Env, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  if (v.trim() === '') throw new ConfigError(name, 'must not be empty');
  return v.trim();
}

export function envPort(env: Env, name: string): number | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  if (!/^\d{1,5}$/.test(v.trim()) || Number(v) > 65535) throw new ConfigError(name, 'must be a port number');
  return Number(v);
}

export function httpUrl(key: string, url: string): string {
  try {
    const u = new URL(url);
    if (u.protocol === 'http:' || u.protocol === 'https:') return url;
  } catch {
    // reported below
  }
  throw new ConfigError(key, `must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
}

export function webhookPath(key: string, path: string): string {
  if (!path.startsWith('/')) throw new ConfigError(key, "must start with '/'");
  return path;
}
