/**
 * Kafka benchmark: against one broker, for each event size (~2 KB and ~1 KB),
 * fill a topic and compare (a) raw kafkajs consumption + JSON.parse of every
 * message (in this process, warm; and (a') the same in a fresh child process,
 * JIT warm-up included, as Kestrel's) with (b) `kestrel start` (child process: one kafka input, the whole
 * upstream k8s_audit ruleset, alerts to a kafka output topic, dead letters,
 * kestrel's defaults otherwise); on the first size also the scaling
 * (1, 2, 4 workers; 1 vs 2 consumer processes of one worker in the same group);
 * then end-to-end latency (event produced -> alert on the output topic) at a
 * fixed moderate rate. The last lines are one summary line per goal.
 *
 * Options: USAGE below (`npm run bench:kafka -- --help`); `--backlog N` runs the
 * RSS-under-a-backlog measurement alone.
 *
 * Defaults: 200 000 events per size, 4 partitions, seed 1, sizes ~2 KB (the
 * generator's stream as it is, 2.0 KiB on average) and ~1 KB (the same stream
 * without its documents over 1,500 bytes: 1.0 KiB on average, 78 % of the
 * documents), workers 1, 2, 4 on the first size and 2 on the others, 2
 * processes, every case once (--repeat R: best of R), 2 000 events/s for 15 s
 * after 3 s of warm-up (reported apart), the upstream-latest k8s_audit ruleset,
 * kestrel's default config otherwise.
 * --cpu-prof writes V8 CPU profiles of the kestrel children (main thread and
 * every worker) for profiling. --backlog N: fill N events, consume them with 2
 * workers and print RSS against progress (does memory stay flat?).
 *
 * Broker: $KAFKA_BROKERS if set; else the running `npm run kafka:start` broker
 * (.kafka-local/state.json, reused and left running); else a local broker started
 * here (scripts/kafka-local.js) and stopped at the end. Topics are created per run
 * (bench-kafka-<run>-*) and deleted at the end.
 *
 * Throughput is timed from the group join to the end: (a) the last message
 * parsed; (b) the poll of the admin API (fetchOffsets, every 50 ms) that first
 * sees the group's committed offsets at the end of every partition, so it
 * includes decoding, evaluation, alert delivery (acks=all) and the commit
 * cadence (200 ms). Two processes are timed from the join that gives each its
 * share of the partitions, over the events not yet committed at that moment.
 * CPU is /proc user+system time of the consuming process (all threads) over the
 * same interval; "cores" is CPU seconds per wall second. "last 3/4" columns
 * start when a quarter of the events was done: the steady state, without the
 * join, the first fetches and the JIT warm-up of a fresh process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { AssignerProtocol, CompressionTypes, Kafka, logLevel, type Admin, type Message, type PartitionAssigner, type Producer } from 'kafkajs';
import { alertJson } from '../src/engine/alert';
import { loadRuleset } from '../src/engine/load';
import { decodeDocument } from '../src/decode/events';
import { decodePayload } from '../src/decode/envelope';
import { benchArgs } from './args';
import { generateLines } from './generator';
import { consumeRaw, readBytes, type RawRun } from './raw-consumer';

const USAGE = `usage: npm run bench:kafka -- [--events N] [--partitions P] [--seed S] [--sizes 2,1]
                              [--workers 1,2,4] [--processes 2|0] [--repeat R]
                              [--rate R] [--latency-seconds T] [--rules FILE]...
                              [--max-in-flight-messages N] [--max-in-flight-bytes N]
                              [--fetch-max-bytes-per-partition N]
                              [--cpu-prof DIR] [--kestrel-node-options=OPTS]
       npm run bench:kafka -- --backlog N [--size 2|1]
(what each measures: the comment at the top of bench/kafka.ts)`;

const values = benchArgs('bench:kafka', USAGE, {
  events: { type: 'string', default: '200000' },
  partitions: { type: 'string', default: '4' },
  seed: { type: 'string', default: '1' },
  sizes: { type: 'string', default: '2,1' },
  rate: { type: 'string', default: '2000' },
  'latency-seconds': { type: 'string', default: '15' },
  workers: { type: 'string', default: '1,2,4' },
  processes: { type: 'string', default: '2' },
  repeat: { type: 'string', default: '1' },
  rules: { type: 'string', multiple: true },
  'max-in-flight-messages': { type: 'string' },
  /** engine.max_in_flight_bytes of the kestrel children (default: kestrel's). */
  'max-in-flight-bytes': { type: 'string' },
  /** inputs[].fetch.max_bytes_per_partition of the kestrel children (default: kestrel's). */
  'fetch-max-bytes-per-partition': { type: 'string' },
  /** Write V8 CPU profiles of the kestrel children (main thread and workers) into DIR. */
  'cpu-prof': { type: 'string' },
  /** Extra node/V8 options for the kestrel children (space separated), for experiments. */
  'kestrel-node-options': { type: 'string' },
  backlog: { type: 'string' },
  size: { type: 'string', default: '2' },
});
const EVENTS = Number(values.events);
const PARTITIONS = Number(values.partitions);
const SEED = Number(values.seed);
const RATE = Number(values.rate);
const LATENCY_S = Number(values['latency-seconds']);
/**
 * The latency run's first seconds at the rate are a warm-up, reported apart: a new process
 * compiles the ruleset's closures on its first events (p99 100-180 ms in its first second).
 */
const LATENCY_WARMUP_S = 3;
const SIZES = values.sizes.split(',').filter(Boolean).map(Number);
const WORKERS = values.workers.split(',').map(Number);
const PROCESSES = Number(values.processes);
const REPEAT = Math.max(1, Number(values.repeat));
/** The worker count of the goals. */
const GOAL_WORKERS = 2;
const ROOT = resolve(__dirname, '../..');
const RULES = (values.rules ?? [resolve(ROOT, '../shared/conformance/upstream-latest/k8s_audit_rules.yaml')]).map((r) => resolve(r));
/** Largest uncompressed record batch per partition per produce request (brokers reject > message.max.bytes, 1 MiB by default). */
const BATCH_BYTES = 900 * 1024;
/** The ~1 KB mix: the generator's stream without its documents over this many bytes. */
const SMALL_DOC_BYTES = 1500;

