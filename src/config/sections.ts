/**
 * Readers of the config sections that the service layout and the legacy
 * layouts share (a webhook's paths/tls/limits, an output, a breaker, the Kafka
 * connection, throttling, ...). Each reads keys from a Section and returns the
 * ServiceConfig piece with its default; the callers decide which keys a
 * section allows (allow()), so an error always names the key as the user wrote it.
 */
import { cpus, hostname as osHostname } from 'node:os';
import { resolve } from 'node:path';
import { PAYLOAD_FORMATS } from '../decode/envelope';
import type { ThrottleOptions } from '../engine/shaping';
import type { BreakerOptions } from '../sinks/breaker';
import type { IncludeEvent } from '../engine/alert-context';
import { ALERT_FORMATS } from '../sinks/formats';
import type { AlertKey } from '../sinks/kafka';
import { DEFAULT_MAX_BODY_BYTES } from '../sources/webhook';
import { ConfigError, Section } from './fields';
import type {
  AlertFormat, CorrelationConfig, EventSource, FileInputConfig, FileOutputConfig, HttpOutputConfig, KafkaConnection, KafkaFetchConfig, KafkaInputConfig,
  KafkaOutputConfig, LogLevel, OutputConfig, OutputSelection, SaslMechanism, ServiceConfig, StdoutOutputConfig, WebhookInputConfig, WebhookPathConfig,
} from './types';
import { KAFKA_FETCH_DEFAULTS } from './types';
import { DEFAULT_MAX_GROUPS, DEFAULT_TOLERANCE_MS } from '../engine/correlation/correlator';
import { BROKERS_PROBLEM, brokersFrom, envList, envPort, envString, httpUrl, readSecretFile, webhookPath, type Env } from './values';

/** Where relative paths are anchored and which environment overrides apply. */
export interface ReadContext {
  baseDir: string;
  env: Env;
}

export const INPUT_TYPES = ['kafka', 'webhook', 'file'] as const;
export const OUTPUT_TYPES = ['kafka', 'http', 'file', 'stdout'] as const;
export const EVENT_SOURCES: readonly EventSource[] = ['k8s_audit', 'k8s_admission'];
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const DEFAULT_WEBHOOK_PORT = 9765;
export const DEFAULT_AUDIT_PATH = '/k8s-audit';
export const DEFAULT_METRICS_PORT = 9376;

/** The breaker of every output of `consume` (a Kafka produce, a file write). */
export const OUTPUT_BREAKER: BreakerOptions = { timeoutMs: 30_000, errorThresholdPercentage: 50, resetTimeoutMs: 5_000, volumeThreshold: 1 };
/** The HTTP output's breaker of `serve`: no breaker timeout, the request has its own. */
export const HTTP_BREAKER: BreakerOptions = { timeoutMs: false, errorThresholdPercentage: 50, resetTimeoutMs: 10_000, volumeThreshold: 5 };

export const pathIn = (ctx: ReadContext, p: string): string => resolve(ctx.baseDir, p);

const optionalPath = (s: Section, k: string, ctx: ReadContext): string | undefined => {
  const v = s.optionalString(k);
  return v === undefined ? undefined : pathIn(ctx, v);
};

/** Default names: the type when it is the only one of its type, else type-1, type-2, ... */
export function defaultNames(types: string[]): string[] {
  const seen: Record<string, number> = {};
  return types.map((t) => {
    const n = (seen[t] = (seen[t] ?? 0) + 1);
    return types.filter((u) => u === t).length === 1 ? t : `${t}-${n}`;
  });
}

