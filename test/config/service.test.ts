/**
 * The service layout: defaults, every value, environment overrides, and one
 * exact error line per mistake.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadServiceConfig, parseServiceConfig } from '../../src/config/load';
import type { ServiceConfig } from '../../src/config/types';

const MIN = `
inputs:
  - type: kafka
    topics: [audit]
kafka:
  brokers: [k1:9092]
rules:
  paths: [rules/]
outputs:
  - type: kafka
    topic: alerts
`;

const parse = (text: string, env: Record<string, string> = {}) => parseServiceConfig(text, '/etc/kestrel', env);
const error = (text: string, env: Record<string, string> = {}): string => {
  try {
    parse(text, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('no error');
};

/** [text, message] cases titled by their message. */
const swap = (cases: [string, string][]): [string, string][] => cases.map(([text, message]) => [message, text]);

const CONSUME_BREAKER = { timeoutMs: 30000, errorThresholdPercentage: 50, resetTimeoutMs: 5000, volumeThreshold: 1 };

describe('service layout: defaults and values', () => {
  test('a minimal file gets every default', () => {
    expect(parse(MIN)).toEqual<ServiceConfig>({
      inputs: [{ type: 'kafka', name: 'kafka', topics: ['audit'], groupId: 'kestrel', fromBeginning: true, sessionTimeoutMs: 30000, format: 'auto', source: 'k8s_audit', fields: {} }],
      kafka: { brokers: ['k1:9092'], clientId: 'kestrel', connectionTimeoutMs: 10000 },
      rules: { paths: ['/etc/kestrel/rules'] },
      engine: { ruleMatching: 'first', minPriority: 'Debug', workers: Math.max(1, cpus().length), maxInFlightMessages: 4000, maxInFlightBytes: 4194304, maxEventBytes: 1048576 },
      shaping: { fields: {} },
      outputs: [{ type: 'kafka', name: 'kafka', format: 'json', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Debug', breaker: CONSUME_BREAKER, topic: 'alerts', key: 'rule' }],
      delivery: { guarantee: 'at_least_once', commitIntervalMs: 200, transactionalId: 'kestrel-kestrel' },
      log: { level: 'info' },
      hostname: hostname(),
      shutdownTimeoutMs: 30000,
    });
  });

  test('webhook, file and stdout defaults (serve limits, http output defaults of serve)', () => {
    const c = parse(`
inputs: [{ type: webhook }, { type: file, path: events.jsonl }, { type: file, path: '-' }]
rules: { paths: [/r] }
outputs: [{ type: stdout }, { type: http, url: 'https://sidekick:2801/' }, { type: file, path: out/alerts.jsonl }]
`);
    expect(c.inputs).toEqual([
      {
        type: 'webhook', name: 'webhook', host: '0.0.0.0', port: 9765, paths: [{ path: '/k8s-audit', source: 'k8s_audit', fields: {} }], tokens: [],
        maxBodyBytes: 268435456, requestTimeoutMs: 30000, headersTimeoutMs: 10000, maxConcurrentRequests: 64, maxConcurrentRequestsPerClient: 16, maxEventsPerRequest: 10000,
      },
      { type: 'file', name: 'file-1', path: '/etc/kestrel/events.jsonl', format: 'auto', source: 'k8s_audit', fields: {} },
      { type: 'file', name: 'file-2', path: '-', format: 'auto', source: 'k8s_audit', fields: {} },
    ]);
    expect(c.outputs).toEqual([
      { type: 'stdout', name: 'stdout', format: 'json', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Debug', breaker: CONSUME_BREAKER },
      {
        type: 'http', name: 'http', format: 'json', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Debug', breaker: { timeoutMs: false, errorThresholdPercentage: 50, resetTimeoutMs: 10000, volumeThreshold: 5 },
        url: 'https://sidekick:2801/', headers: {}, timeoutMs: 5000, maxRetryMs: 30000, maxPending: 10000, concurrency: 4, insecureSkipVerify: false,
      },
      { type: 'file', name: 'file', format: 'json', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Debug', breaker: CONSUME_BREAKER, path: '/etc/kestrel/out/alerts.jsonl', maxBytes: 104857600, keep: 5, fsync: 'interval', fsyncIntervalMs: 1000 },
    ]);
    expect(c.kafka).toBeUndefined();
    expect(c.metrics).toBeUndefined();
  });

  test('every section with values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-cfg-'));
    writeFileSync(join(dir, 'token'), ' tok-a \n');
    writeFileSync(join(dir, 'token2'), 'tok-b');
    const c = parseServiceConfig(`
inputs:
  - { type: kafka, name: k, topics: [a, b], group_id: g, from_beginning: false, session_timeout_ms: 6000, format: fluentbit, source: k8s_admission, fields: { cluster: c1, n: 3 } }
  - type: webhook
    name: w
    host: 127.0.0.1
    port: 0
    paths: [{ path: /a, fields: { feed: x } }, { path: /b, source: k8s_admission }]
    tls: { cert_file: tls.crt, key_file: /abs/tls.key, client_ca_file: ca.crt }
    token_file: token
    token_files: [token2]
    limits: { max_body_bytes: 1000, request_timeout_ms: 2000, headers_timeout_ms: 1000, max_concurrent_requests: 3 }
    forward_topic: a
kafka:
  brokers: ['[::1]:9092', 'k2:9093']
  client_id: c
  connection_timeout_ms: 500
  metadata_max_age_ms: 180000
  ssl: { ca_file: ca.pem, cert_file: c.pem, key_file: k.pem, reject_unauthorized: false }
  sasl: { mechanism: SCRAM-SHA-512, username: u, password: p }
rules: { paths: [r1, /r2], watch: { debounce_ms: 50 } }
engine: { rule_matching: all, min_priority: WARNING, workers: 3, max_in_flight_messages: 10, max_in_flight_bytes: 4096, max_event_bytes: 100 }
shaping:
  fields: { env: prod }
  throttle: { window_ms: 1000, key: rule_output, rules: [R1], max_keys: 5 }
outputs:
  - { type: kafka, topic: alerts, key: priority, format: ocsf, min_priority: notice, rules: [R1], exclude_rules: [R2], tags: [t1], exclude_tags: [t2], breaker: { timeout_ms: 1000, error_threshold_percentage: 10, reset_timeout_ms: 200, volume_threshold: 2 } }
  - { type: http, name: sk, url: 'http://h/', headers: { X-A: b }, timeout_ms: 1, max_retry_ms: 0, max_pending: 1, concurrency: 256, ca_file: ca.pem, insecure_skip_verify: true, breaker: { timeout_ms: false } }
  - { type: file, path: /var/a.jsonl, max_bytes: 0, keep: 0, fsync: always, fsync_interval_ms: 10, format: ecs }
dead_letters: { topic: dead }
delivery: { guarantee: exactly_once, commit_interval_ms: 50, transactional_id: tx-1 }
metrics: { host: 127.0.0.1, port: 9000 }
log: { level: debug }
hostname: node-a
shutdown_timeout_ms: 5000
`, dir, {});
    expect(c).toEqual<ServiceConfig>({
      inputs: [
        { type: 'kafka', name: 'k', topics: ['a', 'b'], groupId: 'g', fromBeginning: false, sessionTimeoutMs: 6000, format: 'fluentbit', source: 'k8s_admission', fields: { cluster: 'c1', n: '3' } },
        {
          type: 'webhook', name: 'w', host: '127.0.0.1', port: 0,
          paths: [{ path: '/a', source: 'k8s_audit', fields: { feed: 'x' } }, { path: '/b', source: 'k8s_admission', fields: {} }],
          tls: { certFile: join(dir, 'tls.crt'), keyFile: '/abs/tls.key', clientCaFile: join(dir, 'ca.crt') },
          tokens: ['tok-a', 'tok-b'], maxBodyBytes: 1000, requestTimeoutMs: 2000, headersTimeoutMs: 1000, maxConcurrentRequests: 3, maxConcurrentRequestsPerClient: 16, maxEventsPerRequest: 10000, forwardTopic: 'a',
        },
      ],
      kafka: {
        brokers: ['[::1]:9092', 'k2:9093'], clientId: 'c', connectionTimeoutMs: 500, metadataMaxAgeMs: 180000,
        ssl: { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'c.pem'), keyFile: join(dir, 'k.pem'), rejectUnauthorized: false },
        sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
      },
      rules: { paths: [join(dir, 'r1'), '/r2'], watch: { debounceMs: 50 } },
      engine: { ruleMatching: 'all', minPriority: 'Warning', workers: 3, maxInFlightMessages: 10, maxInFlightBytes: 4096, maxEventBytes: 100 },
      shaping: { fields: { env: 'prod' }, throttle: { windowMs: 1000, key: 'rule_output', rules: ['R1'], maxKeys: 5 } },
      outputs: [
        {
          type: 'kafka', name: 'kafka', format: 'ocsf', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Notice', rules: ['R1'], excludeRules: ['R2'], tags: ['t1'], excludeTags: ['t2'],
          breaker: { timeoutMs: 1000, errorThresholdPercentage: 10, resetTimeoutMs: 200, volumeThreshold: 2 }, topic: 'alerts', key: 'priority',
        },
        {
          type: 'http', name: 'sk', format: 'json', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Debug', breaker: { timeoutMs: false, errorThresholdPercentage: 50, resetTimeoutMs: 10000, volumeThreshold: 5 },
          url: 'http://h/', headers: { 'X-A': 'b' }, timeoutMs: 1, maxRetryMs: 0, maxPending: 1, concurrency: 256, caFile: join(dir, 'ca.pem'), insecureSkipVerify: true,
        },
        { type: 'file', name: 'file', format: 'ecs', includeEvent: 'none', includeEventMaxBytes: 65536, minPriority: 'Debug', breaker: CONSUME_BREAKER, path: '/var/a.jsonl', maxBytes: 0, keep: 0, fsync: 'always', fsyncIntervalMs: 10 },
      ],
      deadLetters: { topic: 'dead' },
      delivery: { guarantee: 'exactly_once', commitIntervalMs: 50, transactionalId: 'tx-1' },
      metrics: { host: '127.0.0.1', port: 9000 },
      log: { level: 'debug' },
      hostname: 'node-a',
      shutdownTimeoutMs: 5000,
    });
  });

  test('ssl: true, metrics defaults, watch enabled: false, default transactional id from the group', () => {
    const c = parse(MIN.replace('brokers: [k1:9092]', 'brokers: [k1:9092]\n  ssl: true').replace('topics: [audit]', 'topics: [audit]\n    group_id: grp') + 'metrics: {}\n');
    expect(c.kafka?.ssl).toEqual({ rejectUnauthorized: true });
    expect(c.metrics).toEqual({ host: '0.0.0.0', port: 9376 });
    expect(c.delivery.transactionalId).toBe('kestrel-grp');
    expect(parse(MIN.replace('paths: [rules/]', 'paths: [rules/]\n  watch: { enabled: false }')).rules).toEqual({ paths: ['/etc/kestrel/rules'] });
    expect(parse(MIN.replace('paths: [rules/]', 'paths: [rules/]\n  watch: {}')).rules.watch).toEqual({ debounceMs: 500 });
    expect(parse(MIN + 'metrics: { enabled: false }').metrics).toBeUndefined();
  });

  test('IPv6 brokers are accepted in the file and in KESTREL_KAFKA_BROKERS', () => {
    expect(parse(MIN.replace('[k1:9092]', "['[::1]:9092', '[fd00::a:1]:19092', '10.0.0.1:9092']")).kafka!.brokers).toEqual(['[::1]:9092', '[fd00::a:1]:19092', '10.0.0.1:9092']);
    expect(parse(MIN, { KESTREL_KAFKA_BROKERS: '[::1]:9092,[2001:db8::1]:9093' }).kafka!.brokers).toEqual(['[::1]:9092', '[2001:db8::1]:9093']);
  });

  test('loadServiceConfig resolves paths against the file and names an unreadable file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-cfg-'));
    writeFileSync(join(dir, 'kestrel.yaml'), MIN);
    expect(loadServiceConfig(join(dir, 'kestrel.yaml'), {}).rules.paths).toEqual([join(dir, 'rules')]);
    expect(() => loadServiceConfig(join(dir, 'nope.yaml'), {})).toThrow(`config: ${join(dir, 'nope.yaml')}: cannot read: ENOENT`);
  });
});