/** The bench's documents of size class `size` (2: the generator's stream; 1: its documents up to 1,500 bytes). */
function* sizedLines(size: number, count: number, seed: number): Generator<string> {
  if (size !== 1 && size !== 2) throw new Error(`--sizes: 2 (~2 KB) or 1 (~1 KB), not ${size}`);
  let n = 0;
  for (const l of generateLines(size === 2 ? count : count * 2, seed)) {
    if (n >= count) return;
    if (size === 1 && Buffer.byteLength(l) > SMALL_DOC_BYTES) continue;
    n++;
    yield l;
  }
  // Rare: fewer small documents than asked for in 2x the stream; keep going with a fresh seed.
  if (n < count) yield* sizedLines(size, count - n, seed + 1000);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (n: number) => (n / 1e6).toFixed(1);
const out = (s: string) => process.stdout.write(`${s}\n`);
const note = (s: string) => process.stderr.write(`[bench:kafka] ${s}\n`);

/* ------------------------------------------------------------------ broker */

interface BrokerHandle {
  brokers: string;
  origin: string;
  /** Broker JVM pid when it runs on this machine (CPU accounting). */
  pid?: number;
  stop?: () => Promise<void>;
}

function liveCliBroker(): { brokers: string; pid: number } | undefined {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { STATE_FILE } = require(resolve(ROOT, 'scripts/kafka-local.js')) as { STATE_FILE: string };
  try {
    const st = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as { pid: number; dir: string; brokers: string };
    const cmdline = readFileSync(`/proc/${st.pid}/cmdline`, 'utf8');
    return cmdline.includes('kafka.Kafka') && cmdline.includes(st.dir) ? { brokers: st.brokers, pid: st.pid } : undefined;
  } catch {
    return undefined;
  }
}

async function broker(): Promise<BrokerHandle> {
  if (process.env.KAFKA_BROKERS) return { brokers: process.env.KAFKA_BROKERS, origin: 'KAFKA_BROKERS' };
  const running = liveCliBroker();
  if (running) return { ...running, origin: 'running local broker (.kafka-local/state.json), shared, left running' };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startLocalKafka } = require(resolve(ROOT, 'scripts/kafka-local.js')) as typeof import('../scripts/kafka-local');
  note('starting a local Kafka broker (scripts/kafka-local.js) ...');
  const k = await startLocalKafka({});
  return { brokers: k.brokers, origin: `local broker started for this run (Kafka ${k.version}, ${(k.startMs / 1000).toFixed(1)} s), stopped at the end`, pid: k.pid, stop: () => k.stop() };
}

/* ------------------------------------------------------------------ helpers */

async function endOffsets(admin: Admin, topic: string): Promise<Map<number, number>> {
  const offs = await admin.fetchTopicOffsets(topic);
  return new Map(offs.map((o) => [o.partition, Number(o.high)]));
}

async function topicCount(admin: Admin, topic: string): Promise<number> {
  let n = 0;
  for (const o of await admin.fetchTopicOffsets(topic)) n += Number(o.high) - Number(o.low);
  return n;
}

/** Resolves with the time the group's committed offsets first reach `ends` on every partition. */
async function waitCommitted(admin: Admin, groupId: string, topic: string, ends: Map<number, number>, children: ChildProcess[], timeoutMs: number, onPoll?: (committed: number) => void): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const child of children) if (child.exitCode !== null) throw new Error(`kestrel exited early with code ${child.exitCode}`);
    const [res] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const now = Date.now();
    onPoll?.((res?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0));
    if (res && res.partitions.every((p) => Number(p.offset) >= (ends.get(p.partition) ?? 0))) return now;
    await sleep(50);
  }
  throw new Error(`group ${groupId} did not commit to the end of ${topic} within ${timeoutMs} ms`);
}

function procStatus(pid: number): { hwm: number; rss: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0) * 1024;
    return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return undefined;
  }
}

/** CPU seconds (user+system) of a process, all threads, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/** CPU seconds per thread of a process: tid -> [name, seconds]. */
function threadCpu(pid: number): Map<number, [string, number]> {
  const out = new Map<number, [string, number]>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        out.set(Number(tid), [name, (Number(f[11]) + Number(f[12])) / 100]);
      } catch {
        /* thread ended */
      }
    }
  } catch {
    /* no /proc */
  }
  return out;
}

/** "main 3.1 s, 2 busiest other threads 5.0 + 4.9 s, rest 1.2 s" between two threadCpu() samples. */
function threadSplit(pid: number, before: Map<number, [string, number]>, after: Map<number, [string, number]>, top: number): string {
  const d = [...after].map(([tid, [name, s]]) => ({ tid, name, s: s - (before.get(tid)?.[1] ?? 0) }));
  const main = d.find((t) => t.tid === pid)?.s ?? NaN;
  const others = d.filter((t) => t.tid !== pid).sort((x, y) => y.s - x.s);
  const busiest = others.slice(0, top);
  const rest = others.slice(top).reduce((n, t) => n + t.s, 0);
  const restTop = others.slice(top, top + 4).map((t) => t.s.toFixed(2)).join(' + ');
  return `main thread ${main.toFixed(1)} s, busiest ${top} other thread(s) ${busiest.map((t) => `${t.s.toFixed(1)} s (${t.name})`).join(' + ')}, rest (GC, libuv, V8 helpers) ${rest.toFixed(1)} s (${restTop} ...)`;
}

/** A `kestrel consume` child; resolves the log times of "consuming" and "joined consumer group". */
class KestrelChild {
  readonly child: ChildProcess;
  consumingAt = 0;
  joinedAt = 0;
  /** Time and partition count of the latest join (a second process makes the first one rejoin). */
  lastJoin = { at: 0, partitions: 0 };
  metricsPort = 0;
  peakRss = 0;
  /** [epoch ms, RSS bytes] every 100 ms (backlog mode reads them). */
  readonly rssSamples: [number, number][] = [];
  private readonly lines: string[] = [];
  private sampler: NodeJS.Timeout;
  private readonly ready: Promise<void>;

