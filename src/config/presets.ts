/**
 * `kestrel serve` and `kestrel consume` as presets of the one service:
 *
 * - servePreset(argv): serve's flags (and its optional -c file of any layout)
 *   → a ServiceConfig with one webhook input, by default 0.0.0.0:9765
 *   /k8s-audit, one engine worker, alerts on stdout as text. `metrics` stays
 *   undefined: the webhook's own port answers /metrics, /healthz and /readyz.
 * - consumePreset(file): the file as it is (loadServiceConfig).
 *
 * Flag mistakes are FlagError (one line, exit 2 in the CLI); file mistakes ConfigError.
 */
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parsePriority } from '../language/priority';
import { checkServiceConfig } from './checks';
import { ConfigError, Section } from './fields';
import { translateServeConfig } from './legacy';
import { loadServiceConfig, readConfigText, readServiceConfig, type LoadOptions } from './load';
import { DEFAULT_AUDIT_PATH, DEFAULT_WEBHOOK_PORT, envLogLevel, outputOf, webhookLimits, type ReadContext } from './sections';
import type { OutputConfig, ServiceConfig, WebhookInputConfig } from './types';
import { httpUrl, readSecretFile, type Env } from './values';

/** A mistake in the command-line flags (the CLI prints it as one line and exits 2). */
export class FlagError extends Error {}

export const SERVE_HELP = `Usage: kestrel serve [-c CONFIG.yaml] [-r FILE|DIR]... [options]

Receives Kubernetes audit events over HTTP(S) (kube-apiserver's audit webhook,
EventList batches or single events) and kube-audit-rest AdmissionReviews,
evaluates them and delivers alerts before answering 200. SIGHUP reloads rules.
The webhook port also answers /metrics, /healthz and /readyz.

  -c, --config FILE        configuration (deploy/kestrel.reference.yaml; serve-era files
                           still load); flags override it
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
  --no-stdout              no stdout output (when --file or --http is given)
  --file PATH              also write alerts as JSON lines to PATH (rotated at 100 MiB, 5 kept)
  --http URL               also POST alerts to URL (falcosidekick: http://HOST:2801/)
  --min-priority P         skip rules below P
  --rule-matching first|all
  --watch                  reload when rule files change
`;

const SERVE_OPTIONS = {
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
} as const;

const WEBHOOK_FLAGS = ['listen', 'path', 'admission-path', 'token-file', 'tls-cert', 'tls-key', 'client-ca', 'max-body-bytes'] as const;

/** A ConfigError raised while reading a flag's value becomes a FlagError naming the flag. */
function asFlag<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ConfigError) throw new FlagError(e.message.replace(/^config: /, ''));
    throw e;
  }
}

/** An output as the loader would build it from `{...keys}` (so flag outputs get the file defaults). */
function flagOutput(type: OutputConfig['type'], keys: Record<string, unknown>, stdoutFormat: 'text' | 'json'): OutputConfig {
  const ctx: ReadContext = { baseDir: process.cwd(), env: {} };
  return asFlag(() => outputOf(type, Section.of(`--${type}`, keys), type, ctx, { stdoutFormat }));
}

/** Replace the output of the same name, or add it. */
function upsert(outputs: OutputConfig[], output: OutputConfig): OutputConfig[] {
  const i = outputs.findIndex((o) => o.name === output.name);
  return i >= 0 ? outputs.map((o, n) => (n === i ? output : o)) : [...outputs, output];
}

/** The webhook input the flags change: the file's only one, or serve's default one added. */
function theWebhook(cfg: ServiceConfig, flag: string | undefined): WebhookInputConfig {
  const hooks = cfg.inputs.filter((i): i is WebhookInputConfig => i.type === 'webhook');
  if (hooks.length > 1) {
    if (flag) throw new FlagError(`--${flag}: the config has ${hooks.length} webhook inputs (${hooks.map((h) => h.name).join(', ')}); set it in the file`);
    return hooks[0];
  }
  if (hooks.length === 1) return hooks[0];
  const taken = new Set(cfg.inputs.map((i) => i.name));
  const hook: WebhookInputConfig = {
    type: 'webhook',
    name: taken.has('webhook') ? 'serve-webhook' : 'webhook',
    host: '0.0.0.0',
    port: DEFAULT_WEBHOOK_PORT,
    paths: [{ path: DEFAULT_AUDIT_PATH, source: 'k8s_audit', fields: {} }],
    tokens: [],
    ...webhookLimits(Section.of('limits', {})),
  };
  cfg.inputs.push(hook);
  return hook;
}

/**
 * `kestrel serve [flags]` → ServiceConfig ('help' for -h). `defaultRulesDir`
 * is used without -r and without rules in the file. Relative flag paths are
 * resolved against the working directory.
 */
