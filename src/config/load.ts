/**
 * Loading `kestrel.yaml` for `kestrel consume`: YAML → validated KestrelConfig.
 * Every mistake is one ConfigError naming the key (or environment variable).
 * Relative paths (rules, file sink, TLS files) are resolved against the config
 * file's folder so the process can start from anywhere.
 *
 * Environment overrides (applied after the file, validated the same way):
 *   KESTREL_KAFKA_BROKERS (comma list), KESTREL_KAFKA_GROUP, KESTREL_INPUT_TOPICS
 *   (comma list), KESTREL_OUTPUT_TOPIC, KESTREL_KAFKA_SASL_USERNAME,
 *   KESTREL_KAFKA_SASL_PASSWORD, KESTREL_METRICS_PORT.
 */
import { readFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { parsePriority, type Priority } from '../language/priority';
import { ConfigError, Section } from './fields';
import { PAYLOAD_FORMATS } from '../decode/envelope';
import type { AlertKey } from '../sinks/kafka';
import { type KestrelConfig, type SaslMechanism, type StreamSinkConfig } from './types';

export { ConfigError } from './fields';

export type Env = Record<string, string | undefined>;

const HOST_PORT = /^[A-Za-z0-9._-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/;
const BROKERS_PROBLEM = 'must be a non-empty list of host:port';

function brokersFrom(key: string, list: string[]): string[] {
  if (list.length === 0 || list.some((b) => !HOST_PORT.test(b) || Number(b.slice(b.lastIndexOf(':') + 1)) > 65535)) throw new ConfigError(key, BROKERS_PROBLEM);
  return list;
}

function envList(env: Env, name: string): string[] | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const list = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new ConfigError(name, 'must be a non-empty comma-separated list');
  return list;
}

function envString(env: Env, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  if (v.trim() === '') throw new ConfigError(name, 'must not be empty');
  return v;
}

function priority(s: Section, k: string, dflt: Priority): Priority {
  const v = s.raw(k);
  if (v === undefined) return dflt;
  const p = typeof v === 'string' ? parsePriority(v) : undefined;
  if (!p) throw new ConfigError(s.key(k), `must be a Falco priority (emergency, alert, critical, error, warning, notice, informational, debug), got ${JSON.stringify(v)}`);
  return p;
}

/** Parse and validate config text. `baseDir` anchors relative paths. */
export function parseConfig(text: string, baseDir: string, env: Env = process.env): KestrelConfig {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0].line;
    throw new ConfigError(line ? `line ${line}` : '(file)', `invalid YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:$/, '')}`);
  }
  const top = Section.of('', doc.toJS()).allow('kafka', 'rules', 'input', 'workers', 'delivery', 'dlq', 'sinks', 'breaker', 'metrics', 'webhook', 'shutdown_timeout_ms', 'log_level', 'hostname');
  const path = (p: string) => resolve(baseDir, p);

  // kafka
  const k = top.section('kafka').allow('brokers', 'client_id', 'group_id', 'input_topics', 'from_beginning', 'ssl', 'sasl', 'connection_timeout_ms', 'session_timeout_ms');
  const brokers = envList(env, 'KESTREL_KAFKA_BROKERS');
  const kafka: KestrelConfig['kafka'] = {
    brokers: brokers ? brokersFrom('KESTREL_KAFKA_BROKERS', brokers) : brokersFrom(k.key('brokers'), k.stringList('brokers', undefined, BROKERS_PROBLEM)),
    clientId: k.string('client_id', 'kestrel'),
    // File values are validated even when the environment overrides them.
    groupId: [k.string('group_id', 'kestrel')].map((g) => envString(env, 'KESTREL_KAFKA_GROUP') ?? g)[0],
    inputTopics: envList(env, 'KESTREL_INPUT_TOPICS') ?? k.stringList('input_topics', undefined, 'must be a non-empty list of topic names'),
    fromBeginning: k.bool('from_beginning', true),
    connectionTimeoutMs: k.int('connection_timeout_ms', 10_000, 100),
    sessionTimeoutMs: k.int('session_timeout_ms', 30_000, 6_000),
  };

  const ssl = k.raw('ssl');
  if (ssl === true) kafka.ssl = { rejectUnauthorized: true };
  else if (ssl !== undefined && ssl !== false) {
    const s = Section.of(k.key('ssl'), ssl).allow('ca_file', 'cert_file', 'key_file', 'reject_unauthorized');
    const opt = (key: string) => {
      const v = s.optionalString(key);
      return v === undefined ? undefined : path(v);
    };
    kafka.ssl = { caFile: opt('ca_file'), certFile: opt('cert_file'), keyFile: opt('key_file'), rejectUnauthorized: s.bool('reject_unauthorized', true) };
    if ((kafka.ssl.certFile === undefined) !== (kafka.ssl.keyFile === undefined)) throw new ConfigError(s.key(kafka.ssl.certFile ? 'key_file' : 'cert_file'), 'is required when the other of cert_file/key_file is set');
  }
  const saslSec = k.optionalSection('sasl');
  const envUser = envString(env, 'KESTREL_KAFKA_SASL_USERNAME');
  const envPass = envString(env, 'KESTREL_KAFKA_SASL_PASSWORD');
  if (saslSec || envUser || envPass) {
    const s = (saslSec ?? Section.of(k.key('sasl'), {})).allow('mechanism', 'username', 'password');
    const mechanism = s.oneOf<SaslMechanism>('mechanism', ['plain', 'scram-sha-256', 'scram-sha-512'], 'plain');
    const username = envUser ?? s.optionalString('username');
    const password = envPass ?? s.optionalString('password');
    if (!username) throw new ConfigError(s.key('username'), 'is required with SASL (or set KESTREL_KAFKA_SASL_USERNAME)');
    if (!password) throw new ConfigError(s.key('password'), 'is required with SASL (or set KESTREL_KAFKA_SASL_PASSWORD)');
    kafka.sasl = { mechanism, username, password };
  }

  // rules
  const r = top.section('rules').allow('paths', 'rule_matching', 'min_priority', 'source');
  const rules: KestrelConfig['rules'] = {
    paths: r.stringList('paths', undefined, 'must be a non-empty list of rule files or folders').map(path),
    ruleMatching: r.oneOf('rule_matching', ['first', 'all'], 'first'),
    minPriority: priority(r, 'min_priority', 'Debug'),
    source: r.oneOf('source', ['k8s_audit', 'k8s_admission'], 'k8s_audit'),
  };

  const i = top.section('input').allow('format', 'max_message_bytes');
  const input: KestrelConfig['input'] = { format: i.oneOf('format', PAYLOAD_FORMATS, 'auto'), maxMessageBytes: i.int('max_message_bytes', 1 << 20, 1) };

  const w = top.section('workers').allow('count', 'max_in_flight_messages', 'max_in_flight_bytes');
  const workers: KestrelConfig['workers'] = {
    count: w.int('count', Math.max(1, cpus().length), 1, 256),
    maxInFlightMessages: w.int('max_in_flight_messages', 2000, 1),
    maxInFlightBytes: w.int('max_in_flight_bytes', 64 << 20, 1024),
  };

  const d = top.section('delivery').allow('mode', 'commit_interval_ms', 'transactional_id');
  const delivery: KestrelConfig['delivery'] = {
    mode: d.oneOf('mode', ['at_least_once', 'exactly_once'], 'at_least_once'),
    commitIntervalMs: d.int('commit_interval_ms', 200, 10, 60_000),
    transactionalId: '',
  };
  delivery.transactionalId = d.string('transactional_id', `kestrel-${kafka.groupId}-${hostname()}`);

  const dlqSec = top.optionalSection('dlq');
  let dlq: KestrelConfig['dlq'];
  if (dlqSec) {
    dlqSec.allow('topic');
    dlq = { topic: dlqSec.string('topic') };
  }

  const s = top.section('sinks').allow('kafka', 'stdout', 'file');
  const sinks: KestrelConfig['sinks'] = {};
  const ks = s.optionalSection('kafka');
  const outputEnv = envString(env, 'KESTREL_OUTPUT_TOPIC');
  if (ks || outputEnv) {
    const sec = (ks ?? Section.of(s.key('kafka'), {})).allow('topic', 'key', 'min_priority');
    const topic = outputEnv !== undefined ? (sec.optionalString('topic'), outputEnv) : sec.string('topic');
    sinks.kafka = { topic, key: sec.oneOf<AlertKey>('key', ['rule', 'priority', 'source', 'none'], 'rule'), minPriority: priority(sec, 'min_priority', 'Debug') };
  }
  const streamSink = (sec: Section): StreamSinkConfig => ({ minPriority: priority(sec, 'min_priority', 'Debug'), format: sec.oneOf('format', ['json', 'text'], 'json') });
  const so = s.optionalSection('stdout');
  if (so?.allow('enabled', 'min_priority', 'format') && so.bool('enabled', true)) sinks.stdout = streamSink(so);
  const fs = s.optionalSection('file');
  if (fs) {
    fs.allow('path', 'min_priority', 'format');
    sinks.file = { path: path(fs.string('path')), ...streamSink(fs) };
  }
  if (!sinks.kafka && !sinks.stdout && !sinks.file) throw new ConfigError('sinks', 'configure at least one of kafka, stdout, file');
  if (delivery.mode === 'exactly_once' && !sinks.kafka) throw new ConfigError('delivery.mode', 'exactly_once needs sinks.kafka (alerts and offsets are committed in one Kafka transaction)');

  const b = top.section('breaker').allow('timeout_ms', 'error_threshold_percentage', 'reset_timeout_ms', 'volume_threshold');
  const breaker: KestrelConfig['breaker'] = {
    timeoutMs: b.int('timeout_ms', 30_000, 100),
    errorThresholdPercentage: b.int('error_threshold_percentage', 50, 1, 100),
    resetTimeoutMs: b.int('reset_timeout_ms', 5_000, 10),
    volumeThreshold: b.int('volume_threshold', 1, 0),
  };

  const m = top.optionalSection('metrics')?.allow('enabled', 'host', 'port');
  let metrics: KestrelConfig['metrics'];
  const portEnv = env.KESTREL_METRICS_PORT;
  if (portEnv !== undefined && !/^\d{1,5}$/.test(portEnv)) throw new ConfigError('KESTREL_METRICS_PORT', 'must be a port number');
  if (m ? m.bool('enabled', true) : portEnv !== undefined) {
    const sec = m ?? Section.of('metrics', {});
    const filePort = sec.int('port', 9376, 0, 65535);
    metrics = { host: sec.string('host', '0.0.0.0'), port: portEnv !== undefined ? Number(portEnv) : filePort };
  }

  const wh = top.optionalSection('webhook')?.allow('host', 'port', 'path', 'token_file', 'max_body_bytes', 'topic');
  let webhook: KestrelConfig['webhook'];
  if (wh) {
    const webhookPath = wh.string('path', '/k8s-audit');
    if (!webhookPath.startsWith('/')) throw new ConfigError(wh.key('path'), "must start with '/'");
    const topic = wh.string('topic', kafka.inputTopics[0]);
    if (!kafka.inputTopics.includes(topic)) throw new ConfigError(wh.key('topic'), `must be one of kafka.input_topics (${kafka.inputTopics.join(', ')})`);
    const tokenFile = wh.optionalString('token_file');
    let tokens: string[] = [];
    if (tokenFile) {
      let token = '';
      try {
        token = readFileSync(path(tokenFile), 'utf8').trim();
      } catch (e) {
        throw new ConfigError(wh.key('token_file'), `cannot read ${path(tokenFile)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (!token) throw new ConfigError(wh.key('token_file'), `${path(tokenFile)} is empty`);
      tokens = [token];
    }
    webhook = { host: wh.string('host', '0.0.0.0'), port: wh.int('port', 9765, 0, 65535), path: webhookPath, tokens, maxBodyBytes: wh.int('max_body_bytes', 16 * 1024 * 1024, 1), topic };
  }

  const config: KestrelConfig = {
    kafka, rules, input, workers, delivery, dlq, sinks, breaker, metrics, webhook,
    shutdownTimeoutMs: top.int('shutdown_timeout_ms', 30_000, 100),
    logLevel: top.oneOf('log_level', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    hostname: top.string('hostname', hostname()),
  };
  return config;
}

export function loadConfig(file: string, env: Env = process.env): KestrelConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfig(text, dirname(resolve(file)), env);
}
