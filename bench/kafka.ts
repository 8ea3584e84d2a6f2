/**
 * Kafka benchmark: in one run, against one broker and one pre-filled topic,
 * compare (a) raw kafkajs consumption + JSON.parse of every message with
 * (b) `kestrel consume` (child process, whole upstream k8s_audit ruleset, alerts
 * to an output topic) with 1 and with 2 workers; then end-to-end latency
 * (event produced -> alert on the output topic) at a fixed moderate rate.
 *
 *   npm run bench:kafka -- [--events N] [--partitions P] [--seed S] [--rate R]
 *                          [--latency-seconds T] [--rules FILE]... [--workers 1,2]
 *                          [--max-in-flight-messages N] [--cpu-prof DIR]
 *
 * Defaults: 200 000 events, 4 partitions, seed 1, 2 000 events/s for 15 s, the
 * upstream-latest k8s_audit ruleset, workers 1 and 2, kestrel's default config
 * otherwise. --cpu-prof writes V8 CPU profiles of the kestrel children (main
 * thread and every worker) for profiling.
 *
 * Broker: $KAFKA_BROKERS if set; else the running `npm run kafka:start` broker
 * (.kafka-local/state.json, reused and left running); else a local broker started
 * here (scripts/kafka-local.js) and stopped at the end. Topics are created per run
 * (bench-kafka-<run>-*) and deleted at the end.
 *
 * (b) is timed from the child's "consuming" log line (rules loaded, workers up,
 * consumer started) to the poll of the admin API (fetchOffsets, every 50 ms) that
 * first sees the group's committed offsets at the end of every partition: it
 * includes the group join, decoding, evaluation, alert delivery (acks=all) and
 * the commit cadence. (a) is timed from consumer.run() (join included) to the
 * last message parsed. Both are also shown from the moment the group was joined.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CompressionTypes, Kafka, logLevel, type Admin, type Message, type Producer } from 'kafkajs';
import { alertJson } from '../src/engine/alert';
import { loadRuleset } from '../src/engine/load';
import { decodeDocument } from '../src/decode/events';
import { decodePayload } from '../src/decode/envelope';
import { generateLines } from './generator';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    partitions: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    rate: { type: 'string', default: '2000' },
    'latency-seconds': { type: 'string', default: '15' },
    workers: { type: 'string', default: '1,2' },
    rules: { type: 'string', multiple: true },
    'max-in-flight-messages': { type: 'string' },
    /** Write V8 CPU profiles of the kestrel children (main thread and workers) into DIR. */
    'cpu-prof': { type: 'string' },
  },
});
const EVENTS = Number(values.events);
const PARTITIONS = Number(values.partitions);
const SEED = Number(values.seed);
const RATE = Number(values.rate);
const LATENCY_S = Number(values['latency-seconds']);
const WORKERS = values.workers.split(',').map(Number);
const ROOT = resolve(__dirname, '../..');
const RULES = (values.rules ?? [resolve(ROOT, '../shared/conformance/upstream-latest/k8s_audit_rules.yaml')]).map((r) => resolve(r));
/** Largest uncompressed record batch per partition per produce request (brokers reject > message.max.bytes, 1 MiB by default). */
const BATCH_BYTES = 900 * 1024;

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
async function waitCommitted(admin: Admin, groupId: string, topic: string, ends: Map<number, number>, child: ChildProcess, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`kestrel exited early with code ${child.exitCode}`);
    const [res] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const now = Date.now();
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
  return `main thread ${main.toFixed(1)} s, busiest ${top} other thread(s) ${busiest.map((t) => `${t.s.toFixed(1)} s (${t.name})`).join(' + ')}, rest (GC, libuv, V8 helpers) ${rest.toFixed(1)} s`;
}

