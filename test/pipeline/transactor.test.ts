/**
 * exactly_once with one transactional producer per input partition, against a
 * fake transaction coordinator that fences like Kafka's: InitProducerId on a
 * transactional id bumps its epoch and aborts the open transaction; a producer
 * with an older epoch gets INVALID_PRODUCER_EPOCH.
 */
import pino from 'pino';
import type { ProducerRecord, TopicOffsets } from 'kafkajs';
import { Metrics } from '../../src/observability/metrics';
import { Fenced, isFenced } from '../../src/pipeline/fencing';
import { Aborted, OutputSet, type JobOutput } from '../../src/pipeline/outputs';
import type { PartitionProducers, Txn, TxnProducer } from '../../src/pipeline/partition-txn';
import { reportingAssignments, Transactor, transactionalId } from '../../src/pipeline/transactor';
import type { Kafka } from 'kafkajs';
import { EventEmitter } from 'node:events';
import type { KafkaOutputConfig } from '../../src/config/types';
import { makeAlert } from '../sinks/helpers';

const silent = pino({ level: 'silent' });

class ProtocolError extends Error {
  constructor(readonly type: string) {
    super(`protocol error ${type}`);
  }
}

/** Committed state of the fake cluster: output records, group offsets, epochs per transactional id. */
class FakeCluster {
  epochs = new Map<string, number>();
  open = new Map<string, FakeTxn>();
  /** Committed output records: topic → values. */
  records: { topic: string; value: string }[] = [];
  offsets = new Map<string, number>();
  producers: FakeProducer[] = [];
  /** Offsets of every committed transaction, in order: tid → [topic/partition=offset]. */
  commits: { tid: string; offsets: string[] }[] = [];
  failNextCommit = 0;
  /** Delay between EndTxn's answer (PREPARE_COMMIT) and the commit markers that make the transaction visible (0: at once). */
  markerDelayMs = 0;
  /** Committed transactions whose markers are not written yet, per transactional id. */
  completing = new Map<string, Promise<void>>();

  factory(): PartitionProducers {
    return {
      create: (id) => {
        const p = new FakeProducer(this, id);
        this.producers.push(p);
        return p;
      },
      committedOffset: async (topic, partition) => this.offsets.get(`${topic}/${partition}`),
    };
  }

  async initProducerId(tid: string): Promise<number> {
    // Like the coordinator: CONCURRENT_TRANSACTIONS (kafkajs retries) until the id's previous transaction is complete.
    while (this.completing.has(tid)) await this.completing.get(tid);
    const epoch = (this.epochs.get(tid) ?? 0) + 1;
    this.epochs.set(tid, epoch);
    this.open.get(tid)?.abortedByCoordinator();
    this.open.delete(tid);
    return epoch;
  }

  check(tid: string, epoch: number): void {
    if (this.epochs.get(tid) !== epoch) throw new ProtocolError('INVALID_PRODUCER_EPOCH');
  }
}

class FakeTxn implements Txn {
  private sent: { topic: string; value: string }[] = [];
  private offsets: string[] = [];
  private pendingOffsets: [string, number][] = [];
  constructor(private readonly cluster: FakeCluster, private readonly tid: string, private readonly epoch: number) {}
  abortedByCoordinator(): void {
    this.sent = [];
    this.pendingOffsets = [];
  }
  async send(r: ProducerRecord): Promise<void> {
    this.cluster.check(this.tid, this.epoch);
    this.cluster.open.set(this.tid, this);
    for (const m of r.messages) this.sent.push({ topic: r.topic, value: String(m.value) });
  }
  async sendOffsets(o: { consumerGroupId: string; topics: TopicOffsets[] }): Promise<void> {
    this.cluster.check(this.tid, this.epoch);
    this.cluster.open.set(this.tid, this);
    for (const t of o.topics) for (const p of t.partitions) {
      this.pendingOffsets.push([`${t.topic}/${p.partition}`, Number(p.offset)]);
      this.offsets.push(`${t.topic}/${p.partition}=${p.offset}`);
    }
  }
  async commit(): Promise<void> {
    this.cluster.check(this.tid, this.epoch);
    if (this.cluster.failNextCommit > 0) {
      this.cluster.failNextCommit--;
      throw new ProtocolError('REQUEST_TIMED_OUT');
    }
    this.cluster.open.delete(this.tid);
    const markers = () => {
      this.cluster.records.push(...this.sent);
      for (const [k, v] of this.pendingOffsets) this.cluster.offsets.set(k, v);
      this.cluster.commits.push({ tid: this.tid, offsets: this.offsets });
    };
    if (this.cluster.markerDelayMs === 0) return markers();
    const done = sleep(this.cluster.markerDelayMs).then(() => {
      markers();
      this.cluster.completing.delete(this.tid);
    });
    this.cluster.completing.set(this.tid, done);
  }
  async abort(): Promise<void> {
    this.cluster.check(this.tid, this.epoch);
    this.cluster.open.delete(this.tid);
  }
}