/** The one Kafka connection; environment: KESTREL_KAFKA_BROKERS, KESTREL_KAFKA_SASL_USERNAME/PASSWORD. */
export function kafkaConnection(k: Section, ctx: ReadContext, clientIdDefault = 'kestrel'): KafkaConnection {
  const envBrokers = envList(ctx.env, 'KESTREL_KAFKA_BROKERS');
  // A file value is validated even when the environment overrides it.
  const fileBrokers = envBrokers && !k.has('brokers') ? (k.raw('brokers'), undefined) : brokersFrom(k.key('brokers'), k.stringList('brokers', undefined, BROKERS_PROBLEM));
  const kafka: KafkaConnection = {
    brokers: envBrokers ? brokersFrom('KESTREL_KAFKA_BROKERS', envBrokers) : fileBrokers!,
    clientId: k.string('client_id', clientIdDefault),
    connectionTimeoutMs: k.int('connection_timeout_ms', 10_000, 100),
  };
  const metadataMaxAgeMs = k.optionalInt('metadata_max_age_ms', 1_000);
  if (metadataMaxAgeMs !== undefined) kafka.metadataMaxAgeMs = metadataMaxAgeMs;

  const ssl = k.raw('ssl');
  if (ssl === true) kafka.ssl = { rejectUnauthorized: true };
  else if (ssl !== undefined && ssl !== false) {
    const s = Section.of(k.key('ssl'), ssl).allow('ca_file', 'cert_file', 'key_file', 'reject_unauthorized');
    kafka.ssl = { caFile: optionalPath(s, 'ca_file', ctx), certFile: optionalPath(s, 'cert_file', ctx), keyFile: optionalPath(s, 'key_file', ctx), rejectUnauthorized: s.bool('reject_unauthorized', true) };
    if ((kafka.ssl.certFile === undefined) !== (kafka.ssl.keyFile === undefined)) throw new ConfigError(s.key(kafka.ssl.certFile ? 'key_file' : 'cert_file'), 'is required when the other of cert_file/key_file is set');
  }
  const saslSec = k.optionalSection('sasl');
  const envUser = envString(ctx.env, 'KESTREL_KAFKA_SASL_USERNAME');
  const envPass = envString(ctx.env, 'KESTREL_KAFKA_SASL_PASSWORD');
  if (saslSec || envUser || envPass) {
    const s = (saslSec ?? Section.of(k.key('sasl'), {})).allow('mechanism', 'username', 'password');
    const mechanism = s.oneOf<SaslMechanism>('mechanism', ['plain', 'scram-sha-256', 'scram-sha-512'], 'plain');
    const fileUser = s.optionalString('username');
    const filePass = s.optionalString('password');
    const username = envUser ?? fileUser;
    const password = envPass ?? filePass;
    if (!username) throw new ConfigError(s.key('username'), 'is required with SASL (or set KESTREL_KAFKA_SASL_USERNAME)');
    if (!password) throw new ConfigError(s.key('password'), 'is required with SASL (or set KESTREL_KAFKA_SASL_PASSWORD)');
    kafka.sasl = { mechanism, username, password };
  }
  return kafka;
}

export function kafkaInput(s: Section, name: string, ctx: ReadContext): KafkaInputConfig {
  return {
    type: 'kafka',
    name,
    topics: s.stringList('topics', undefined, 'must be a non-empty list of topic names'),
    groupId: s.string('group_id', 'kestrel'),
    fromBeginning: s.bool('from_beginning', true),
    sessionTimeoutMs: s.int('session_timeout_ms', 30_000, 6_000),
    format: s.oneOf('format', PAYLOAD_FORMATS, 'auto'),
    source: s.oneOf('source', EVENT_SOURCES, 'k8s_audit'),
    fields: s.stringMap('fields'),
    ...aksCategoriesOf(s),
    ...kafkaFetchOf(s),
  };
}

/** `fetch:` of a kafka input; absent keys keep their defaults. */
function kafkaFetchOf(s: Section): { fetch?: KafkaFetchConfig } {
  const f = s.optionalSection('fetch');
  if (!f) return {};
  f.allow('max_bytes_per_partition', 'max_bytes', 'max_wait_ms');
  const d = KAFKA_FETCH_DEFAULTS;
  const fetch = { maxBytesPerPartition: f.int('max_bytes_per_partition', d.maxBytesPerPartition, 1024), maxBytes: f.int('max_bytes', d.maxBytes, 1024), maxWaitMs: f.int('max_wait_ms', d.maxWaitMs, 0, 10_000) };
  if (fetch.maxBytes < fetch.maxBytesPerPartition) throw new ConfigError(f.key('max_bytes'), `must be at least max_bytes_per_partition (${fetch.maxBytesPerPartition})`);
  return { fetch };
}

const AKS_CATEGORIES = ['kube-audit', 'kube-audit-admin'];

/** AKS diagnostic records: which categories are read (both by default; duplicates are dropped by auditID). */
function aksCategoriesOf(s: Section): { aksCategories?: string[] } {
  const list = s.optionalStringList('aks_categories');
  if (!list) return {};
  const bad = list.find((c) => !AKS_CATEGORIES.includes(c));
  if (bad) throw new ConfigError(s.key('aks_categories'), `must list kube-audit and/or kube-audit-admin, got ${JSON.stringify(bad)}`);
  return { aksCategories: list };
}

