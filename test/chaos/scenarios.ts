/**
 * The chaos scenarios, each a function that injects one fault mid-stream and
 * returns its tally against the oracle (`kestrel run --json` over the same
 * events) after printing its figure line. test/chaos/chaos.test.ts asserts on
 * them; test/chaos/pending/ holds variants that expose a known defect (none at present).
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CompressionCodecs, CompressionTypes, Partitioners, type Admin } from 'kafkajs';
import { startLocalKafka, type LocalKafka } from '../../scripts/kafka-local';
import { auditEvents, brokers, createTopics, expectedAlerts, sleep, tmpDir, waitFor } from '../pipeline/kafka-helpers';
import { client, collect, figure, kafkaService, scrape, startKestrel, stopKestrel, Stream, tally, topicSize, waitForAll, type Kestrel, type Msg, type Tally } from './harness';
import { committedValues } from './committed';

export type Guarantee = 'at_least_once' | 'exactly_once';

const dir = tmpDir();
const running: Kestrel[] = [];

const start = (name: string, cfg: Record<string, unknown>) => {
  const k = startKestrel(dir, name, cfg);
  running.push(k);
  return k;
};

/** SIGKILLs whatever a scenario left running (afterAll). */
export const killAll = () => Promise.all(running.map((k) => stopKestrel(k, 'SIGKILL')));

const keyed = (events: string[]): Msg[] => events.map((value, i) => ({ key: `k${i}`, value }));
const values = (rs: { value: string }[]) => rs.map((r) => r.value);

async function topics(admin: Admin, id: string, input: number): Promise<void> {
  await createTopics(admin, { [`in-${id}`]: input, [`out-${id}`]: 2, [`dlq-${id}`]: 1 });
}

/**
 * Kafka in, Kafka out. exactly_once: every member uses the group's transactional-id
 * prefix (the default, kestrel-<group_id>): one transactional id per input partition,
 * so a partition's new owner fences its previous one.
 */
const member = (bs: string[], id: string, guarantee: Guarantee, _name: string) => kafkaService(bs, id, guarantee === 'exactly_once' ? { delivery: { guarantee } } : {});

/** Two members of one group, each owning half of the input's partitions. */
async function balancedPair(id: string, cfg: (name: string) => Record<string, unknown>, partitions: number): Promise<[Kestrel, Kestrel]> {
  const a = start(`a-${id}`, cfg('a'));
  const b = start(`b-${id}`, cfg('b'));
  await waitFor('both members assigned half the partitions', () => [a, b].every((k) => k.assigned(`in-${id}`).length === partitions / 2), 45_000);
  return [a, b];
}

/** The last log lines of a process, short: for the message of a failed wait. */
function logTail(k: Kestrel, n = 25): string {
  return k
    .logLines()
    .slice(-n)
    .map((l) => JSON.stringify({ level: l.level, msg: l.msg, err: l.err }))
    .join('\n');
}

/**
 * The alerts a reader gets: exactly_once, the records committed according to their transaction markers
 * (committed.ts: kafkajs' read_committed filter can yield records of a transaction aborted late).
 */
async function delivered(guarantee: Guarantee, out: { records: { value: string }[] }, topic: string, expected: string[]): Promise<string[]> {
  return guarantee === 'exactly_once' ? committedValues(brokers(), topic, expected) : values(out.records);
}

async function expectExit0(k: Kestrel): Promise<void> {
  const code = await stopKestrel(k);
  if (code !== 0) throw new Error(`${k.name} exited with ${code}:\n${k.stderr().slice(-2000)}`);
}

/** 1. SIGKILL of one of two consumers once a fifth of the alerts are out; restarted at once. */
export async function sigkill(admin: Admin, guarantee: Guarantee): Promise<Tally> {
  const id = randomUUID().slice(0, 8);
  await topics(admin, id, 4);
  const events = auditEvents(200); // 1,400 events
  const expected = expectedAlerts(events, dir);
  const cfg = (name: string) => member(brokers(), id, guarantee, name);
  const out = await collect(brokers(), `out-${id}`, guarantee === 'exactly_once');
  try {
    const [a, b] = await balancedPair(id, cfg, 4);
    const stream = new Stream(brokers(), `in-${id}`, keyed(events), { slice: 70, everyMs: 150 });
    await waitFor('a fifth of the alerts', () => out.records.length >= expected.length / 5, 45_000);
    a.proc.kill('SIGKILL');
    await a.exited;
    const sentAtKill = stream.sent;
    const a2 = start(`a2-${id}`, cfg('a'));
    await stream.done;
    await waitForAll('every oracle alert', () => values(out.records), expected, 60_000);
    const t = tally(expected, await delivered(guarantee, out, `out-${id}`, expected));
    const kafkajsNote = guarantee === 'exactly_once' ? `; the kafkajs read_committed reader had ${tally(expected, values(out.records)).duplicates} duplicates` : '';
    figure(`sigkill ${guarantee}`, t, `killed after ${sentAtKill} of ${events.length} events${kafkajsNote}`);
    await expectExit0(b);
    await expectExit0(a2);
    return t;
  } finally {
    await out.stop();
  }
}

