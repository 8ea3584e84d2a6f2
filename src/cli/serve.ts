/**
 * `kestrel serve`: the audit webhook in standalone mode. kube-apiserver (audit
 * webhook backend) and log shippers of kube-audit-rest POST events; each
 * request is evaluated in-process with the current ruleset, its alerts shaped
 * (static fields, throttling) and delivered to the sinks (stdout, file, HTTP /
 * falcosidekick) before the request is answered 200.
 *
 * Reload: SIGHUP (and, with --watch, changes under the rule paths) reloads the
 * rules atomically; a broken ruleset is rejected with its errors on stderr and
 * the running one is kept. /readyz reports the loaded ruleset's hash.
 *
 * Configuration: a YAML file (-c, see docs/webhook.md) and/or flags; flags win.
 */
import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino, { type Logger } from 'pino';
import { parseDocument } from 'yaml';
import { ConfigError, Section } from '../config/fields';
import type { RuleMatching } from '../engine/ruleset';
import type { ThrottleOptions } from '../engine/shaping';
import { parsePriority, type Priority } from '../language/priority';
import type { Output } from '../pipeline/outputs';
import { alertFilter, type AlertFilterOptions } from '../pipeline/selection';
import { Service } from '../pipeline/service';
import { BreakerSink } from '../sinks/breaker';
import type { FsyncPolicy } from '../sinks/file';
import type { AlertSink } from '../sinks/types';
import type { WebhookRoute } from '../sources/webhook';
import { DEFAULT_RULES_DIR, UsageError } from './common';
import { fromServeConfig } from './legacy-bridge';
import { runService } from './service-command';

export { ConfigError };

export const DEFAULT_WEBHOOK_PORT = 9765;
export const DEFAULT_AUDIT_PATH = '/k8s-audit';

interface SinkFilterConfig {
  filter: AlertFilterOptions;
  minPriority: Priority;
}

export interface ServeConfig {
  rules: string[];
  ruleMatching: RuleMatching;
  minPriority: Priority;
  hostname: string;
  listen: { host: string; port: number };
  routes: WebhookRoute[];
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
  /** Bearer tokens (read from token files). */
  tokens: string[];
  limits: { maxBodyBytes: number; requestTimeoutMs: number; headersTimeoutMs: number; maxConcurrentRequests: number };
  /** Static fields added to every alert; per-route fields override them. */
  fields: Record<string, string>;
  throttle?: ThrottleOptions;
  sinks: {
    stdout?: SinkFilterConfig & { format: 'json' | 'text' };
    file?: SinkFilterConfig & { path: string; format: 'json' | 'text'; maxBytes: number; keep: number; fsync: FsyncPolicy; fsyncIntervalMs: number };
    http?: SinkFilterConfig & {
      url: string;
      headers: Record<string, string>;
      timeoutMs: number;
      maxRetryMs: number;
      maxPending: number;
      concurrency: number;
      breaker: { errorThresholdPercentage: number; resetTimeoutMs: number; volumeThreshold: number };
      caFile?: string;
      insecureSkipVerify: boolean;
    };
  };
  watch?: { debounceMs: number };
  /** Forwarder mode: produce the events to a Kafka topic (acks = all) instead of evaluating them here. */
  forward?: { brokers: string[]; topic: string; clientId: string };
}

const PRIORITY_HELP = 'must be a Falco priority (emergency, alert, critical, error, warning, notice, informational, debug)';

function priorityOf(s: Section, k: string, dflt: Priority): Priority {
  const v = s.raw(k);
  if (v === undefined) return dflt;
  const p = typeof v === 'string' ? parsePriority(v) : undefined;
  if (!p) throw new ConfigError(s.key(k), `${PRIORITY_HELP}, got ${JSON.stringify(v)}`);
  return p;
}

function stringMap(s: Section, k: string): Record<string, string> {
  const v = s.raw(k);
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(s.key(k), 'must be a mapping of names to strings');
  const out: Record<string, string> = {};
  for (const [name, val] of Object.entries(v)) {
    if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean') throw new ConfigError(`${s.key(k)}.${name}`, 'must be a string');
    out[name] = String(val);
  }
  return out;
}

