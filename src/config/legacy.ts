/**
 * Config files of the two commands that preceded the service layout still
 * start: a consume-era file (`kafka.input_topics`, `sinks`, `dlq`, ...) or a
 * serve-era file (`listen`, `paths`, `auth`, `rules` as a list, ...) is
 * validated with its own key names (so an error names the key as written) and
 * translated into a ServiceConfig. A file mixing layouts is an error naming
 * the old key and its new name.
 */
import { PAYLOAD_FORMATS } from '../decode/envelope';
import { applyEnvironment, checkServiceConfig } from './checks';
import { DEFAULT_SPLITTER_OPTIONS } from '../decode/documents';
import { DEFAULT_MAX_BODY_BYTES } from '../sources/webhook';

const DEFAULT_MAX_EVENT_BYTES = DEFAULT_SPLITTER_OPTIONS.maxBytes;
import { ConfigError, Section } from './fields';
import {
  OUTPUT_BREAKER, breakerOf, defaultHostname, defaultNames, defaultTransactionalId, defaultWorkers, kafkaConnection, logLevelOf,
  metricsOf, outputOf, pathIn, throttleOf, watchOf, webhookLimits, webhookPaths, webhookTls, webhookTokens, type ReadContext,
} from './sections';
import type { EventSource, KafkaInputConfig, OutputConfig, ServiceConfig, WebhookInputConfig } from './types';
import { DEFAULT_MAX_IN_FLIGHT_BYTES, DEFAULT_MAX_IN_FLIGHT_MESSAGES } from './types';
import { envList, readSecretFile, webhookPath, type Env } from './values';

export const REFERENCE = 'deploy/kestrel.reference.yaml';

export type Layout = 'service' | 'consume' | 'serve';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keys only the consume-era layout has, with where they live now. */
const CONSUME_KEYS: [string, (d: Obj) => boolean, string][] = [
  ['kafka.input_topics', (d) => isObj(d.kafka) && 'input_topics' in d.kafka, 'inputs[].topics (type: kafka)'],
  ['kafka.group_id', (d) => isObj(d.kafka) && 'group_id' in d.kafka, 'inputs[].group_id (type: kafka)'],
  ['kafka.from_beginning', (d) => isObj(d.kafka) && 'from_beginning' in d.kafka, 'inputs[].from_beginning (type: kafka)'],
  ['kafka.session_timeout_ms', (d) => isObj(d.kafka) && 'session_timeout_ms' in d.kafka, 'inputs[].session_timeout_ms (type: kafka)'],
  ['input', (d) => 'input' in d, 'inputs[].format (type: kafka) and engine.max_event_bytes'],
  ['workers', (d) => 'workers' in d, 'engine.workers, engine.max_in_flight_messages, engine.max_in_flight_bytes'],
  ['dlq', (d) => 'dlq' in d, 'dead_letters'],
  ['breaker', (d) => 'breaker' in d, 'outputs[].breaker'],
  ['webhook', (d) => 'webhook' in d, 'inputs[] (type: webhook, forward_topic)'],
  ['log_level', (d) => 'log_level' in d, 'log.level'],
  ['sinks.kafka', (d) => isObj(d.sinks) && 'kafka' in d.sinks, 'outputs (type: kafka)'],
  ['delivery.mode', (d) => isObj(d.delivery) && 'mode' in d.delivery, 'delivery.guarantee'],
  ['rules.rule_matching', (d) => isObj(d.rules) && 'rule_matching' in d.rules, 'engine.rule_matching'],
  ['rules.min_priority', (d) => isObj(d.rules) && 'min_priority' in d.rules, 'engine.min_priority'],
  ['rules.source', (d) => isObj(d.rules) && 'source' in d.rules, 'inputs[].source'],
];