  constructor(readonly configFile: string) {
    const prof = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values['cpu-prof'])}`] : [];
    const extra = values['kestrel-node-options']?.split(' ').filter(Boolean) ?? [];
    this.child = spawn(process.execPath, [...prof, ...extra, join(ROOT, 'bin/kestrel.js'), 'start', '-c', configFile], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    });
    let buf = '';
    let joined: () => void = () => {};
    this.ready = new Promise((r) => (joined = r));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (d: string) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.lines.push(line);
        if (this.lines.length > 200) this.lines.shift();
        try {
          const j = JSON.parse(line) as { msg?: string; time?: number | string; port?: number; level?: number; component?: string; assignment?: Record<string, number[]> };
          // pino's time: epoch ms, or an ISO string with an isoTime timestamp function.
          const time = typeof j.time === 'string' ? Date.parse(j.time) : Number(j.time);
          if (j.msg === 'kestrel started' || j.msg === 'consuming') this.consumingAt = time;
          if (j.msg === 'joined consumer group') this.lastJoin = { at: time, partitions: Object.values(j.assignment ?? {}).reduce((n, ps) => n + ps.length, 0) };
          if (j.msg === 'joined consumer group' && !this.joinedAt) {
            this.joinedAt = time;
            joined();
          }
          if (j.msg === 'serving /metrics, /healthz, /readyz') this.metricsPort = j.port!;
          if ((j.level ?? 0) >= 50 || ((j.level ?? 0) >= 40 && j.component !== 'kafkajs')) note(`kestrel: ${line}`);
        } catch {
          note(`kestrel: ${line}`);
        }
      }
    });
    this.sampler = setInterval(() => {
      const s = procStatus(this.child.pid!);
      if (s) {
        this.peakRss = Math.max(this.peakRss, s.hwm, s.rss);
        this.rssSamples.push([Date.now(), s.rss]);
      }
    }, 100);
  }

  async joined(timeoutMs: number): Promise<void> {
    const exited = new Promise<never>((_, rej) => this.child.once('exit', (c) => rej(new Error(`kestrel exited with ${c}:\n${this.lines.slice(-20).join('\n')}`))));
    await Promise.race([this.ready, exited, sleep(timeoutMs).then(() => Promise.reject(new Error(`kestrel did not join within ${timeoutMs} ms:\n${this.lines.slice(-20).join('\n')}`)))]);
  }

  async metrics(): Promise<string> {
    if (!this.metricsPort) return '';
    try {
      const r = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`);
      return await r.text();
    } catch {
      return '';
    }
  }

  /** SIGTERM, wait for exit; returns the final VmHWM-based peak RSS. */
  async stop(): Promise<number> {
    const s = procStatus(this.child.pid!);
    if (s) this.peakRss = Math.max(this.peakRss, s.hwm, s.rss);
    clearInterval(this.sampler);
    if (this.child.exitCode === null) {
      const done = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([done, sleep(40_000)]);
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }
    return this.peakRss;
  }
}

/** Sum and count of a Prometheus histogram/counter family (all label sets). */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([\d.eE+-]+|NaN)$/.exec(line);
    if (m && m[1] === name) sum += Number(m[3]);
  }
  return sum;
}

/** A `kestrel start` config (the service layout) of one kafka input, one kafka output and dead letters. */
function kestrelConfig(brokers: string, group: string, input: string, alerts: string, dlq: string, workers: number): string {
  const maxInFlight =
    (values['max-in-flight-messages'] ? `\n  max_in_flight_messages: ${Number(values['max-in-flight-messages'])}` : '') +
    (values['max-in-flight-bytes'] ? `\n  max_in_flight_bytes: ${Number(values['max-in-flight-bytes'])}` : '');
  const fetch = values['fetch-max-bytes-per-partition'] ? `\n    fetch: { max_bytes_per_partition: ${Number(values['fetch-max-bytes-per-partition'])} }` : '';
  return `# generated by bench/kafka.ts
inputs:
  - type: kafka
    topics: [${JSON.stringify(input)}]
    group_id: ${JSON.stringify(group)}
    from_beginning: true${fetch}
kafka:
  brokers: [${brokers.split(',').map((b) => JSON.stringify(b.trim())).join(', ')}]
  client_id: kestrel-bench
rules:
  paths: [${RULES.map((r) => JSON.stringify(r)).join(', ')}]
engine:
  workers: ${workers}${maxInFlight}
delivery:
  guarantee: at_least_once
outputs:
  - type: kafka
    topic: ${JSON.stringify(alerts)}
    key: rule
dead_letters:
  topic: ${JSON.stringify(dlq)}
metrics: { host: 127.0.0.1, port: 0 }
log: { level: info }
`;
}

/** Single-thread rates on the first `n` events of the stream: JSON.parse, payload decoding, the worker's whole loop. */
function reference(n: number, size: number): { n: number; parse: number; decode: number; full: number; oneParse: number } {
  const { ruleset, diagnostics } = loadRuleset(RULES);
  if (!ruleset) throw new Error(`rules failed to load: ${diagnostics.map((d) => d.message).join('; ')}`);
  const bufs = [...sizedLines(size, n, SEED)].map((l) => Buffer.from(l));
  const env = { format: 'auto' as const, source: 'k8s_audit', hostname: 'bench', maxBytes: 1 << 20 };
  const time = (fn: () => void) => {
    fn(); // warm-up pass
    const t0 = process.hrtime.bigint();
    fn();
    return n / (Number(process.hrtime.bigint() - t0) / 1e9);
  };
  const parse = time(() => {
    for (const b of bufs) JSON.parse(b.toString('utf8'));
  });
  const decode = time(() => {
    for (const b of bufs) decodePayload(b, env);
  });
  let num = 0;
  const full = time(() => {
    for (const b of bufs) {
      const d = decodePayload(b, env);
      if (d.ok) for (const ev of d.events) for (const a of ruleset.evaluate({ ...ev, num: ++num })) alertJson(a);
    }
  });
  // The same loop with one JSON.parse per event (decodeDocument alone, as `kestrel run` does for a bare event).
  const oneParse = time(() => {
    for (const b of bufs) {
      const d = decodeDocument(b.toString('utf8'), 'k8s_audit', 'bench');
      if (d.ok) for (const ev of d.events) for (const a of ruleset.evaluate({ ...ev, num: ++num })) alertJson(a);
    }
  });
  return { n, parse, decode, full, oneParse };
}

/* ------------------------------------------------------------------ main */

interface Ctx {
  b: BrokerHandle;
  kafka: Kafka;
  admin: Admin;
  run: string;
  tmp: string;
  created: string[];
  children: KestrelChild[];
}

async function createTopics(ctx: Ctx, topics: string[], partitions: number): Promise<void> {
  await ctx.admin.createTopics({ waitForLeaders: false, topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })) });
  ctx.created.push(...topics);
  // A freshly started broker may answer metadata before it hosts the new partitions: poll.
  for (let i = 0; ; i++) {
    try {
      const md = await ctx.admin.fetchTopicMetadata({ topics });
      if (md.topics.every((t) => t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0))) break;
    } catch (e) {
      if (i >= 100) throw e;
    }
    await sleep(100);
  }
}

interface Filled {
  topic: string;
  size: number;
  events: number;
  bytes: number;
  /** Generation and produce, seconds. */
  seconds: number;
  ends: Map<number, number>;
}