function filterOf(s: Section): SinkFilterConfig {
  const minPriority = priorityOf(s, 'min_priority', 'Debug');
  const opt = (k: string) => (s.has(k) ? s.stringList(k, undefined) : (s.raw(k), undefined));
  return { minPriority, filter: { rules: opt('rules'), excludeRules: opt('exclude_rules'), tags: opt('tags'), excludeTags: opt('exclude_tags') } };
}

function readSecretFile(path: string, key: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new ConfigError(key, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (text === '') throw new ConfigError(key, `${path} is empty`);
  return text;
}

/** The configuration without a file or flags: rules/ on 0.0.0.0:9765/k8s-audit, no sinks. */
export function defaultServeConfig(): ServeConfig {
  return {
    rules: [DEFAULT_RULES_DIR],
    ruleMatching: 'first',
    minPriority: 'Debug',
    hostname: osHostname(),
    listen: { host: '0.0.0.0', port: DEFAULT_WEBHOOK_PORT },
    routes: [{ path: DEFAULT_AUDIT_PATH, source: 'k8s_audit' }],
    tokens: [],
    limits: { maxBodyBytes: 16 * 1024 * 1024, requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, maxConcurrentRequests: 64 },
    fields: {},
    sinks: {},
  };
}

/** Parse a `kestrel serve` YAML config; relative paths are resolved against `baseDir`. */
export function parseServeConfig(text: string, baseDir: string): ServeConfig {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) throw new ConfigError('(file)', `invalid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  const top = Section.of('', doc.toJS());
  const cfg = defaultServeConfig();
  const p = (f: string) => resolve(baseDir, f);
  if (top.has('rules')) cfg.rules = top.stringList('rules', undefined).map(p);
  else top.raw('rules');
  cfg.ruleMatching = top.oneOf('rule_matching', ['first', 'all'] as const, 'first');
  cfg.minPriority = priorityOf(top, 'min_priority', 'Debug');
  cfg.hostname = top.string('hostname', cfg.hostname);

  const listen = top.section('listen');
  cfg.listen = { host: listen.string('host', '0.0.0.0'), port: listen.int('port', DEFAULT_WEBHOOK_PORT, 0, 65535) };
  listen.done();

  const tls = top.optionalSection('tls');
  if (tls) {
    cfg.tls = { certFile: p(tls.string('cert_file')), keyFile: p(tls.string('key_file')) };
    const ca = tls.optionalString('client_ca_file');
    if (ca) cfg.tls.clientCaFile = p(ca);
    tls.done();
  }

  const auth = top.optionalSection('auth');
  if (auth) {
    const files = auth.has('token_files') ? auth.stringList('token_files', undefined) : (auth.raw('token_files'), []);
    const one = auth.optionalString('token_file');
    cfg.tokens = [...(one ? [one] : []), ...files].map((f) => readSecretFile(p(f), auth.key('token_file')));
    auth.done();
  }

  const limits = top.section('limits');
  cfg.limits = {
    maxBodyBytes: limits.int('max_body_bytes', cfg.limits.maxBodyBytes, 1),
    requestTimeoutMs: limits.int('request_timeout_ms', cfg.limits.requestTimeoutMs, 100),
    headersTimeoutMs: limits.int('headers_timeout_ms', cfg.limits.headersTimeoutMs, 100),
    maxConcurrentRequests: limits.int('max_concurrent_requests', cfg.limits.maxConcurrentRequests, 1),
  };
  limits.done();

  const paths = top.raw('paths');
  if (paths !== undefined) {
    if (!Array.isArray(paths) || paths.length === 0) throw new ConfigError('paths', 'must be a non-empty list of {path, source, fields}');
    cfg.routes = paths.map((item, i) => {
      const s = Section.of(`paths[${i}]`, item);
      const path = s.string('path');
      if (!path.startsWith('/')) throw new ConfigError(s.key('path'), "must start with '/'");
      const route: WebhookRoute = { path, source: s.oneOf('source', ['k8s_audit', 'k8s_admission'] as const, 'k8s_audit') };
      const fields = stringMap(s, 'fields');
      if (Object.keys(fields).length) route.fields = fields;
      s.done();
      return route;
    });
    const dup = cfg.routes.find((r, i) => cfg.routes.findIndex((q) => q.path === r.path) !== i);
    if (dup) throw new ConfigError('paths', `path ${dup.path} is listed twice`);
  }
  cfg.fields = stringMap(top, 'fields');

  const th = top.optionalSection('throttle');
  if (th) {
    cfg.throttle = {
      windowMs: th.int('window_ms', 60_000, 1),
      key: th.oneOf('key', ['rule', 'rule_output'] as const, 'rule'),
      rules: th.has('rules') ? th.stringList('rules', undefined) : (th.raw('rules'), undefined),
      maxKeys: th.int('max_keys', 10_000, 1),
    };
    th.done();
  }

  const fwd = top.optionalSection('forward');
  if (fwd) {
    const k = fwd.section('kafka');
    const brokers = k.stringList('brokers', undefined, 'must be a non-empty list of host:port');
    for (const b of brokers) if (!/^[^\s:]+:\d{1,5}$/.test(b)) throw new ConfigError(k.key('brokers'), `must be a non-empty list of host:port, got ${JSON.stringify(b)}`);
    cfg.forward = { brokers, topic: k.string('topic'), clientId: k.string('client_id', 'kestrel-serve') };
    k.done();
    fwd.done();
  }

  const sinks = top.section('sinks');
  const so = sinks.optionalSection('stdout');
  if (so) {
    cfg.sinks.stdout = { ...filterOf(so), format: so.oneOf('format', ['json', 'text'] as const, 'text') };
    so.done();
  }
  const fs = sinks.optionalSection('file');
  if (fs) {
    cfg.sinks.file = {
      ...filterOf(fs),
      path: p(fs.string('path')),
      format: fs.oneOf('format', ['json', 'text'] as const, 'json'),
      maxBytes: fs.int('max_bytes', 100 * 1024 * 1024, 0),
      keep: fs.int('keep', 5, 0, 1000),
      fsync: fs.oneOf('fsync', ['always', 'interval', 'never'] as const, 'interval'),
      fsyncIntervalMs: fs.int('fsync_interval_ms', 1000, 10),
    };
    fs.done();
  }
  const hs = sinks.optionalSection('http');
  if (hs) {
    const br = hs.section('breaker');
    const url = hs.string('url');
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    } catch {
      throw new ConfigError(hs.key('url'), `must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
    }
    const caFile = hs.optionalString('ca_file');
    cfg.sinks.http = {
      ...filterOf(hs),
      url,
      headers: stringMap(hs, 'headers'),
      timeoutMs: hs.int('timeout_ms', 5000, 1),
      maxRetryMs: hs.int('max_retry_ms', 30_000, 0),
      maxPending: hs.int('max_pending', 10_000, 1),
      concurrency: hs.int('concurrency', 4, 1, 256),
      breaker: {
        errorThresholdPercentage: br.int('error_threshold_percentage', 50, 1, 100),
        resetTimeoutMs: br.int('reset_timeout_ms', 10_000, 10),
        volumeThreshold: br.int('volume_threshold', 5, 0),
      },
      caFile: caFile ? p(caFile) : undefined,
      insecureSkipVerify: hs.bool('insecure_skip_verify', false),
    };
    br.done();
    hs.done();
  }
  sinks.done();

  const w = top.optionalSection('watch');
  if (w) {
    if (w.bool('enabled', true)) cfg.watch = { debounceMs: w.int('debounce_ms', 500, 0) };
    w.done();
  }
  top.done();
  return cfg;
}

