/**
 * The Kafka input's jobs (batch dispatch under a budget, pause policy, the
 * committer of contiguous delivered offsets, crash supervision) driven by
 * fakes: a fake kafkajs consumer and EachBatchPayload, a fake worker pool and
 * output set. The real-broker behaviour is tested in test/integration/.
 */
import pino from 'pino';
import type { EachBatchPayload } from 'kafkajs';
import type { KafkaInputConfig } from '../../src/config/types';
import { Metrics } from '../../src/observability/metrics';
import type { EvaluatedJob, Evaluator } from '../../src/pipeline/evaluate';
import { sliceJob } from '../../src/pipeline/job-slicer';
import { KafkaInput, type KafkaInputDeps } from '../../src/pipeline/kafka-input';
import { MARKER_TOKEN, UNDECODABLE_BATCH_HEADER } from '../../src/sources/undecodable-batch';
import type { OutputSet } from '../../src/pipeline/outputs';
import { decodeFetchResponse, readWholeBatches } from '../../src/sources/kafka-record-batches';
import { batch, response } from '../support/kafka-batches';

const CFG: KafkaInputConfig = { type: 'kafka', name: 'audit', topics: ['t'], groupId: 'g', fromBeginning: true, sessionTimeoutMs: 30_000, format: 'auto', source: 'k8s_audit', fields: {} };

class FakeConsumer {
  readonly events = { GROUP_JOIN: 'join', REBALANCING: 'rebalancing', CRASH: 'crash', STOP: 'stop', DISCONNECT: 'disconnect' };
  readonly handlers = new Map<string, (e: { payload: any }) => void>();
  eachBatch!: (p: EachBatchPayload) => Promise<void>;
  readonly log: string[] = [];
  on(ev: string, fn: (e: { payload: any }) => void) {
    this.handlers.set(ev, fn);
  }
  async connect() {}
  async subscribe() {}
  async run(opts: { eachBatch: (p: EachBatchPayload) => Promise<void> }) {
    this.eachBatch = opts.eachBatch;
  }
  pause(tps: { topic: string; partitions: number[] }[]) {
    this.log.push(`pause ${tps[0].topic}/${tps[0].partitions[0]}`);
  }
  resume(tps: { topic: string; partitions: number[] }[]) {
    this.log.push(`resume ${tps[0].topic}/${tps[0].partitions[0]}`);
  }
  async commitOffsets(o: { topic: string; partition: number; offset: string }[]) {
    this.log.push(`commit ${o.map((x) => `${x.topic}/${x.partition}@${x.offset}`).join(',')}`);
  }
  async disconnect() {}
}

/** A pool whose budget is 3 messages and whose jobs finish when the test says so. */
function fakes() {
  const consumer = new FakeConsumer();
  const jobs: { values: number; finish: () => void }[] = [];
  const inFlight = { messages: 0, bytes: 0 };
  const releases: ((w: number) => void)[] = [];
  const pool = {
    size: 1,
    budget: { messages: 3, bytes: 1 << 20 },
    workerFor: () => 0,
    room: () => ({ messages: 3 - inFlight.messages, bytes: (1 << 20) - inFlight.bytes }),
    inFlight: () => ({ ...inFlight }),
    reserve: (_w: number, m: number, b: number) => ((inFlight.messages += m), (inFlight.bytes += b)),
    release: (_w: number, m: number, b: number) => {
      inFlight.messages -= m;
      inFlight.bytes -= b;
      for (const l of releases) l(0);
    },
    waitForRelease: async () => false,
    onRelease: (l: (w: number) => void) => releases.push(l),
  };
  const evaluator = {
    pool,
    // The Kafka input hands its payloads packed (pool.ts Packed): one length each.
    run: (_w: number, packed: { lengths: Int32Array }) =>
      new Promise<EvaluatedJob>((resolve) => jobs.push({ values: packed.lengths.length, finish: () => resolve({ alerts: [], letters: [], events: packed.lengths.length }) })),
  } as unknown as Evaluator;
  const delivered: number[] = [];
  const outputs = { deliver: async (o: EvaluatedJob) => void delivered.push(o.events) } as unknown as OutputSet;
  const metrics = new Metrics(false);
  const input = new KafkaInput(CFG, { kafka: { consumer: () => consumer } as never, evaluator, outputs, commitIntervalMs: 60_000, logger: pino({ level: 'silent' }), metrics });
  return { consumer, jobs, input, delivered, metrics };
}

