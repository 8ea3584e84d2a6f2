/**
 * N rule worker threads shared by every input. A Kafka partition is pinned to
 * one worker by a stable hash, and a worker handles its jobs in order, so
 * alerts of one partition are evaluated in offset order; other inputs spread
 * their jobs over the workers (`nextWorker`). Each worker has an in-flight budget (messages and
 * bytes) that the consumer reserves before dispatching and releases once the
 * job's alerts are delivered: that is what bounds memory whatever the backlog.
 */
import { Worker } from 'node:worker_threads';
import type { PayloadFormat } from '../decode/envelope';
import type { RulesFile } from '../engine/ruleset';
import { workerEntry, workerEntryExists } from './worker-script';
import type { FromWorker, JobRequest, JobResult, RulesOutcome, RulesUpdate, WorkerInit } from './protocol';

/**
 * Payloads packed for a worker: `lengths[i]` bytes each (-1 for a null value),
 * back to back in `buf`. Inputs that hold many payloads (a Kafka batch) pack
 * them straight from their source, so nothing per payload outlives the dispatch.
 */
export interface Packed {
  buf: ArrayBuffer;
  lengths: Int32Array;
  /** Where each payload starts in `buf`, when they are not back to back (a Kafka record batch's span keeps its record framing between values). */
  starts?: Int32Array;
}

/** Pack `n` payloads (`valueAt(k)`) into one buffer: one copy each, nothing kept of the sources. */
export function pack(n: number, valueAt: (k: number) => Uint8Array | null): Packed {
  const lengths = new Int32Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    const v = valueAt(k);
    lengths[k] = v ? v.length : -1;
    if (v) total += v.length;
  }
  // Not zero-filled (every byte is written below), and its own ArrayBuffer (transferred, never pooled).
  const bytes = Buffer.allocUnsafeSlow(total);
  let pos = 0;
  for (let k = 0; k < n; k++) {
    const v = valueAt(k);
    if (!v) continue;
    bytes.set(v, pos);
    pos += v.length;
  }
  return { buf: bytes.buffer, lengths };
}

/**
 * A worker's young generation (V8's default grows it to tens of MB per thread under load).
 * What a worker allocates per event (the parsed document, its views) dies young, so a small
 * one costs no CPU we could measure in bench:kafka, and it kept a 1,000,000-event backlog
 * at 244 MB peak RSS with 2 workers instead of 290 MB.
 */
const WORKER_YOUNG_GENERATION_MB = 8;

export interface Budget {
  messages: number;
  bytes: number;
}

/** FNV-1a of the topic plus the partition: stable across processes and restarts. */
export function workerIndex(topic: string, partition: number, workers: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < topic.length; i++) h = Math.imul(h ^ topic.charCodeAt(i), 0x01000193) >>> 0;
  return (h + partition) % workers;
}

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (r: JobResult) => void; reject: (e: Error) => void }>;
  /** Rules updates waiting for this worker's answer, in order. */
  rules: ((r: RulesOutcome) => void)[];
  inFlight: Budget;
}

/** What a rules update did in every worker. */
export interface RulesUpdateResult {
  ok: boolean;
  /** One line per worker that kept its previous rules. */
  failures: string[];
}

export class WorkerPool {
  private nextId = 1;
  private closed = false;
  /** Called after a release, with the worker index (Kafka inputs resume paused partitions). */
  private readonly releaseListeners: ((w: number) => void)[] = [];
  /** A worker died: its jobs are rejected; the process cannot continue safely. */
  onFatal: (e: Error) => void = () => {};

  private constructor(private readonly slots: Slot[], readonly budget: Budget) {}