/** Bytes a process read with read(2)-family calls (sockets included): what it fetched from Kafka, mostly. */
function readBytes(pid: number | 'self'): number {
  try {
    return Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** A `kestrel consume` child; resolves the log times of "consuming" and "joined consumer group". */
class KestrelChild {
  readonly child: ChildProcess;
  consumingAt = 0;
  joinedAt = 0;
  metricsPort = 0;
  peakRss = 0;
  private readonly lines: string[] = [];
  private sampler: NodeJS.Timeout;
  private readonly ready: Promise<void>;

  constructor(readonly configFile: string) {
    const prof = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values['cpu-prof'])}`] : [];
    this.child = spawn(process.execPath, [...prof, join(ROOT, 'bin/kestrel.js'), 'consume', '-c', configFile], {
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
          const j = JSON.parse(line) as { msg?: string; time?: number | string; port?: number; level?: number; component?: string };
          // pino's time: epoch ms, or an ISO string with an isoTime timestamp function.
          const time = typeof j.time === 'string' ? Date.parse(j.time) : Number(j.time);
          if (j.msg === 'consuming') this.consumingAt = time;
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
      if (s) this.peakRss = Math.max(this.peakRss, s.hwm, s.rss);
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

function kestrelConfig(brokers: string, group: string, input: string, alerts: string, dlq: string, workers: number): string {
  const maxInFlight = values['max-in-flight-messages'] ? `\n  max_in_flight_messages: ${Number(values['max-in-flight-messages'])}` : '';
  return `# generated by bench/kafka.ts
kafka:
  brokers: [${brokers.split(',').map((b) => JSON.stringify(b.trim())).join(', ')}]
  group_id: ${JSON.stringify(group)}
  client_id: kestrel-bench
  input_topics: [${JSON.stringify(input)}]
  from_beginning: true
rules:
  paths: [${RULES.map((r) => JSON.stringify(r)).join(', ')}]
workers:
  count: ${workers}${maxInFlight}
delivery:
  mode: at_least_once
dlq:
  topic: ${JSON.stringify(dlq)}
sinks:
  kafka: { topic: ${JSON.stringify(alerts)}, key: rule }
metrics: { host: 127.0.0.1, port: 0 }
log_level: info
`;
}

/** Single-thread rates on the first `n` events of the stream: JSON.parse, payload decoding, the worker's whole loop. */
function reference(n: number): { n: number; parse: number; decode: number; full: number; oneParse: number } {
  const { ruleset, diagnostics } = loadRuleset(RULES);
  if (!ruleset) throw new Error(`rules failed to load: ${diagnostics.map((d) => d.message).join('; ')}`);
  const bufs = [...generateLines(n, SEED)].map((l) => Buffer.from(l));
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

async function main(): Promise<void> {
  const command = `npm run bench:kafka${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  for (const r of RULES) if (!existsSync(r)) throw new Error(`rules file not found: ${r}`);
  if (!(PARTITIONS >= 1 && EVENTS >= 1)) throw new Error('--events and --partitions must be positive');
  const started = Date.now();
  const b = await broker();
  const run = `${Date.now().toString(36)}`;
  const T = {
    input: `bench-kafka-${run}-in`,
    dlq: `bench-kafka-${run}-dlq`,
    lat: `bench-kafka-${run}-lat-in`,
    alerts: (name: string) => `bench-kafka-${run}-alerts-${name}`,
  };
  const kafka = new Kafka({ clientId: 'bench-kafka', brokers: b.brokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 8 } });
  const admin = kafka.admin();
  await admin.connect();
  const created: string[] = [];
  const children: KestrelChild[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'kestrel-bench-'));
  const cleanup = async () => {
    for (const c of children) await c.stop().catch(() => {});
    if (created.length) await admin.deleteTopics({ topics: created, timeout: 30_000 }).catch((e) => note(`could not delete topics: ${(e as Error).message}`));
    await admin.disconnect().catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
    if (b.stop) await b.stop();
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  try {
    const createTopics = async (topics: string[], partitions: number) => {
      await admin.createTopics({ waitForLeaders: false, topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })) });
      created.push(...topics);
      // A freshly started broker may answer metadata before it hosts the new partitions: poll.
      for (let i = 0; ; i++) {
        try {
          const md = await admin.fetchTopicMetadata({ topics });
          if (md.topics.every((t) => t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0))) break;
        } catch (e) {
          if (i >= 100) throw e;
        }
        await sleep(100);
      }
    };
    const cases = WORKERS.map((w) => `w${w}`);
    await createTopics([T.input, T.lat], PARTITIONS);
    await createTopics([T.dlq, ...cases.map(T.alerts), T.alerts('lat')], 1);

    /* ---------------- generate + fill */
    const tGen = Date.now();
    const values_: Buffer[] = [];
    let bytes = 0;
    for (const l of generateLines(EVENTS, SEED)) {
      const v = Buffer.from(l);
      bytes += v.length;
      values_.push(v);
    }
    const genS = (Date.now() - tGen) / 1000;
    note(`generated ${fmt(EVENTS)} events (${mb(bytes)} MB) in ${genS.toFixed(1)} s; filling ${T.input} ...`);

    const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
    await producer.connect();
    const tFill = Date.now();
    const inflight = new Set<Promise<unknown>>();
    let req: Message[] = [];
    let perPart = new Array<number>(PARTITIONS).fill(0);
    const flush = async () => {
      if (req.length === 0) return;
      const p = producer.send({ topic: T.input, acks: -1, compression: CompressionTypes.None, messages: req });
      req = [];
      perPart = new Array<number>(PARTITIONS).fill(0);
      const tracked = p.finally(() => inflight.delete(tracked));
      inflight.add(tracked);
      if (inflight.size >= 4) await Promise.race(inflight);
    };
    for (let i = 0; i < values_.length; i++) {
      const partition = i % PARTITIONS;
      if (perPart[partition] + values_[i].length > BATCH_BYTES) await flush();
      req.push({ partition, value: values_[i] });
      perPart[partition] += values_[i].length;
    }
    await flush();
    await Promise.all(inflight);
    const fillS = (Date.now() - tFill) / 1000;
    values_.length = 0;
    const ends = await endOffsets(admin, T.input);
    const stored = [...ends.values()].reduce((x, y) => x + y, 0);
    if (stored !== EVENTS) throw new Error(`topic holds ${stored} messages, expected ${EVENTS}`);

    /* ---------------- reference: one thread, no Kafka (what a worker does per message) */
    const ref = reference(Math.min(EVENTS, 20_000));

    /* ---------------- (a) raw kafkajs + JSON.parse */
    const raw = async (label: string) => {
      const groupId = `bench-kafka-${run}-raw-${label}`;
      const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
      await consumer.connect();
      await consumer.subscribe({ topic: T.input, fromBeginning: true });
      let n = 0;
      let verbs = 0;
      let joinedAt = 0;
      consumer.on(consumer.events.GROUP_JOIN, () => (joinedAt ||= Date.now()));
      let done: () => void = () => {};
      const finished = new Promise<void>((r) => (done = r));
      const t0 = Date.now();
      let tEnd = 0;
      const cpu0 = process.cpuUsage();
      const read0 = readBytes('self');
      const broker0 = b.pid ? cpuSeconds(b.pid) : NaN;
      await consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            if ((JSON.parse(m.value!.toString('utf8')) as { verb?: string }).verb) verbs++;
            n++;
          }
          if (n >= EVENTS && !tEnd) {
            tEnd = Date.now();
            done();
          }
        },
      });
      await Promise.race([finished, sleep(300_000).then(() => Promise.reject(new Error(`raw consumer stuck at ${n}/${EVENTS}`)))]);
      const cpu = process.cpuUsage(cpu0);
      const read = readBytes('self') - read0;
      const brokerCpu = b.pid ? cpuSeconds(b.pid) - broker0 : NaN;
      await consumer.disconnect();
      if (verbs !== EVENTS) throw new Error(`raw consumer parsed ${verbs} events with a verb of ${EVENTS}`);
      return { total: (tEnd - t0) / 1000, afterJoin: (tEnd - joinedAt) / 1000, cpu: (cpu.user + cpu.system) / 1e6, brokerCpu, read };
    };
    note('(a) raw kafkajs + JSON.parse ...');
    const a1 = await raw('1');

    /* ---------------- (b) kestrel consume, 1 and 2 workers */
    const bResults: { workers: number; total: number; afterJoin: number; rss: number; alerts: number; dlq: number; cpu: number; brokerCpu: number; read: number; threads: string; evalS: number; commits: number; paused: string; config: string }[] = [];
    const dlqBefore = () => topicCount(admin, T.dlq);
    for (const w of WORKERS) {
      const name = `w${w}`;
      const groupId = `bench-kafka-${run}-kestrel-${name}`;
      const config = join(tmp, `kestrel-${name}.yaml`);
      writeFileSync(config, kestrelConfig(b.brokers, groupId, T.input, T.alerts(name), T.dlq, w));
      note(`(b) kestrel consume, workers=${w} ...`);
      const dlq0 = await dlqBefore();
      const k = new KestrelChild(config);
      children.push(k);
      await k.joined(120_000);
      const broker0 = b.pid ? cpuSeconds(b.pid) : NaN;
      // From the join on: rules compilation and worker start-up are not counted.
      const cpuStart = cpuSeconds(k.child.pid!);
      const readStart = readBytes(k.child.pid!);
      const threadsStart = threadCpu(k.child.pid!);
      // Sample paused-partition gauge while it runs (backpressure evidence).
      let pausedMax = 0;
      let pausedSamples = 0;
      let pausedNonZero = 0;
      let polling = true;
      const sampler = (async () => {
        while (polling) {
          const m = await k.metrics();
          const p = metricSum(m, 'kestrel_paused_partitions');
          pausedSamples++;
          if (p > 0) pausedNonZero++;
          pausedMax = Math.max(pausedMax, p);
          await sleep(250);
        }
      })();
      const tEnd = await waitCommitted(admin, groupId, T.input, ends, k.child, 420_000);
      polling = false;
      await sampler;
      const cpu = cpuSeconds(k.child.pid!) - cpuStart;
      const read = readBytes(k.child.pid!) - readStart;
      const threads = threadSplit(k.child.pid!, threadsStart, threadCpu(k.child.pid!), w);
      const brokerCpu = b.pid ? cpuSeconds(b.pid) - broker0 : NaN;
      const metrics = await k.metrics();
      const rss = await k.stop();
      children.splice(children.indexOf(k), 1);
      bResults.push({
        workers: w,
        total: (tEnd - k.consumingAt) / 1000,
        afterJoin: (tEnd - k.joinedAt) / 1000,
        rss,
        alerts: await topicCount(admin, T.alerts(name)),
        dlq: (await dlqBefore()) - dlq0,
        cpu,
        brokerCpu,
        read,
        threads,
        evalS: metricSum(metrics, 'kestrel_evaluation_seconds_sum'),
        commits: metricSum(metrics, 'kestrel_commits_total'),
        paused: `${pausedNonZero}/${pausedSamples} samples, max ${pausedMax}`,
        config,
      });
    }

    note('(a) again, after (b), to see the drift of a shared machine ...');
    const a2 = await raw('2');

    /* ---------------- end-to-end latency, 2 workers (or the largest count) */
    const wl = Math.max(...WORKERS);
    const latGroup = `bench-kafka-${run}-kestrel-lat`;
    const latConfig = join(tmp, 'kestrel-lat.yaml');
    writeFileSync(latConfig, kestrelConfig(b.brokers, latGroup, T.lat, T.alerts('lat'), T.dlq, wl));
    note(`latency: kestrel consume (workers=${wl}), ${fmt(RATE)} events/s for ${LATENCY_S} s ...`);
    const k = new KestrelChild(latConfig);
    children.push(k);
    const sentAt = new Map<string, number>();
    const seenAt = new Map<string, number>();
    const outConsumer = kafka.consumer({ groupId: `bench-kafka-${run}-lat-reader`, maxWaitTimeInMs: 50, allowAutoTopicCreation: false });
    await outConsumer.connect();
    await outConsumer.subscribe({ topic: T.alerts('lat'), fromBeginning: true });
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
    const latProducer: Producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
    await latProducer.connect();
    const lines = generateLines(RATE * LATENCY_S, SEED + 1);
    const tick = 50;
    const perTick = Math.max(1, Math.round((RATE * tick) / 1000));
    const tLat0 = Date.now();
    const sends: Promise<void>[] = [];
    let produced = 0;
    for (let t = 0; produced < RATE * LATENCY_S; t++) {
      const due = tLat0 + t * tick;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const msgs: Message[] = [];
      for (let i = 0; i < perTick && produced < RATE * LATENCY_S; i++, produced++) {
        const n = lines.next();
        msgs.push({ partition: produced % PARTITIONS, value: n.value as string });
      }
      const at = Date.now();
      sends.push(
        latProducer.send({ topic: T.lat, acks: -1, compression: CompressionTypes.None, messages: msgs }).then((meta) => {
          for (const m of meta) {
            const count = msgs.filter((x) => x.partition === m.partition).length;
            for (let i = 0; i < count; i++) sentAt.set(`${m.partition}:${Number(m.baseOffset) + i}`, at);
          }
        }),
      );
    }
    await Promise.all(sends);
    const produceS = (Date.now() - tLat0) / 1000;
    const latEnds = await endOffsets(admin, T.lat);
    await waitCommitted(admin, latGroup, T.lat, latEnds, k.child, 120_000);
    const latAlerts = await topicCount(admin, T.alerts('lat'));
    for (let i = 0; i < 100 && seenAt.size < latAlerts; i++) await sleep(100);
    await outConsumer.disconnect();
    await latProducer.disconnect();
    await producer.disconnect();
    const latRss = await k.stop();
    children.splice(children.indexOf(k), 1);
    const lat: number[] = [];
    for (const [key, t] of seenAt) {
      const s = sentAt.get(key);
      if (s !== undefined) lat.push(t - s);
    }
    lat.sort((x, y) => x - y);
    const pct = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)] : NaN);

    /* ---------------- report */
    const rate = (s: number) => EVENTS / s;
    const aBest = Math.min(a1.total, a2.total);
    const rateA = rate(aBest);
    const load = loadavg().map((x) => x.toFixed(2)).join(', ');
    out(`command: ${command}`);
    out(`broker: ${b.brokers} (${b.origin})`);
    out(`machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load average at the end: ${load}`);
    out(`topic: ${T.input}, ${PARTITIONS} partitions, ${fmt(EVENTS)} events (seed ${SEED}), ${mb(bytes)} MB, ${(bytes / EVENTS / 1024).toFixed(1)} KiB average, compression none`);
    out(`rules: ${RULES.map((r) => r.replace(resolve(ROOT, '..') + '/', '../')).join(', ')}`);
    out(
      `reference, one thread, no Kafka, first ${fmt(ref.n)} events: JSON.parse ${fmt(ref.parse)} events/s; decodePayload(auto) ${fmt(ref.decode)} events/s; ` +
        `decodePayload + evaluate + alertJson (a worker's loop) ${fmt(ref.full)} events/s = ${(1e6 / ref.full).toFixed(0)} us/event; ` +
        `the same with decodeDocument (one JSON.parse) ${fmt(ref.oneParse)} events/s = ${(1e6 / ref.oneParse).toFixed(0)} us/event`,
    );
    out(`fill: ${fillS.toFixed(1)} s = ${fmt(EVENTS / fillS)} events/s, ${mb(bytes / fillS)} MB/s (acks=-1, record batches <= ${BATCH_BYTES / 1024} KiB/partition, 4 requests in flight; generation ${genS.toFixed(1)} s not included)`);
    out('');
    out('                                   events/s    MB/s   seconds (after join)   b/a   peak RSS   CPU s (broker)   alerts');
    const row = (name: string, s: number, after: number, extra: string) =>
      out(`${name.padEnd(34)} ${fmt(rate(s)).padStart(8)} ${mb(bytes / s).padStart(7)} ${s.toFixed(2).padStart(9)} (${after.toFixed(2).padStart(6)})        ${extra}`);
    const cpuCol = (c: number, bc: number) => `${c.toFixed(1).padStart(6)} (${Number.isNaN(bc) ? '  n/a' : bc.toFixed(1).padStart(5)})`;
    row('(a)  kafkajs + JSON.parse, run 1', a1.total, a1.afterJoin, `${a1.total === aBest ? 'best' : '    '}            ${cpuCol(a1.cpu, a1.brokerCpu)}`);
    row('(a)  kafkajs + JSON.parse, run 2', a2.total, a2.afterJoin, `${a2.total === aBest ? 'best' : '    '}            ${cpuCol(a2.cpu, a2.brokerCpu)}`);
    for (const r of bResults) {
      row(`(b)  kestrel consume, workers=${r.workers}`, r.total, r.afterJoin, `${(rate(r.total) / rateA).toFixed(2).padStart(5)} ${`${mb(r.rss)} MB`.padStart(10)} ${cpuCol(r.cpu, r.brokerCpu)}   ${fmt(r.alerts)}`);
    }
    out(`CPU s: (a) the bench process (kafkajs + parse), (b) the kestrel process, all threads, from the group join on; in parentheses the broker JVM over the same interval`);
    out(
      `bytes read from sockets/files per byte of the topic (rchar, re-fetching shows as > 1): (a) ${(a1.read / bytes).toFixed(2)}, ${(a2.read / bytes).toFixed(2)}; ` +
        bResults.map((r) => `(b) workers=${r.workers} ${(r.read / bytes).toFixed(2)}`).join('; '),
    );
    out(`CPU per event: (a) ${((1e6 * Math.min(a1.cpu, a2.cpu)) / EVENTS).toFixed(0)} us; ${bResults.map((r) => `(b) workers=${r.workers} ${((1e6 * r.cpu) / EVENTS).toFixed(0)} us`).join('; ')}`);
    out('');
    for (const r of bResults) {
      out(
        `(b) workers=${r.workers}: worker evaluation time (kestrel_evaluation_seconds_sum) ${r.evalS.toFixed(1)} s = ${fmt(EVENTS / r.evalS)} events/s per busy worker, ` +
          `${((100 * r.evalS) / (r.total * r.workers)).toFixed(0)}% of ${r.workers} worker(s) x wall; commits ${fmt(r.commits)}; paused partitions ${r.paused}; dead letters ${r.dlq}`,
      );
      out(`    CPU by thread: ${r.threads}`);
    }
    const b2 = bResults.find((r) => r.workers === 2);
    if (b2) {
      const ratio = rate(b2.total) / rateA;
      out(`target b(2 workers) >= 0.9 x a: ${ratio.toFixed(2)} -> ${ratio >= 0.9 ? 'MET' : 'NOT MET'}`);
    }
    out('');
    out(
      `end-to-end latency (produce call -> alert consumed from ${T.alerts('lat')}), kestrel workers=${wl}, ${fmt(produced)} events at ${fmt(RATE)}/s ` +
        `(${(produced / produceS).toFixed(0)}/s achieved) on ${PARTITIONS} partitions, acks=-1:`,
    );
    out(`  alerts ${fmt(latAlerts)}, matched ${fmt(lat.length)}: p50 ${pct(50)} ms, p90 ${pct(90)} ms, p99 ${pct(99)} ms, max ${lat.length ? lat[lat.length - 1] : NaN} ms; peak RSS ${mb(latRss)} MB`);
    out(`total bench time: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench:kafka failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
