/**
 * Consume-era and serve-era files still load, translated into the service
 * model; a file mixing layouts fails naming the old key and its new name.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../src/config/fields';
import { detectLayout, legacyConsumeConfig, legacyServeConfig } from '../../src/config/legacy';
import { loadServiceConfig, parseServiceConfig, parseYaml } from '../../src/config/load';
import type { ServiceConfig } from '../../src/config/types';

const FIXTURES = resolve(__dirname, '../fixtures/legacy');
const CONSUME_BREAKER = { timeoutMs: 30000, errorThresholdPercentage: 50, resetTimeoutMs: 5000, volumeThreshold: 1 };
const HTTP_BREAKER = { timeoutMs: false as const, errorThresholdPercentage: 50, resetTimeoutMs: 10000, volumeThreshold: 5 };
const SERVE_LIMITS = { maxBodyBytes: 268435456, requestTimeoutMs: 30000, headersTimeoutMs: 10000, maxConcurrentRequests: 64, maxConcurrentRequestsPerClient: 16, maxEventsPerRequest: 10000 };

const error = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('consume-era files', () => {
  test('the consume-era example becomes the same service', () => {
    expect(loadServiceConfig(join(FIXTURES, 'consume.yaml'), {})).toEqual<ServiceConfig>({
      inputs: [{ type: 'kafka', name: 'kafka', topics: ['k8s-audit'], groupId: 'kestrel', fromBeginning: true, sessionTimeoutMs: 30000, format: 'auto', source: 'k8s_audit', fields: {} }],
      kafka: { brokers: ['kafka:9092'], clientId: 'kestrel', connectionTimeoutMs: 10000 },
      rules: { paths: ['/etc/kestrel/rules'] },
      engine: { ruleMatching: 'first', minPriority: 'Debug', workers: Math.max(1, cpus().length), maxInFlightMessages: 2000, maxInFlightBytes: 67108864, maxEventBytes: 1048576 },
      shaping: { fields: {} },
      outputs: [{ type: 'kafka', name: 'kafka', format: 'json', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Debug', breaker: CONSUME_BREAKER, topic: 'kestrel-alerts', key: 'rule' }],
      deadLetters: { topic: 'k8s-audit-dlq' },
      delivery: { guarantee: 'at_least_once', commitIntervalMs: 200, transactionalId: 'kestrel-kestrel' },
      metrics: { host: '0.0.0.0', port: 9376 },
      log: { level: 'info' },
      hostname: hostname(),
      shutdownTimeoutMs: 30000,
    });
  });

  test('every consume-era section, with its webhook, breaker and sinks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-legacy-'));
    writeFileSync(join(dir, 'token'), 'tok\n');
    const doc = parseYaml(`
kafka:
  brokers: ['[::1]:9092']
  group_id: g
  client_id: c
  input_topics: [a, b]
  from_beginning: false
  session_timeout_ms: 7000
  connection_timeout_ms: 500
  ssl: true
  sasl: { username: u, password: p }
rules: { paths: [r], rule_matching: all, min_priority: warning, source: k8s_admission }
input: { format: vector, max_message_bytes: 2048 }
workers: { count: 3, max_in_flight_messages: 10, max_in_flight_bytes: 4096 }
delivery: { mode: exactly_once, commit_interval_ms: 50 }
dlq: { topic: dead }
sinks:
  kafka: { topic: alerts, key: source, min_priority: notice }
  stdout: { format: text, min_priority: error }
  file: { path: out/alerts.json }
breaker: { timeout_ms: 1000, error_threshold_percentage: 10, reset_timeout_ms: 200, volume_threshold: 2 }
metrics: { host: 127.0.0.1, port: 9000 }
webhook: { host: 127.0.0.1, port: 9800, path: /audit, token_file: token, max_body_bytes: 100, topic: b }
shutdown_timeout_ms: 5000
log_level: debug
hostname: node-a
`);
    const breaker = { timeoutMs: 1000, errorThresholdPercentage: 10, resetTimeoutMs: 200, volumeThreshold: 2 };
    expect(legacyConsumeConfig(doc, dir, {})).toEqual<ServiceConfig>({
      inputs: [
        { type: 'kafka', name: 'kafka', topics: ['a', 'b'], groupId: 'g', fromBeginning: false, sessionTimeoutMs: 7000, format: 'vector', source: 'k8s_admission', fields: {} },
        { type: 'webhook', name: 'webhook', host: '127.0.0.1', port: 9800, paths: [{ path: '/audit', source: 'k8s_admission', fields: {} }], tokens: ['tok'], ...SERVE_LIMITS, maxBodyBytes: 100, forwardTopic: 'b' },
      ],
      kafka: { brokers: ['[::1]:9092'], clientId: 'c', connectionTimeoutMs: 500, ssl: { rejectUnauthorized: true }, sasl: { mechanism: 'plain', username: 'u', password: 'p' } },
      rules: { paths: [join(dir, 'r')] },
      engine: { ruleMatching: 'all', minPriority: 'Warning', workers: 3, maxInFlightMessages: 10, maxInFlightBytes: 4096, maxEventBytes: 2048 },
      shaping: { fields: {} },
      outputs: [
        { type: 'kafka', name: 'kafka', format: 'json', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Notice', breaker, topic: 'alerts', key: 'source' },
        { type: 'stdout', name: 'stdout', format: 'text', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Error', breaker },
        // consume's file sink: no rotation, no fsync
        { type: 'file', name: 'file', format: 'json', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Debug', breaker, path: join(dir, 'out/alerts.json'), maxBytes: 0, keep: 5, fsync: 'never', fsyncIntervalMs: 1000 },
      ],
      deadLetters: { topic: 'dead' },
      delivery: { guarantee: 'exactly_once', commitIntervalMs: 50, transactionalId: 'kestrel-g' },
      metrics: { host: '127.0.0.1', port: 9000 },
      log: { level: 'debug' },
      hostname: 'node-a',
      shutdownTimeoutMs: 5000,
    });
  });

  test("consume's environment overrides still apply", () => {
    const text = readFileSync(join(FIXTURES, 'consume.yaml'), 'utf8');
    const c = parseServiceConfig(text, '/etc/kestrel', {
      KESTREL_KAFKA_BROKERS: '[::1]:1,e2:2', KESTREL_KAFKA_GROUP: 'eg', KESTREL_INPUT_TOPICS: 'x,y', KESTREL_OUTPUT_TOPIC: 'eo',
      KESTREL_KAFKA_SASL_USERNAME: 'eu', KESTREL_KAFKA_SASL_PASSWORD: 'ep', KESTREL_METRICS_PORT: '9100', KESTREL_LOG_LEVEL: 'trace',
    });
    expect(c.kafka).toEqual({ brokers: ['[::1]:1', 'e2:2'], clientId: 'kestrel', connectionTimeoutMs: 10000, sasl: { mechanism: 'plain', username: 'eu', password: 'ep' } });
    expect(c.inputs).toMatchObject([{ topics: ['x', 'y'], groupId: 'eg' }]);
    expect(c.outputs).toMatchObject([{ type: 'kafka', topic: 'eo' }]);
    expect(c.metrics).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(c.log.level).toBe('trace');
  });

  test('KESTREL_OUTPUT_TOPIC adds the kafka sink, and KESTREL_INPUT_TOPICS stands for input_topics, as in consume', () => {
    const c = legacyConsumeConfig(parseYaml('kafka: { brokers: [k:1] }\nrules: { paths: [r] }\nsinks: { stdout: {} }'), '/', { KESTREL_OUTPUT_TOPIC: 'eo', KESTREL_INPUT_TOPICS: 'a' });
    expect(c.inputs).toMatchObject([{ topics: ['a'] }]);
    expect(c.outputs.map((o) => [o.type, o.name])).toEqual([['kafka', 'kafka'], ['stdout', 'stdout']]);
    expect(c.outputs[0]).toMatchObject({ topic: 'eo', format: 'json' });
    expect(c.outputs[1]).toMatchObject({ format: 'json' }); // consume's stdout default
  });

  test.each([
    ['kafka: { brokers: [k:1], input_topics: [a] }\nrules: { paths: [r] }\nsinks: {}', 'config: sinks: configure at least one of kafka, stdout, file'],
    ['kafka: { brokers: [k:1], input_topics: [a] }\nrules: { paths: [r] }\nsinks: { stdout: {} }\ndelivery: { mode: exactly_once }', 'config: delivery.mode: exactly_once needs sinks.kafka (alerts and offsets are committed in one Kafka transaction)'],
    ['kafka: { brokers: [k:1], input_topics: [a] }\nrules: { paths: [r] }\nsinks: { kafka: { topic: t } }\nwebhook: { topic: z }', 'config: webhook.topic: must be one of kafka.input_topics (a)'],
    ['kafka: { brokers: [k:1], input_topics: [a] }\nrules: { paths: [r] }\nsinks: { kafka: { topic: t, format: json } }', 'config: sinks.kafka.format: unknown key'],
    ['kafka: { brokers: [k:1], input_topics: [a] }\nrules: { paths: [r] }\nsinks: { kafka: { topic: t } }\nbreaker: { error_threshold_percentage: 0 }', 'config: breaker.error_threshold_percentage: must be an integer from 1 to 100'],
    ['kafka: { brokers: ["::1:9092"], input_topics: [a] }\nrules: { paths: [r] }\nsinks: { kafka: { topic: t } }', 'config: kafka.brokers: must be a non-empty list of host:port (IPv6 as [::1]:9092), got "::1:9092"'],
    ['kafka: { input_topics: [a] }\nrules: { paths: [r] }\nsinks: { kafka: { topic: t } }', 'config: kafka.brokers: must be a non-empty list of host:port'],
  ])('%#: consume-era errors name the key as written', (text, message) => {
    expect(error(() => parseServiceConfig(text, '/', {}))).toBe(message);
  });
});

describe('serve-era files', () => {
  test('the serve-era example becomes the same service', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-legacy-'));
    writeFileSync(join(dir, 'token'), 'tok-1\n');
    const text = readFileSync(join(FIXTURES, 'serve.yaml'), 'utf8').replace('/etc/kestrel/token/token', join(dir, 'token'));
    expect(parseServiceConfig(text, dir, {})).toEqual<ServiceConfig>({
      inputs: [
        {
          type: 'webhook', name: 'webhook', host: '0.0.0.0', port: 9765,
          paths: [
            { path: '/k8s-audit', source: 'k8s_audit', fields: { cluster: 'prod-eu-1' } },
            { path: '/k8s-admission', source: 'k8s_admission', fields: { cluster: 'prod-eu-1', feed: 'kube-audit-rest' } },
          ],
          tls: { certFile: '/etc/kestrel/tls/tls.crt', keyFile: '/etc/kestrel/tls/tls.key' },
          tokens: ['tok-1'],
          ...SERVE_LIMITS,
        },
      ],
      rules: { paths: ['/etc/kestrel/rules'], watch: { debounceMs: 500 } },
      engine: { ruleMatching: 'first', minPriority: 'Debug', workers: 1, maxInFlightMessages: 4000, maxInFlightBytes: 4194304, maxEventBytes: 16777216 },
      shaping: { fields: { environment: 'production' }, throttle: { windowMs: 60000, key: 'rule_output', rules: ['Disallowed K8s User'], maxKeys: 10000 } },
      outputs: [
        { type: 'stdout', name: 'stdout', format: 'json', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Notice', breaker: CONSUME_BREAKER },
        { type: 'file', name: 'file', format: 'json', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Debug', breaker: CONSUME_BREAKER, path: '/var/log/kestrel/alerts.jsonl', maxBytes: 104857600, keep: 5, fsync: 'interval', fsyncIntervalMs: 1000 },
        {
          type: 'http', name: 'http', format: 'json', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Warning', breaker: HTTP_BREAKER, url: 'http://falcosidekick.falco.svc:2801/', headers: {},
          timeoutMs: 5000, maxRetryMs: 20000, maxPending: 10000, concurrency: 4, insecureSkipVerify: false,
        },
      ],
      delivery: { guarantee: 'at_least_once', commitIntervalMs: 200, transactionalId: 'kestrel-kestrel' },
      log: { level: 'info' },
      hostname: hostname(),
      shutdownTimeoutMs: 30000,
    });
  });

  test('of the environment only KESTREL_LOG_LEVEL applies', () => {
    const c = parseServiceConfig('rules: [r]\nlisten: { port: 1 }', '/', { KESTREL_LOG_LEVEL: 'error', KESTREL_KAFKA_BROKERS: 'k:1', KESTREL_METRICS_PORT: '9' });
    expect([c.log.level, c.kafka, c.metrics]).toEqual(['error', undefined, undefined]);
  });

  test('no sinks: stdout as text; rules default passed in', () => {
    const c = legacyServeConfig(parseYaml('listen: { port: 8080 }'), '/srv', '/app/rules');
    expect(c.rules.paths).toEqual(['/app/rules']);
    expect(c.outputs).toEqual([{ type: 'stdout', name: 'stdout', format: 'text', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Debug', breaker: CONSUME_BREAKER }]);
  });

  test('forward: the Kafka connection and forward_topic, and no outputs (a forwarder evaluates nothing)', () => {
    const c = legacyServeConfig(parseYaml('rules: [r]\nforward: { kafka: { brokers: ["[::1]:9092"], topic: audit } }\nsinks: { stdout: {} }'), '/srv');
    expect(c.kafka).toEqual({ brokers: ['[::1]:9092'], clientId: 'kestrel-serve', connectionTimeoutMs: 10000 });
    expect(c.inputs).toMatchObject([{ type: 'webhook', port: 9765, forwardTopic: 'audit' }]);
    expect(c.outputs).toEqual([]);
  });

  test.each([
    ['rules: [r]\nlisten: { prot: 1 }', 'config: listen.prot: unknown key'],
    ['rules: [r]\nsinks: { http: { url: "ftp://x" } }', 'config: sinks.http.url: must be an http:// or https:// URL, got "ftp://x"'],
    ["rules: [r]\npaths: [{ path: k8s-audit }]", "config: paths[0].path: must start with '/'"],
    ['rules: [r]\npaths: [{ path: /a }, { path: /a }]', 'config: paths[1].path: /a is listed twice'],
    ['rules: [r]\nsinks: { file: { path: a, fsync: sometimes } }', 'config: sinks.file.fsync: must be one of always, interval, never (got "sometimes")'],
    ['rules: [r]\nsinks: { stdout: { format: text, enabled: true } }', 'config: sinks.stdout.enabled: unknown key'],
    ['rules: [r]\nauth: { token_file: /nonexistent/tok }', 'config: auth.token_file: cannot read /nonexistent/tok: ENOENT'],
    ['rules: [r]\nforward: { kafka: { brokers: [k:1], topic: t, sasl: {} } }', 'config: forward.kafka.sasl: unknown key'],
    ['listen: {}', 'config: rules: must be a non-empty list of rule files or folders'],
  ])('%#: serve-era errors name the key as written', (text, message) => {
    expect(error(() => parseServiceConfig(text, '/', {}))).toBe(message);
  });
});

describe('layout detection and mixing', () => {
  test.each([
    ['inputs: []', 'service'],
    ['kafka: { brokers: [k:1] }', 'service'],
    ['{}', 'service'],
    ['kafka: { input_topics: [a] }', 'consume'],
    ['dlq: { topic: d }', 'consume'],
    ['log_level: info', 'consume'],
    ['kafka: { brokers: [k:1] }\nsinks: { stdout: {} }', 'consume'],
    ['sinks: { stdout: {} }', 'serve'],
    ['rules: [r]', 'serve'],
    ['listen: { port: 1 }', 'serve'],
    ['sinks: { http: { url: "http://x/" } }', 'serve'],
  ])('%s is %s', (text, layout) => {
    expect(detectLayout(parseYaml(text))).toBe(layout);
  });

  test.each([
    ['inputs: [{ type: webhook }]\ndlq: { topic: d }', "config: dlq: is an old key, now 'dead_letters'; this file also uses the new layout (inputs), so rename it (see deploy/kestrel.reference.yaml)"],
    ['outputs: [{ type: stdout }]\nsinks: { kafka: { topic: t } }', "config: sinks.kafka: is an old key, now 'outputs (type: kafka)'; this file also uses the new layout (outputs), so rename it (see deploy/kestrel.reference.yaml)"],
    ['engine: { workers: 2 }\nlog_level: info', "config: log_level: is an old key, now 'log.level'; this file also uses the new layout (engine), so rename it (see deploy/kestrel.reference.yaml)"],
    ['inputs: [{ type: webhook }]\nlisten: { port: 1 }', "config: listen: is an old key, now 'inputs[].host and inputs[].port (type: webhook)'; this file also uses the new layout (inputs), so rename it (see deploy/kestrel.reference.yaml)"],
    ['shaping: {}\nrules: [r]', "config: rules: is an old key, now 'rules.paths'; this file also uses the new layout (shaping), so rename it (see deploy/kestrel.reference.yaml)"],
    ['rules: { paths: [r], watch: {} }\nthrottle: { window_ms: 1 }', "config: throttle: is an old key, now 'shaping.throttle'; this file also uses the new layout (rules.watch), so rename it (see deploy/kestrel.reference.yaml)"],
    ['kafka: { brokers: [k:1], input_topics: [a] }\nsinks: { http: { url: "http://x/" } }', "config: sinks.http: is a 'kestrel serve' key in a consume-era file (kafka.input_topics); move the file to the new layout, where it is 'outputs (type: http)' (see deploy/kestrel.reference.yaml)"],
    ['kafka: { brokers: [k:1], input_topics: [a] }\nthrottle: { window_ms: 1 }', "config: throttle: is a 'kestrel serve' key in a consume-era file (kafka.input_topics); move the file to the new layout, where it is 'shaping.throttle' (see deploy/kestrel.reference.yaml)"],
  ])('%#: mixing layouts names the old key and its new name', (text, message) => {
    expect(error(() => parseServiceConfig(text, '/', {}))).toBe(message);
  });
});