/** Produce `lines` round robin over the partitions (acks=-1, no compression, 4 requests in flight). */
async function fill(ctx: Ctx, topic: string, size: number, lines: Iterable<string>): Promise<Filled> {
  const producer = ctx.kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
  await producer.connect();
  const t0 = Date.now();
  const inflight = new Set<Promise<unknown>>();
  let req: Message[] = [];
  let perPart = new Array<number>(PARTITIONS).fill(0);
  const flush = async () => {
    if (req.length === 0) return;
    const p = producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: req });
    req = [];
    perPart = new Array<number>(PARTITIONS).fill(0);
    const tracked = p.finally(() => inflight.delete(tracked));
    inflight.add(tracked);
    if (inflight.size >= 4) await Promise.race(inflight);
  };
  let events = 0;
  let bytes = 0;
  for (const l of lines) {
    const v = Buffer.from(l);
    const partition = events % PARTITIONS;
    if (perPart[partition] + v.length > BATCH_BYTES) await flush();
    req.push({ partition, value: v });
    perPart[partition] += v.length;
    bytes += v.length;
    events++;
  }
  await flush();
  await Promise.all(inflight);
  await producer.disconnect();
  const seconds = (Date.now() - t0) / 1000;
  const ends = await endOffsets(ctx.admin, topic);
  const stored = [...ends.values()].reduce((x, y) => x + y, 0);
  if (stored !== events) throw new Error(`topic ${topic} holds ${stored} messages, expected ${events}`);
  return { topic, size, events, bytes, seconds, ends };
}

/** Steady state: from the moment a quarter of the topic was done (warm-up, JIT, group join left out) to the end. */
interface Steady {
  rate: number;
  /** CPU microseconds per event. */
  cpuUs: number;
}

interface RawResult {
  rate: number;
  seconds: number;
  steady: Steady;
  cpu: number;
  brokerCpu: number;
  read: number;
}

function rawResult(r: RawRun, events: number, brokerCpu: number): RawResult {
  const seconds = (r.tEnd - r.joinedAt) / 1000;
  const steady = { rate: (events - r.quarter.n) / ((r.tEnd - r.quarter.at) / 1000), cpuUs: (1e6 * (r.cpuS - r.quarter.cpuS)) / (events - r.quarter.n) };
  return { rate: events / seconds, seconds, steady, cpu: r.cpuS, brokerCpu, read: r.read };
}

/** (a) kafkajs eachBatch + JSON.parse of every message (bench/raw-consumer.ts), in this process; timed from the group join. */
async function raw(ctx: Ctx, f: Filled, label: string): Promise<RawResult> {
  let broker0 = NaN;
  const r = await consumeRaw(ctx.kafka, f.topic, f.events, `bench-kafka-${ctx.run}-raw-${f.size}-${label}`, () => (broker0 = ctx.b.pid ? cpuSeconds(ctx.b.pid) : NaN));
  return rawResult(r, f.events, ctx.b.pid ? cpuSeconds(ctx.b.pid) - broker0 : NaN);
}

