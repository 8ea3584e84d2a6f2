import { parseConfig, ConfigError } from '../../src/config/load';

const BASE = `
kafka:
  brokers: [k1:9092, k2:9093]
  input_topics: [audit]
rules:
  paths: [rules/]
sinks:
  kafka: { topic: alerts }
`;

const parse = (text: string, env: Record<string, string> = {}) => parseConfig(text, '/etc/kestrel', env);
const error = (text: string, env: Record<string, string> = {}) => {
  try {
    parse(text, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('config: defaults and values', () => {
  test('minimal config gets documented defaults', () => {
    const c = parse(BASE);
    expect(c.kafka).toEqual({ brokers: ['k1:9092', 'k2:9093'], clientId: 'kestrel', groupId: 'kestrel', inputTopics: ['audit'], fromBeginning: true, connectionTimeoutMs: 10000, sessionTimeoutMs: 30000 });
    expect(c.rules).toEqual({ paths: ['/etc/kestrel/rules'], ruleMatching: 'first', minPriority: 'Debug', source: 'k8s_audit' });
    expect(c.input).toEqual({ format: 'auto', maxMessageBytes: 1048576 });
    expect(c.delivery.mode).toBe('at_least_once');
    expect(c.delivery.commitIntervalMs).toBe(200);
    expect(c.sinks).toEqual({ kafka: { topic: 'alerts', key: 'rule', minPriority: 'Debug' } });
    expect(c.dlq).toBeUndefined();
    expect(c.metrics).toBeUndefined();
    expect(c.shutdownTimeoutMs).toBe(30000);
    expect(c.workers.count).toBeGreaterThanOrEqual(1);
    expect(c.workers.maxInFlightMessages).toBe(2000);
  });

  test('every section, with TLS and SASL', () => {
    const c = parse(`
kafka:
  brokers: k1:9092
  group_id: g
  client_id: c
  input_topics: [a, b]
  from_beginning: false
  ssl: { ca_file: ca.pem, cert_file: /abs/c.pem, key_file: k.pem, reject_unauthorized: false }
  sasl: { mechanism: SCRAM-SHA-512, username: u, password: p }
rules: { paths: [a.yaml, /r], rule_matching: all, min_priority: warning, source: k8s_audit }
input: { format: fluentbit, max_message_bytes: 2048 }
workers: { count: 3, max_in_flight_messages: 10, max_in_flight_bytes: 4096 }
delivery: { mode: exactly_once, transactional_id: tx-1, commit_interval_ms: 50 }
dlq: { topic: dead }
sinks:
  kafka: { topic: alerts, key: priority, min_priority: notice }
  stdout: { format: text, min_priority: error }
  file: { path: out/alerts.json }
breaker: { timeout_ms: 1000, error_threshold_percentage: 10, reset_timeout_ms: 200, volume_threshold: 2 }
metrics: { port: 9000, host: 127.0.0.1 }
shutdown_timeout_ms: 5000
log_level: debug
hostname: node-a
`);
    expect(c.kafka.ssl).toEqual({ caFile: '/etc/kestrel/ca.pem', certFile: '/abs/c.pem', keyFile: '/etc/kestrel/k.pem', rejectUnauthorized: false });
    expect(c.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
    expect(c.kafka.brokers).toEqual(['k1:9092']);
    expect(c.rules).toEqual({ paths: ['/etc/kestrel/a.yaml', '/r'], ruleMatching: 'all', minPriority: 'Warning', source: 'k8s_audit' });
    expect(c.input).toEqual({ format: 'fluentbit', maxMessageBytes: 2048 });
    expect(c.workers).toEqual({ count: 3, maxInFlightMessages: 10, maxInFlightBytes: 4096 });
    expect(c.delivery).toEqual({ mode: 'exactly_once', commitIntervalMs: 50, transactionalId: 'tx-1' });
    expect(c.dlq).toEqual({ topic: 'dead' });
    expect(c.sinks).toEqual({
      kafka: { topic: 'alerts', key: 'priority', minPriority: 'Notice' },
      stdout: { format: 'text', minPriority: 'Error' },
      file: { path: '/etc/kestrel/out/alerts.json', format: 'json', minPriority: 'Debug' },
    });
    expect(c.breaker).toEqual({ timeoutMs: 1000, errorThresholdPercentage: 10, resetTimeoutMs: 200, volumeThreshold: 2 });
    expect(c.metrics).toEqual({ host: '127.0.0.1', port: 9000 });
    expect([c.shutdownTimeoutMs, c.logLevel, c.hostname]).toEqual([5000, 'debug', 'node-a']);
  });

  test('environment overrides brokers, group, topics, output topic, credentials, metrics port', () => {
    const c = parse(BASE, {
      KESTREL_KAFKA_BROKERS: 'e1:1, e2:2',
      KESTREL_KAFKA_GROUP: 'eg',
      KESTREL_INPUT_TOPICS: 'x,y',
      KESTREL_OUTPUT_TOPIC: 'eo',
      KESTREL_KAFKA_SASL_USERNAME: 'eu',
      KESTREL_KAFKA_SASL_PASSWORD: 'ep',
      KESTREL_METRICS_PORT: '9100',
    });
    expect(c.kafka.brokers).toEqual(['e1:1', 'e2:2']);
    expect(c.kafka.groupId).toBe('eg');
    expect(c.kafka.inputTopics).toEqual(['x', 'y']);
    expect(c.sinks.kafka!.topic).toBe('eo');
    expect(c.kafka.sasl).toEqual({ mechanism: 'plain', username: 'eu', password: 'ep' });
    expect(c.metrics).toEqual({ host: '0.0.0.0', port: 9100 });
  });
});

describe('config: one clear error naming the key', () => {
  test.each([
    ['kafka:\n  brokers: []\n  input_topics: [a]\nrules: {paths: [r]}\nsinks: {stdout: {}}', 'config: kafka.brokers: must be a non-empty list of host:port'],
    ['kafka:\n  brokers: [nohost]\n  input_topics: [a]\nrules: {paths: [r]}\nsinks: {stdout: {}}', 'config: kafka.brokers: must be a non-empty list of host:port'],
    ['kafka:\n  brokers: [h:99999]\n  input_topics: [a]\nrules: {paths: [r]}\nsinks: {stdout: {}}', 'config: kafka.brokers: must be a non-empty list of host:port'],
    ['kafka:\n  brokers: [h:1]\nrules: {paths: [r]}\nsinks: {stdout: {}}', 'config: kafka.input_topics: must be a non-empty list of topic names'],
    ['rules: {paths: [r]}\nsinks: {stdout: {}}', 'config: kafka.brokers: must be a non-empty list of host:port'],
    [BASE + 'kafkaa: {}', 'config: kafkaa: unknown key'],
    [BASE.replace('input_topics', 'inputs_topics'), 'config: kafka.inputs_topics: unknown key'],
    [BASE + 'workers: {count: 0}', 'config: workers.count: must be an integer from 1 to 256'],
    [BASE + 'workers: {max_in_flight_messages: 1.5}', 'config: workers.max_in_flight_messages: must be an integer >= 1'],
    [BASE + 'delivery: {mode: twice}', 'config: delivery.mode: must be one of at_least_once, exactly_once (got "twice")'],
    [BASE + 'input: {format: xml}', 'config: input.format: must be one of auto, event, eventlist, lines, fluentbit, vector, cloudwatch, gke, aks, ovh (got "xml")'],
    [BASE.replace('paths: [rules/]', 'paths: [rules/]\n  min_priority: loud'), 'config: rules.min_priority: must be a Falco priority (emergency, alert, critical, error, warning, notice, informational, debug), got "loud"'],
    [BASE.replace('paths: [rules/]', 'paths: []'), 'config: rules.paths: must be a non-empty list of rule files or folders'],
    [BASE.replace('{ topic: alerts }', '{ key: rule }'), 'config: sinks.kafka.topic: is required'],
    [BASE.replace('{ topic: alerts }', '{ topic: alerts, key: offset }'), 'config: sinks.kafka.key: must be one of rule, priority, source, none (got "offset")'],
    [BASE.replace('sinks:\n  kafka: { topic: alerts }', 'sinks: {}'), 'config: sinks: configure at least one of kafka, stdout, file'],
    [BASE.replace('sinks:\n  kafka: { topic: alerts }', 'sinks: {stdout: {}}') + 'delivery: {mode: exactly_once}', 'config: delivery.mode: exactly_once needs sinks.kafka (alerts and offsets are committed in one Kafka transaction)'],
    [BASE.replace('input_topics: [audit]', 'input_topics: [audit]\n  sasl: {username: u}'), 'config: kafka.sasl.password: is required with SASL (or set KESTREL_KAFKA_SASL_PASSWORD)'],
    [BASE.replace('input_topics: [audit]', 'input_topics: [audit]\n  sasl: {mechanism: kerberos, username: u, password: p}'), 'config: kafka.sasl.mechanism: must be one of plain, scram-sha-256, scram-sha-512 (got "kerberos")'],
    [BASE.replace('input_topics: [audit]', 'input_topics: [audit]\n  ssl: {cert_file: c.pem}'), 'config: kafka.ssl.key_file: is required when the other of cert_file/key_file is set'],
    [BASE.replace('input_topics: [audit]', 'input_topics: [audit]\n  from_beginning: yes please'), 'config: kafka.from_beginning: must be true or false'],
    [BASE + 'breaker: {error_threshold_percentage: 101}', 'config: breaker.error_threshold_percentage: must be an integer from 1 to 100'],
    [BASE + 'dlq: {}', 'config: dlq.topic: is required'],
    [BASE + 'metrics: {port: -1}', 'config: metrics.port: must be an integer from 0 to 65535'],
    ['- just\n- a list', 'config: (top level): must be a mapping'],
    ['kafka: [1', 'config: line 1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
  ])('%#: %s', (text, message) => {
    expect(error(text)).toBe(message);
  });

  test('bad environment values name the variable', () => {
    expect(error(BASE, { KESTREL_KAFKA_BROKERS: 'nope' })).toBe('config: KESTREL_KAFKA_BROKERS: must be a non-empty list of host:port');
    expect(error(BASE, { KESTREL_INPUT_TOPICS: ' , ' })).toBe('config: KESTREL_INPUT_TOPICS: must be a non-empty comma-separated list');
    expect(error(BASE, { KESTREL_KAFKA_GROUP: '' })).toBe('config: KESTREL_KAFKA_GROUP: must not be empty');
    expect(error(BASE, { KESTREL_METRICS_PORT: 'http' })).toBe('config: KESTREL_METRICS_PORT: must be a port number');
  });
});
