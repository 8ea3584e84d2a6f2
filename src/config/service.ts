/**
 * The service layout (deploy/kestrel.reference.yaml documents every key):
 * inputs -> rules/engine -> shaping -> outputs, plus the Kafka connection,
 * dead letters, delivery, metrics and log. A parsed YAML document in, a
 * validated ServiceConfig out; every mistake is one ConfigError naming the key.
 */
import { applyEnvironment, checkServiceConfig } from './checks';
import { ConfigError, Section } from './fields';
import {
  INPUT_TYPES, OUTPUT_COMMON_KEYS, correlationOf, OUTPUT_KEYS, OUTPUT_TYPES, defaultHostname, defaultNames, defaultTransactionalId, defaultWorkers, fileInput, kafkaConnection,
  kafkaInput, logLevelOf, metricsOf, outputOf, pathIn, throttleOf, watchOf, webhookInput, type ReadContext,
} from './sections';
import type { InputConfig, OutputConfig, ServiceConfig } from './types';
import { DEFAULT_MAX_IN_FLIGHT_BYTES, DEFAULT_MAX_IN_FLIGHT_MESSAGES } from './types';

/** Top-level keys of the service layout. */
export const SERVICE_KEYS = ['inputs', 'kafka', 'rules', 'engine', 'shaping', 'outputs', 'dead_letters', 'delivery', 'metrics', 'log', 'hostname', 'shutdown_timeout_ms', 'correlation'];

const INPUT_KEYS: Record<InputConfig['type'], string[]> = {
  kafka: ['topics', 'group_id', 'from_beginning', 'session_timeout_ms', 'format', 'source', 'fields', 'aks_categories', 'fetch'],
  webhook: ['host', 'port', 'paths', 'tls', 'token_file', 'token_files', 'limits', 'forward_topic', 'spool'],
  file: ['path', 'format', 'source', 'fields', 'aks_categories'],
};

export interface ServiceDefaults {
  /** Rules used when `rules.paths` is absent (the serve preset: Kestrel's rules/); else it is required. */
  defaultRulesDir?: string;
}

/** `type:` of a list item, read before the other keys so that the allowed keys are known. */
function typeOf<T extends string>(s: Section, types: readonly T[]): T {
  if (!s.has('type')) throw new ConfigError(s.key('type'), `is required (${types.join(', ')})`);
  return s.oneOf('type', types, types[0]);
}

function names(items: Section[]): string[] {
  const types = items.map((s) => String(s.has('type') ? (s.raw('type') as string) : ''));
  const dflt = defaultNames(types.map((t) => t.toLowerCase()));
  return items.map((s, i) => s.string('name', dflt[i]));
}

function inputs(top: Section, ctx: ReadContext): InputConfig[] {
  const items = top.sectionList('inputs', 'must be a non-empty list of inputs (type: kafka, webhook or file)');
  const types = items.map((s) => typeOf(s, INPUT_TYPES));
  const named = names(items);
  return items.map((s, i) => {
    const type = types[i];
    s.allow('type', 'name', ...INPUT_KEYS[type]);
    const input = type === 'kafka' ? kafkaInput(s, named[i], ctx) : type === 'webhook' ? webhookInput(s, named[i], ctx) : fileInput(s, named[i], ctx);
    s.done();
    return input;
  });
}

function outputs(top: Section, ctx: ReadContext): OutputConfig[] {
  if (!top.has('outputs')) return (top.raw('outputs'), []); // checked with the inputs (forwarding webhooks need none)
  const items = top.sectionList('outputs', 'must be a non-empty list of outputs (type: kafka, http, file or stdout)');
  const types = items.map((s) => typeOf(s, OUTPUT_TYPES));
  const named = names(items);
  return items.map((s, i) => {
    s.allow(...OUTPUT_COMMON_KEYS, ...OUTPUT_KEYS[types[i]]);
    const output = outputOf(types[i], s, named[i], ctx, { stdoutFormat: 'json' });
    s.done();
    return output;
  });
}