export type BrokerFault = 'restart' | 'outage';

/** The service's log line when it replaced the outputs' producer (src/pipeline/service.ts). */
const PRODUCER_RENEWED = 'Kafka producer lost its idempotence state on the brokers; replaced by a new producer, the send is retried';

/**
 * What a crash loses that the broker had acknowledged but not yet written to
 * disk (acks from the page cache; a power or VM loss, not a process kill):
 * the last record batch of a partition's log. Run while the broker is down;
 * its indexes, producer-state snapshots and clean-shutdown marker go too, so
 * it recovers the log as after a crash. Returns the records dropped.
 */
function dropLastBatch(dataDir: string, topic: string, partition: number): number {
  const dir = join(dataDir, `${topic}-${partition}`);
  const segment = join(dir, readdirSync(dir).filter((f) => f.endsWith('.log')).sort().at(-1)!);
  const log = readFileSync(segment);
  let last = -1;
  for (let at = 0; at + 12 <= log.length && at + 12 + log.readInt32BE(at + 8) <= log.length; at += 12 + log.readInt32BE(at + 8)) last = at;
  if (last < 0) return 0;
  const records = log.readInt32BE(last + 57);
  truncateSync(segment, last);
  for (const f of readdirSync(dir)) if (/\.(index|timeindex|snapshot)$/.test(f)) rmSync(join(dir, f));
  rmSync(join(dataDir, '.kafka_cleanshutdown'), { force: true });
  return records;
}

/**
 * 2. A dedicated broker (the shared one serves other test files) restarted with its
 * data while events keep flowing, once a fifth of them are sent. `restart`: a
 * controlled shutdown, back after 1 s (a rolling restart). `outage`: killed (SIGKILL)
 * and back after 15 s, longer than the Kafka client's retry budget (~10 s), having lost
 * the last batch of each output partition (what the broker had acknowledged from its page
 * cache): the output's idempotent producer is then ahead of the broker's sequence numbers
 * (OUT_OF_ORDER_SEQUENCE_NUMBER) and must be replaced once. The stream is held at the
 * fault until the reader has every alert written so far, so the lost batches were read
 * before they were lost; the tally counts those alerts once (the reader, its offsets out
 * of range after the loss, reads the partitions again from the start).
 */