/** Keys only the serve-era layout has. */
const SERVE_KEYS: [string, (d: Obj) => boolean, string][] = [
  ['rules', (d) => Array.isArray(d.rules) || typeof d.rules === 'string', 'rules.paths'],
  ['rule_matching', (d) => 'rule_matching' in d, 'engine.rule_matching'],
  ['min_priority', (d) => 'min_priority' in d, 'engine.min_priority'],
  ['listen', (d) => 'listen' in d, 'inputs[].host and inputs[].port (type: webhook)'],
  ['tls', (d) => 'tls' in d, 'inputs[].tls (type: webhook)'],
  ['auth', (d) => 'auth' in d, 'inputs[].token_file / token_files (type: webhook)'],
  ['limits', (d) => 'limits' in d, 'inputs[].limits (type: webhook)'],
  ['paths', (d) => 'paths' in d, 'inputs[].paths (type: webhook)'],
  ['fields', (d) => 'fields' in d, 'shaping.fields'],
  ['throttle', (d) => 'throttle' in d, 'shaping.throttle'],
  ['forward', (d) => 'forward' in d, 'kafka.brokers and inputs[].forward_topic (type: webhook)'],
  ['watch', (d) => 'watch' in d, 'rules.watch'],
  ['sinks.http', (d) => isObj(d.sinks) && 'http' in d.sinks, 'outputs (type: http)'],
];

/** Keys only the service layout has. */
const SERVICE_ONLY: [string, (d: Obj) => boolean][] = [
  ['inputs', (d) => 'inputs' in d],
  ['outputs', (d) => 'outputs' in d],
  ['engine', (d) => 'engine' in d],
  ['shaping', (d) => 'shaping' in d],
  ['dead_letters', (d) => 'dead_letters' in d],
  ['log', (d) => 'log' in d],
  ['delivery.guarantee', (d) => isObj(d.delivery) && 'guarantee' in d.delivery],
  ['rules.watch', (d) => isObj(d.rules) && 'watch' in d.rules],
  ['kafka.metadata_max_age_ms', (d) => isObj(d.kafka) && 'metadata_max_age_ms' in d.kafka],
];

const found = <T extends [string, (d: Obj) => boolean, ...unknown[]]>(list: T[], d: Obj): T[] => list.filter(([, test]) => test(d));

/**
 * Which layout a document is written in. Throws when it mixes the service
 * layout with an old one, or the two old ones.
 */
export function detectLayout(doc: unknown): Layout {
  if (!isObj(doc)) return 'service';
  const service = found(SERVICE_ONLY, doc);
  const consume = found(CONSUME_KEYS, doc);
  const serve = found(SERVE_KEYS, doc);
  const old = [...consume, ...serve];
  if (service.length > 0 && old.length > 0) {
    const [key, , now] = old[0];
    throw new ConfigError(key, `is an old key, now '${now}'; this file also uses the new layout (${service[0][0]}), so rename it (see ${REFERENCE})`);
  }
  if (consume.length > 0 && serve.length > 0) {
    const [key, , now] = serve[0];
    throw new ConfigError(key, `is a 'kestrel serve' key in a consume-era file (${consume[0][0]}); move the file to the new layout, where it is '${now}' (see ${REFERENCE})`);
  }
  if (consume.length > 0) return 'consume';
  if (serve.length > 0) return 'serve';
  // `sinks` with only stdout/file is in both old layouts: a Kafka connection means consume.
  if ('sinks' in doc) return 'kafka' in doc ? 'consume' : 'serve';
  return 'service';
}

/** Outputs of an old file are named after their type (an old file has at most one of each). */
function namedOutputs(list: Omit<OutputConfig, 'name'>[]): OutputConfig[] {
  const names = defaultNames(list.map((o) => o.type));
  return list.map((o, i) => ({ ...o, name: names[i] }) as OutputConfig);
}