describe('service layout: environment overrides', () => {
  test('brokers, group (every kafka input), topics, output topic, SASL, metrics port, log level', () => {
    const c = parse(MIN.replace('- type: kafka\n    topics', '- { type: kafka, topics: [x], name: other }\n  - type: kafka\n    topics'), {
      KESTREL_KAFKA_BROKERS: 'e1:1, e2:2',
      KESTREL_KAFKA_GROUP: 'eg',
      KESTREL_OUTPUT_TOPIC: 'eo',
      KESTREL_KAFKA_SASL_USERNAME: 'eu',
      KESTREL_KAFKA_SASL_PASSWORD: 'ep',
      KESTREL_METRICS_PORT: '9100',
      KESTREL_LOG_LEVEL: 'WARN',
    });
    expect(c.kafka).toEqual({ brokers: ['e1:1', 'e2:2'], clientId: 'kestrel', connectionTimeoutMs: 10000, sasl: { mechanism: 'plain', username: 'eu', password: 'ep' } });
    expect(c.inputs.map((i) => i.type === 'kafka' && i.groupId)).toEqual(['eg', 'eg']);
    expect(c.outputs).toMatchObject([{ topic: 'eo' }]);
    expect(c.metrics).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(c.log.level).toBe('warn');
    expect(c.delivery.transactionalId).toBe('kestrel-eg');
  });

  test('KESTREL_INPUT_TOPICS sets the topics of the one kafka input', () => {
    expect(parse(MIN, { KESTREL_INPUT_TOPICS: 'x, y' }).inputs).toMatchObject([{ topics: ['x', 'y'] }]);
  });

  test('KESTREL_KAFKA_BROKERS alone gives the kafka connection', () => {
    expect(parse(MIN.replace('kafka:\n  brokers: [k1:9092]\n', ''), { KESTREL_KAFKA_BROKERS: 'e:1' }).kafka).toEqual({ brokers: ['e:1'], clientId: 'kestrel', connectionTimeoutMs: 10000 });
  });

  test.each([
    [{ KESTREL_KAFKA_BROKERS: 'nope' }, 'config: KESTREL_KAFKA_BROKERS: must be a non-empty list of host:port (IPv6 as [::1]:9092), got "nope"'],
    [{ KESTREL_KAFKA_BROKERS: '::1:9092' }, 'config: KESTREL_KAFKA_BROKERS: must be a non-empty list of host:port (IPv6 as [::1]:9092), got "::1:9092"'],
    [{ KESTREL_INPUT_TOPICS: ' , ' }, 'config: KESTREL_INPUT_TOPICS: must be a non-empty comma-separated list'],
    [{ KESTREL_KAFKA_GROUP: ' ' }, 'config: KESTREL_KAFKA_GROUP: must not be empty'],
    [{ KESTREL_METRICS_PORT: 'http' }, 'config: KESTREL_METRICS_PORT: must be a port number'],
    [{ KESTREL_METRICS_PORT: '70000' }, 'config: KESTREL_METRICS_PORT: must be a port number'],
    [{ KESTREL_LOG_LEVEL: 'loud' }, 'config: KESTREL_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'],
  ])('bad %j names the variable', (env, message) => {
    expect(error(MIN, env)).toBe(message);
  });

  test('KESTREL_INPUT_TOPICS / KESTREL_OUTPUT_TOPIC need exactly one kafka input / output', () => {
    const two = MIN.replace('- type: kafka\n    topics: [audit]', '- { type: kafka, topics: [a] }\n  - { type: kafka, topics: [b] }');
    expect(error(two, { KESTREL_INPUT_TOPICS: 'x' })).toBe('config: KESTREL_INPUT_TOPICS: sets the topics of the one kafka input, but there are 2 (inputs[0], inputs[1]); set their topics in the file');
    const none = 'inputs: [{ type: webhook }]\nrules: { paths: [r] }\noutputs: [{ type: stdout }]';
    expect(error(none, { KESTREL_INPUT_TOPICS: 'x' })).toBe('config: KESTREL_INPUT_TOPICS: sets the topics of the one kafka input, but there are 0');
    expect(error(none, { KESTREL_OUTPUT_TOPIC: 'x' })).toBe('config: KESTREL_OUTPUT_TOPIC: sets the topic of the one kafka output, but there are 0');
  });
});