  static async start(count: number, init: WorkerInit, budget: Budget): Promise<WorkerPool> {
    const entry = workerEntry();
    if (!workerEntryExists(entry)) throw new Error(`worker script ${entry.script} is missing: run npm run build`);
    const settled = await Promise.allSettled(
      Array.from({ length: count }, () =>
        new Promise<Slot>((res, rej) => {
          const worker = new Worker(entry.script, { workerData: init, eval: entry.eval, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
          const fail = (e: Error) => rej(e);
          worker.once('error', fail);
          worker.once('message', (m: FromWorker) => {
            worker.off('error', fail);
            if (m.type === 'ready') res({ worker, pending: new Map(), rules: [], inFlight: { messages: 0, bytes: 0 } });
            else {
              void worker.terminate();
              rej(new Error(m.type === 'fatal' ? m.message : 'worker sent an unexpected first message'));
            }
          });
        }),
      ),
    );
    const slots = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(slots.map((s) => s.worker.terminate()));
      throw failed.reason;
    }
    const pool = new WorkerPool(slots, budget);
    slots.forEach((s, w) => pool.wire(s, w));
    return pool;
  }

  private wire(slot: Slot, w: number): void {
    slot.worker.on('message', (m: FromWorker) => {
      if (m.type === 'rules') return slot.rules.shift()?.(m);
      if (m.type !== 'result') return;
      const p = slot.pending.get(m.id);
      slot.pending.delete(m.id);
      p?.resolve(m);
    });
    const die = (e: Error) => {
      for (const p of slot.pending.values()) p.reject(e);
      slot.pending.clear();
      if (!this.closed) this.onFatal(new Error(`rule worker ${w} stopped: ${e.message}`));
    };
    slot.worker.on('error', die);
    slot.worker.on('exit', (code) => die(new Error(`exit code ${code}`)));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Hand a new (already validated) ruleset to every worker; jobs posted afterwards use it. */
  async updateRules(files: RulesFile[]): Promise<RulesUpdateResult> {
    const msg: RulesUpdate = { type: 'rules', files };
    const outcomes = await Promise.all(
      this.slots.map((s) => new Promise<RulesOutcome>((resolve) => {
        s.rules.push(resolve);
        s.worker.postMessage(msg);
      })),
    );
    const failures = outcomes.flatMap((o, w) => (o.ok ? [] : [`rule worker ${w}: ${o.message ?? 'rebuild failed'}`]));
    return { ok: failures.length === 0, failures };
  }

  private rr = 0;

  /** Round robin over the workers, for inputs without partitions. */
  nextWorker(): number {
    this.rr = (this.rr + 1) % this.slots.length;
    return this.rr;
  }

  workerFor(topic: string, partition: number): number {
    return workerIndex(topic, partition, this.slots.length);
  }

  inFlight(w: number): Budget {
    return { ...this.slots[w].inFlight };
  }

  /** What worker `w` may still take; an idle worker always takes one message, however big. */
  room(w: number): Budget {
    const f = this.slots[w].inFlight;
    if (f.messages === 0) return { messages: this.budget.messages, bytes: Math.max(this.budget.bytes, 1) };
    return { messages: Math.max(0, this.budget.messages - f.messages), bytes: Math.max(0, this.budget.bytes - f.bytes) };
  }

  reserve(w: number, messages: number, bytes: number): void {
    const f = this.slots[w].inFlight;
    f.messages += messages;
    f.bytes += bytes;
  }

  release(w: number, messages: number, bytes: number): void {
    const f = this.slots[w].inFlight;
    f.messages -= messages;
    f.bytes -= bytes;
    const waiters = this.waiters[w];
    this.waiters[w] = [];
    for (const wake of waiters ?? []) wake(true);
    for (const l of this.releaseListeners) l(w);
  }

  onRelease(listener: (w: number) => void): void {
    this.releaseListeners.push(listener);
  }

  private readonly waiters: ((freed: boolean) => void)[][] = [];

  /** Resolves true at the next release on worker `w`, false after `ms`. */
  waitForRelease(w: number, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      (this.waiters[w] ??= []).push((freed) => {
        clearTimeout(t);
        resolve(freed);
      });
    });
  }

  /** Decode and evaluate raw payloads on worker `w` (packed into one transferred buffer: one postMessage, no clone per payload). */
  run(w: number, values: readonly (Uint8Array | null)[] | Packed, format: PayloadFormat, source: string, aksCategories?: string[]): Promise<JobResult> {
    const { buf, lengths, starts } = 'lengths' in values ? values : pack(values.length, (k) => values[k]);
    const slot = this.slots[w];
    const id = this.nextId++;
    const job: JobRequest = { id, buf, lengths, starts, format, source, aksCategories };
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('worker pool closed'));
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage(job, starts ? [buf, lengths.buffer as ArrayBuffer, starts.buffer as ArrayBuffer] : [buf, lengths.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
