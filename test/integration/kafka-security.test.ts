/**
 * Kestrel's Kafka client against a real broker's secured listeners (started
 * here by scripts/kafka-local.js with `security: true`: one broker, all
 * listeners, generated certificates and users):
 *   SASL_PLAINTEXT  PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
 *   SSL             mTLS (ssl.client.auth=required)
 *   SASL_SSL        PLAIN over TLS: the Event Hubs preset of docs/managed.md
 * Each good configuration produces and consumes one message; a wrong password
 * and an untrusted certificate fail with one clear line (describeKafkaError).
 *
 * The failing TLS cases use kafkaJsConfig (Kestrel's same TLS/SASL mapping)
 * with retries off: kafkaClient retries connection errors for ~40 s first.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { hostname, tmpdir } from 'os';
import { join } from 'path';
import { randomUUID } from 'crypto';
import { PassThrough } from 'stream';
import { gzipSync } from 'zlib';
import { runCommand } from '../../src/cli/run';
import { decodePayload, type PayloadFormat } from '../../src/decode/envelope';
import { alertJson } from '../../src/engine/alert';
import { loadRuleset } from '../../src/engine/load';
import { describeWithShared, MANAGED, UPSTREAM } from '../managed/shared';
import { Kafka } from 'kafkajs';
import { parse as parseYaml } from 'yaml';
import { kafkaClient, kafkaJsConfig, type KafkaConnection, type SaslMechanism } from '../../src/sources/kafka';
import { describeKafkaError } from '../../src/sources/kafka-errors';
import { Section } from '../../src/config/fields';
import { kafkaConnection } from '../../src/config/sections';
import { startLocalKafka, type LocalKafka } from '../../scripts/kafka-local';

jest.setTimeout(120_000);

const runId = randomUUID().slice(0, 8);
let broker: LocalKafka;
let sec: NonNullable<LocalKafka['security']>;

function config(brokers: string, extra: Partial<KafkaConnection>): KafkaConnection {
  return { brokers: [brokers], clientId: `kestrel-sec-${runId}`, connectionTimeoutMs: 5000, ...extra };
}

/** Create a topic, produce one message, read it back with a fresh consumer group. */
async function roundTrip(kafka: Kafka, label: string, metadataMaxAge?: number): Promise<string> {
  const topic = `sec-${label}-${runId}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ metadataMaxAge });
  await producer.connect();
  await producer.send({ topic, messages: [{ value: `hello ${label}` }] });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `g-${label}-${runId}`, metadataMaxAge, sessionTimeout: 10_000 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message on ${topic} within 30 s`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve(message.value!.toString());
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
}