class FakeProducer implements TxnProducer {
  epoch: number | undefined;
  connected = false;
  disconnected = false;
  constructor(private readonly cluster: FakeCluster, readonly tid: string) {}
  async connect(): Promise<void> {
    this.connected = true;
  }
  async disconnect(): Promise<void> {
    this.disconnected = true;
  }
  async transaction(): Promise<Txn> {
    // Like kafkajs: InitProducerId once, at the first transaction.
    this.epoch ??= await this.cluster.initProducerId(this.tid);
    return new FakeTxn(this.cluster, this.tid, this.epoch);
  }
}

const output: KafkaOutputConfig = {
  type: 'kafka', name: 'kafka', topic: 'out', key: 'rule', format: 'json', includeEvent: 'none', includeEventMaxBytes: 0,
  breaker: { timeoutMs: false, errorThresholdPercentage: 100, resetTimeoutMs: 50, volumeThreshold: 1000 },
} as KafkaOutputConfig;

function transactor(cluster: FakeCluster, metrics = new Metrics(false)): Transactor {
  return new Transactor({
    groupId: 'g', prefix: 'tx', output, dlqTopic: 'dlq', outputs: new OutputSet([], undefined, silent, metrics), metrics, breaker: output.breaker, producers: cluster.factory(), logger: silent, lingerMs: 20,
  });
}