const HELP = `Usage: kestrel serve [-c CONFIG.yaml] [-r FILE|DIR]... [options]

Receives Kubernetes audit events over HTTP(S) (kube-apiserver's audit webhook,
EventList batches or single events) and kube-audit-rest AdmissionReviews,
evaluates them and delivers alerts before answering 200. SIGHUP reloads rules.

  -c, --config FILE        YAML configuration (see docs/webhook.md); flags override it
  -r, --rules FILE|DIR     rules (repeatable; default: Kestrel's rules/)
  --listen HOST:PORT       default 0.0.0.0:9765
  --path PATH              audit webhook path (default /k8s-audit)
  --admission-path PATH    also accept kube-audit-rest AdmissionReviews (k8s_admission) here
  --token-file FILE        require "Authorization: Bearer <token>" (token read from FILE)
  --tls-cert FILE --tls-key FILE   serve HTTPS
  --client-ca FILE         require client certificates signed by this CA (HTTPS)
  --max-body-bytes N       largest request body (default 16 MiB; 413 beyond)
  --field NAME=VALUE       static field added to every alert (repeatable)
  --json                   stdout alerts as Falco JSON (default text)
  --no-stdout              no stdout sink (when --file or --http is given)
  --file PATH              also write alerts as JSON lines to PATH (rotated at 100 MiB, 5 kept)
  --http URL               also POST alerts to URL (falcosidekick: http://HOST:2801/)
  --min-priority P         skip rules below P
  --rule-matching first|all
  --watch                  reload when rule files change
`;

