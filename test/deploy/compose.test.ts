/**
 * docker-compose.yml and deploy/compose/, validated without a Docker engine: the
 * services and their wiring (depends_on, healthchecks, mounts), and that the
 * parts agree with each other and with the code: kestrel.yaml goes through the
 * real config loader, its brokers are the kafka service's listener, its topics
 * are the ones kafka-init creates, Fluent Bit ships to its input topic, and the
 * example audit log decodes (as Fluent Bit wraps it) and raises alerts with the
 * default rules the image carries.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { loadServiceConfig } from '../../src/config/load';
import type { KafkaInputConfig, KafkaOutputConfig, ServiceConfig } from '../../src/config/types';
import { loadRuleset } from '../../src/engine/load';
import { decodePayload } from '../../src/decode/envelope';

const ROOT = resolve(__dirname, '../..');
const COMPOSE_DIR = join(ROOT, 'deploy/compose');
const CONFIG_MOUNT = './deploy/compose/kestrel.yaml:/etc/kestrel/kestrel.yaml:ro';

type Obj = Record<string, any>;

function yamlFile(path: string): Obj {
  const doc = parseDocument(readFileSync(path, 'utf8'));
  expect(doc.errors.map((e) => `${path}: ${e.message}`)).toEqual([]);
  return doc.toJS() as Obj;
}

const compose = yamlFile(join(ROOT, 'docker-compose.yml'));
const services: Obj = compose.services;
const fluentBit = yamlFile(join(COMPOSE_DIR, 'fluent-bit/fluent-bit.yaml'));
const kestrelServices = ['kestrel-1', 'kestrel-2'];

/** The config a kestrel service runs with: the mounted file plus the service's environment. */
function effectiveConfig(service: string): ServiceConfig {
  const env = Object.fromEntries(Object.entries((services[service].environment ?? {}) as Obj).map(([k, v]) => [k, String(v)]));
  return loadServiceConfig(join(COMPOSE_DIR, 'kestrel.yaml'), env);
}

/** `NAME://host:port` entries of a Kafka listener list, by listener name. */
function listeners(value: string): Record<string, string> {
  return Object.fromEntries(value.split(',').map((l) => l.trim().split('://') as [string, string]));
}

/** Topic name -> partitions, from kafka-init's kafka-topics.sh --create lines. */
function createdTopics(): Record<string, number> {
  const script = [services['kafka-init'].entrypoint, services['kafka-init'].command].flat().join('\n');
  const out: Record<string, number> = {};
  for (const line of script.split('\n').filter((l: string) => l.includes('--create'))) {
    const topic = /--topic (\S+)/.exec(line)![1];
    out[topic] = Number(/--partitions (\d+)/.exec(line)![1]);
  }
  return out;
}

/** Host path -> container path of a service's bind mounts (short syntax). */
function mounts(service: string): Record<string, string> {
  return Object.fromEntries((services[service].volumes as string[]).filter((v) => v.startsWith('./')).map((v) => v.split(':').slice(0, 2) as [string, string]));
}

