/**
 * Smoke test of the Kafka broker the integration tests run against
 * (process.env.KAFKA_BROKERS, provided by test/setup/global-setup.ts): proves it
 * supports what the pipeline relies on — keyed partitioning with per-partition
 * order, consumer groups, idempotent producers (acks=-1) and transactions with
 * read_committed consumers. Real broker, no mocks.
 *
 * Set KAFKAJS_LOG_LEVEL=debug|info|warn|error to see kafkajs' own logs.
 */
import { randomUUID } from 'crypto';
import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type Producer } from 'kafkajs';

const TIMEOUT_MS = 60_000;

function brokers(): string[] {
  const list = process.env.KAFKA_BROKERS;
  if (!list) {
    throw new Error('KAFKA_BROKERS is not set: jest globalSetup (test/setup/global-setup.ts) should have started a broker');
  }
  return list.split(',').map((b) => b.trim());
}

async function waitFor(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Kafka broker smoke test', () => {
  const runId = randomUUID().slice(0, 8);
  let kafka: Kafka;
  let admin: Admin;
  const producers: Producer[] = [];
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    kafka = new Kafka({ clientId: `kestrel-smoke-${runId}`, brokers: brokers(), logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    await Promise.allSettled(producers.map((p) => p.disconnect()));
    await admin?.disconnect();
  });

  test(
    'idempotent keyed produce (acks=-1) to 4 partitions and consumer-group read back, in per-partition order',
    async () => {
      const topic = `smoke-keyed-${runId}`;
      const KEYS = 10;
      const COUNT = 100;
      const created = await admin.createTopics({
        topics: [{ topic, numPartitions: 4, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      expect(created).toBe(true);
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(meta.topics[0].partitions).toHaveLength(4);

      const producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      producers.push(producer);
      await producer.connect();
      // value "k<key>:<seq>", seq 0..99 in send order; 10 sends of 10 to exercise producer sequences.
      const values = Array.from({ length: COUNT }, (_, i) => `k${i % KEYS}:${i}`);
      for (let batch = 0; batch < COUNT; batch += 10) {
        const metadata = await producer.send({
          topic,
          acks: -1,
          messages: values.slice(batch, batch + 10).map((value) => ({ key: value.split(':')[0], value })),
        });
        for (const m of metadata) expect(m.errorCode).toBe(0);
      }

      // Exactly 100 records in the log: no duplicates from retries.
      const offsets = await admin.fetchTopicOffsets(topic);
      expect(offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0)).toBe(COUNT);

      const received: Array<{ partition: number; offset: number; key: string; value: string }> = [];
      const consumer = kafka.consumer({ groupId: `smoke-group-${runId}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          received.push({
            partition,
            offset: Number(message.offset),
            key: message.key?.toString() ?? '',
            value: message.value?.toString() ?? '',
          });
        },
      });
      await waitFor(`${COUNT} messages`, () => received.length >= COUNT);
      await consumer.stop();

      // Exactly the 100 values, each once.
      expect(received).toHaveLength(COUNT);
      expect(received.map((r) => r.value).sort()).toEqual([...values].sort());

      const byPartition = new Map<number, typeof received>();
      for (const r of received) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r]);
      // 10 keys over 4 partitions: the keys really were spread.
      expect(byPartition.size).toBeGreaterThan(1);
      const partitionOfKey = new Map<string, number>();
      for (const [partition, records] of byPartition) {
        // Delivered in offset order, offsets contiguous from 0 ...
        expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
        // ... and in the order they were produced.
        const seqs = records.map((r) => Number(r.value.split(':')[1]));
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        for (const r of records) {
          expect(r.key).toBe(r.value.split(':')[0]);
          // All records of one key land in one partition.
          expect(partitionOfKey.get(r.key) ?? partition).toBe(partition);
          partitionOfKey.set(r.key, partition);
        }
      }
      expect(partitionOfKey.size).toBe(KEYS);

      // The group commits offsets up to the end of every partition.
      const committedTotal = async (): Promise<number> => {
        const [t] = await admin.fetchOffsets({ groupId: `smoke-group-${runId}`, topics: [topic] });
        return t.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      };
      await waitFor('group offsets committed', async () => (await committedTotal()) >= COUNT, 10_000);
      expect(await committedTotal()).toBe(COUNT);
    },
    TIMEOUT_MS,
  );

  test(
    'transactional producer: aborted records are invisible and committed ones exact under read_committed',
    async () => {
      const topic = `smoke-tx-${runId}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });

      const producer = kafka.producer({
        transactionalId: `smoke-tx-${runId}`,
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      producers.push(producer);
      await producer.connect();

      const aborted = await producer.transaction();
      await aborted.send({ topic, acks: -1, messages: [{ key: 'a', value: 'aborted-1' }, { key: 'a', value: 'aborted-2' }] });
      await aborted.abort();

      const committedValues = ['committed-1', 'committed-2', 'committed-3'];
      const tx = await producer.transaction();
      await tx.send({ topic, acks: -1, messages: committedValues.map((value) => ({ key: 'c', value })) });
      await tx.commit();

      const received: string[] = [];
      const consumer = kafka.consumer({ groupId: `smoke-tx-group-${runId}`, readUncommitted: false, maxWaitTimeInMs: 250 });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          received.push(message.value?.toString() ?? '');
        },
      });
      // Single partition: the aborted records precede the committed ones, so once the
      // committed ones are in, anything visible from the aborted transaction would be too.
      await waitFor('committed transaction', () => received.length >= committedValues.length);
      await consumer.stop();
      expect(received).toEqual(committedValues);
    },
    TIMEOUT_MS,
  );
});