/** Build the configuration from argv (and the -c file). Throws UsageError / ConfigError. */
export function serveConfigFromArgs(argv: string[]): ServeConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      config: { type: 'string', short: 'c' },
      rules: { type: 'string', short: 'r', multiple: true },
      listen: { type: 'string' },
      path: { type: 'string' },
      'admission-path': { type: 'string' },
      'token-file': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'client-ca': { type: 'string' },
      'max-body-bytes': { type: 'string' },
      field: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      'no-stdout': { type: 'boolean' },
      file: { type: 'string' },
      http: { type: 'string' },
      'min-priority': { type: 'string' },
      'rule-matching': { type: 'string' },
      watch: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  let cfg = defaultServeConfig();
  if (values.config) {
    let text: string;
    try {
      text = readFileSync(values.config, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${values.config}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    cfg = parseServeConfig(text, dirname(resolve(values.config)));
  }
  if (values.rules?.length) cfg.rules = values.rules;
  if (values.listen !== undefined) {
    const m = /^(.*):(\d{1,5})$/.exec(values.listen);
    if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen must be HOST:PORT, not '${values.listen}'`);
    cfg.listen = { host: m[1].replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', port: Number(m[2]) };
  }
  if (values.path !== undefined) {
    if (!values.path.startsWith('/')) throw new UsageError("--path must start with '/'");
    const audit = cfg.routes.find((r) => r.source === 'k8s_audit');
    if (audit) audit.path = values.path;
    else cfg.routes.push({ path: values.path, source: 'k8s_audit' });
  }
  if (values['admission-path'] !== undefined) {
    const ap = values['admission-path'];
    if (!ap.startsWith('/')) throw new UsageError("--admission-path must start with '/'");
    if (cfg.routes.some((r) => r.path === ap)) throw new UsageError(`--admission-path ${ap} is already the audit path`);
    cfg.routes = cfg.routes.filter((r) => r.source !== 'k8s_admission');
    cfg.routes.push({ path: ap, source: 'k8s_admission' });
  }
  if (values['token-file'] !== undefined) cfg.tokens = [readSecretFile(values['token-file'], '--token-file')];
  if (values['tls-cert'] !== undefined || values['tls-key'] !== undefined) {
    if (!values['tls-cert'] || !values['tls-key']) throw new UsageError('--tls-cert and --tls-key go together');
    cfg.tls = { certFile: values['tls-cert'], keyFile: values['tls-key'], clientCaFile: cfg.tls?.clientCaFile };
  }
  if (values['client-ca'] !== undefined) {
    if (!cfg.tls) throw new UsageError('--client-ca needs --tls-cert and --tls-key');
    cfg.tls.clientCaFile = values['client-ca'];
  }
  if (values['max-body-bytes'] !== undefined) {
    const n = Number(values['max-body-bytes']);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError('--max-body-bytes must be a positive integer');
    cfg.limits.maxBodyBytes = n;
  }
  for (const f of values.field ?? []) {
    const i = f.indexOf('=');
    if (i <= 0) throw new UsageError(`--field must be NAME=VALUE, not '${f}'`);
    cfg.fields[f.slice(0, i)] = f.slice(i + 1);
  }
  if (values['min-priority'] !== undefined) {
    const p = parsePriority(values['min-priority']);
    if (!p) throw new UsageError(`--min-priority: unknown priority '${values['min-priority']}'`);
    cfg.minPriority = p;
  }
  if (values['rule-matching'] !== undefined) {
    const m = values['rule-matching'];
    if (m !== 'first' && m !== 'all') throw new UsageError(`--rule-matching must be 'first' or 'all', not '${m}'`);
    cfg.ruleMatching = m;
  }
  const noFilter = { minPriority: 'Debug' as Priority, filter: {} };
  if (values.file !== undefined) cfg.sinks.file = { ...noFilter, path: values.file, format: 'json', maxBytes: 100 * 1024 * 1024, keep: 5, fsync: 'interval', fsyncIntervalMs: 1000 };
  if (values.http !== undefined) {
    cfg.sinks.http = {
      ...noFilter, url: values.http, headers: {}, timeoutMs: 5000, maxRetryMs: 30_000, maxPending: 10_000, concurrency: 4,
      breaker: { errorThresholdPercentage: 50, resetTimeoutMs: 10_000, volumeThreshold: 5 }, insecureSkipVerify: false,
    };
  }
  if (values.json !== undefined || (!cfg.sinks.stdout && !cfg.sinks.file && !cfg.sinks.http)) {
    cfg.sinks.stdout = { ...(cfg.sinks.stdout ?? noFilter), format: values.json ? 'json' : (cfg.sinks.stdout?.format ?? 'text') };
  }
  if (values['no-stdout']) delete cfg.sinks.stdout;
  if (values.watch) cfg.watch = { debounceMs: cfg.watch?.debounceMs ?? 500 };
  return cfg;
}

export interface ServeHandle {
  port: number;
  service: Service;
  /** The running ruleset (its hash is the version /readyz reports). */
  holder: { readonly hash: string };
  registry: Service['metrics']['registry'];
  /** Reload the rules (what SIGHUP does). */
  reload(): ReturnType<Service['reload']>;
  close(): Promise<void>;
}

export interface ServeHooks {
  /** Extra outputs (tests: a capturing sink). */
  sinks?: { sink: AlertSink }[];
  logger?: Logger;
}

/** Start the webhook service in-process (tests); resolves once listening. */
export async function startServe(cfg: ServeConfig, hooks: ServeHooks = {}): Promise<ServeHandle> {
  const extra: Output[] = (hooks.sinks ?? []).map(({ sink }) => {
    const guarded = new BreakerSink(sink, { timeoutMs: 30_000, errorThresholdPercentage: 50, resetTimeoutMs: 5_000, volumeThreshold: 1 });
    return { name: sink.name, select: alertFilter({ minPriority: sink.minPriority }), send: (a) => guarded.send(a), breaker: guarded.breaker, close: () => guarded.close() };
  });
  const service = await Service.start(fromServeConfig(cfg), { extraOutputs: extra, logger: hooks.logger ?? pino({ level: 'silent' }) });
  return {
    port: Object.values(service.ports.inputs)[0],
    service,
    holder: { get hash() { return service.rulesetHash; } },
    registry: service.metrics.registry,
    reload: () => service.reload(),
    close: async () => void (await service.stop()),
  };
}

/**
 * The `serve` command: the service with one webhook input, configured by
 * flags and/or a serve-era file. Runs until SIGTERM/SIGINT. Exit codes as
 * every command: 0 ok, 1 rule errors, 2 usage/config errors.
 */
export async function serveCommand(argv: string[]): Promise<number> {
  let cfg;
  try {
    cfg = serveConfigFromArgs(argv);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
  if (cfg === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  return runService(fromServeConfig(cfg));
}