describe('docker-compose.yml', () => {
  test('services', () => {
    expect(Object.keys(services).sort()).toEqual(['fluent-bit', 'kafka', 'kafka-init', 'kestrel-1', 'kestrel-2']);
    expect(compose.name).toBe('kestrel');
    expect(Object.keys(compose.volumes)).toEqual(['fluent-bit-state']);
  });

  test('kafka: official Apache Kafka 4 image, single KRaft node (broker + controller), healthcheck', () => {
    const k = services.kafka;
    expect(k.image).toBe('apache/kafka:4.4.0');
    expect(k.hostname).toBe('kafka');
    expect(k.environment.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(k.environment.KAFKA_NODE_ID).toBe(1);
    expect(k.environment.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe('1@kafka:9093');
    expect(k.environment.KAFKA_CONTROLLER_LISTENER_NAMES).toBe('CONTROLLER');
    expect(listeners(k.environment.KAFKA_LISTENERS)).toEqual({ PLAINTEXT: '0.0.0.0:9092', CONTROLLER: '0.0.0.0:9093', EXTERNAL: '0.0.0.0:29092' });
    expect(listeners(k.environment.KAFKA_ADVERTISED_LISTENERS)).toEqual({ PLAINTEXT: 'kafka:9092', EXTERNAL: 'localhost:29092' });
    expect(k.environment.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP).toBe('PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,EXTERNAL:PLAINTEXT');
    expect(k.environment.KAFKA_INTER_BROKER_LISTENER_NAME).toBe('PLAINTEXT');
    expect(k.environment.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe(1);
    expect(k.environment.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR).toBe(1);
    expect(k.environment.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
    expect(k.ports).toEqual(['127.0.0.1:29092:29092']);
    expect(k.healthcheck.test).toEqual(['CMD-SHELL', '/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server kafka:9092 > /dev/null 2>&1']);
    expect(k.healthcheck).toMatchObject({ interval: '10s', retries: 12, start_period: '30s' });
  });

  test('kafka-init: waits for a healthy broker and creates the three topics', () => {
    const init = services['kafka-init'];
    expect(init.image).toBe(services.kafka.image);
    expect(init.depends_on).toEqual({ kafka: { condition: 'service_healthy' } });
    expect(init.restart).toBe('no');
    expect(createdTopics()).toEqual({ 'k8s-audit': 6, 'kestrel-alerts': 3, 'kestrel-dlq': 1 });
    const script = init.command.join('\n') as string;
    for (const line of script.split('\n').filter((l) => l.includes('--create'))) {
      expect(line).toContain('--bootstrap-server kafka:9092');
      expect(line).toContain('--if-not-exists');
      expect(line).toContain('--replication-factor 1');
    }
  });

  test('two kestrel consumers: same build, command, config file, group and healthcheck', () => {
    expect(existsSync(join(ROOT, 'deploy/Dockerfile'))).toBe(true);
    for (const name of kestrelServices) {
      const s = services[name];
      expect(s.build).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' });
      expect(s.command).toEqual(['consume', '-c', '/etc/kestrel/kestrel.yaml']);
      expect(s.volumes).toEqual([CONFIG_MOUNT]);
      expect(s.depends_on).toEqual({ kafka: { condition: 'service_healthy' }, 'kafka-init': { condition: 'service_completed_successfully' } });
      expect(s.healthcheck.test).toEqual([
        'CMD', 'node', '-e',
        "require('http').get('http://127.0.0.1:9376/readyz', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))",
      ]);
      expect(s.stop_grace_period).toBe('45s');
      expect(s.environment).toBeUndefined();
    }
    expect(services['kestrel-1'].ports).toEqual(['127.0.0.1:9376:9376']);
    expect(services['kestrel-2'].ports).toEqual(['127.0.0.1:9377:9376']);
    const [a, b] = kestrelServices.map(effectiveConfig);
    expect((a.inputs[0] as KafkaInputConfig).groupId).toBe('kestrel');
    expect((b.inputs[0] as KafkaInputConfig).groupId).toBe((a.inputs[0] as KafkaInputConfig).groupId);
    expect(b).toEqual(a);
  });

  test('fluent-bit: mounts its config and the audit log where its config reads them, starts after the topics exist', () => {
    const s = services['fluent-bit'];
    expect(s.image).toBe('fluent/fluent-bit:4.0');
    expect(s.command).toEqual(['/fluent-bit/bin/fluent-bit', '-c', '/fluent-bit/etc/fluent-bit.yaml']);
    expect(mounts('fluent-bit')).toEqual({
      './deploy/compose/fluent-bit/fluent-bit.yaml': '/fluent-bit/etc/fluent-bit.yaml',
      './deploy/compose/audit.log': '/var/log/kubernetes/audit/audit.log',
    });
    expect(s.volumes).toContain('fluent-bit-state:/var/lib/fluent-bit');
    expect(s.depends_on).toEqual({
      kafka: { condition: 'service_healthy' },
      'kafka-init': { condition: 'service_completed_successfully' },
      'kestrel-1': { condition: 'service_started' },
      'kestrel-2': { condition: 'service_started' },
    });
    for (const [host] of Object.entries(mounts('fluent-bit'))) expect([host, existsSync(join(ROOT, host))]).toEqual([host, true]);
  });
});

describe('deploy/compose/kestrel.yaml', () => {
  const cfg = loadServiceConfig(join(COMPOSE_DIR, 'kestrel.yaml'), {});
  const input = cfg.inputs[0] as KafkaInputConfig;
  const alerts = cfg.outputs[0] as KafkaOutputConfig;

  test('loads with the project config loader', () => {
    expect(cfg.kafka).toMatchObject({ brokers: ['kafka:9092'], clientId: 'kestrel' });
    expect(cfg.inputs).toMatchObject([{ type: 'kafka', groupId: 'kestrel', topics: ['k8s-audit'], fromBeginning: true, format: 'auto' }]);
    expect(cfg.rules.paths).toEqual(['/app/rules']);
    expect(cfg.engine.workers).toBe(2);
    expect(cfg.delivery.guarantee).toBe('at_least_once');
    expect(cfg.deadLetters).toEqual({ topic: 'kestrel-dlq' });
    expect(cfg.outputs).toMatchObject([
      { type: 'kafka', topic: 'kestrel-alerts', key: 'rule', minPriority: 'Debug', format: 'json' },
      { type: 'stdout', format: 'text', minPriority: 'Notice' },
    ]);
    expect(cfg.metrics).toEqual({ host: '0.0.0.0', port: 9376 });
    expect(cfg.shutdownTimeoutMs).toBe(30_000);
  });

  test('brokers are the kafka service listener for the compose network', () => {
    const advertised = listeners(services.kafka.environment.KAFKA_ADVERTISED_LISTENERS);
    const inter = services.kafka.environment.KAFKA_INTER_BROKER_LISTENER_NAME;
    expect(cfg.kafka!.brokers).toEqual([advertised[inter]]);
    const port = advertised[inter].split(':')[1];
    expect(listeners(services.kafka.environment.KAFKA_LISTENERS)[inter]).toBe(`0.0.0.0:${port}`);
  });

  test('topics are the ones kafka-init creates; enough partitions for every worker of both consumers', () => {
    const topics = createdTopics();
    expect(Object.keys(topics).sort()).toEqual([...input.topics, alerts.topic, cfg.deadLetters!.topic].sort());
    expect(topics[input.topics[0]]).toBeGreaterThanOrEqual(kestrelServices.length * cfg.engine.workers);
  });

  test('healthcheck and published ports use the metrics port; shutdown fits in stop_grace_period', () => {
    for (const name of kestrelServices) {
      expect(services[name].healthcheck.test.join(' ')).toContain(`127.0.0.1:${cfg.metrics!.port}/readyz`);
      expect(String(services[name].ports[0]).endsWith(`:${cfg.metrics!.port}`)).toBe(true);
      expect(cfg.shutdownTimeoutMs).toBeLessThan(parseInt(services[name].stop_grace_period, 10) * 1000);
    }
  });

  test('rules path is where deploy/Dockerfile puts the default rules', () => {
    const dockerfile = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^WORKDIR \/app$/m);
    expect(dockerfile).toMatch(/^COPY rules \.\/rules$/m);
  });
});

describe('deploy/compose/fluent-bit/fluent-bit.yaml', () => {
  const cfg = loadServiceConfig(join(COMPOSE_DIR, 'kestrel.yaml'), {});

  test('tails the mounted audit log into the kestrel input topic on the compose broker', () => {
    expect(fluentBit.pipeline.inputs).toHaveLength(1);
    expect(fluentBit.pipeline.outputs).toHaveLength(1);
    const [input] = fluentBit.pipeline.inputs;
    const [output] = fluentBit.pipeline.outputs;
    expect(input).toMatchObject({ name: 'tail', tag: 'kube-audit', path: '/var/log/kubernetes/audit/audit.log', read_from_head: true, db: '/var/lib/fluent-bit/kube-audit.db' });
    expect(output).toMatchObject({ name: 'kafka', match: 'kube-audit', format: 'json' });
    expect(output.topics).toBe('k8s-audit');
    expect([output.topics]).toEqual((cfg.inputs[0] as KafkaInputConfig).topics);
    expect(output.brokers).toBe(cfg.kafka!.brokers.join(','));
    // Kestrel's Kafka client reads uncompressed and gzip batches only.
    expect(['none', 'gzip']).toContain(output['rdkafka.compression.codec']);
    expect(output['rdkafka.request.required.acks']).toBe('all');
    expect(Object.values(mounts('fluent-bit'))).toContain(input.path);
    expect(input.db.startsWith('/var/lib/fluent-bit/')).toBe(true);
  });
});

describe('deploy/compose/audit.log', () => {
  const lines = readFileSync(join(COMPOSE_DIR, 'audit.log'), 'utf8').split('\n').filter((l) => l !== '');

  test('is kube-apiserver audit events, one JSON object per line', () => {
    expect(lines).toHaveLength(208);
    for (const l of lines) expect(JSON.parse(l)).toMatchObject({ kind: 'Event', apiVersion: 'audit.k8s.io/v1' });
  });

  test('as Fluent Bit records, decodes and raises alerts with the rules baked into the image', () => {
    const { ruleset } = loadRuleset([join(ROOT, 'rules')]);
    expect(ruleset).toBeDefined();
    const env = { format: 'auto' as const, source: 'k8s_audit', hostname: 'kestrel-1', maxBytes: 1 << 20 };
    const rules = new Set<string>();
    let alerts = 0;
    for (const l of lines) {
      const record = Buffer.from(JSON.stringify({ '@timestamp': '2026-01-01T00:00:00.000Z', log: l }));
      const d = decodePayload(record, env);
      expect(d.ok).toBe(true);
      if (!d.ok) continue;
      expect(d.events).toHaveLength(1);
      for (const a of ruleset!.evaluate(d.events[0])) {
        alerts++;
        rules.add(a.rule);
      }
    }
    expect(alerts).toBeGreaterThanOrEqual(20);
    expect(rules.size).toBeGreaterThanOrEqual(15);
  });
});