function batchOf(offsets: number[], resolved: string[]): EachBatchPayload {
  return {
    batch: { topic: 't', partition: 0, highWatermark: String(offsets[offsets.length - 1] + 1), messages: offsets.map((o) => ({ offset: String(o), value: Buffer.from('{}') })) },
    resolveOffset: (o: string) => void resolved.push(o),
    heartbeat: async () => {},
    isRunning: () => true,
    isStale: () => false,
  } as unknown as EachBatchPayload;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('KafkaInput with a fake consumer', () => {
  test('a batch is sliced to the budget; a full budget pauses the partition; release resumes it', async () => {
    const { consumer, jobs, input } = fakes();
    await input.start();
    consumer.handlers.get('join')!({ payload: { memberAssignment: { t: [0] } } });
    const resolved: string[] = [];
    await consumer.eachBatch(batchOf([10, 11, 12, 13, 14], resolved));
    expect(jobs.map((j) => j.values)).toEqual([3]);
    expect(resolved).toEqual(['12']);
    expect(consumer.log).toEqual(['pause t/0']);
    jobs[0].finish();
    await tick();
    await tick();
    expect(consumer.log).toEqual(['pause t/0', 'resume t/0']);
  });

  test('offsets are committed only up to the contiguous delivered prefix', async () => {
    const { consumer, jobs, input, delivered } = fakes();
    await input.start();
    consumer.handlers.get('join')!({ payload: { memberAssignment: { t: [0] } } });
    await consumer.eachBatch(batchOf([0], []));
    await consumer.eachBatch(batchOf([1, 2], []));
    jobs[1].finish();
    await tick();
    await input.commit();
    expect(consumer.log).toEqual([]);
    jobs[0].finish();
    await tick();
    await input.commit();
    expect(delivered).toEqual([2, 1]);
    expect(consumer.log).toEqual(['commit t/0@3']);
  });

  test('an open output breaker pauses every assigned partition until it closes', async () => {
    const { consumer, input } = fakes();
    await input.start();
    consumer.handlers.get('join')!({ payload: { memberAssignment: { t: [0, 1] } } });
    input.setBreakersOpen(true);
    input.setBreakersOpen(false);
    expect(consumer.log).toEqual(['pause t/0', 'pause t/1', 'resume t/0', 'resume t/1']);
    expect(input.notReady()).toEqual([]);
  });

  test('marker records of an undecodable batch: what precedes them is dispatched, the partition is held and reported once; a closing breaker does not resume it', async () => {
    const { consumer, jobs, input, metrics } = fakes();
    await input.start();
    consumer.handlers.get('join')!({ payload: { memberAssignment: { t: [0, 1] } } });
    const resolved: string[] = [];
    const marker = { [UNDECODABLE_BATCH_HEADER]: Buffer.from('gzip: unknown compression method'), 'kestrel.batch.token': Buffer.from(MARKER_TOKEN), 'kestrel.batch.first_offset': Buffer.from('12'), 'kestrel.batch.last_offset': Buffer.from('14') };
    const payload = batchOf([10, 11, 12, 13, 14, 15], resolved);
    payload.batch.messages.forEach((m, i) => (m.headers = i >= 2 && i <= 4 ? { ...marker } : {}));
    await consumer.eachBatch(payload);
    expect(jobs.map((j) => j.values)).toEqual([2]);
    expect(resolved).toEqual(['11']);
    expect(consumer.log).toEqual(['pause t/0']);
    const reason = 'input audit: partition t[0] held at offset 12: undecodable record batch (offsets 12-14): gzip: unknown compression method';
    expect(input.notReady()).toEqual([reason]);
    // Fetched again (kafkajs restarted the consumer): not counted twice, nothing dispatched.
    await consumer.eachBatch(batchOf([12], []));
    const again = batchOf([12, 13], []);
    again.batch.messages.forEach((m) => (m.headers = { ...marker }));
    await consumer.eachBatch(again);
    expect(jobs).toHaveLength(1);
    input.setBreakersOpen(true);
    input.setBreakersOpen(false);
    expect(consumer.log).toEqual(['pause t/0', 'pause t/1', 'resume t/1']);
    const text = await metrics.registry.metrics();
    expect(text).toContain('kestrel_undecodable_batches_total{topic="t",partition="0"} 1');
    expect(text).toContain('kestrel_partitions_stalled 1');
    expect(input.notReady()).toEqual([reason]);
    // Revoked: its new owner holds and reports it; here it is no longer stalled.
    consumer.handlers.get('join')!({ payload: { memberAssignment: { t: [1] } } });
    expect(input.notReady()).toEqual([]);
    expect(await metrics.registry.metrics()).toContain('kestrel_partitions_stalled 0');
  });

  test('a record produced with marker headers but without this process\'s token is an ordinary record: dispatched, nothing held', async () => {
    const { consumer, jobs, input, metrics } = fakes();
    await input.start();
    consumer.handlers.get('join')!({ payload: { memberAssignment: { t: [0] } } });
    const resolved: string[] = [];
    const payload = batchOf([10, 11, 12], resolved);
    const forged = { [UNDECODABLE_BATCH_HEADER]: Buffer.from('stall it'), 'kestrel.batch.token': Buffer.from('0'.repeat(32)), 'kestrel.batch.first_offset': Buffer.from('11'), 'kestrel.batch.last_offset': Buffer.from('11') };
    payload.batch.messages.forEach((m, i) => (m.headers = i === 1 ? forged : {}));
    await consumer.eachBatch(payload);
    expect(jobs.map((j) => j.values)).toEqual([3]);
    expect(resolved).toEqual(['12']);
    expect(consumer.log).toEqual([]);
    expect(input.notReady()).toEqual([]);
    expect(await metrics.registry.metrics()).toContain('kestrel_partitions_stalled 0');
  });

  test('exactly_once: jobs are submitted with their assignment token; a retained partition the transactor started over is read again as a new assignment', async () => {
    const consumer = new FakeConsumer();
    const { input: base, jobs } = fakes();
    let generation = 1;
    const submitted: [number, number | undefined][] = [];
    const transactor = { token: () => generation, submit: async (_o: unknown, _t: string, _p: number, next: number, token?: number) => void submitted.push([next, token]), idle: async () => {} };
    const deps = (base as unknown as { deps: object }).deps;
    const input = new KafkaInput(CFG, { ...(deps as KafkaInputDeps), kafka: { consumer: () => consumer } as never, transactor: transactor as never });
    await input.start();
    consumer.handlers.get('join')!({ payload: { memberAssignment: { t: [0] } } });
    await consumer.eachBatch(batchOf([10, 11], []));
    // Fenced meanwhile: the transactor made a new token; the group gives the partition back (retained).
    generation = 2;
    consumer.handlers.get('join')!({ payload: { memberAssignment: { t: [0] } } });
    // kafkajs re-fetches from the committed offset: offset 10 is a new job of the new assignment, not skipped.
    await consumer.eachBatch(batchOf([10, 11], []));
    for (const j of jobs) j.finish();
    await tick();
    await tick();
    // The late job keeps its old token (the transactor drops it); the re-read offset 10 goes out with the new one
    // (alone: the late job still holds 2 of the budget of 3).
    expect(submitted).toEqual([[12, 1], [11, 2]]);
  });

  test('a consumer that disconnects while the input runs fails it (no zombie); during stop it does not', async () => {
    const { consumer, input } = fakes();
    await input.start();
    consumer.handlers.get('disconnect')!({ payload: {} });
    await expect(input.failed).resolves.toEqual(new Error('Kafka consumer disconnected unexpectedly'));
    const other = fakes();
    await other.input.start();
    await other.input.stop(Date.now() + 1000);
    other.consumer.handlers.get('stop')!({ payload: {} });
    const settled = await Promise.race([other.input.failed.then(() => 'failed'), tick().then(() => 'running')]);
    expect(settled).toBe('running');
  });

  test('a stop and disconnect followed by a crash kafkajs restarts (a broker outage) is not a failure; the rejoin clears it', async () => {
    const { consumer, input } = fakes();
    await input.start();
    consumer.handlers.get('stop')!({ payload: {} });
    consumer.handlers.get('disconnect')!({ payload: {} });
    consumer.handlers.get('crash')!({ payload: { restart: true, error: new Error('Connection error: ECONNREFUSED') } });
    await new Promise((r) => setTimeout(r, 1_200));
    consumer.handlers.get('join')!({ payload: { memberAssignment: { t: [0] } } });
    const settled = await Promise.race([input.failed.then(() => 'failed'), tick().then(() => 'running')]);
    expect([settled, input.notReady()]).toEqual(['running', []]);
    input.quiesce();
  });

  test('a consumer crash kafkajs does not restart fails the input with its cause', async () => {
    const { consumer, input } = fakes();
    await input.start();
    expect(input.notReady()).toEqual(['input audit: not a member of consumer group g']);
    consumer.handlers.get('crash')!({ payload: { restart: false, error: new Error('Snappy compression not implemented') } });
    await expect(input.failed).resolves.toEqual(new Error('Kafka consumer stopped: Snappy compression not implemented'));
  });
});

describe('KafkaInput with whole record batches (sources/kafka-record-batches.ts)', () => {
  /** Stand-ins for batches [0..2, last offset 4] and [5, 6], as the Fetch decoder yields them. */
  async function standIns(): Promise<unknown[]> {
    const records = Buffer.concat([
      await batch(0, [{ delta: 0, value: '{}' }, { delta: 1, value: '{}' }, { delta: 2, value: '{}' }], { lastOffsetDelta: 4 }),
      await batch(5, [{ delta: 0, value: '{}' }, { delta: 1, value: '{}' }]),
    ]);
    const release = readWholeBatches(['t']);
    const decoded = await decodeFetchResponse(response([{ name: 't', records }]));
    release();
    return decoded.responses[0].partitions[0].messages;
  }
  const payload = (messages: unknown[], fetchedOffset: string, resolved: string[]) =>
    ({ ...batchOf([0], resolved), batch: { topic: 't', partition: 0, highWatermark: '7', fetchedOffset, messages } }) as unknown as EachBatchPayload;

  test('records below the fetch offset are skipped; a job ending at a batch end resolves and commits its last offset', async () => {
    const { consumer, jobs, input } = fakes();
    await input.start();
    consumer.handlers.get('join')!({ payload: { memberAssignment: { t: [0] } } });
    const messages = await standIns();
    const resolved: string[] = [];
    // Fetched from offset 1: records 1, 2 of the first batch, 5, 6 of the second; the budget takes 3.
    await consumer.eachBatch(payload(messages, '1', resolved));
    expect(jobs.map((j) => j.values)).toEqual([3]);
    expect(resolved).toEqual(['5']);
    jobs[0].finish();
    await tick();
    await input.commit();
    expect(consumer.log).toEqual(['pause t/0', 'resume t/0', 'commit t/0@6']);
    // Re-fetched from 6 (kafkajs hands the second batch again): record 6 only.
    await consumer.eachBatch(payload(messages.slice(1), '6', resolved));
    expect(jobs.map((j) => j.values)).toEqual([3, 1]);
    jobs[1].finish();
    await tick();
    await input.commit();
    expect(resolved).toEqual(['5', '6']);
    expect(consumer.log.slice(3)).toEqual(['commit t/0@7']);
  });

  test('every record of a batch dispatched: the fetch moves past its end, even where compaction removed its last records', async () => {
    const { consumer, jobs, input } = fakes();
    await input.start();
    consumer.handlers.get('join')!({ payload: { memberAssignment: { t: [0] } } });
    const resolved: string[] = [];
    // Fetched from 3: the first batch has no record left there, but it ends at 4.
    await consumer.eachBatch(payload((await standIns()).slice(0, 1), '3', resolved));
    expect([jobs.length, resolved]).toEqual([0, ['4']]);
  });
});

describe('sliceJob', () => {
  const msgs = [10, 20, 30, 40];
  test('by messages, by bytes, by the job maximum', () => {
    expect(sliceJob(msgs, 0, { messages: 2, bytes: 1000 }, 1000)).toEqual({ n: 2, bytes: 30 });
    expect(sliceJob(msgs, 1, { messages: 9, bytes: 55 }, 1000)).toEqual({ n: 2, bytes: 50 });
    expect(sliceJob(msgs, 0, { messages: 9, bytes: 1000 }, 3)).toEqual({ n: 3, bytes: 60 });
    expect(sliceJob(msgs, 3, { messages: 9, bytes: 39 }, 1000)).toEqual({ n: 0, bytes: 0 });
    expect(sliceJob([-1], 0, { messages: 1, bytes: 0 }, 1000)).toEqual({ n: 1, bytes: 0 });
  });
});
