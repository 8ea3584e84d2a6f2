/**
 * Every Kafka compression codec, against a real broker and a real outside
 * client: kcat (librdkafka, what Fluent Bit and Vector use) produces batches
 * compressed with gzip, snappy, lz4 and zstd, and Kestrel's kafkajs client
 * reads and decodes them; Kestrel's producer writes each codec and kcat reads
 * the messages back. Without the codecs kafkajs throws
 * `KafkaJSNotImplemented: Snappy compression not implemented` and stops.
 *
 * Needs `kcat` on PATH (.ci/run installs it with apt).
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { kafkaClient } from '../../src/sources/kafka';
import { compressionType, registerCodecs, type OutputCompression } from '../../src/sources/kafka-codecs';
import type { KafkaConnection } from '../../src/config/types';

const CODECS: OutputCompression[] = ['gzip', 'snappy', 'lz4', 'zstd'];
const COUNT = 200;

function brokers(): string {
  const list = process.env.KAFKA_BROKERS;
  if (!list) throw new Error('KAFKA_BROKERS is not set: jest globalSetup (test/setup/global-setup.ts) should have started a broker');
  return list;
}

function kcat(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', ['-b', brokers(), ...args], { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kcat ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Audit-event-like JSON, repetitive enough that every codec really compresses it. */
function values(codec: string): string[] {
  return Array.from({ length: COUNT }, (_, i) =>
    JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: `${codec}-${i}`, stage: 'ResponseComplete', verb: 'get', objectRef: { resource: 'secrets', namespace: 'shop', name: `s-${i}` }, pad: 'x'.repeat(i % 50) }),
  );
}

describe('Kafka compression codecs with a real broker and kcat', () => {
  const runId = randomUUID().slice(0, 8);
  let kafka: Kafka;
  let admin: Admin;

  beforeAll(async () => {
    try {
      execFileSync('kcat', ['-V'], { stdio: 'ignore' });
    } catch {
      throw new Error('kcat is not installed: apt-get install -y kcat (.ci/run does it)');
    }
    registerCodecs();
    registerCodecs(); // idempotent
    const cfg: KafkaConnection = { brokers: brokers().split(','), clientId: `codecs-${runId}`, connectionTimeoutMs: 10_000 };
    kafka = kafkaClient(cfg);
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [...CODECS.map((c) => ({ topic: `kcat-${c}-${runId}` })), ...CODECS.map((c) => ({ topic: `kestrel-${c}-${runId}` }))].map((t) => ({ ...t, numPartitions: 1, replicationFactor: 1 })), waitForLeaders: true });
  }, 60_000);

  afterAll(async () => {
    await admin?.disconnect();
  });

  test.each(CODECS)('%s batches written by kcat are read and decoded by Kestrel', async (codec) => {
    const topic = `kcat-${codec}-${runId}`;
    const sent = values(codec);
    // linger so that kcat puts many messages into one compressed batch
    await kcat(['-P', '-t', topic, '-z', codec, '-X', 'linger.ms=200', '-X', 'batch.num.messages=1000'], sent.join('\n') + '\n');

    const consumer = kafka.consumer({ groupId: `codecs-${codec}-${runId}` });
    const got: string[] = [];
    const batchSizes: number[] = [];
    let crashed: Error | undefined;
    consumer.on(consumer.events.CRASH, (e) => (crashed = e.payload.error));
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        batchSizes.push(batch.messages.length);
        for (const m of batch.messages) got.push(m.value!.toString('utf8'));
      },
    });
    const deadline = Date.now() + 25_000;
    while (got.length < COUNT && !crashed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await consumer.disconnect();
    expect(crashed).toBeUndefined();
    expect(got).toEqual(sent);
    // kcat batched them: fewer fetch batches than messages (each a compressed record batch)
    expect(batchSizes.length).toBeLessThan(COUNT / 10);
  }, 40_000);

  test.each(CODECS)('%s batches produced by Kestrel are read back by kcat', async (codec) => {
    const topic = `kestrel-${codec}-${runId}`;
    const sent = values(`out-${codec}`);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, compression: compressionType(codec), messages: sent.map((value, i) => ({ key: `k${i}`, value })) });
    } finally {
      await producer.disconnect();
    }
    const out = await kcat(['-C', '-t', topic, '-o', 'beginning', '-c', String(COUNT), '-e', '-q', '-f', '%s\n']);
    expect(out.split('\n').slice(0, -1)).toEqual(sent);
  }, 40_000);

  test('the configured output compression names map to kafkajs types; others are refused', () => {
    expect(['none', 'gzip', 'snappy', 'lz4', 'zstd'].map((n) => compressionType(n as OutputCompression))).toEqual([0, 1, 2, 3, 4]);
    expect(() => compressionType('brotli' as OutputCompression)).toThrow("unknown compression 'brotli': expected one of none, gzip, snappy, lz4, zstd");
  });
});