/** A consume-era `kestrel.yaml` (`kestrel consume -c`), with consume's environment overrides. */
export function legacyConsumeConfig(doc: unknown, baseDir: string, env: Env = process.env): ServiceConfig {
  const ctx: ReadContext = { baseDir, env };
  const top = Section.of('', doc).allow('kafka', 'rules', 'input', 'workers', 'delivery', 'dlq', 'sinks', 'breaker', 'metrics', 'webhook', 'shutdown_timeout_ms', 'log_level', 'hostname');

  const k = top.section('kafka').allow('brokers', 'client_id', 'group_id', 'input_topics', 'from_beginning', 'ssl', 'sasl', 'connection_timeout_ms', 'session_timeout_ms');
  const kafka = kafkaConnection(k, ctx);
  const r = top.section('rules').allow('paths', 'rule_matching', 'min_priority', 'source');
  const source = r.oneOf<EventSource>('source', ['k8s_audit', 'k8s_admission'], 'k8s_audit');
  const i = top.section('input').allow('format', 'max_message_bytes');
  const input: KafkaInputConfig = {
    type: 'kafka',
    name: 'kafka',
    topics: k.has('input_topics') || env.KESTREL_INPUT_TOPICS === undefined ? k.stringList('input_topics', undefined, 'must be a non-empty list of topic names') : (k.raw('input_topics'), []),
    groupId: k.string('group_id', 'kestrel'),
    fromBeginning: k.bool('from_beginning', true),
    sessionTimeoutMs: k.int('session_timeout_ms', 30_000, 6_000),
    format: i.oneOf('format', PAYLOAD_FORMATS, 'auto'),
    source,
    fields: {},
  };
  const w = top.section('workers').allow('count', 'max_in_flight_messages', 'max_in_flight_bytes');
  const engine: ServiceConfig['engine'] = {
    ruleMatching: r.oneOf('rule_matching', ['first', 'all'] as const, 'first'),
    minPriority: r.priority('min_priority', 'Debug'),
    workers: w.int('count', defaultWorkers(), 1, 256),
    maxInFlightMessages: w.int('max_in_flight_messages', DEFAULT_MAX_IN_FLIGHT_MESSAGES, 1),
    maxInFlightBytes: w.int('max_in_flight_bytes', DEFAULT_MAX_IN_FLIGHT_BYTES, 1024),
    maxEventBytes: i.int('max_message_bytes', 1 << 20, 1),
  };
  const rules = { paths: r.stringList('paths', undefined, 'must be a non-empty list of rule files or folders').map((p) => pathIn(ctx, p)) };

  // One breaker section for every sink then; each output has its own now.
  const breaker = breakerOf(top.section('breaker'), OUTPUT_BREAKER);
  const s = top.section('sinks').allow('kafka', 'stdout', 'file');
  const outputs: Omit<OutputConfig, 'name'>[] = [];
  const ks = s.optionalSection('kafka');
  if (ks || env.KESTREL_OUTPUT_TOPIC !== undefined) {
    const sec = (ks ?? Section.of(s.key('kafka'), { topic: env.KESTREL_OUTPUT_TOPIC })).allow('topic', 'key', 'min_priority');
    outputs.push({ ...outputOf('kafka', sec, 'kafka', ctx, { stdoutFormat: 'json' }), breaker });
  }
  const so = s.optionalSection('stdout')?.allow('enabled', 'min_priority', 'format');
  if (so?.bool('enabled', true)) outputs.push({ ...outputOf('stdout', so, 'stdout', ctx, { stdoutFormat: 'json' }), breaker });
  const fs = s.optionalSection('file')?.allow('path', 'min_priority', 'format');
  // consume's file sink appended without rotation or fsync.
  if (fs) outputs.push({ ...outputOf('file', fs, 'file', ctx, { stdoutFormat: 'json' }), breaker, maxBytes: 0, fsync: 'never' } as OutputConfig);
  if (outputs.length === 0) throw new ConfigError('sinks', 'configure at least one of kafka, stdout, file');

  const inputs: ServiceConfig['inputs'] = [input];
  const wh = top.optionalSection('webhook')?.allow('host', 'port', 'path', 'token_file', 'max_body_bytes', 'topic');
  if (wh) {
    const topics = envList(env, 'KESTREL_INPUT_TOPICS') ?? input.topics;
    const topic = wh.string('topic', topics[0]);
    if (!topics.includes(topic)) throw new ConfigError(wh.key('topic'), `must be one of kafka.input_topics (${topics.join(', ')})`);
    const tokenFile = wh.optionalString('token_file');
    const webhook: WebhookInputConfig = {
      type: 'webhook',
      name: 'webhook',
      host: wh.string('host', '0.0.0.0'),
      port: wh.int('port', 9765, 0, 65535),
      paths: [{ path: webhookPath(wh.key('path'), wh.string('path', '/k8s-audit')), source, fields: {} }],
      tokens: tokenFile ? [readSecretFile(pathIn(ctx, tokenFile), wh.key('token_file'))] : [],
      ...webhookLimits(Section.of('webhook', {})),
      maxBodyBytes: wh.int('max_body_bytes', DEFAULT_MAX_BODY_BYTES, 1),
      forwardTopic: topic,
    };
    inputs.push(webhook);
  }

  const d = top.section('delivery').allow('mode', 'commit_interval_ms', 'transactional_id');
  const dlq = top.optionalSection('dlq')?.allow('topic');
  const cfg: ServiceConfig = {
    inputs,
    kafka,
    rules,
    engine,
    shaping: { fields: {} },
    outputs: namedOutputs(outputs),
    delivery: { guarantee: d.oneOf('mode', ['at_least_once', 'exactly_once'] as const, 'at_least_once'), commitIntervalMs: d.int('commit_interval_ms', 200, 10, 60_000), transactionalId: '' },
    log: { level: logLevelOf(top, 'log_level', ctx) },
    hostname: top.string('hostname', defaultHostname()),
    shutdownTimeoutMs: top.int('shutdown_timeout_ms', 30_000, 100),
  };
  if (dlq) cfg.deadLetters = { topic: dlq.string('topic') };
  const metrics = metricsOf(top.optionalSection('metrics'), ctx);
  if (metrics) cfg.metrics = metrics;
  applyEnvironment(cfg, env);
  cfg.delivery.transactionalId = d.string('transactional_id', defaultTransactionalId(input.groupId));
  if (cfg.delivery.guarantee === 'exactly_once' && !cfg.outputs.some((o) => o.type === 'kafka')) {
    throw new ConfigError('delivery.mode', 'exactly_once needs sinks.kafka (alerts and offsets are committed in one Kafka transaction)');
  }
  checkServiceConfig(cfg);
  return cfg;
}