/** A job of partition `partition` covering offsets [first, last], one alert per offset. */
function job(partition: number, first: number, last: number): JobOutput {
  const alerts = [];
  for (let o = first; o <= last; o++) {
    const a = makeAlert(o, { rule: `p${partition}-o${o}` });
    alerts.push({ ...a, json: a.alert.rule, origin: { topic: 'in', partition, offset: String(o) } });
  }
  return { alerts, letters: [] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('transactional ids: prefix, topic and partition', () => {
  expect(transactionalId('kestrel', 'audit.events', 3)).toBe('kestrel-audit.events-3');
  expect(transactionalId('kestrel', 'audit-1', 2)).toBe('kestrel-audit-1-2');
});

test('fencing is recognised through kafkajs wrappers', () => {
  expect(isFenced(new ProtocolError('INVALID_PRODUCER_EPOCH'))).toBe(true);
  expect(isFenced(new ProtocolError('PRODUCER_FENCED'))).toBe(true);
  expect(isFenced(Object.assign(new Error('retries exceeded'), { cause: new ProtocolError('INVALID_PRODUCER_EPOCH') }))).toBe(true);
  expect(isFenced(Object.assign(new Error('aggregate'), { errors: [new Error('x'), new ProtocolError('INVALID_PRODUCER_EPOCH')] }))).toBe(true);
  const unknown = (code: number) => Object.assign(new ProtocolError('KAFKAJS_UNKNOWN_ERROR_CODE'), { message: `Unknown error code ${code}` });
  expect(isFenced(unknown(90))).toBe(true);
  expect(isFenced(unknown(900))).toBe(false);
  expect(isFenced(new ProtocolError('REQUEST_TIMED_OUT'))).toBe(false);
  expect(isFenced(undefined)).toBe(false);
  expect(new Fenced('in', 0, 'was fenced')).toBeInstanceOf(Aborted);
});

test('one producer per partition; each transaction commits its own partition offset only', async () => {
  const cluster = new FakeCluster();
  const t = transactor(cluster);
  await Promise.all([t.submit(job(0, 0, 1), 'in', 0, 2), t.submit(job(1, 0, 0), 'in', 1, 1), t.submit(job(0, 2, 2), 'in', 0, 3)]);
  await t.idle();
  expect(cluster.producers.map((p) => p.tid).sort()).toEqual(['tx-in-0', 'tx-in-1']);
  expect(t.openProducers).toBe(2);
  for (const c of cluster.commits) expect(c.offsets).toHaveLength(1);
  const byTid = (tid: string) => cluster.commits.filter((c) => c.tid === tid).flatMap((c) => c.offsets);
  expect(byTid('tx-in-1')).toEqual(['in/1=1']);
  expect(byTid('tx-in-0').at(-1)).toBe('in/0=3');
  expect(byTid('tx-in-0').every((o) => o.startsWith('in/0='))).toBe(true);
  expect(cluster.records.map((r) => r.value).sort()).toEqual(['p0-o0', 'p0-o1', 'p0-o2', 'p1-o0']);
  expect(Object.fromEntries(cluster.offsets)).toEqual({ 'in/0': 3, 'in/1': 1 });
  await t.close();
  expect(cluster.producers.every((p) => p.disconnected)).toBe(true);
});

test('a fenced partition drops its jobs uncommitted (Fenced, not a failure); the other partitions go on; the new owner skips what the old one committed', async () => {
  const cluster = new FakeCluster();
  const metrics = new Metrics(false);
  const a = transactor(cluster, metrics);
  await a.submit(job(0, 0, 4), 'in', 0, 5);
  await a.submit(job(1, 0, 1), 'in', 1, 2);
  // The partition moves: the new owner's consumer fetched offset 0 before the handover (the pre-KIP-447 gap),
  // its producer fences A's and reads the committed offset (5) afterwards.
  const b = transactor(cluster);
  await b.submit(job(0, 0, 7), 'in', 0, 8);
  expect(cluster.records.filter((r) => r.value.startsWith('p0-')).map((r) => r.value)).toEqual(['p0-o0', 'p0-o1', 'p0-o2', 'p0-o3', 'p0-o4', 'p0-o5', 'p0-o6', 'p0-o7']);

  // A's in-flight work for partition 0 is fenced: rejected with Fenced, nothing written, offsets untouched.
  const fenced = await a.submit(job(0, 5, 9), 'in', 0, 10).then(() => 'committed', (e) => e);
  expect(fenced).toBeInstanceOf(Fenced);
  expect(fenced).toBeInstanceOf(Aborted);
  expect((fenced as Error).message).toBe('partition in[0] was fenced by its new owner: job dropped uncommitted, its new owner re-reads it');
  const later = await a.submit(job(0, 10, 10), 'in', 0, 11).then(() => 'committed', (e) => e);
  expect(later).toBeInstanceOf(Fenced);
  expect(cluster.offsets.get('in/0')).toBe(8);
  expect(cluster.records.filter((r) => r.value === 'p0-o9' || r.value === 'p0-o10')).toEqual([]);
  const aProducer0 = cluster.producers.find((p) => p.tid === 'tx-in-0')!;
  expect(aProducer0.disconnected).toBe(true);
  // Partition 1 of the same process is unaffected.
  await a.submit(job(1, 2, 2), 'in', 1, 3);
  expect(cluster.offsets.get('in/1')).toBe(3);
  const text = await metrics.registry.metrics();
  expect(text).toContain('kestrel_commits_total{result="fenced"} 1');
  await a.close();
  await b.close();
});

test('handover while the previous owner\'s commit markers are still being written: the new owner waits for them, then reads its floor; each alert once', async () => {
  const cluster = new FakeCluster();
  cluster.markerDelayMs = 40;
  const a = transactor(cluster);
  // EndTxn answered (PREPARE_COMMIT): A's job is acknowledged, its alerts and offset are not visible yet.
  await a.submit(job(0, 0, 4), 'in', 0, 5);
  expect(cluster.offsets.get('in/0')).toBeUndefined();
  expect(cluster.records).toEqual([]);
  // The new owner's consumer fetched the committed offset in that gap (nothing: it re-reads from 0).
  const b = transactor(cluster);
  await b.submit(job(0, 0, 7), 'in', 0, 8);
  await sleep(60); // B's own markers
  // Its InitProducerId returned once A's transaction was complete; the floor (5) read after it skips 0-4.
  expect(cluster.records.map((r) => r.value)).toEqual(['p0-o0', 'p0-o1', 'p0-o2', 'p0-o3', 'p0-o4', 'p0-o5', 'p0-o6', 'p0-o7']);
  expect(cluster.commits.map((c) => c.offsets)).toEqual([['in/0=5'], ['in/0=8']]);
  expect(cluster.offsets.get('in/0')).toBe(8);
  await a.close();
  await b.close();
});

test('fenced while its transaction is open: the coordinator aborts it, nothing of it is visible, queued jobs dropped', async () => {
  const cluster = new FakeCluster();
  const a = transactor(cluster);
  await a.submit(job(0, 0, 0), 'in', 0, 1);
  // B initialises the same transactional id in the middle of A's transaction (after A's first send).
  const realSend = FakeTxn.prototype.send;
  let b: Transactor | undefined;
  let bDone: Promise<void> | undefined;
  jest.spyOn(FakeTxn.prototype, 'send').mockImplementationOnce(async function (this: FakeTxn, r) {
    await realSend.call(this, r);
    b = transactor(cluster);
    bDone = b.submit(job(0, 1, 3), 'in', 0, 4);
    await sleep(20);
  });
  const outcomes = await Promise.allSettled([a.submit(job(0, 1, 2), 'in', 0, 3), a.submit(job(0, 3, 3), 'in', 0, 4)]);
  await bDone;
  expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).constructor.name : 'ok'))).toEqual(['Fenced', 'Fenced']);
  expect(cluster.records.map((r) => r.value)).toEqual(['p0-o0', 'p0-o1', 'p0-o2', 'p0-o3']);
  expect(cluster.offsets.get('in/0')).toBe(4);
  await a.close();
  await b!.close();
});