export function servePreset(argv: string[], defaultRulesDir: string, env: Env = process.env): ServiceConfig | 'help' {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, allowPositionals: false, options: SERVE_OPTIONS }));
  } catch (e) {
    throw new FlagError((e as Error).message);
  }
  if (values.help) return 'help';

  const opts: LoadOptions = { defaultRulesDir };
  const loaded = values.config
    ? readServiceConfig(readConfigText(values.config), dirname(resolve(values.config)), env, opts)
    : { ...translateServeConfig({}, process.cwd(), defaultRulesDir), layout: 'serve' as const };
  if (!values.config) loaded.config.log.level = envLogLevel(env, loaded.config.log.level);
  const cfg = loaded.config;
  // serve's in-process limits: an event may be as large as the request body (not for service-layout files).

  if (values.rules?.length) cfg.rules.paths = values.rules.map((r) => resolve(r));

  const webhookFlag = WEBHOOK_FLAGS.find((f) => values[f] !== undefined);
  const hook = theWebhook(cfg, webhookFlag);
  if (values.listen !== undefined) {
    const m = /^(.*):(\d{1,5})$/.exec(values.listen);
    if (!m || Number(m[2]) > 65535) throw new FlagError(`--listen must be HOST:PORT, not '${values.listen}'`);
    hook.host = m[1].replace(/^\[(.*)\]$/, '$1') || '0.0.0.0';
    hook.port = Number(m[2]);
  }
  if (values.path !== undefined) {
    if (!values.path.startsWith('/')) throw new FlagError("--path must start with '/'");
    const audit = hook.paths.find((r) => r.source === 'k8s_audit');
    if (audit) audit.path = values.path;
    else hook.paths.push({ path: values.path, source: 'k8s_audit', fields: {} });
  }
  const ap = values['admission-path'];
  if (ap !== undefined) {
    if (!ap.startsWith('/')) throw new FlagError("--admission-path must start with '/'");
    if (hook.paths.some((r) => r.path === ap)) throw new FlagError(`--admission-path ${ap} is already the audit path`);
    hook.paths = [...hook.paths.filter((r) => r.source !== 'k8s_admission'), { path: ap, source: 'k8s_admission', fields: {} }];
  }
  const tokenFile = values['token-file'];
  if (tokenFile !== undefined) hook.tokens = [asFlag(() => readSecretFile(resolve(tokenFile), '--token-file'))];
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if (cert !== undefined || key !== undefined) {
    if (!cert || !key) throw new FlagError('--tls-cert and --tls-key go together');
    hook.tls = { certFile: resolve(cert), keyFile: resolve(key), ...(hook.tls?.clientCaFile ? { clientCaFile: hook.tls.clientCaFile } : {}) };
  }
  if (values['client-ca'] !== undefined) {
    if (!hook.tls) throw new FlagError('--client-ca needs --tls-cert and --tls-key');
    hook.tls.clientCaFile = resolve(values['client-ca']);
  }
  if (values['max-body-bytes'] !== undefined) {
    const n = Number(values['max-body-bytes']);
    if (!Number.isInteger(n) || n <= 0) throw new FlagError('--max-body-bytes must be a positive integer');
    hook.maxBodyBytes = n;
  }

  for (const f of values.field ?? []) {
    const i = f.indexOf('=');
    if (i <= 0) throw new FlagError(`--field must be NAME=VALUE, not '${f}'`);
    cfg.shaping.fields[f.slice(0, i)] = f.slice(i + 1);
  }
  const mp = values['min-priority'];
  if (mp !== undefined) {
    const p = parsePriority(mp);
    if (!p) throw new FlagError(`--min-priority: unknown priority '${mp}'`);
    cfg.engine.minPriority = p;
  }
  const rm = values['rule-matching'];
  if (rm !== undefined) {
    if (rm !== 'first' && rm !== 'all') throw new FlagError(`--rule-matching must be 'first' or 'all', not '${rm}'`);
    cfg.engine.ruleMatching = rm;
  }

  // Outputs as serve did: --file/--http add (or replace) theirs; stdout (text) only when nothing else or --json.
  // A forwarder evaluates nothing and needs no output.
  const forwardingOnly = cfg.inputs.every((i) => i.type === 'webhook' && i.forwardTopic);
  let outputs = loaded.implicitStdout ? cfg.outputs.filter((o) => o.type !== 'stdout') : cfg.outputs;
  if (values.file !== undefined) outputs = upsert(outputs, flagOutput('file', { path: values.file }, 'text'));
  const http = values.http;
  if (http !== undefined) outputs = upsert(outputs, flagOutput('http', { url: asFlag(() => httpUrl('--http', http)) }, 'text'));
  if (values.json !== undefined || (outputs.length === 0 && !forwardingOnly)) {
    const stdout = outputs.find((o) => o.type === 'stdout');
    const format = values.json ? 'json' : (stdout?.format ?? 'text');
    outputs = stdout ? outputs.map((o) => (o === stdout ? { ...o, format } : o)) : [...outputs, flagOutput('stdout', { format }, 'text')];
  }
  if (values['no-stdout']) {
    outputs = outputs.filter((o) => o.type !== 'stdout');
    if (outputs.length === 0 && !forwardingOnly) throw new FlagError('--no-stdout leaves no output; add --file or --http');
  }
  cfg.outputs = outputs;
  if (values.watch) cfg.rules.watch = { debounceMs: cfg.rules.watch?.debounceMs ?? 500 };

  checkServiceConfig(cfg);
  return cfg;
}

/** `kestrel consume -c FILE`: the file, of any layout, with the KESTREL_* environment overrides. */
export function consumePreset(file: string, env: Env = process.env): ServiceConfig {
  return loadServiceConfig(file, env);
}
