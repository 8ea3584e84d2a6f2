/** TEMPORARY: consume-era and serve-era configs as a ServiceConfig (replaced by config/ presets). */
import type { KestrelConfig, OutputConfig, ServiceConfig } from '../config/types';
import type { ServeConfig } from './serve';

const BREAKER = { timeoutMs: 30_000, errorThresholdPercentage: 50, resetTimeoutMs: 5_000, volumeThreshold: 1 };

export function fromKestrelConfig(c: KestrelConfig): ServiceConfig {
  const breaker = c.breaker;
  const outputs: OutputConfig[] = [];
  if (c.sinks.kafka) outputs.push({ type: 'kafka', name: 'kafka', topic: c.sinks.kafka.topic, key: c.sinks.kafka.key, minPriority: c.sinks.kafka.minPriority, format: 'json', breaker });
  if (c.sinks.stdout) outputs.push({ type: 'stdout', name: 'stdout', minPriority: c.sinks.stdout.minPriority, format: c.sinks.stdout.format, breaker });
  if (c.sinks.file) outputs.push({ type: 'file', name: 'file', path: c.sinks.file.path, minPriority: c.sinks.file.minPriority, format: c.sinks.file.format, breaker, maxBytes: 0, keep: 5, fsync: 'never', fsyncIntervalMs: 1000 });
  const inputs: ServiceConfig['inputs'] = [{ type: 'kafka', name: 'kafka', topics: c.kafka.inputTopics, groupId: c.kafka.groupId, fromBeginning: c.kafka.fromBeginning, sessionTimeoutMs: c.kafka.sessionTimeoutMs, format: c.input.format, source: c.rules.source, fields: {} }];
  if (c.webhook) {
    inputs.push({ type: 'webhook', name: 'webhook', host: c.webhook.host, port: c.webhook.port, paths: [{ path: c.webhook.path, source: c.rules.source, fields: {} }], tokens: c.webhook.tokens, maxBodyBytes: c.webhook.maxBodyBytes, requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, maxConcurrentRequests: 64, forwardTopic: c.webhook.topic });
  }
  return {
    inputs,
    kafka: { brokers: c.kafka.brokers, clientId: c.kafka.clientId, ssl: c.kafka.ssl, sasl: c.kafka.sasl, connectionTimeoutMs: c.kafka.connectionTimeoutMs },
    rules: { paths: c.rules.paths },
    engine: { ruleMatching: c.rules.ruleMatching, minPriority: c.rules.minPriority, workers: c.workers.count, maxInFlightMessages: c.workers.maxInFlightMessages, maxInFlightBytes: c.workers.maxInFlightBytes, maxEventBytes: c.input.maxMessageBytes },
    shaping: { fields: {} },
    outputs,
    deadLetters: c.dlq,
    delivery: { guarantee: c.delivery.mode, commitIntervalMs: c.delivery.commitIntervalMs, transactionalId: c.delivery.transactionalId },
    metrics: c.metrics,
    log: { level: c.logLevel },
    hostname: c.hostname,
    shutdownTimeoutMs: c.shutdownTimeoutMs,
  };
}

export function fromServeConfig(c: ServeConfig): ServiceConfig {
  const outputs: OutputConfig[] = [];
  const sel = (f: { minPriority: ServiceConfig['engine']['minPriority']; filter: { rules?: string[]; excludeRules?: string[]; tags?: string[]; excludeTags?: string[] } }) => ({ minPriority: f.minPriority, ...f.filter });
  if (c.sinks.stdout) outputs.push({ type: 'stdout', name: 'stdout', ...sel(c.sinks.stdout), format: c.sinks.stdout.format, breaker: BREAKER });
  if (c.sinks.file) {
    const f = c.sinks.file;
    outputs.push({ type: 'file', name: 'file', ...sel(f), format: f.format, breaker: BREAKER, path: f.path, maxBytes: f.maxBytes, keep: f.keep, fsync: f.fsync, fsyncIntervalMs: f.fsyncIntervalMs });
  }
  if (c.sinks.http) {
    const h = c.sinks.http;
    outputs.push({ type: 'http', name: 'http', ...sel(h), format: 'json', breaker: { ...BREAKER, ...h.breaker }, url: h.url, headers: h.headers, timeoutMs: h.timeoutMs, maxRetryMs: h.maxRetryMs, maxPending: h.maxPending, concurrency: h.concurrency, caFile: h.caFile, insecureSkipVerify: h.insecureSkipVerify });
  }
  return {
    inputs: [{
      type: 'webhook', name: 'webhook', host: c.listen.host, port: c.listen.port, paths: c.routes.map((r) => ({ path: r.path, source: r.source, fields: r.fields ?? {} })), tls: c.tls, tokens: c.tokens,
      maxBodyBytes: c.limits.maxBodyBytes, requestTimeoutMs: c.limits.requestTimeoutMs, headersTimeoutMs: c.limits.headersTimeoutMs, maxConcurrentRequests: c.limits.maxConcurrentRequests, forwardTopic: c.forward?.topic,
    }],
    kafka: c.forward ? { brokers: c.forward.brokers, clientId: c.forward.clientId, connectionTimeoutMs: 10_000 } : undefined,
    rules: { paths: c.rules, watch: c.watch },
    engine: { ruleMatching: c.ruleMatching, minPriority: c.minPriority, workers: 1, maxInFlightMessages: 2000, maxInFlightBytes: 64 << 20, maxEventBytes: c.limits.maxBodyBytes },
    shaping: { fields: c.fields, throttle: c.throttle },
    outputs: c.forward ? [] : outputs,
    delivery: { guarantee: 'at_least_once', commitIntervalMs: 200, transactionalId: '' },
    log: { level: 'info' },
    hostname: c.hostname,
    shutdownTimeoutMs: 30_000,
  };
}