/** Connect an admin with Kestrel's config mapping, retries off; the error's one line. */
async function failureLine(cfg: KafkaConnection): Promise<string> {
  const kafka = new Kafka({ ...kafkaJsConfig(cfg), retry: { retries: 0 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (e) {
    return describeKafkaError(e);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  throw new Error('connected although it should have failed');
}

beforeAll(async () => {
  broker = await startLocalKafka({ quickJit: true, security: true });
  sec = broker.security!;
});

afterAll(async () => {
  await broker?.stop({ graceful: false });
});

describe('SASL_PLAINTEXT listener', () => {
  test.each<[SaslMechanism, 'plain' | 'scram']>([
    ['plain', 'plain'],
    ['scram-sha-256', 'scram'],
    ['scram-sha-512', 'scram'],
  ])('%s: produce and consume one message', async (mechanism, user) => {
    const kafka = kafkaClient(config(sec.listeners.saslPlaintext, { sasl: { mechanism, ...sec.users[user] } }));
    expect(await roundTrip(kafka, mechanism)).toBe(`hello ${mechanism}`);
  });

  test('a wrong PLAIN password fails with one clear line', async () => {
    const line = await failureLine(config(sec.listeners.saslPlaintext, { sasl: { mechanism: 'plain', username: 'kestrel', password: 'wrong' } }));
    expect(line).toBe('Kafka SASL PLAIN authentication failed: Authentication failed: Invalid username or password (check kafka.sasl username, password and mechanism)');
  });

  test('a wrong SCRAM-SHA-512 password fails with one clear line', async () => {
    const line = await failureLine(config(sec.listeners.saslPlaintext, { sasl: { mechanism: 'scram-sha-512', username: 'kestrel-scram', password: 'wrong' } }));
    expect(line).toBe(
      'Kafka SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512 (check kafka.sasl username, password and mechanism)',
    );
  });
});

describe('SSL listener with client certificates (mTLS)', () => {
  test('trusted CA + client certificate: produce and consume one message', async () => {
    const kafka = kafkaClient(
      config(sec.listeners.ssl, { ssl: { rejectUnauthorized: true, caFile: sec.tls.caFile, certFile: sec.tls.clientCertFile, keyFile: sec.tls.clientKeyFile } }),
    );
    expect(await roundTrip(kafka, 'mtls')).toBe('hello mtls');
  });

  test("a broker certificate from an untrusted CA fails with one clear line", async () => {
    const line = await failureLine(
      config(sec.listeners.ssl, { ssl: { rejectUnauthorized: true, caFile: sec.tls.rogueCaFile, certFile: sec.tls.clientCertFile, keyFile: sec.tls.clientKeyFile } }),
    );
    expect(line).toBe("Kafka TLS: the broker's certificate is not trusted (Connection error: unable to verify the first certificate); check kafka.ssl.ca_file");
  });

  test('a client certificate from an untrusted CA fails with one clear line', async () => {
    const line = await failureLine(
      config(sec.listeners.ssl, { ssl: { rejectUnauthorized: true, caFile: sec.tls.caFile, certFile: sec.tls.rogueClientCertFile, keyFile: sec.tls.rogueClientKeyFile } }),
    );
    expect(line).toBe(
      'Kafka TLS: the broker refused the client certificate (alert: certificate unknown); check kafka.ssl.cert_file/key_file and that the broker trusts their CA',
    );
  });

  test('no client certificate fails with one clear line', async () => {
    const line = await failureLine(config(sec.listeners.ssl, { ssl: { rejectUnauthorized: true, caFile: sec.tls.caFile } }));
    expect(line).toBe('Kafka TLS: the broker refused the client certificate (alert: bad certificate); check kafka.ssl.cert_file/key_file and that the broker trusts their CA');
  });
});

describe('SASL_SSL listener: the Event Hubs preset', () => {
  /** The YAML block of docs/managed.md between the event-hubs-preset markers. */
  function presetFromDocs(): { kafka: Record<string, any> } {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'managed.md'), 'utf8');
    const m = /<!-- event-hubs-preset -->\s*```yaml\n([\s\S]*?)```/.exec(doc);
    if (!m) throw new Error('docs/managed.md has no <!-- event-hubs-preset --> yaml block');
    return parseYaml(m[1]);
  }

  test('the documented preset says PLAIN, $ConnectionString, TLS and a metadata refresh under 240 s', () => {
    const { kafka } = presetFromDocs();
    expect(kafka.brokers).toEqual(['<namespace>.servicebus.windows.net:9093']);
    expect(kafka.ssl).toBe(true);
    expect(kafka.sasl).toEqual({ mechanism: 'plain', username: '$ConnectionString' });
    expect(kafka.metadata_max_age_ms).toBe(180000);
    expect(kafka.metadata_max_age_ms).toBeLessThan(240_000);
  });

  test('the preset through the config loader (local listener, its CA, the connection string from the environment) produces and consumes', async () => {
    const { kafka: preset } = presetFromDocs();
    // Only the broker address and the test CA differ from the documented block.
    const local = { ...preset, brokers: [sec.listeners.saslSsl], ssl: { ca_file: sec.tls.caFile } };
    const cfg = kafkaConnection(Section.of('kafka', local), { baseDir: '/', env: { KESTREL_KAFKA_SASL_PASSWORD: sec.users.eventHubs.password } });
    expect(cfg).toEqual({
      brokers: [sec.listeners.saslSsl],
      clientId: 'kestrel',
      connectionTimeoutMs: 10_000,
      metadataMaxAgeMs: 180_000,
      ssl: { caFile: sec.tls.caFile, certFile: undefined, keyFile: undefined, rejectUnauthorized: true },
      sasl: { mechanism: 'plain', username: '$ConnectionString', password: sec.users.eventHubs.password },
    });
    expect(await roundTrip(kafkaClient(cfg), 'eventhubs', cfg.metadataMaxAgeMs)).toBe('hello eventhubs');
  });

  test('a wrong connection string fails with one clear line', async () => {
    const line = await failureLine(
      config(sec.listeners.saslSsl, {
        ssl: { rejectUnauthorized: true, caFile: sec.tls.caFile },
        sasl: { mechanism: 'plain', username: '$ConnectionString', password: 'Endpoint=sb://kestrel-test.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=d3Jvbmc=' },
      }),
    );
    expect(line).toBe('Kafka SASL PLAIN authentication failed: Authentication failed: Invalid username or password (check kafka.sasl username, password and mechanism)');
  });

  test('SASL without TLS against the TLS listener fails with one clear line', async () => {
    const line = await failureLine(config(sec.listeners.saslSsl, { sasl: { mechanism: 'plain', ...sec.users.plain } }));
    expect(line).toBe('Kafka broker closed the connection during the handshake (a TLS or SASL listener reached without kafka.ssl or kafka.sasl?)');
  });
});

/**
 * The managed samples, each in its envelope, produced to the broker over the
 * Event Hubs-shaped listener and consumed back: decoding each message (format
 * auto, as a Kafka input) and evaluating it gives the same alerts, byte for
 * byte, as `kestrel run --format` on the sample file.
 */
describeWithShared(MANAGED)('managed samples through the SASL_SSL listener', () => {
  test('every envelope gives the same alerts as kestrel run on the file', async () => {
    const base = [join(UPSTREAM, 'k8s_audit_rules.yaml')];
    const gke = [...base, join(UPSTREAM, 'k8s_audit_rules_gke.yaml')];
    const tmp = mkdtempSync(join(tmpdir(), 'kestrel-managed-kafka-'));
    try {
      // EKS has no real sample: the AKS sample's audit events in a subscription message of an EKS log group.
      const aks = JSON.parse(readFileSync(join(MANAGED, 'k8saudit-aks/sysdiglabs-aks-audit-log/event.json'), 'utf8'));
      const eksFile = join(tmp, 'eks-subscription.json');
      writeFileSync(eksFile, JSON.stringify({
        messageType: 'DATA_MESSAGE', owner: '1', logGroup: '/aws/eks/shop/cluster', logStream: 'kube-apiserver-audit-1', subscriptionFilters: ['k'],
        logEvents: aks.records.map((r: any, i: number) => ({ id: String(i), timestamp: 1588954577000 + i, message: r.properties.log.trimEnd() })),
      }));
      const gkeDir = join(MANAGED, 'k8saudit-gke/gke-labs-kube-agents');
      const cases: { file: string; format: PayloadFormat; rules: string[]; value: Buffer }[] = [
        { file: join(MANAGED, 'k8saudit-aks/sysdiglabs-aks-audit-log/event.json'), format: 'aks', rules: base, value: readFileSync(join(MANAGED, 'k8saudit-aks/sysdiglabs-aks-audit-log/event.json')) },
        { file: eksFile, format: 'cloudwatch', rules: base, value: gzipSync(readFileSync(eksFile)) },
        ...['human_denied.json', 'human_exec.json', 'human_patch.json', 'kubelet_bootstrap.json', 'serviceaccount.json', 'unauthenticated_bot.json'].map((f) => ({
          file: join(gkeDir, f), format: 'gke' as PayloadFormat, rules: gke, value: readFileSync(join(gkeDir, f)),
        })),
      ];

      const kafka = kafkaClient(config(sec.listeners.saslSsl, { ssl: { rejectUnauthorized: true, caFile: sec.tls.caFile }, sasl: { mechanism: 'plain', ...sec.users.eventHubs } }));
      const topic = `managed-${runId}`;
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic, messages: cases.map((c, i) => ({ key: String(i), value: c.value })) });
      await producer.disconnect();
      const received = new Map<number, Buffer>();
      const consumer = kafka.consumer({ groupId: `managed-${runId}`, sessionTimeout: 10_000 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`got ${received.size} of ${cases.length} messages in 30 s`)), 30_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            received.set(Number(message.key!.toString()), message.value!);
            if (received.size === cases.length) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
      await consumer.disconnect();

      const host = hostname();
      let total = 0;
      for (const [i, c] of cases.entries()) {
        const { ruleset } = loadRuleset(c.rules, { ruleMatching: 'first', hostname: host });
        const decoded = decodePayload(received.get(i)!, { format: 'auto', source: 'k8s_audit', hostname: host, maxBytes: 1 << 20 });
        if (!decoded.ok) throw new Error(`${c.file}: ${decoded.reason}`);
        let num = 0;
        const viaKafka = decoded.events.flatMap((ev) => ruleset!.evaluate({ ...ev, num: ++num }).map((a) => alertJson(a))).join('\n');
        const out = new PassThrough();
        let text = '';
        out.on('data', (d) => (text += d));
        await runCommand({ rules: c.rules, input: c.file, json: true, ruleMatching: 'first', source: 'k8s_audit', format: c.format }, out, new PassThrough());
        expect([c.file, viaKafka]).toEqual([c.file, text.trimEnd()]);
        total += viaKafka === '' ? 0 : viaKafka.split('\n').length;
      }
      // 13 (AKS) + 13 (the same events from EKS) + 5 GKE (serviceaccount is allowed by the overlay).
      expect(total).toBe(31);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
