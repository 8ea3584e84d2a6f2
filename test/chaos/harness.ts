/**
 * The chaos suite's tools: Kestrel as a child process (`kestrel start -c`), a
 * paced event stream that can be held during a fault, a topic collector on any
 * broker, and the tally of what arrived against the offline oracle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners, type CompressionTypes } from 'kafkajs';
import { ROOT, RULES, sleep, waitFor, writeConfig } from '../pipeline/kafka-helpers';

const KESTREL = join(ROOT, 'bin/kestrel.js');

export const client = (brokers: string[]) => new Kafka({ clientId: 'kestrel-chaos', brokers, logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2_000 } });

export interface Kestrel {
  name: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
  logLines: () => Record<string, unknown>[];
  stderr: () => string;
  /** Partitions of `topic` in the latest assignment this process logged. */
  assigned: (topic: string) => number[];
  joins: () => number;
  /** The metrics server's port, once logged (configs with `metrics: { port: 0 }`). */
  metricsPort: () => Promise<number>;
}

/** One Kestrel service process, exactly as deployed. */
export function startKestrel(dir: string, name: string, cfg: Record<string, unknown>): Kestrel {
  const file = writeConfig(dir, `${name}.yaml`, { rules: { paths: [RULES] }, log: { level: 'info' }, shutdown_timeout_ms: 10_000, ...cfg });
  const proc = spawn('node', [KESTREL, 'start', '-c', file], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env } });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const logLines = () => err.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const joinsLogged = () => logLines().filter((l) => l.msg === 'joined consumer group');
  return {
    name,
    proc,
    exited,
    logLines,
    stderr: () => err,
    assigned: (topic) => ((joinsLogged().at(-1)?.assignment as Record<string, number[]> | undefined)?.[topic] ?? []),
    joins: () => joinsLogged().length,
    metricsPort: async () => {
      let port = 0;
      await waitFor('the metrics server', () => {
        port = (logLines().find((l) => l.msg === 'serving /metrics, /healthz, /readyz')?.port as number | undefined) ?? 0;
        return port > 0;
      }, 30_000);
      return port;
    },
  };
}

/** GET a path of a Kestrel process's metrics server: status and body. */
export async function scrape(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

export async function stopKestrel(k: Kestrel, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (k.proc.exitCode !== null || k.proc.signalCode !== null) return k.proc.exitCode;
  k.proc.kill(signal);
  return k.exited;
}

/** Kafka input + Kafka output + dead letters, one rule worker: the deployed shape of a consumer. */
export function kafkaService(brokers: string[], id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    inputs: [{ type: 'kafka', name: 'audit', topics: [`in-${id}`], group_id: `g-${id}`, session_timeout_ms: 6_000 }],
    kafka: { brokers },
    engine: { workers: 1, max_in_flight_messages: 50 },
    outputs: [{ type: 'kafka', name: 'alerts', topic: `out-${id}` }],
    dead_letters: { topic: `dlq-${id}` },
    ...extra,
  };
}

export interface Msg {
  key?: string;
  value: string | Buffer;
}

/**
 * Produces `messages` in slices of `slice`, one slice every `everyMs`, so the
 * stream is still flowing when a fault is injected. `hold()` stops it between
 * slices until `release()`.
 */
export class Stream {
  sent = 0;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(brokers: string[], topic: string, messages: Msg[], opts: { slice: number; everyMs: number; compression?: CompressionTypes[] }) {
    this.done = this.run(brokers, topic, messages, opts);
  }

  hold(): void {
    this.gate ??= new Promise((r) => (this.open = r));
  }

  /** Resolves once a hold() has stopped the stream between slices (or the stream ended). */
  async parked(): Promise<void> {
    let ended = false;
    void this.done.finally(() => (ended = true));
    while (!ended && !this.waiting) await sleep(20);
  }

  private waiting = false;

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  private async run(brokers: string[], topic: string, messages: Msg[], { slice, everyMs, compression }: { slice: number; everyMs: number; compression?: CompressionTypes[] }): Promise<void> {
    // Idempotent: a send retried across a broker restart never doubles an input message.
    const p = client(brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await p.connect();
    try {
      for (let i = 0, n = 0; i < messages.length; i += slice, n++) {
        while (this.gate) {
          this.waiting = true;
          await this.gate;
          this.waiting = false;
        }
        // A whole slice is one request; with several codecs each slice uses the next one.
        await p.send({ topic, acks: -1, messages: messages.slice(i, i + slice), compression: compression?.[n % compression.length] });
        this.sent = Math.min(messages.length, i + slice);
        await sleep(everyMs);
      }
    } finally {
      await p.disconnect();
    }
  }
}

export interface Collected {
  value: string;
  headers: Record<string, string>;
}

/** Everything on `topic` (own group, from the beginning), collected until stopped. */
export async function collect(brokers: string[], topic: string, readCommitted = false): Promise<{ records: Collected[]; stop: () => Promise<void> }> {
  const records: Collected[] = [];
  const c = client(brokers).consumer({ groupId: `chaos-reader-${Math.random().toString(36).slice(2)}`, readUncommitted: !readCommitted, maxWaitTimeInMs: 200 });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  await c.run({
    eachMessage: async ({ message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      records.push({ value: message.value?.toString() ?? '', headers });
    },
  });
  return { records, stop: () => c.disconnect() };
}

/** Waits until every distinct expected value was seen, then `settleMs` more for late duplicates or extras. */
export async function waitForAll(what: string, seen: () => string[], expected: string[], timeoutMs: number, settleMs = 1_500): Promise<void> {
  const want = new Set(expected);
  await waitFor(what, () => {
    const got = new Set(seen());
    let n = 0;
    for (const v of want) if (got.has(v)) n++;
    return n === want.size;
  }, timeoutMs);
  await sleep(settleMs);
}

export interface Tally {
  expected: number;
  missing: number;
  extra: number;
  duplicates: number;
}

/** Compares what arrived with the oracle's alerts, as multisets. */
export function tally(expected: string[], got: string[]): Tally {
  const want = new Map<string, number>();
  for (const v of expected) want.set(v, (want.get(v) ?? 0) + 1);
  const have = new Map<string, number>();
  for (const v of got) have.set(v, (have.get(v) ?? 0) + 1);
  let missing = 0;
  let extra = 0;
  let duplicates = 0;
  for (const [v, n] of want) missing += Math.max(0, n - (have.get(v) ?? 0));
  for (const [v, n] of have) {
    const w = want.get(v) ?? 0;
    if (w === 0) extra += n;
    else duplicates += Math.max(0, n - w);
  }
  return { expected: expected.length, missing, extra, duplicates };
}

/** The scenario's figure line, printed into the test output (quoted in docs/operations.md). */
export function figure(scenario: string, t: Tally, note = ''): string {
  const line = `chaos: ${scenario}: expected ${t.expected}, missing ${t.missing}, extra ${t.extra}, duplicates ${t.duplicates}${note ? ` (${note})` : ''}`;
  console.log(line);
  return line;
}

/** Total records on a topic (sum of the partitions' high watermarks). */
export async function topicSize(brokers: string[], topic: string): Promise<number> {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}