export interface ServeTranslation {
  config: ServiceConfig;
  /** True when the file names no sinks and the stdout output is serve's default (flags may replace it). */
  implicitStdout: boolean;
}

/** A serve-era file (`kestrel serve -c`); the translation with how its stdout output came to be. */
export function translateServeConfig(doc: unknown, baseDir: string, defaultRulesDir?: string): ServeTranslation {
  const ctx: ReadContext = { baseDir, env: {} };
  const top = Section.of('', doc).allow('rules', 'rule_matching', 'min_priority', 'hostname', 'listen', 'tls', 'auth', 'limits', 'paths', 'fields', 'throttle', 'forward', 'sinks', 'watch');

  let paths: string[];
  if (top.has('rules') || defaultRulesDir === undefined) paths = top.stringList('rules', undefined, 'must be a non-empty list of rule files or folders').map((p) => pathIn(ctx, p));
  else paths = (top.raw('rules'), [defaultRulesDir]);
  const rules: ServiceConfig['rules'] = { paths };
  const watch = watchOf(top.optionalSection('watch'));
  if (watch) rules.watch = watch;

  const listen = top.section('listen').allow('host', 'port');
  const limits = webhookLimits(top.section('limits'));
  const webhook: WebhookInputConfig = {
    type: 'webhook',
    name: 'webhook',
    host: listen.string('host', '0.0.0.0'),
    port: listen.int('port', 9765, 0, 65535),
    paths: webhookPaths(top, 'paths'),
    tokens: [],
    ...limits,
  };
  const auth = top.optionalSection('auth')?.allow('token_file', 'token_files');
  if (auth) webhook.tokens = webhookTokens(auth, ctx);
  const tls = top.optionalSection('tls');
  if (tls) webhook.tls = webhookTls(tls, ctx);

  let kafka: ServiceConfig['kafka'];
  const fwd = top.optionalSection('forward')?.allow('kafka');
  if (fwd) {
    const k = fwd.section('kafka').allow('brokers', 'topic', 'client_id');
    kafka = kafkaConnection(k, ctx, 'kestrel-serve');
    webhook.forwardTopic = k.string('topic');
  }

  const shaping: ServiceConfig['shaping'] = { fields: top.stringMap('fields') };
  const th = top.optionalSection('throttle');
  if (th) shaping.throttle = throttleOf(th);

  const selection = ['min_priority', 'rules', 'exclude_rules', 'tags', 'exclude_tags'];
  const s = top.section('sinks').allow('stdout', 'file', 'http');
  const outputs: OutputConfig[] = [];
  const so = s.optionalSection('stdout')?.allow('format', ...selection);
  if (so) outputs.push(outputOf('stdout', so, 'stdout', ctx, { stdoutFormat: 'text' }));
  const fs = s.optionalSection('file')?.allow('path', 'format', 'max_bytes', 'keep', 'fsync', 'fsync_interval_ms', ...selection);
  if (fs) outputs.push(outputOf('file', fs, 'file', ctx, { stdoutFormat: 'text' }));
  const hs = s.optionalSection('http')?.allow('url', 'headers', 'timeout_ms', 'max_retry_ms', 'max_pending', 'concurrency', 'breaker', 'ca_file', 'insecure_skip_verify', ...selection);
  if (hs) outputs.push(outputOf('http', hs, 'http', ctx, { stdoutFormat: 'text' }));
  // A forwarding serve never evaluated events, so its sinks never received an alert.
  if (webhook.forwardTopic) outputs.length = 0;
  const implicitStdout = outputs.length === 0 && !webhook.forwardTopic;
  if (implicitStdout) outputs.push(outputOf('stdout', Section.of('sinks.stdout', {}), 'stdout', ctx, { stdoutFormat: 'text' }));

  const cfg: ServiceConfig = {
    inputs: [webhook],
    rules,
    // serve evaluated in-process: one worker, and an event may be as large as a request body.
    engine: {
      ruleMatching: top.oneOf('rule_matching', ['first', 'all'] as const, 'first'),
      minPriority: top.priority('min_priority', 'Debug'),
      workers: 1,
      maxInFlightMessages: DEFAULT_MAX_IN_FLIGHT_MESSAGES,
      maxInFlightBytes: DEFAULT_MAX_IN_FLIGHT_BYTES,
      // The body limit bounds a batch; each event keeps the per-event limit of every input.
      maxEventBytes: DEFAULT_MAX_EVENT_BYTES,
    },
    shaping,
    outputs,
    delivery: { guarantee: 'at_least_once', commitIntervalMs: 200, transactionalId: defaultTransactionalId('kestrel') },
    log: { level: 'info' },
    hostname: top.string('hostname', defaultHostname()),
    shutdownTimeoutMs: 30_000,
  };
  if (kafka) cfg.kafka = kafka;
  top.done();
  checkServiceConfig(cfg);
  return { config: cfg, implicitStdout };
}

/** A serve-era file (`kestrel serve -c`); without `sinks` its alerts go to stdout as text, as serve did. */
export function legacyServeConfig(doc: unknown, baseDir: string, defaultRulesDir?: string): ServiceConfig {
  return translateServeConfig(doc, baseDir, defaultRulesDir).config;
}
