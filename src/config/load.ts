/**
 * Loading `kestrel.yaml`: YAML → validated ServiceConfig (parseServiceConfig,
 * loadServiceConfig; any layout: the service layout of
 * deploy/kestrel.reference.yaml, or a consume-era or serve-era file).
 * Every mistake is one ConfigError naming the key (or environment variable);
 * relative paths are resolved against the config file's folder.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from './fields';
import type { ServiceConfig } from './types';
import { detectLayout, legacyConsumeConfig, translateServeConfig, type Layout } from './legacy';
import { envLogLevel } from './sections';
import { serviceConfigFrom, type ServiceDefaults } from './service';
import type { Env } from './values';

export { ConfigError } from './fields';
export type { Env } from './values';

/** YAML text → plain data; a syntax error is one ConfigError naming the line. */
export function parseYaml(text: string): unknown {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0].line;
    throw new ConfigError(line ? `line ${line}` : '(file)', `invalid YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:$/, '')}`);
  }
  return doc.toJS();
}

export type LoadOptions = ServiceDefaults;

export interface LoadedConfig {
  config: ServiceConfig;
  /** The layout the file was written in. */
  layout: Layout;
  /** Serve-era file without sinks: the stdout output is serve's default (the serve flags may replace it). */
  implicitStdout: boolean;
}

/** parseServiceConfig with what the serve preset needs to know about the file. */
export function readServiceConfig(text: string, baseDir: string, env: Env = process.env, opts: LoadOptions = {}): LoadedConfig {
  const doc = parseYaml(text);
  const layout = detectLayout(doc);
  if (layout === 'consume') return { config: legacyConsumeConfig(doc, baseDir, env), layout, implicitStdout: false };
  if (layout === 'serve') {
    // serve had no environment overrides; only the log level (its logs are the service's now) applies.
    const serve = translateServeConfig(doc, baseDir, opts.defaultRulesDir);
    serve.config.log.level = envLogLevel(env, serve.config.log.level);
    return { layout, ...serve };
  }
  return { config: serviceConfigFrom(doc, { baseDir, env }, opts), layout, implicitStdout: false };
}

/**
 * Parse and validate config text of any layout. `baseDir` anchors relative
 * paths; `env` supplies the KESTREL_* overrides (of serve-era files, which
 * never had them, only KESTREL_LOG_LEVEL applies).
 */
export function parseServiceConfig(text: string, baseDir: string, env: Env = process.env, opts: LoadOptions = {}): ServiceConfig {
  return readServiceConfig(text, baseDir, env, opts).config;
}

/** Read a config file; a missing or unreadable file is a ConfigError naming it. */
export function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function loadServiceConfig(file: string, env: Env = process.env, opts: LoadOptions = {}): ServiceConfig {
  return parseServiceConfig(readConfigText(file), dirname(resolve(file)), env, opts);
}