export function fileInput(s: Section, name: string, ctx: ReadContext): FileInputConfig {
  const path = s.string('path');
  return {
    type: 'file',
    name,
    path: path === '-' ? '-' : pathIn(ctx, path),
    format: s.oneOf('format', PAYLOAD_FORMATS, 'auto'),
    source: s.oneOf('source', EVENT_SOURCES, 'k8s_audit'),
    fields: s.stringMap('fields'),
    ...aksCategoriesOf(s),
  };
}

/** The webhook's paths (`paths:` of a webhook input, or of a serve-era file). */
export function webhookPaths(s: Section, k: string): WebhookPathConfig[] {
  const dflt = [Section.of(`${s.key(k)}[0]`, { path: DEFAULT_AUDIT_PATH })];
  const paths = s.sectionList(k, 'must be a non-empty list of {path, source, fields}', dflt).map((p) => {
    p.allow('path', 'source', 'fields');
    const route = { path: webhookPath(p.key('path'), p.string('path')), source: p.oneOf('source', EVENT_SOURCES, 'k8s_audit'), fields: p.stringMap('fields') };
    p.done();
    return route;
  });
  const dup = paths.findIndex((r, i) => paths.findIndex((q) => q.path === r.path) !== i);
  if (dup >= 0) throw new ConfigError(`${s.key(k)}[${dup}].path`, `${paths[dup].path} is listed twice`);
  return paths;
}

export function webhookTls(s: Section, ctx: ReadContext): WebhookInputConfig['tls'] {
  s.allow('cert_file', 'key_file', 'client_ca_file');
  const tls: WebhookInputConfig['tls'] = { certFile: pathIn(ctx, s.string('cert_file')), keyFile: pathIn(ctx, s.string('key_file')) };
  const ca = optionalPath(s, 'client_ca_file', ctx);
  if (ca) tls.clientCaFile = ca;
  s.done();
  return tls;
}

/** Bearer tokens from `token_file` and `token_files` (read now: a missing file stops the start). */
export function webhookTokens(s: Section, ctx: ReadContext): string[] {
  const one = s.optionalString('token_file');
  const many = s.optionalStringList('token_files') ?? [];
  return [
    ...(one ? [readSecretFile(pathIn(ctx, one), s.key('token_file'))] : []),
    ...many.map((f, i) => readSecretFile(pathIn(ctx, f), `${s.key('token_files')}[${i}]`)),
  ];
}

export type WebhookLimits = Pick<WebhookInputConfig, 'maxBodyBytes' | 'requestTimeoutMs' | 'headersTimeoutMs' | 'maxConcurrentRequests' | 'maxConcurrentRequestsPerClient' | 'maxEventsPerRequest'>;

export function webhookLimits(s: Section): WebhookLimits {
  s.allow('max_body_bytes', 'request_timeout_ms', 'headers_timeout_ms', 'max_concurrent_requests', 'max_concurrent_requests_per_client', 'max_events_per_request');
  const limits = {
    maxBodyBytes: s.int('max_body_bytes', DEFAULT_MAX_BODY_BYTES, 1),
    requestTimeoutMs: s.int('request_timeout_ms', 30_000, 100),
    headersTimeoutMs: s.int('headers_timeout_ms', 10_000, 100),
    maxConcurrentRequests: s.int('max_concurrent_requests', 64, 1),
    maxConcurrentRequestsPerClient: s.int('max_concurrent_requests_per_client', 16, 1),
    maxEventsPerRequest: s.int('max_events_per_request', 10_000, 1),
  };
  s.done();
  return limits;
}

export function webhookInput(s: Section, name: string, ctx: ReadContext): WebhookInputConfig {
  const input: WebhookInputConfig = {
    type: 'webhook',
    name,
    host: s.string('host', '0.0.0.0'),
    port: s.int('port', DEFAULT_WEBHOOK_PORT, 0, 65535),
    paths: webhookPaths(s, 'paths'),
    tokens: webhookTokens(s, ctx),
    ...webhookLimits(s.section('limits')),
  };
  const tls = s.optionalSection('tls');
  if (tls) input.tls = webhookTls(tls, ctx);
  const forwardTopic = s.optionalString('forward_topic');
  if (forwardTopic) input.forwardTopic = forwardTopic;
  const spool = s.optionalSection('spool');
  if (spool) {
    spool.allow('path', 'max_bytes', 'segment_bytes');
    input.spool = { path: pathIn(ctx, spool.string('path')), maxBytes: spool.int('max_bytes', 1024 * 1024 * 1024, 1024), segmentBytes: spool.int('segment_bytes', 64 * 1024 * 1024, 1024) };
    if (forwardTopic) throw new ConfigError(s.key('spool'), 'cannot be combined with forward_topic (the topic is the durable buffer)');
  }
  return input;
}