export async function brokerRestart(guarantee: Guarantee, fault: BrokerFault = 'restart'): Promise<Tally & { exits: number; renewals: number; lost: number }> {
  let broker: LocalKafka | undefined;
  try {
    broker = await startLocalKafka({ quickJit: true, timeoutMs: 60_000 });
    const b = broker;
    const bs = [b.brokers];
    const own = client(bs).admin();
    await own.connect();
    const id = randomUUID().slice(0, 8);
    await topics(own, id, 2);
    await own.disconnect();
    const events = auditEvents(150); // 1,050 events
    const expected = expectedAlerts(events, dir);
    const k = start(`restart-${id}`, member(bs, id, guarantee, 'a'));
    await waitFor('joined', () => k.joins() > 0, 45_000);
    const early = fault === 'outage' ? await collect(bs, `out-${id}`, guarantee === 'exactly_once') : undefined;
    const stream = new Stream(bs, `in-${id}`, keyed(events), { slice: 35, everyMs: 150 });
    await waitFor('a fifth of the events sent', () => stream.sent >= events.length / 5, 60_000);
    let before = new Set<string>();
    let lost = 0;
    let at = stream.sent;
    if (early) {
      stream.hold();
      await stream.parked();
      at = stream.sent;
      await waitForAll('every alert of the events sent so far, read before the fault', () => values(early.records), expectedAlerts(events.slice(0, at), dir), 45_000, 500);
      before = new Set(values(early.records));
    }
    const { ms } =
      fault === 'restart'
        ? await b.restart({ graceful: true, downMs: 1_000 })
        : await b.restart({
            graceful: false,
            downMs: 15_000,
            whileDown: () => {
              lost = [0, 1].reduce((n, p) => n + dropLastBatch(join(b.dir, 'data'), `out-${id}`, p), 0);
              stream.release();
            },
          });
    const note = `${fault === 'restart' ? 'shutdown' : `SIGKILL, 15 s down, ${lost} acknowledged output records lost`} at ${at} events, back ${(ms / 1000).toFixed(1)} s after its start`;
    await stream.done;
    const out = early ?? (await collect(bs, `out-${id}`, guarantee === 'exactly_once'));
    // Alerts read before the fault count once, however often the reader read them.
    const got = () => [...before, ...values(out.records).filter((v) => !before.has(v))];
    try {
      try {
        await waitForAll('every oracle alert', got, expected, 60_000);
      } catch (e) {
        const exit = k.proc.exitCode === null ? 'still running' : `exited with ${k.proc.exitCode}`;
        throw new Error(`${(e as Error).message}: ${JSON.stringify(tally(expected, got()))}, Kestrel ${exit} (${note})\n${logTail(k)}`);
      }
      const t = tally(expected, got());
      const renewals = k.logLines().filter((l) => l.msg === PRODUCER_RENEWED).length;
      figure(`broker ${fault} ${guarantee}`, t, `${note}, ${renewals} producer renewal${renewals === 1 ? '' : 's'}`);
      await expectExit0(k);
      return { ...t, exits: 0, renewals, lost };
    } finally {
      await out.stop();
    }
  } finally {
    await broker?.stop({ graceful: false });
  }
}

/** 3. A third member joins, stays 1.5 s and leaves (SIGTERM) again and again while the stream runs. */
export async function rebalanceStorm(admin: Admin, guarantee: Guarantee): Promise<Tally & { visits: number }> {
  const id = randomUUID().slice(0, 8);
  await topics(admin, id, 6);
  const events = auditEvents(250); // 1,750 events
  const expected = expectedAlerts(events, dir);
  const cfg = (name: string) => member(brokers(), id, guarantee, name);
  const out = await collect(brokers(), `out-${id}`, guarantee === 'exactly_once');
  try {
    const [a, b] = await balancedPair(id, cfg, 6);
    const stream = new Stream(brokers(), `in-${id}`, keyed(events), { slice: 50, everyMs: 400 }); // ~14 s of stream
    let streaming = true;
    void stream.done.finally(() => (streaming = false));
    let visits = 0;
    while (streaming) {
      const c = start(`c${visits}-${id}`, cfg(`c${visits}`));
      await waitFor('the third member joined', () => c.joins() > 0 || !streaming, 30_000);
      await sleep(1_500);
      await expectExit0(c); // SIGTERM: drains, commits, leaves the group
      visits++;
    }
    await waitForAll('every oracle alert', () => values(out.records), expected, 60_000);
    const t = tally(expected, await delivered(guarantee, out, `out-${id}`, expected));
    figure(`rebalance storm ${guarantee}`, t, `${visits} join/leave cycles`);
    await expectExit0(a);
    await expectExit0(b);
    return { ...t, visits };
  } finally {
    await out.stop();
  }
}

/** 4. The input topic holds batches of every codec, in turn; nothing becomes a dead letter. */
export async function mixedCodecs(admin: Admin): Promise<Tally & { deadLetters: number }> {
  const id = randomUUID().slice(0, 8);
  await topics(admin, id, 2);
  const events = auditEvents(150); // 1,050 events in 21 batches of 50, codecs in turn
  const expected = expectedAlerts(events, dir);
  const codecs = [CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD];
  await new Stream(brokers(), `in-${id}`, keyed(events), { slice: 50, everyMs: 0, compression: codecs }).done;
  const k = start(`codecs-${id}`, kafkaService(brokers(), id));
  const out = await collect(brokers(), `out-${id}`);
  try {
    await waitForAll('every oracle alert', () => values(out.records), expected, 60_000);
    const t = tally(expected, values(out.records));
    figure('mixed codecs at_least_once', t, 'gzip, snappy, lz4, zstd');
    const deadLetters = await topicSize(brokers(), `dlq-${id}`);
    await expectExit0(k);
    return { ...t, deadLetters };
  } finally {
    await out.stop();
  }
}