/** (a') the same consumer in a fresh child process, as Kestrel runs: its JIT warm-up included. */
async function rawProcess(ctx: Ctx, f: Filled, label: string): Promise<RawResult> {
  const child = spawn(process.execPath, [join(__dirname, 'raw-consumer.js'), ctx.b.brokers, f.topic, String(f.events), `bench-kafka-${ctx.run}-rawp-${f.size}-${label}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let broker0 = NaN;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (Number.isNaN(broker0) && stderr.includes('joined\n')) broker0 = ctx.b.pid ? cpuSeconds(ctx.b.pid) : NaN;
  });
  const code = await new Promise<number | null>((res) => child.once('exit', res));
  if (code !== 0) throw new Error(`the bare consumer process exited with ${code}: ${stderr.trim()}`);
  return rawResult(JSON.parse(stdout) as RawRun, f.events, ctx.b.pid ? cpuSeconds(ctx.b.pid) - broker0 : NaN);
}

interface KestrelResult {
  label: string;
  workers: number;
  processes: number;
  /** Events consumed over `seconds` (all of them, or what was not committed yet when both processes had their share). */
  events: number;
  seconds: number;
  rate: number;
  steady: Steady;
  rss: number;
  alerts: number;
  dlq: number;
  cpu: number;
  brokerCpu: number;
  read: number;
  threads: string;
  evalS: number;
  commits: number;
  paused: string;
  /** RSS of the first process every 100 ms. */
  rssSamples: [number, number][];
}

/**
 * A bench consumer that joins `groupId` first and, as the group's leader, keeps
 * every partition to itself (paused, nothing committed) while kestrel processes
 * join; release() leaves the group, so the processes share the partitions and
 * all start together from the beginning. Its assigner carries kafkajs' default
 * protocol name, so the group accepts it beside kestrel's members.
 */
async function holdGroup(ctx: Ctx, groupId: string, topic: string): Promise<{ release: () => Promise<void> }> {
  let self = '';
  const holder: PartitionAssigner = ({ cluster }) => ({
    name: 'RoundRobinAssigner',
    version: 0,
    async assign({ members, topics }) {
      const all: Record<string, number[]> = {};
      for (const t of topics) all[t] = cluster.findTopicPartitionMetadata(t).map((m) => m.partitionId);
      return members.map(({ memberId }) => ({ memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: memberId === self ? all : {}, userData: Buffer.alloc(0) }) }));
    },
    protocol({ topics }) {
      return { name: 'RoundRobinAssigner', metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
    },
  });
  const c = ctx.kafka.consumer({ groupId, heartbeatInterval: 100, partitionAssigners: [holder], allowAutoTopicCreation: false });
  let joined: () => void = () => {};
  const ready = new Promise<void>((r) => (joined = r));
  c.on(c.events.GROUP_JOIN, ({ payload }) => {
    self = payload.memberId;
    c.pause([{ topic }]);
    joined();
  });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  await c.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => {} });
  await ready;
  return { release: () => c.disconnect() };
}

/** (b) `processes` kestrel children of `workers` workers each, in one consumer group, until the group committed the topic's end. */
async function kestrel(ctx: Ctx, f: Filled, workers: number, processes: number, alertsTopic: string, dlqTopic: string, onSample?: (child: KestrelChild) => Promise<void>): Promise<KestrelResult> {
  const label = `${processes} process${processes > 1 ? 'es' : ''} x ${workers} worker${workers > 1 ? 's' : ''}`;
  const groupId = `bench-kafka-${ctx.run}-kestrel-${f.size}-p${processes}w${workers}-${Date.now().toString(36)}`;
  const dlq0 = await topicCount(ctx.admin, dlqTopic);
  const alerts0 = await topicCount(ctx.admin, alertsTopic);
  const ks: KestrelChild[] = [];
  const hold = processes > 1 ? await holdGroup(ctx, groupId, f.topic) : undefined;
  for (let i = 0; i < processes; i++) {
    const config = join(ctx.tmp, `kestrel-${groupId}-${i}.yaml`);
    writeFileSync(config, kestrelConfig(ctx.b.brokers, groupId, f.topic, alertsTopic, dlqTopic, workers));
    const k = new KestrelChild(config);
    ks.push(k);
    ctx.children.push(k);
  }
  await Promise.all(ks.map((k) => k.joined(120_000)));
  let t0 = ks[0].joinedAt;
  let events = f.events;
  if (hold) {
    // Every process joined (with nothing assigned): let go, then every one must hold its share.
    await hold.release();
    const deadline = Date.now() + 60_000;
    while (!(ks.every((k) => k.lastJoin.partitions > 0) && ks.reduce((n, k) => n + k.lastJoin.partitions, 0) === PARTITIONS)) {
      if (Date.now() > deadline) throw new Error('the processes did not share the partitions within 60 s');
      await sleep(20);
    }
    t0 = Math.max(...ks.map((k) => k.lastJoin.at));
    const [res] = await ctx.admin.fetchOffsets({ groupId, topics: [f.topic] });
    events -= (res?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    if (events < f.events / 4) note(`${label}: only ${fmt(events)} events were left when every process had its share; use more --events for a meaningful figure`);
  }
  const broker0 = ctx.b.pid ? cpuSeconds(ctx.b.pid) : NaN;
  const pids = ks.map((k) => k.child.pid!);
  const cpuStart = pids.map(cpuSeconds);
  const readStart = pids.map(readBytes);
  const threadsStart = threadCpu(pids[0]);
  let pausedMax = 0;
  let pausedSamples = 0;
  let pausedNonZero = 0;
  let polling = true;
  const sampler = (async () => {
    while (polling) {
      const p = metricSum(await ks[0].metrics(), 'kestrel_paused_partitions');
      pausedSamples++;
      if (p > 0) pausedNonZero++;
      pausedMax = Math.max(pausedMax, p);
      if (onSample) await onSample(ks[0]);
      await sleep(250);
    }
  })();
  const done0 = f.events - events;
  let quarter: { at: number; n: number; cpu: number } | undefined;
  const tEnd = await waitCommitted(ctx.admin, groupId, f.topic, f.ends, ks.map((k) => k.child), 900_000, (committed) => {
    if (!quarter && committed - done0 >= events / 4) quarter = { at: Date.now(), n: committed, cpu: pids.reduce((n, pid) => n + cpuSeconds(pid), 0) };
  });
  polling = false;
  await sampler;
  const cpu = pids.reduce((n, pid, i) => n + cpuSeconds(pid) - cpuStart[i], 0);
  const read = pids.reduce((n, pid, i) => n + readBytes(pid) - readStart[i], 0);
  const threads = threadSplit(pids[0], threadsStart, threadCpu(pids[0]), workers);
  const brokerCpu = ctx.b.pid ? cpuSeconds(ctx.b.pid) - broker0 : NaN;
  const metrics = await ks[0].metrics();
  let rss = 0;
  for (const k of ks) {
    rss = Math.max(rss, await k.stop());
    ctx.children.splice(ctx.children.indexOf(k), 1);
  }
  const seconds = Math.max(0.001, (tEnd - t0) / 1000);
  const q = quarter ?? { at: t0, n: done0, cpu: cpuStart.reduce((x, y) => x + y, 0) };
  const steady = { rate: (f.events - q.n) / Math.max(0.001, (tEnd - q.at) / 1000), cpuUs: (1e6 * (cpuStart.reduce((x, y) => x + y, 0) + cpu - q.cpu)) / (f.events - q.n) };
  return {
    steady,
    label,
    workers,
    processes,
    events,
    seconds,
    rate: events / seconds,
    rss,
    alerts: (await topicCount(ctx.admin, alertsTopic)) - alerts0,
    dlq: (await topicCount(ctx.admin, dlqTopic)) - dlq0,
    cpu,
    brokerCpu,
    read,
    threads,
    evalS: metricSum(metrics, 'kestrel_evaluation_seconds_sum'),
    commits: metricSum(metrics, 'kestrel_commits_total'),
    paused: `${pausedNonZero}/${pausedSamples} samples, max ${pausedMax}`,
    rssSamples: ks[0].rssSamples,
  };
}

const sizeName = (size: number) => `~${size} KB`;
const us = (cpu: number, events: number) => (1e6 * cpu) / events;
const goal = (ok: boolean) => (ok ? 'MET' : 'NOT MET');

/** --backlog N: fill N events, consume them with the goal's worker count, RSS against progress. */
async function backlogMode(ctx: Ctx, n: number, size: number): Promise<void> {
  const T = { input: `bench-kafka-${ctx.run}-backlog-in`, alerts: `bench-kafka-${ctx.run}-backlog-alerts`, dlq: `bench-kafka-${ctx.run}-backlog-dlq` };
  await createTopics(ctx, [T.input], PARTITIONS);
  await createTopics(ctx, [T.alerts, T.dlq], 1);
  note(`backlog: filling ${fmt(n)} ${sizeName(size)} events ...`);
  const f = await fill(ctx, T.input, size, sizedLines(size, n, SEED));
  note(`backlog: ${mb(f.bytes)} MB in ${f.seconds.toFixed(0)} s; consuming with ${GOAL_WORKERS} workers ...`);
  const progress: [number, number][] = [];
  const groupOf = (k: KestrelChild) => /group_id: "([^"]+)"/.exec(readFileSync(k.configFile, 'utf8'))![1];
  // The consumer thread's own memory (prom-client's process metrics; workers' heaps are not in them).
  let main = { heap: 0, external: 0, heapMax: 0, externalMax: 0 };
  // The workers' heaps (kestrel_worker_heap_bytes, summed): the first figure seen, the last, the largest.
  const workers = { first: 0, last: 0, max: 0 };
  const r = await kestrel(ctx, f, GOAL_WORKERS, 1, T.alerts, T.dlq, async (k) => {
    const [res] = await ctx.admin.fetchOffsets({ groupId: groupOf(k), topics: [f.topic] });
    progress.push([Date.now(), (res?.partitions ?? []).reduce((x, p) => x + Math.max(0, Number(p.offset)), 0)]);
    const m = await k.metrics();
    const heap = metricSum(m, 'kestrel_nodejs_heap_size_total_bytes');
    const external = metricSum(m, 'kestrel_nodejs_external_memory_bytes');
    if (heap > 0) main = { heap, external, heapMax: Math.max(main.heapMax, heap), externalMax: Math.max(main.externalMax, external) };
    const wh = metricSum(m, 'kestrel_worker_heap_bytes');
    if (wh > 0) Object.assign(workers, { first: workers.first || wh, last: wh, max: Math.max(workers.max, wh) });
  });
  out(`command: npm run bench:kafka -- --backlog ${n} --size ${size}`);
  out(`machine: ${cpus().length} cores, node ${process.version}, load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(', ')}`);
  out(`backlog: ${fmt(f.events)} ${sizeName(size)} events (${mb(f.bytes)} MB) on ${PARTITIONS} partitions, kestrel ${r.label}: ${fmt(r.rate)} events/s over ${r.seconds.toFixed(0)} s, CPU ${us(r.cpu, r.events).toFixed(0)} us/event, alerts ${fmt(r.alerts)}`);
  // RSS at each 10 % of the committed progress.
  const rssAt = (t: number) => {
    let best = 0;
    for (const [ts, v] of r.rssSamples) if (ts <= t) best = v;
    return best;
  };
  const marks: string[] = [];
  const atMark: number[] = [];
  for (let pct = 10; pct <= 100; pct += 10) {
    const hit = progress.find(([, c]) => c >= (pct / 100) * f.events);
    if (!hit) continue;
    const v = rssAt(hit[0]);
    atMark.push(v);
    marks.push(`${pct}% ${mb(v)}`);
  }
  out(`RSS (MB) when the committed offsets reached: ${marks.join(', ')}; peak ${mb(r.rss)} MB`);
  out(`consumer thread: V8 heap ${mb(main.heap)} MB at the end (max ${mb(main.heapMax)}), external memory (buffers) ${mb(main.external)} MB (max ${mb(main.externalMax)}); workers' V8 heaps (all ${GOAL_WORKERS}) ${mb(workers.first)} MB at the first sample, ${mb(workers.last)} MB at the end (max ${mb(workers.max)}); the rest of the RSS is code, buffers in flight and the allocator`);
  const firstHalf = Math.max(...atMark.slice(0, Math.ceil(atMark.length / 2)));
  const secondHalf = Math.max(...atMark.slice(Math.ceil(atMark.length / 2)));
  const flat = secondHalf <= firstHalf * 1.1;
  out(`summary: backlog of ${fmt(f.events)} ${sizeName(size)} events, ${GOAL_WORKERS} workers: RSS max ${mb(firstHalf)} MB in the first half of the progress marks, ${mb(secondHalf)} MB in the second (flat = within 10 %: ${flat ? 'FLAT' : 'RISING'}); peak ${mb(r.rss)} MB (goal <= 256 MB: ${goal(r.rss <= 256e6)})`);
}

async function main(): Promise<void> {
  const command = `npm run bench:kafka${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  for (const r of RULES) if (!existsSync(r)) throw new Error(`rules file not found: ${r}`);
  if (!(PARTITIONS >= 1 && EVENTS >= 1)) throw new Error('--events and --partitions must be positive');
  const started = Date.now();
  const b = await broker();
  const run = `${Date.now().toString(36)}`;
  const kafka = new Kafka({ clientId: 'bench-kafka', brokers: b.brokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 8 } });
  const admin = kafka.admin();
  await admin.connect();
  const ctx: Ctx = { b, kafka, admin, run, tmp: mkdtempSync(join(tmpdir(), 'kestrel-bench-')), created: [], children: [] };
  const cleanup = async () => {
    for (const c of ctx.children) await c.stop().catch(() => {});
    if (ctx.created.length) await admin.deleteTopics({ topics: ctx.created, timeout: 30_000 }).catch((e) => note(`could not delete topics: ${(e as Error).message}`));
    await admin.disconnect().catch(() => {});
    rmSync(ctx.tmp, { recursive: true, force: true });
    if (b.stop) await b.stop();
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  try {
    if (values.backlog) return await backlogMode(ctx, Number(values.backlog), Number(values.size));
    const T = {
      input: (size: number) => `bench-kafka-${run}-in-${size}`,
      dlq: `bench-kafka-${run}-dlq`,
      lat: `bench-kafka-${run}-lat-in`,
      alerts: `bench-kafka-${run}-alerts`,
      latAlerts: `bench-kafka-${run}-alerts-lat`,
    };
    await createTopics(ctx, [...SIZES.map(T.input), T.lat], PARTITIONS);
    await createTopics(ctx, [T.dlq, T.alerts, T.latAlerts], 1);

    interface SizeRun {
      f: Filled;
      ref: ReturnType<typeof reference>;
      raws: RawResult[];
      /** (a') the bare consumer in a fresh process. */
      fresh: RawResult[];
      cases: KestrelResult[];
    }
    const sizes: SizeRun[] = [];
    for (const [si, size] of SIZES.entries()) {
      note(`${sizeName(size)}: filling ${fmt(EVENTS)} events ...`);
      const f = await fill(ctx, T.input(size), size, sizedLines(size, EVENTS, SEED));
      const ref = reference(Math.min(EVENTS, 20_000), size);
      const raws: RawResult[] = [];
      const fresh: RawResult[] = [];
      const cases: KestrelResult[] = [];
      // Scaling on the first size; the goal's worker count on the others.
      const plan: [number, number][] = si === 0 ? [...WORKERS.map((w): [number, number] => [w, 1]), ...(PROCESSES > 1 ? [[1, PROCESSES] as [number, number]] : [])] : [[GOAL_WORKERS, 1]];
      for (let rep = 0; rep < REPEAT; rep++) {
        note(`${sizeName(size)}: (a) raw kafkajs + JSON.parse ...`);
        raws.push(await raw(ctx, f, `${rep}a`));
        note(`${sizeName(size)}: (a') the same in a fresh process ...`);
        fresh.push(await rawProcess(ctx, f, `${rep}`));
        for (const [w, p] of plan) {
          note(`${sizeName(size)}: (b) kestrel, ${p} process(es) x ${w} worker(s) ...`);
          const r = await kestrel(ctx, f, w, p, T.alerts, T.dlq);
          const same = cases.findIndex((c) => c.workers === w && c.processes === p);
          if (same < 0) cases.push(r);
          else if (r.rate > cases[same].rate) cases[same] = r;
        }
        note(`${sizeName(size)}: (a) again, after (b) (the drift of a shared machine) ...`);
        raws.push(await raw(ctx, f, `${rep}b`));
      }
      sizes.push({ f, ref, raws, fresh, cases });
    }

    /* ---------------- end-to-end latency at a fixed rate */
    let latency: { produced: number; produceS: number; alerts: number; lat: number[]; warm: number[]; rss: number } | undefined;
    if (LATENCY_S > 0) latency = await latencyRun(ctx, T.lat, T.latAlerts, T.dlq);

    /* ---------------- report */
    const load = loadavg().map((x) => x.toFixed(2)).join(', ');
    out(`command: ${command}`);
    out(`broker: ${b.brokers} (${b.origin})`);
    out(`machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load average at the end: ${load} (shared machine: best of ${REPEAT} per case, raw best of ${2 * REPEAT})`);
    out(`rules: ${RULES.map((r) => r.replace(resolve(ROOT, '..') + '/', '../')).join(', ')}`);
    for (const { f, ref, raws, fresh, cases } of sizes) {
      const bestRaw = raws.reduce((x, y) => (y.rate > x.rate ? y : x));
      out('');
      out(`${sizeName(f.size)}: topic ${f.topic}, ${PARTITIONS} partitions, ${fmt(f.events)} events (seed ${SEED}), ${mb(f.bytes)} MB, ${(f.bytes / f.events / 1024).toFixed(2)} KiB average, compression none; filled in ${f.seconds.toFixed(1)} s`);
      out(
        `  reference, one thread, no Kafka, first ${fmt(ref.n)} events: JSON.parse ${fmt(ref.parse)} events/s; decodePayload(auto) ${fmt(ref.decode)} events/s; ` +
          `decodePayload + evaluate + alertJson (a worker's loop) ${fmt(ref.full)} events/s = ${(1e6 / ref.full).toFixed(1)} us/event; with decodeDocument ${fmt(ref.oneParse)} events/s`,
      );
      out('  case                                  events/s    MB/s  seconds  x raw  cores  CPU us/event | last 3/4: events/s  CPU us/event | peak RSS   alerts');
      const row = (name: string, rate: number, seconds: number, cpu: number, events: number, steady: Steady, extra: string) =>
        out(`  ${name.padEnd(36)} ${fmt(rate).padStart(9)} ${mb((rate * f.bytes) / f.events).padStart(7)} ${seconds.toFixed(2).padStart(8)} ${(rate / bestRaw.rate).toFixed(2).padStart(6)} ${(cpu / seconds).toFixed(2).padStart(6)} ${us(cpu, events).toFixed(1).padStart(13)} | ${fmt(steady.rate).padStart(18)} ${steady.cpuUs.toFixed(1).padStart(13)} | ${extra}`);
      raws.forEach((r, i) => row(`(a) kafkajs + JSON.parse, run ${i + 1}${r === bestRaw ? ' best' : ''}`, r.rate, r.seconds, r.cpu, f.events, r.steady, ''));
      fresh.forEach((r, i) => row(`(a') the same, fresh process, run ${i + 1}`, r.rate, r.seconds, r.cpu, f.events, r.steady, ''));
      for (const c of cases) row(`(b) kestrel, ${c.label}`, c.rate, c.seconds, c.cpu, c.events, c.steady, `${`${mb(c.rss)} MB`.padStart(8)} ${fmt(c.alerts).padStart(8)}`);
      out('  last 3/4: from the moment a quarter of the events was done (committed, for kestrel) to the end: warm-up (JIT, first fetches) left out');
      out(`  CPU: (a) this process, (a') the child, (b) every kestrel process, all threads; broker JVM CPU s over the same interval: ${raws.map((r) => r.brokerCpu.toFixed(1)).join(', ')} (a); ${fresh.map((r) => r.brokerCpu.toFixed(1)).join(', ')} (a'); ${cases.map((c) => c.brokerCpu.toFixed(1)).join(', ')} (b)`);
      out(`  bytes read per byte of the topic (rchar; re-fetching shows as > 1): (a) ${raws.map((r) => (r.read / f.bytes).toFixed(2)).join(', ')}; (b) ${cases.map((c) => (c.read / ((f.bytes * c.events) / f.events)).toFixed(2)).join(', ')}`);
      for (const c of cases) {
        out(`  (b) ${c.label}: worker evaluation wall time ${c.evalS.toFixed(1)} s (${((100 * c.evalS) / (c.seconds * c.workers * c.processes)).toFixed(0)}% of workers x wall); commits ${fmt(c.commits)}; paused partitions ${c.paused}; dead letters ${c.dlq}`);
        out(`      CPU by thread (first process): ${c.threads}`);
      }
    }
    if (latency) {
      const { lat, warm } = latency;
      const pct = (l: number[], p: number) => (l.length ? l[Math.min(l.length - 1, Math.ceil((p / 100) * l.length) - 1)] : NaN);
      out('');
      out(`end-to-end latency (produce call -> alert consumed from the output topic), kestrel 1 process x ${GOAL_WORKERS} workers, ${fmt(latency.produced)} ~2 KB events at ${fmt(RATE)}/s (${(latency.produced / latency.produceS).toFixed(0)}/s achieved) on ${PARTITIONS} partitions, acks=-1:`);
      out(`  alerts ${fmt(latency.alerts)}, matched ${fmt(lat.length + warm.length)}; after the first ${LATENCY_WARMUP_S} s: p50 ${pct(lat, 50)} ms, p90 ${pct(lat, 90)} ms, p99 ${pct(lat, 99)} ms, max ${lat.length ? lat[lat.length - 1] : NaN} ms over ${fmt(lat.length)}; peak RSS ${mb(latency.rss)} MB`);
      out(`  the first ${LATENCY_WARMUP_S} s (warm-up of a new process): p50 ${pct(warm, 50)} ms, p99 ${pct(warm, 99)} ms, max ${warm.length ? warm[warm.length - 1] : NaN} ms over ${fmt(warm.length)}; the whole run: p99 ${pct([...lat, ...warm].sort((x, y) => x - y), 99)} ms`);
    }

    /* ---------------- summary: one line per goal */
    out('');
    const goalRss: number[] = [];
    for (const { f, raws, fresh, cases } of sizes) {
      const bestRaw = raws.reduce((x, y) => (y.rate > x.rate ? y : x));
      const bestFresh = fresh.reduce((x, y) => (y.rate > x.rate ? y : x));
      const freshCpu = Math.min(...fresh.map((r) => us(r.cpu, f.events)));
      const rawCpu = Math.min(...raws.map((r) => us(r.cpu, f.events)));
      const rawSteadyCpu = Math.min(...raws.map((r) => r.steady.cpuUs));
      const rawSteadyRate = Math.max(...raws.map((r) => r.steady.rate));
      const k = cases.find((c) => c.workers === GOAL_WORKERS && c.processes === 1);
      if (!k) continue;
      goalRss.push(k.rss);
      const ratio = k.rate / bestRaw.rate;
      const cpuRatio = us(k.cpu, k.events) / rawCpu;
      out(`summary ${sizeName(f.size)} (${(f.bytes / f.events / 1024).toFixed(2)} KiB): kestrel ${GOAL_WORKERS} workers ${fmt(k.rate)} events/s vs raw kafkajs + JSON.parse ${fmt(bestRaw.rate)} = ${ratio.toFixed(2)} (goal >= 0.9: ${goal(ratio >= 0.9)}; last 3/4 ${fmt(k.steady.rate)} vs ${fmt(rawSteadyRate)} = ${(k.steady.rate / rawSteadyRate).toFixed(2)}); ` +
        `CPU ${us(k.cpu, k.events).toFixed(1)} us/event vs ${rawCpu.toFixed(1)} = ${cpuRatio.toFixed(2)}x (goal <= 1.5x: ${goal(cpuRatio <= 1.5)}; last 3/4 ${k.steady.cpuUs.toFixed(1)} vs ${rawSteadyCpu.toFixed(1)} = ${(k.steady.cpuUs / rawSteadyCpu).toFixed(2)}x); peak RSS ${mb(k.rss)} MB (goal <= 256 MB: ${goal(k.rss <= 256e6)}); ` +
        `against the bare consumer in a fresh process (JIT warm-up on both sides): ${fmt(bestFresh.rate)} events/s = ${(k.rate / bestFresh.rate).toFixed(2)}, CPU ${freshCpu.toFixed(1)} us/event = ${(us(k.cpu, k.events) / freshCpu).toFixed(2)}x`);
    }
    if (latency) {
      const { lat } = latency;
      const p99 = lat.length ? lat[Math.min(lat.length - 1, Math.ceil(0.99 * lat.length) - 1)] : NaN;
      out(`summary latency: ${fmt(RATE)} events/s, ${GOAL_WORKERS} workers, after a ${LATENCY_WARMUP_S} s warm-up: p50 ${lat[Math.ceil(0.5 * lat.length) - 1]} ms, p99 ${p99} ms over ${fmt(lat.length)} alerts (goal < 50 ms: ${goal(p99 < 50)}); peak RSS ${mb(latency.rss)} MB`);
    }
    const first = sizes[0];
    if (first && first.cases.length > 1) {
      const base = first.cases.find((c) => c.workers === 1 && c.processes === 1);
      const eff = (c: KestrelResult) => `${c.label} ${fmt(c.rate)} events/s, ${(c.cpu / c.seconds).toFixed(2)} cores, ${fmt(c.events / c.cpu)} events per CPU second${base && c !== base ? `, ${(c.rate / base.rate).toFixed(2)}x of 1 x 1` : ''}`;
      out(`summary scaling ${sizeName(first.f.size)} (${cpus().length} cores, shared with the broker): ${first.cases.map(eff).join('; ')}`);
    }
    out(`summary machine: ${cpus().length} cores, load average ${load}; total bench time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await cleanup();
  }
}

/** Produce at RATE for LATENCY_S into `topic`, consume the alerts, time produce call -> alert seen. */
async function latencyRun(ctx: Ctx, topic: string, alertsTopic: string, dlqTopic: string): Promise<{ produced: number; produceS: number; alerts: number; lat: number[]; warm: number[]; rss: number }> {
  const latGroup = `bench-kafka-${ctx.run}-kestrel-lat`;
  const latConfig = join(ctx.tmp, 'kestrel-lat.yaml');
  writeFileSync(latConfig, kestrelConfig(ctx.b.brokers, latGroup, topic, alertsTopic, dlqTopic, GOAL_WORKERS));
  note(`latency: kestrel consume (workers=${GOAL_WORKERS}), ${fmt(RATE)} events/s for ${LATENCY_WARMUP_S} + ${LATENCY_S} s ...`);
  const k = new KestrelChild(latConfig);
  ctx.children.push(k);
  const sentAt = new Map<string, number>();
  const seenAt = new Map<string, number>();
  const outConsumer = ctx.kafka.consumer({ groupId: `bench-kafka-${ctx.run}-lat-reader`, maxWaitTimeInMs: 50, allowAutoTopicCreation: false });
  await outConsumer.connect();
  await outConsumer.subscribe({ topic: alertsTopic, fromBeginning: true });
  let outJoined: () => void = () => {};
  const outReady = new Promise<void>((r) => (outJoined = r));
  outConsumer.on(outConsumer.events.GROUP_JOIN, () => outJoined());
  await outConsumer.run({
    eachMessage: async ({ message }) => {
      const now = Date.now();
      const h = message.headers ?? {};
      const key = `${String(h.input_partition)}:${String(h.input_offset)}`;
      if (!seenAt.has(key)) seenAt.set(key, now);
    },
  });
  await Promise.all([k.joined(120_000), outReady]);
  const latProducer: Producer = ctx.kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
  await latProducer.connect();
  // Generated before the clock starts: generating in the loop would delay this process's reads of the alerts.
  const total = RATE * (LATENCY_WARMUP_S + LATENCY_S);
  const lines = [...generateLines(total, SEED + 1)].values();
  const tick = 50;
  const perTick = Math.max(1, Math.round((RATE * tick) / 1000));
  const tLat0 = Date.now();
  const sends: Promise<void>[] = [];
  let produced = 0;
  for (let t = 0; produced < total; t++) {
    const due = tLat0 + t * tick;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    const msgs: Message[] = [];
    for (let i = 0; i < perTick && produced < total; i++, produced++) {
      const n = lines.next();
      msgs.push({ partition: produced % PARTITIONS, value: n.value as string });
    }
    const at = Date.now();
    sends.push(
      latProducer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: msgs }).then((meta) => {
        for (const m of meta) {
          const count = msgs.filter((x) => x.partition === m.partition).length;
          for (let i = 0; i < count; i++) sentAt.set(`${m.partition}:${Number(m.baseOffset) + i}`, at);
        }
      }),
    );
  }
  await Promise.all(sends);
  const produceS = (Date.now() - tLat0) / 1000;
  const latEnds = await endOffsets(ctx.admin, topic);
  await waitCommitted(ctx.admin, latGroup, topic, latEnds, [k.child], 120_000);
  const alerts = await topicCount(ctx.admin, alertsTopic);
  for (let i = 0; i < 100 && seenAt.size < alerts; i++) await sleep(100);
  await outConsumer.disconnect();
  await latProducer.disconnect();
  const rss = await k.stop();
  ctx.children.splice(ctx.children.indexOf(k), 1);
  const lat: number[] = [];
  const warm: number[] = [];
  const byTime: [number, number][] = [];
  for (const [key, t] of seenAt) {
    const s = sentAt.get(key);
    if (s !== undefined) {
      (s - tLat0 < LATENCY_WARMUP_S * 1000 ? warm : lat).push(t - s);
      byTime.push([s - tLat0, t - s]);
    }
  }
  lat.sort((x, y) => x - y);
  warm.sort((x, y) => x - y);
  // Where the slow ones are: p99 of each second of the run.
  const perSecond: number[][] = [];
  for (const [at, l] of byTime) (perSecond[Math.floor(at / 1000)] ??= []).push(l);
  note(`latency p99 per second of the run: ${perSecond.map((ls) => { ls.sort((x, y) => x - y); return ls[Math.ceil(0.99 * ls.length) - 1]; }).join(' ')}`);
  return { produced, produceS, alerts, lat, warm, rss };
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench:kafka failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
