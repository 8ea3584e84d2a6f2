/** Helpers for the `kestrel consume` integration tests (real broker from KAFKA_BROKERS). */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel, Partitioners, type Admin, type IHeaders } from 'kafkajs';
import { stringify } from 'yaml';

export const ROOT = resolve(__dirname, '../..');
export const RULES = join(ROOT, 'rules');
const CONSUME = join(ROOT, 'bin/kestrel.js');
const KESTREL = join(ROOT, 'bin/kestrel.js');

export function brokers(): string[] {
  const list = process.env.KAFKA_BROKERS;
  if (!list) throw new Error('KAFKA_BROKERS is not set: jest globalSetup (test/setup/global-setup.ts) should have started a broker');
  return list.split(',').map((b) => b.trim());
}

export const kafka = () => new Kafka({ clientId: 'kestrel-test', brokers: brokers(), logLevel: logLevel.NOTHING });

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

export async function createTopics(admin: Admin, topics: Record<string, number>): Promise<void> {
  await admin.createTopics({ topics: Object.entries(topics).map(([topic, numPartitions]) => ({ topic, numPartitions, replicationFactor: 1 })), waitForLeaders: true });
}

export async function produce(topic: string, messages: { key?: string; value: string | Buffer | null; partition?: number }[]): Promise<void> {
  const p = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await p.connect();
  for (let i = 0; i < messages.length; i += 500) await p.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
  await p.disconnect();
}

export interface Record_ {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

const headerStrings = (h: IHeaders | undefined) => Object.fromEntries(Object.entries(h ?? {}).map(([k, v]) => [k, String(v)]));

/** A reader of a whole topic (own group) that keeps collecting until stopped. */
export async function reader(topic: string, readCommitted = false): Promise<{ records: Record_[]; stop: () => Promise<void> }> {
  const records: Record_[] = [];
  const c = kafka().consumer({ groupId: `reader-${topic}-${Math.random().toString(36).slice(2)}`, readUncommitted: !readCommitted, maxWaitTimeInMs: 200 });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  await c.run({
    eachMessage: async ({ partition, message }) => {
      records.push({ partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value, headers: headerStrings(message.headers) });
    },
  });
  return { records, stop: () => c.disconnect() };
}

/** Read exactly `count` records (then wait `settleMs` more to catch extras). */
export async function readTopic(topic: string, count: number, opts: { readCommitted?: boolean; timeoutMs?: number; settleMs?: number } = {}): Promise<Record_[]> {
  const r = await reader(topic, opts.readCommitted);
  try {
    await waitFor(`${count} records on ${topic} (have ${r.records.length})`, () => r.records.length >= count, opts.timeoutMs ?? 60_000);
    await sleep(opts.settleMs ?? 1_500);
    return [...r.records];
  } finally {
    await r.stop();
  }
}

export function tmpDir(): string {
  return mkdtempSync(join(tmpdir(), 'kestrel-consume-'));
}

export function writeConfig(dir: string, name: string, cfg: object): string {
  const path = join(dir, name);
  writeFileSync(path, stringify(cfg));
  return path;
}

/**
 * Audit events derived from examples/audit-events.jsonl: `copies` rounds of the
 * 7 examples, each with its own stageTimestamp (so every alert is distinct).
 */
export function auditEvents(copies: number, firstCopy = 0): string[] {
  const base = readFileSync(join(ROOT, 'examples/audit-events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const out: string[] = [];
  const t0 = Date.parse('2026-11-02T09:00:00Z');
  for (let c = firstCopy; c < firstCopy + copies; c++) {
    base.forEach((ev, i) => {
      const ts = new Date(t0 + (c * base.length + i) * 1000).toISOString().replace('Z', '123Z'); // microseconds
      out.push(JSON.stringify({ ...ev, auditID: `${ev.auditID}-${c}`, stageTimestamp: ts }));
    });
  }
  return out;
}

/** What `kestrel run --json` prints for these events (the reference alerts). */
export function expectedAlerts(events: string[], dir: string): string[] {
  const input = join(dir, `events-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(input, events.join('\n') + '\n');
  const out = execFileSync('node', [KESTREL, 'run', '-r', RULES, '-i', input, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 << 20 });
  return out.trim().split('\n').filter((l) => l !== '');
}

export interface ConsumeProcess {
  proc: ChildProcess;
  stderr: () => string;
  /** Port of the metrics server once logged. */
  port: () => Promise<number>;
  exited: Promise<number | null>;
  logLines: () => Record<string, unknown>[];
}

export function startConsume(config: string): ConsumeProcess {
  const proc = spawn('node', [CONSUME, 'consume', '-c', config], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env } });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const logLines = () => err.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    proc,
    exited,
    stderr: () => err,
    logLines,
    port: async () => {
      let port = 0;
      await waitFor('metrics server', () => {
        const l = logLines().find((x) => x.msg === 'serving /metrics, /healthz, /readyz');
        port = (l?.port as number) ?? 0;
        return port > 0;
      }, 30_000);
      return port;
    },
  };
}

export async function stopConsume(c: ConsumeProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return c.proc.exitCode;
  c.proc.kill(signal);
  return c.exited;
}

export async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** A metric's value from Prometheus text (sum over series matching all labels given). */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export function baseConfig(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    // A short session: a SIGKILLed member's partitions are reassigned within seconds.
    kafka: { brokers: brokers(), group_id: `g-${id}`, input_topics: [`in-${id}`], session_timeout_ms: 6_000 },
    rules: { paths: [RULES] },
    dlq: { topic: `dlq-${id}` },
    sinks: { kafka: { topic: `out-${id}` } },
    workers: { count: 2 },
    metrics: { host: '127.0.0.1', port: 0 },
    shutdown_timeout_ms: 15_000,
    log_level: 'info',
    ...extra,
  };
}