describe('service layout: one clear error line per mistake', () => {
  const webhookOnly = (extra = '') => `inputs: [{ type: webhook }]\nrules: { paths: [r] }\noutputs: [{ type: stdout }]\n${extra}`;
  test.each(swap([
    ['- a list', 'config: (top level): must be a mapping'],
    ['inputs: [1', 'config: line 1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    [MIN + 'sinks2: {}', 'config: sinks2: unknown key'],
    [MIN.replace('topics: [audit]', 'topcs: [audit]'), 'config: inputs[0].topcs: unknown key'],
    [MIN.replace('topics: [audit]', 'topics: [audit]\n    port: 1'), 'config: inputs[0].port: unknown key'],
    ['rules: { paths: [r] }\noutputs: [{ type: stdout }]', 'config: inputs: must be a non-empty list of inputs (type: kafka, webhook or file)'],
    [MIN.replace('- type: kafka\n    topics: [audit]', '- { topics: [a] }'), 'config: inputs[0].type: is required (kafka, webhook, file)'],
    [MIN.replace('- type: kafka\n    topics: [audit]', '- { type: socket }'), 'config: inputs[0].type: must be one of kafka, webhook, file (got "socket")'],
    [MIN.replace('topics: [audit]', 'topics: []'), 'config: inputs[0].topics: must be a non-empty list of topic names'],
    [MIN.replace('topics: [audit]', 'topics: [audit]\n    session_timeout_ms: 10'), 'config: inputs[0].session_timeout_ms: must be an integer >= 6000'],
    [MIN.replace('topics: [audit]', 'topics: [audit]\n    fetch: { max_bytes_per_partition: 20971520 }'), 'config: inputs[0].fetch.max_bytes: must be at least max_bytes_per_partition (20971520)'],
    [MIN.replace('topics: [audit]', 'topics: [audit]\n    fetch: { max_wait_ms: 20000 }'), 'config: inputs[0].fetch.max_wait_ms: must be an integer from 0 to 10000'],
    [MIN.replace('topics: [audit]', 'topics: [audit]\n    fetch: { min_bytes: 1 }'), 'config: inputs[0].fetch.min_bytes: unknown key'],
    [MIN.replace('topics: [audit]', 'topics: [audit]\n    format: xml'), 'config: inputs[0].format: must be one of auto, event, eventlist, lines, fluentbit, vector, cloudwatch, gke, aks, ovh (got "xml")'],
    [MIN.replace('topics: [audit]', 'topics: [audit]\n    source: syscall'), 'config: inputs[0].source: must be one of k8s_audit, k8s_admission (got "syscall")'],
    [MIN.replace('topics: [audit]', 'topics: [audit]\n    fields: [a]'), 'config: inputs[0].fields: must be a mapping of names to strings'],
    [MIN.replace('topics: [audit]', 'topics: [audit]\n    fields: { a: { b: 1 } }'), 'config: inputs[0].fields.a: must be a string'],
    [webhookOnly().replace('{ type: webhook }', '{ type: webhook, port: 70000 }'), 'config: inputs[0].port: must be an integer from 0 to 65535'],
    [webhookOnly().replace('{ type: webhook }', '{ type: webhook, paths: [] }'), 'config: inputs[0].paths: must be a non-empty list of {path, source, fields}'],
    [webhookOnly().replace('{ type: webhook }', '{ type: webhook, paths: [{ path: audit }] }'), "config: inputs[0].paths[0].path: must start with '/'"],
    [webhookOnly().replace('{ type: webhook }', '{ type: webhook, paths: [{ path: /a }, { path: /a, source: k8s_admission }] }'), 'config: inputs[0].paths[1].path: /a is listed twice'],
    [webhookOnly().replace('{ type: webhook }', '{ type: webhook, paths: [{ path: /a, verb: x }] }'), 'config: inputs[0].paths[0].verb: unknown key'],
    [webhookOnly().replace('{ type: webhook }', '{ type: webhook, tls: { cert_file: c } }'), 'config: inputs[0].tls.key_file: is required'],
    [webhookOnly().replace('{ type: webhook }', '{ type: webhook, token_file: /nonexistent/token }'), 'config: inputs[0].token_file: cannot read /nonexistent/token: ENOENT'],
    [webhookOnly().replace('{ type: webhook }', '{ type: webhook, token_files: [/nonexistent/t] }'), 'config: inputs[0].token_files[0]: cannot read /nonexistent/t: ENOENT'],
    [webhookOnly().replace('{ type: webhook }', '{ type: webhook, limits: { max_body_bytes: 0 } }'), 'config: inputs[0].limits.max_body_bytes: must be an integer >= 1'],
    [webhookOnly().replace('{ type: webhook }', '{ type: webhook, limits: { max_bytes: 1 } }'), 'config: inputs[0].limits.max_bytes: unknown key'],
    [webhookOnly().replace('{ type: webhook }', '{ type: file }'), 'config: inputs[0].path: is required'],
    [webhookOnly().replace('{ type: webhook }', '{ type: webhook, name: a }, { type: webhook, port: 9766, name: a }'), 'config: inputs[1].name: "a" is already the name of inputs[0]'],
    [webhookOnly().replace('{ type: webhook }', '{ type: webhook }, { type: webhook, host: 127.0.0.1 }'), 'config: inputs[1].port: 127.0.0.1:9765 is already the address of inputs[0]; put both paths in one webhook input'],
    [webhookOnly('metrics: { port: 9765 }'), 'config: metrics.port: 0.0.0.0:9765 is already the address of inputs[0] (whose port also answers /metrics, /healthz and /readyz)'],
    [MIN.replace('brokers: [k1:9092]', 'brokers: []'), 'config: kafka.brokers: must be a non-empty list of host:port'],
    [MIN.replace('brokers: [k1:9092]', 'brokers: [nohost]'), 'config: kafka.brokers: must be a non-empty list of host:port (IPv6 as [::1]:9092), got "nohost"'],
    [MIN.replace('brokers: [k1:9092]', 'brokers: [h:99999]'), 'config: kafka.brokers: must be a non-empty list of host:port (IPv6 as [::1]:9092), got "h:99999"'],
    [MIN.replace('brokers: [k1:9092]', 'brokers: ["::1:9092"]'), 'config: kafka.brokers: must be a non-empty list of host:port (IPv6 as [::1]:9092), got "::1:9092"'],
    [MIN.replace('brokers: [k1:9092]', 'brokers: [k1:9092]\n  group_id: g'), "config: kafka.group_id: is an old key, now 'inputs[].group_id (type: kafka)'; this file also uses the new layout (inputs), so rename it (see deploy/kestrel.reference.yaml)"],
    [MIN.replace('brokers: [k1:9092]', 'brokers: [k1:9092]\n  ssl: { cert_file: c.pem }'), 'config: kafka.ssl.key_file: is required when the other of cert_file/key_file is set'],
    [MIN.replace('brokers: [k1:9092]', 'brokers: [k1:9092]\n  sasl: { username: u }'), 'config: kafka.sasl.password: is required with SASL (or set KESTREL_KAFKA_SASL_PASSWORD)'],
    [MIN.replace('brokers: [k1:9092]', 'brokers: [k1:9092]\n  sasl: { mechanism: kerberos, username: u, password: p }'), 'config: kafka.sasl.mechanism: must be one of plain, scram-sha-256, scram-sha-512 (got "kerberos")'],
    [MIN.replace('kafka:\n  brokers: [k1:9092]\n', ''), 'config: kafka: is required by inputs[0] (a kafka input); set kafka.brokers (or KESTREL_KAFKA_BROKERS)'],
    [webhookOnly().replace('outputs: [{ type: stdout }]', 'outputs: [{ type: stdout }, { type: kafka, topic: t }]'), 'config: kafka: is required by outputs[1] (a kafka output); set kafka.brokers (or KESTREL_KAFKA_BROKERS)'],
    [webhookOnly('dead_letters: { topic: d }'), 'config: kafka: is required by dead_letters; set kafka.brokers (or KESTREL_KAFKA_BROKERS)'],
    [webhookOnly().replace('{ type: webhook }', '{ type: webhook, forward_topic: t }'), 'config: kafka: is required by inputs[0].forward_topic; set kafka.brokers (or KESTREL_KAFKA_BROKERS)'],
    [MIN.replace('paths: [rules/]', 'paths: []'), 'config: rules.paths: must be a non-empty list of rule files or folders'],
    [MIN.replace('rules:\n  paths: [rules/]\n', ''), 'config: rules.paths: must be a non-empty list of rule files or folders'],
    [MIN.replace('paths: [rules/]', 'paths: [rules/]\n  watch: { debounce_ms: -1 }'), 'config: rules.watch.debounce_ms: must be an integer >= 0'],
    [MIN + 'engine: { workers: 0 }', 'config: engine.workers: must be an integer from 1 to 256'],
    [MIN + 'engine: { min_priority: loud }', 'config: engine.min_priority: must be a Falco priority (emergency, alert, critical, error, warning, notice, informational, debug), got "loud"'],
    [MIN + 'engine: { rule_matching: best }', 'config: engine.rule_matching: must be one of first, all (got "best")'],
    [MIN + 'shaping: { throttle: { key: user } }', 'config: shaping.throttle.key: must be one of rule, rule_output (got "user")'],
    [MIN + 'shaping: { throttle: { windows_ms: 1 } }', 'config: shaping.throttle.windows_ms: unknown key'],
    [MIN.replace('outputs:\n  - type: kafka\n    topic: alerts\n', ''), 'config: outputs: must be a non-empty list of outputs (type: kafka, http, file or stdout)'],
    [MIN.replace('topic: alerts', 'topic: alerts\n    min_priority: loud'), 'config: outputs[0].min_priority: must be a Falco priority (emergency, alert, critical, error, warning, notice, informational, debug), got "loud"'],
    [MIN.replace('topic: alerts', 'topic: alerts\n  - { type: stdout, min_priority: loud }'), 'config: outputs[1].min_priority: must be a Falco priority (emergency, alert, critical, error, warning, notice, informational, debug), got "loud"'],
    [MIN.replace('topic: alerts', 'topic: alerts\n    url: http://x/'), 'config: outputs[0].url: unknown key'],
    [MIN.replace('topic: alerts', 'key: rule'), 'config: outputs[0].topic: is required'],
    [MIN.replace('topic: alerts', 'topic: alerts\n    key: offset'), 'config: outputs[0].key: must be one of rule, priority, source, none (got "offset")'],
    [MIN.replace('topic: alerts', 'topic: alerts\n    format: xml'), 'config: outputs[0].format: must be one of text, json, ocsf, ecs (got "xml")'],
    [MIN.replace('topic: alerts', 'topic: alerts\n    rules: []'), 'config: outputs[0].rules: must be a non-empty list of strings'],
    [MIN.replace('topic: alerts', 'topic: alerts\n    breaker: { error_threshold_percentage: 101 }'), 'config: outputs[0].breaker.error_threshold_percentage: must be an integer from 1 to 100'],
    [MIN.replace('topic: alerts', 'topic: alerts\n    breaker: { timeout: 1 }'), 'config: outputs[0].breaker.timeout: unknown key'],
    [MIN.replace('topic: alerts', 'topic: alerts\n  - { type: http, url: "ftp://x" }'), 'config: outputs[1].url: must be an http:// or https:// URL, got "ftp://x"'],
    [MIN.replace('topic: alerts', 'topic: alerts\n  - { type: file, path: a, fsync: sometimes }'), 'config: outputs[1].fsync: must be one of always, interval, never (got "sometimes")'],
    [MIN.replace('topic: alerts', 'topic: alerts\n    name: out\n  - { type: stdout, name: out }'), 'config: outputs[1].name: "out" is already the name of outputs[0]'],
    [MIN + 'dead_letters: {}', 'config: dead_letters.topic: is required'],
    [MIN + 'delivery: { mode: exactly_once }', 'config: delivery.mode: is an old key, now \'delivery.guarantee\'; this file also uses the new layout (inputs), so rename it (see deploy/kestrel.reference.yaml)'],
    [MIN + 'delivery: { guarantee: twice }', 'config: delivery.guarantee: must be one of at_least_once, exactly_once (got "twice")'],
    [MIN.replace('type: kafka\n    topic: alerts', 'type: stdout') + 'delivery: { guarantee: exactly_once }', 'config: delivery.guarantee: exactly_once needs a kafka output (alerts and offsets are committed in one Kafka transaction)'],
    [MIN.replace('topics: [audit]', 'topics: [audit]\n  - { type: file, path: x }') + 'delivery: { guarantee: exactly_once }', 'config: delivery.guarantee: exactly_once needs every input to be kafka (or a webhook with forward_topic); inputs[1] is file'],
    [MIN + 'metrics: { port: -1 }', 'config: metrics.port: must be an integer from 0 to 65535'],
    [MIN + 'log: { level: loud }', 'config: log.level: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'],
    [MIN + 'shutdown_timeout_ms: 1', 'config: shutdown_timeout_ms: must be an integer >= 100'],
  ]))('%s', (message, text) => {
    expect(error(text)).toBe(message);
  });

  test('a forwarding-only webhook needs no outputs; exactly_once accepts it beside kafka inputs', () => {
    const c = parse('inputs: [{ type: webhook, forward_topic: t }]\nkafka: { brokers: [k:1] }\nrules: { paths: [r] }');
    expect(c.outputs).toEqual([]);
    const eo = parse(MIN.replace('topics: [audit]', 'topics: [audit]\n  - { type: webhook, forward_topic: audit }') + 'delivery: { guarantee: exactly_once }');
    expect(eo.delivery.guarantee).toBe('exactly_once');
  });

  test('webhooks on different ports, or port 0, do not collide', () => {
    const c = parse('inputs: [{ type: webhook, port: 0 }, { type: webhook, port: 0, name: b }, { type: webhook, port: 9000, host: 127.0.0.1, name: c }, { type: webhook, port: 9000, host: 127.0.0.2, name: d }]\nrules: { paths: [r] }\noutputs: [{ type: stdout }]');
    expect(c.inputs.map((i) => i.name)).toEqual(['webhook-1', 'b', 'c', 'd']);
  });
});

describe('service layout: kafka input fetch sizing', () => {
  test('absent: no fetch section (the input uses KAFKA_FETCH_DEFAULTS); given keys replace their defaults only', () => {
    expect(parse(MIN).inputs[0]).not.toHaveProperty('fetch');
    const input = parse(MIN.replace('topics: [audit]', 'topics: [audit]\n    fetch: { max_bytes_per_partition: 262144, max_wait_ms: 50 }')).inputs[0];
    expect(input).toMatchObject({ fetch: { maxBytesPerPartition: 262144, maxBytes: 10485760, maxWaitMs: 50 } });
  });
});