export function breakerOf(s: Section, dflt: BreakerOptions): BreakerOptions {
  s.allow('timeout_ms', 'error_threshold_percentage', 'reset_timeout_ms', 'volume_threshold');
  const timeout = s.raw('timeout_ms');
  const breaker: BreakerOptions = {
    // false: no breaker timeout (the HTTP output's requests have their own).
    timeoutMs: timeout === undefined ? dflt.timeoutMs : timeout === false ? false : s.int('timeout_ms', 0, 100),
    errorThresholdPercentage: s.int('error_threshold_percentage', dflt.errorThresholdPercentage, 1, 100),
    resetTimeoutMs: s.int('reset_timeout_ms', dflt.resetTimeoutMs, 10),
    volumeThreshold: s.int('volume_threshold', dflt.volumeThreshold, 0),
  };
  s.done();
  return breaker;
}

export function selectionOf(s: Section): OutputSelection {
  const sel: OutputSelection = { minPriority: s.priority('min_priority', 'Debug') };
  const rules = s.optionalStringList('rules');
  const excludeRules = s.optionalStringList('exclude_rules');
  const tags = s.optionalStringList('tags');
  const excludeTags = s.optionalStringList('exclude_tags');
  if (rules) sel.rules = rules;
  if (excludeRules) sel.excludeRules = excludeRules;
  if (tags) sel.tags = tags;
  if (excludeTags) sel.excludeTags = excludeTags;
  return sel;
}

export const OUTPUT_COMMON_KEYS = ['type', 'name', 'format', 'include_event', 'include_event_max_bytes', 'min_priority', 'rules', 'exclude_rules', 'tags', 'exclude_tags', 'breaker'];
export const OUTPUT_KEYS: Record<OutputConfig['type'], string[]> = {
  kafka: ['topic', 'key'],
  http: ['url', 'headers', 'timeout_ms', 'max_retry_ms', 'max_pending', 'concurrency', 'ca_file', 'insecure_skip_verify'],
  file: ['path', 'max_bytes', 'keep', 'fsync', 'fsync_interval_ms'],
  stdout: [],
};

/** Format default per output type: Falco JSON everywhere except stdout of the serve preset (text). */
export interface OutputDefaults {
  stdoutFormat: AlertFormat;
}

/**
 * One output of a given type from `s` (whose `type` was read by the caller).
 * `format`, the selection keys and `breaker` are common to every type.
 */
/** Cap on the audit event text an alert carries with include_event: full. */
export const DEFAULT_INCLUDE_EVENT_MAX_BYTES = 65_536;

export function outputOf(type: OutputConfig['type'], s: Section, name: string, ctx: ReadContext, dflt: OutputDefaults): OutputConfig {
  const common = {
    name,
    format: s.oneOf('format', ALERT_FORMATS, type === 'stdout' ? dflt.stdoutFormat : 'json'),
    includeEvent: s.oneOf<IncludeEvent>('include_event', ['none', 'metadata', 'full'], 'none'),
    includeEventMaxBytes: s.int('include_event_max_bytes', DEFAULT_INCLUDE_EVENT_MAX_BYTES, 256),
    ...selectionOf(s),
    breaker: breakerOf(s.section('breaker'), type === 'http' ? HTTP_BREAKER : OUTPUT_BREAKER),
  };
  switch (type) {
    case 'kafka':
      return { type, ...common, topic: s.string('topic'), key: s.oneOf<AlertKey>('key', ['rule', 'priority', 'source', 'none'], 'rule') } satisfies KafkaOutputConfig;
    case 'http': {
      const http: HttpOutputConfig = {
        type,
        ...common,
        url: httpUrl(s.key('url'), s.string('url')),
        headers: s.stringMap('headers'),
        timeoutMs: s.int('timeout_ms', 5000, 1),
        maxRetryMs: s.int('max_retry_ms', 30_000, 0),
        maxPending: s.int('max_pending', 10_000, 1),
        concurrency: s.int('concurrency', 4, 1, 256),
        insecureSkipVerify: s.bool('insecure_skip_verify', false),
      };
      const ca = optionalPath(s, 'ca_file', ctx);
      if (ca) http.caFile = ca;
      return http;
    }
    case 'file':
      return {
        type,
        ...common,
        path: pathIn(ctx, s.string('path')),
        maxBytes: s.int('max_bytes', 100 * 1024 * 1024, 0),
        keep: s.int('keep', 5, 0, 1000),
        fsync: s.oneOf('fsync', ['always', 'interval', 'never'] as const, 'interval'),
        fsyncIntervalMs: s.int('fsync_interval_ms', 1000, 10),
      } satisfies FileOutputConfig;
    case 'stdout':
      return { type, ...common } satisfies StdoutOutputConfig;
  }
}