test('a revoked partition: queued work still commits, then its producer is closed; late jobs are refused; assigned again it gets a new producer', async () => {
  const cluster = new FakeCluster();
  const t = transactor(cluster);
  t.assigned(['in'], { in: [0, 1] });
  await Promise.all([t.submit(job(0, 0, 0), 'in', 0, 1), t.submit(job(1, 0, 0), 'in', 1, 1)]);
  t.assigned(['in'], { in: [1] });
  // Revoked but not yet closed: a job still in flight commits with the existing producer.
  await t.submit(job(0, 1, 1), 'in', 0, 2);
  expect(cluster.offsets.get('in/0')).toBe(2);
  await sleep(60);
  const p0 = cluster.producers.filter((p) => p.tid === 'tx-in-0');
  expect(p0.map((p) => p.disconnected)).toEqual([true]);
  expect(cluster.producers.find((p) => p.tid === 'tx-in-1')!.disconnected).toBe(false);
  expect(t.openProducers).toBe(1);
  // A job of the revoked partition after its producer closed never makes a new one (that would fence the new owner).
  await expect(t.submit(job(0, 2, 2), 'in', 0, 3)).rejects.toThrow('partition in[0] is no longer assigned: job dropped uncommitted, its new owner re-reads it');
  expect(cluster.producers.filter((p) => p.tid === 'tx-in-0')).toHaveLength(1);
  // Assignments of another input's topics leave these partitions alone.
  t.assigned(['other'], { other: [0] });
  expect(t.openProducers).toBe(1);
  // Assigned again: a fresh producer, a new epoch.
  t.assigned(['in'], { in: [0, 1] });
  await t.submit(job(0, 2, 2), 'in', 0, 3);
  expect(cluster.producers.filter((p) => p.tid === 'tx-in-0').map((p) => p.epoch)).toEqual([1, 2]);
  expect(cluster.offsets.get('in/0')).toBe(3);
  await t.close();
});