export interface PoisonResult extends Tally {
  /** [value, kestrel.error, kestrel.source.topic] of every dead letter, sorted. */
  letters: string[][];
  /** The same for what was sent, with the reason each should carry. */
  wanted: string[][];
}

/** 5. One poison message (alternately not JSON and not an audit event) after every 21st event. */
export async function poisonMessages(admin: Admin): Promise<PoisonResult> {
  const id = randomUUID().slice(0, 8);
  await topics(admin, id, 2);
  const events = auditEvents(150);
  const expected = expectedAlerts(events, dir);
  const poison = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? `not json #${i}` : JSON.stringify({ kind: 'Pod', apiVersion: 'v1', metadata: { name: `p${i}` } })));
  const messages: Msg[] = keyed(events).flatMap((m, i) => (i % 21 === 20 ? [m, { key: `p${i}`, value: poison[(i - 20) / 21] }] : [m]));
  if (messages.length !== events.length + poison.length) throw new Error('poison interleaving is off');
  const k = start(`poison-${id}`, kafkaService(brokers(), id));
  const out = await collect(brokers(), `out-${id}`);
  const dlq = await collect(brokers(), `dlq-${id}`);
  try {
    await new Stream(brokers(), `in-${id}`, messages, { slice: 100, everyMs: 100 }).done;
    await waitForAll('every oracle alert', () => values(out.records), expected, 60_000);
    await waitFor('every poison message in the dead-letter topic', () => dlq.records.length >= poison.length, 30_000);
    await sleep(500);
    const t = tally(expected, values(out.records));
    figure('poison messages at_least_once', t, `${dlq.records.length} of ${poison.length} in the dead-letter topic`);
    const reasonOf = (p: string) =>
      p.startsWith('not json') ? `invalid JSON: Unexpected token 'o', "${p}" is not valid JSON` : 'not an audit event: kind "Pod" (expected "Event" or "EventList")';
    await expectExit0(k);
    return {
      ...t,
      letters: dlq.records.map((r) => [r.value, r.headers['kestrel.error'], r.headers['kestrel.source.topic']]).sort(),
      wanted: poison.map((p) => [p, reasonOf(p), `in-${id}`]).sort(),
    };
  } finally {
    await out.stop();
    await dlq.stop();
  }
}