export function throttleOf(s: Section): ThrottleOptions {
  s.allow('window_ms', 'key', 'rules', 'max_keys');
  const throttle: ThrottleOptions = {
    windowMs: s.int('window_ms', 60_000, 1),
    key: s.oneOf('key', ['rule', 'rule_output'] as const, 'rule'),
    maxKeys: s.int('max_keys', 10_000, 1),
  };
  const rules = s.optionalStringList('rules');
  if (rules) throttle.rules = rules;
  s.done();
  return throttle;
}

/** `watch: {enabled, debounce_ms}`: undefined when absent or disabled. */
export function watchOf(s: Section | undefined): { debounceMs: number } | undefined {
  if (!s) return undefined;
  s.allow('enabled', 'debounce_ms');
  const enabled = s.bool('enabled', true);
  const debounceMs = s.int('debounce_ms', 500, 0);
  s.done();
  return enabled ? { debounceMs } : undefined;
}

/** `metrics: {enabled, host, port}`; KESTREL_METRICS_PORT enables it too. */
export function metricsOf(s: Section | undefined, ctx: ReadContext, name = 'metrics'): ServiceConfig['metrics'] {
  const envPortValue = envPort(ctx.env, 'KESTREL_METRICS_PORT');
  if (!s && envPortValue === undefined) return undefined;
  const sec = (s ?? Section.of(name, {})).allow('enabled', 'host', 'port');
  const enabled = sec.bool('enabled', true);
  const metrics = { host: sec.string('host', '0.0.0.0'), port: sec.int('port', DEFAULT_METRICS_PORT, 0, 65535) };
  sec.done();
  if (!enabled) return undefined;
  return envPortValue === undefined ? metrics : { ...metrics, port: envPortValue };
}

/** KESTREL_LOG_LEVEL, or `fallback` when unset. */
export function envLogLevel(env: Env, fallback: LogLevel): LogLevel {
  const v = envString(env, 'KESTREL_LOG_LEVEL');
  if (v === undefined) return fallback;
  if (!LOG_LEVELS.includes(v.toLowerCase() as LogLevel)) throw new ConfigError('KESTREL_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(v)})`);
  return v.toLowerCase() as LogLevel;
}

export function logLevelOf(s: Section, k: string, ctx: ReadContext): LogLevel {
  return envLogLevel(ctx.env, s.oneOf(k, LOG_LEVELS, 'info'));
}

export const defaultWorkers = (): number => Math.max(1, cpus().length);
export const defaultHostname = (): string => osHostname();
/** Stable across restarts of one consumer, unique per consumer host (exactly_once). */
/**
 * The prefix of exactly_once's transactional ids (one producer per input
 * partition: PREFIX-topic-partition). It must be the same on every member of
 * the group and across restarts, so a partition's new owner fences the old one.
 */
export const defaultTransactionalId = (groupId: string): string => `kestrel-${groupId}`;

/** Correlation rules and rollups in the service when the file has no `correlation:` section. */
export const DEFAULT_CORRELATION: CorrelationConfig = { mode: 'local', toleranceMs: DEFAULT_TOLERANCE_MS, maxGroups: DEFAULT_MAX_GROUPS, idleMs: 30_000 };

export function correlationOf(s: Section): CorrelationConfig {
  s.allow('mode', 'tolerance_ms', 'max_groups', 'topic', 'idle_ms');
  const c: CorrelationConfig = {
    mode: s.oneOf('mode', ['local', 'kafka'] as const, DEFAULT_CORRELATION.mode),
    toleranceMs: s.int('tolerance_ms', DEFAULT_CORRELATION.toleranceMs, 0, 24 * 3_600_000),
    maxGroups: s.int('max_groups', DEFAULT_CORRELATION.maxGroups, 1),
    idleMs: s.int('idle_ms', DEFAULT_CORRELATION.idleMs, 100, 3_600_000),
  };
  const topic = s.optionalString('topic');
  if (topic !== undefined) c.topic = topic;
  s.done();
  return c;
}