test('revoked and assigned back while a job is in flight: the late job (old assignment token) is dropped, the re-read one commits; each alert once', async () => {
  const cluster = new FakeCluster();
  const t = transactor(cluster);
  t.assigned(['in'], { in: [0, 1] });
  const first = t.token('in', 0);
  expect(t.token('in', 0)).toBe(first);
  await t.submit(job(0, 0, 1), 'in', 0, 2, first);
  // Offsets 2-4 are read under the first assignment; their evaluation is still running when the partition
  // is revoked and assigned back to this process.
  t.assigned(['in'], { in: [1] });
  // Revoked, not yet assigned again: the in-flight job of this assignment may still commit (its producer is open).
  await t.submit(job(0, 2, 2), 'in', 0, 3, first);
  t.assigned(['in'], { in: [0, 1] });
  const second = t.token('in', 0);
  expect(second).not.toBe(first);
  expect(t.token('in', 1)).not.toBe(second);
  const late = await t.submit(job(0, 3, 4), 'in', 0, 5, first).then(() => 'committed', (e) => e);
  expect(late).toBeInstanceOf(Fenced);
  expect((late as Error).message).toBe('partition in[0] was assigned again since the job was read: job dropped uncommitted, its new owner re-reads it');
  expect(cluster.offsets.get('in/0')).toBe(3);
  // The new assignment re-reads from the committed offset (3) and commits with the new producer.
  await t.submit(job(0, 3, 4), 'in', 0, 5, second);
  expect(cluster.records.filter((r) => r.value.startsWith('p0-')).map((r) => r.value)).toEqual(['p0-o0', 'p0-o1', 'p0-o2', 'p0-o3', 'p0-o4']);
  expect(cluster.offsets.get('in/0')).toBe(5);
  expect(cluster.producers.filter((p) => p.tid === 'tx-in-0').map((p) => p.epoch)).toEqual([1, 2]);
  // Partition 1 stayed assigned throughout: its token never changed, its jobs commit.
  await t.submit(job(1, 0, 0), 'in', 1, 1, t.token('in', 1));
  expect(cluster.offsets.get('in/1')).toBe(1);
  await t.close();
});

test('a failed commit (not fencing) is retried until it commits, exactly once', async () => {
  const cluster = new FakeCluster();
  const t = transactor(cluster);
  cluster.failNextCommit = 2;
  await t.submit(job(0, 0, 1), 'in', 0, 2);
  expect(cluster.records.map((r) => r.value)).toEqual(['p0-o0', 'p0-o1']);
  expect(cluster.offsets.get('in/0')).toBe(2);
  await t.close();
});

test('a job submitted as the previous one resolves is still flushed (no stall at the end of a stream)', async () => {
  const cluster = new FakeCluster();
  const t = transactor(cluster);
  await t.submit(job(0, 0, 0), 'in', 0, 1);
  // Runs in the microtask right after the first job resolved, while its flush loop is ending.
  await t.submit(job(0, 1, 1), 'in', 0, 2);
  expect(cluster.offsets.get('in/0')).toBe(2);
  await t.close();
});

test('the consumers of an exactly_once input report their assignments; the rest of the client is untouched', () => {
  const consumer = Object.assign(new EventEmitter(), { events: { GROUP_JOIN: 'consumer.group_join' } });
  const made: unknown[] = [];
  const kafka = { consumer: (cfg: unknown) => (made.push(cfg), consumer), admin: () => 'admin' } as unknown as Kafka;
  const seen: Record<string, number[]>[] = [];
  const wrapped = reportingAssignments(kafka, (a) => seen.push(a));
  expect(wrapped.consumer({ groupId: 'g' })).toBe(consumer);
  expect(made).toEqual([{ groupId: 'g' }]);
  consumer.emit('consumer.group_join', { payload: { memberAssignment: { in: [0, 2] } } });
  expect(seen).toEqual([{ in: [0, 2] }]);
  expect((wrapped.admin as unknown as () => string)()).toBe('admin');
});