/** An HTTP alert receiver: `answer` decides each response's status and delay. */
async function receiver(answer: () => { status: number; delayMs: number }) {
  const bodies: string[] = [];
  let refused = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const { status, delayMs } = answer();
      setTimeout(() => {
        if (status === 200) bodies.push(body);
        else refused++;
        res.writeHead(status).end();
      }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    bodies,
    refused: () => refused,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** 6. Two HTTP outputs: one answering after 300 ms, one answering 503 for 5 s from its first request, then 200. */
export async function slowAndDeadOutputs(admin: Admin): Promise<{ slow: Tally; dead: Tally; refused: number }> {
  const id = randomUUID().slice(0, 8);
  await topics(admin, id, 2);
  const events = auditEvents(100); // 700 events
  // The HTTP output posts each alert's JSON, the line `kestrel run --json` prints (compared parsed).
  const canon = (bs: string[]) => bs.map((b) => JSON.stringify(JSON.parse(b)));
  const expected = canon(expectedAlerts(events, dir));
  const slow = await receiver(() => ({ status: 200, delayMs: 300 }));
  let firstRequest = 0;
  const dead = await receiver(() => {
    firstRequest ||= Date.now();
    return { status: Date.now() - firstRequest < 5_000 ? 503 : 200, delayMs: 0 };
  });
  try {
    const k = start(`outputs-${id}`, {
      ...kafkaService(brokers(), id),
      outputs: [
        { type: 'http', name: 'slow', url: slow.url, concurrency: 32, timeout_ms: 5_000 },
        { type: 'http', name: 'dead', url: dead.url, concurrency: 32 },
      ],
    });
    await new Stream(brokers(), `in-${id}`, keyed(events), { slice: 70, everyMs: 100 }).done;
    await waitForAll('every alert on the dead output', () => canon(dead.bodies), expected, 90_000, 0);
    await waitForAll('every alert on the slow output', () => canon(slow.bodies), expected, 60_000);
    const s = tally(expected, canon(slow.bodies));
    const d = tally(expected, canon(dead.bodies));
    figure('slow http output at_least_once', s, '300 ms a request');
    figure('dead http output at_least_once', d, `503 for 5 s, ${dead.refused()} requests refused`);
    await expectExit0(k);
    return { slow: s, dead: d, refused: dead.refused() };
  } finally {
    await slow.close();
    await dead.close();
  }
}

export interface UndecodableResult extends Tally {
  topic: string;
  /** The bad batch's first and last offsets on partition 1. */
  bad: [number, number];
  /** The group's committed offset per input partition after the run. */
  committed: number[];
  /** Input messages per partition. */
  sizes: number[];
  /** `kestrel_undecodable_batches_total` and `kestrel_partitions_stalled` lines of /metrics. */
  metrics: string[];
  readyz: { status: number; reasons: string[] };
  /** Log lines reporting the batch (topic, partition, offset, lastOffset, err). */
  reported: unknown[][];
}

/**
 * 7. A record batch that cannot be decoded, on one partition of three: a gzip batch whose
 * compressed bytes end in a malformed second gzip member (the broker's Java reader accepts
 * it, Node's zlib refuses it). Events before it on that partition and every event of the
 * other partitions must be evaluated and committed; the batch and what follows it on its
 * partition are held (nothing of them evaluated or committed), reported in the log,
 * /metrics and /readyz.
 */
export async function undecodableBatch(admin: Admin): Promise<UndecodableResult> {
  const id = randomUUID().slice(0, 8);
  const topic = `in-${id}`;
  await topics(admin, id, 3);
  const events = auditEvents(60); // 420 events: 140 per partition, in turn
  const on = (p: number) => events.filter((_, i) => i % 3 === p);
  const p1 = on(1);
  const [before, inBad, after] = [p1.slice(0, 50), p1.slice(50, 60), p1.slice(60)];
  const expected = expectedAlerts([...on(0), ...on(2), ...before], dir);
  const producer = client(brokers()).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const send = (partition: number, values: string[], compression?: CompressionTypes) => producer.send({ topic, acks: -1, compression, messages: values.map((value) => ({ value, partition })) });
  try {
    await send(0, on(0).slice(0, 70));
    await send(2, on(2).slice(0, 70));
    await send(1, before, CompressionTypes.GZIP);
    // Only this batch: the real gzip bytes followed by a malformed second gzip member.
    const table = CompressionCodecs as unknown as Record<number, () => { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> }>;
    const gzip = table[CompressionTypes.GZIP];
    table[CompressionTypes.GZIP] = () => ({ ...gzip(), compress: async (e) => Buffer.concat([gzipSync(e.buffer), Buffer.from([0x1f, 0x8b, 0, 1, 2, 3])]) });
    try {
      await send(1, inBad, CompressionTypes.GZIP);
    } finally {
      table[CompressionTypes.GZIP] = gzip;
    }
    await send(1, after, CompressionTypes.GZIP);
    await send(0, on(0).slice(70));
    await send(2, on(2).slice(70));
  } finally {
    await producer.disconnect();
  }
  const k = start(`undecodable-${id}`, { ...kafkaService(brokers(), id), inputs: [{ type: 'kafka', name: 'audit', topics: [topic], group_id: `g-${id}`, session_timeout_ms: 6_000, from_beginning: true }], metrics: { host: '127.0.0.1', port: 0 } });
  const out = await collect(brokers(), `out-${id}`);
  try {
    await waitForAll('every alert of the decodable events', () => values(out.records), expected, 60_000, 2_000);
    const t = tally(expected, values(out.records));
    const port = await k.metricsPort();
    const metrics = (await scrape(port, '/metrics')).body.split('\n').filter((l) => /^kestrel_(undecodable_batches_total|partitions_stalled)\b/.test(l));
    const r = await scrape(port, '/readyz');
    const readyz = { status: r.status, reasons: (JSON.parse(r.body) as { reasons: string[] }).reasons };
    const reported = k.logLines().filter((l) => String(l.msg).startsWith('undecodable record batch')).map((l) => [l.topic, l.partition, l.offset, l.lastOffset, l.err]);
    await expectExit0(k);
    const committed = (await admin.fetchOffsets({ groupId: `g-${id}`, topics: [topic] }))[0].partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
    const sizes = (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((p) => Number(p.high));
    figure('undecodable batch at_least_once', t, `partition 1 held at offset ${before.length} (${inBad.length} records), committed ${committed.join('/')} of ${sizes.join('/')}`);
    return { ...t, topic, bad: [before.length, before.length + inBad.length - 1], committed, sizes, metrics, readyz, reported };
  } finally {
    await out.stop();
  }
}