/** Validate a service-layout document; relative paths are resolved against `ctx.baseDir`. */
export function serviceConfigFrom(doc: unknown, ctx: ReadContext, defaults: ServiceDefaults = {}): ServiceConfig {
  const top = Section.of('', doc).allow(...SERVICE_KEYS);

  const k = top.optionalSection('kafka')?.allow('brokers', 'client_id', 'ssl', 'sasl', 'connection_timeout_ms', 'metadata_max_age_ms');
  const kafka = k || ctx.env.KESTREL_KAFKA_BROKERS !== undefined ? kafkaConnection(k ?? Section.of('kafka', {}), ctx) : undefined;
  k?.done();

  const r = top.section('rules').allow('paths', 'watch');
  const rulesDefault = defaults.defaultRulesDir === undefined ? undefined : [defaults.defaultRulesDir];
  const rules: ServiceConfig['rules'] = { paths: r.stringList('paths', rulesDefault, 'must be a non-empty list of rule files or folders').map((p) => pathIn(ctx, p)) };
  const watch = watchOf(r.optionalSection('watch'));
  if (watch) rules.watch = watch;
  r.done();

  const e = top.section('engine').allow('rule_matching', 'min_priority', 'workers', 'max_in_flight_messages', 'max_in_flight_bytes', 'max_event_bytes');
  const engine: ServiceConfig['engine'] = {
    ruleMatching: e.oneOf('rule_matching', ['first', 'all'] as const, 'first'),
    minPriority: e.priority('min_priority', 'Debug'),
    workers: e.int('workers', defaultWorkers(), 1, 256),
    maxInFlightMessages: e.int('max_in_flight_messages', DEFAULT_MAX_IN_FLIGHT_MESSAGES, 1),
    maxInFlightBytes: e.int('max_in_flight_bytes', DEFAULT_MAX_IN_FLIGHT_BYTES, 1024),
    maxEventBytes: e.int('max_event_bytes', 1 << 20, 1),
  };
  e.done();

  const sh = top.section('shaping').allow('fields', 'throttle');
  const shaping: ServiceConfig['shaping'] = { fields: sh.stringMap('fields') };
  const th = sh.optionalSection('throttle');
  if (th) shaping.throttle = throttleOf(th);
  sh.done();

  const inputList = inputs(top, ctx);
  const outputList = outputs(top, ctx);

  const dl = top.optionalSection('dead_letters')?.allow('topic');
  const deadLetters = dl ? { topic: dl.string('topic') } : undefined;

  const lg = top.section('log').allow('level');
  const cfg: ServiceConfig = {
    inputs: inputList,
    rules,
    engine,
    shaping,
    outputs: outputList,
    delivery: { guarantee: 'at_least_once', commitIntervalMs: 200, transactionalId: '' },
    log: { level: logLevelOf(lg, 'level', ctx) },
    hostname: top.string('hostname', defaultHostname()),
    shutdownTimeoutMs: top.int('shutdown_timeout_ms', 30_000, 100),
  };
  if (kafka) cfg.kafka = kafka;
  if (deadLetters) cfg.deadLetters = deadLetters;
  const corr = top.optionalSection('correlation');
  if (corr) cfg.correlation = correlationOf(corr);
  const metrics = metricsOf(top.optionalSection('metrics'), ctx);
  if (metrics) cfg.metrics = metrics;

  applyEnvironment(cfg, ctx.env);

  const d = top.section('delivery').allow('guarantee', 'commit_interval_ms', 'transactional_id');
  const firstGroup = cfg.inputs.find((i) => i.type === 'kafka')?.groupId ?? 'kestrel';
  cfg.delivery = {
    guarantee: d.oneOf('guarantee', ['at_least_once', 'exactly_once'] as const, 'at_least_once'),
    commitIntervalMs: d.int('commit_interval_ms', 200, 10, 60_000),
    transactionalId: d.string('transactional_id', defaultTransactionalId(firstGroup)),
  };
  d.done();
  lg.done();
  dl?.done();
  top.done();

  checkServiceConfig(cfg);
  return cfg;
}
