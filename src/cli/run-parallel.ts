/**
 * `kestrel run -i FILE --threads 2`. A large regular file is cut into
 * segments of whole lines (run-segments.ts); the main thread and one worker
 * thread take segments in turn, each splitting, decoding and evaluating its
 * own with the same ruleset (the worker builds it from the same rule texts),
 * and the main thread writes every segment's alerts and rejection lines in
 * file order, so the output is the sequential run's, byte for byte.
 *
 * Used only where the result cannot differ from a sequential read: no
 * correlation or rollup state, no --format envelopes, no --stats, no rule
 * reading evt.num (numbers restart in each segment). A segment that ends
 * inside a multi-line document makes the main thread read on sequentially
 * from that segment's start. The main thread never waits for the worker:
 * when it has nothing left to take, it does the worker's pending segment
 * itself (whichever result comes first is written; they are the same), so a
 * slow, starved or failed worker costs at most one segment's time.
 */
import { closeSync, openSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Ruleset, RulesetOptions, RulesFile } from '../engine/ruleset';
import { workerEntry, workerEntryExists } from '../pipeline/worker-script';
import { writeWithBackpressure } from './common';
import type { ProgressLine } from './progress';
import type { RunSummary } from './run';
import {
  claimSegment, markCommitted, processSegment, stopClaims,
  type RunWorkerData, type SegmentPlan, type SegmentResult, type WorkerMessage,
} from './run-segments';

export interface ParallelOptions {
  /** Nominal segment size in bytes. */
  segmentBytes: number;
  /** Files smaller than this are read sequentially (a worker costs ~0.2 s of CPU to start). */
  minBytes: number;
}

export const DEFAULT_PARALLEL: ParallelOptions = { segmentBytes: 2 << 20, minBytes: 32 << 20 };

export interface ParallelInput {
  ruleset: Ruleset;
  input: string;
  plan: SegmentPlan;
  summary: RunSummary;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  progress: ProgressLine;
  label: string;
  outSharesTerminal: boolean;
}

/** The plan for a file worth two threads, or undefined (read it sequentially). */
export function planSegments(input: string, options: ParallelOptions, rest: Omit<SegmentPlan, 'size' | 'segmentBytes' | 'count'>): SegmentPlan | undefined {
  if (availableParallelism() < 2) return undefined;
  let size: number;
  try {
    // stat, not open: opening a FIFO would wait for its writer.
    const st = statSync(input);
    if (!st.isFile()) return undefined;
    size = st.size;
  } catch {
    return undefined; // the sequential path reports the error
  }
  if (size < Math.max(options.minBytes, 2 * options.segmentBytes)) return undefined;
  return { ...rest, size, segmentBytes: options.segmentBytes, count: Math.ceil(size / options.segmentBytes) };
}

/**
 * The worker thread and what it sent. It builds its ruleset from the rule
 * texts the main thread compiled; its results count only when its ruleset has
 * the main thread's hash (a guard: the same texts and options give the same one).
 */
export class SegmentWorker {
  readonly control = new SharedArrayBuffer(8);
  readonly ctl = new Int32Array(this.control);
  readonly results = new Map<number, SegmentResult>();
  /** Ruleset.hash of the worker's rules, once built. */
  hash: string | undefined;
  /** Gone, or never started: it sends nothing more. */
  done = false;
  private wake: (() => void) | undefined;
  private readonly worker: Worker | undefined;

  constructor(texts: RulesFile[], options: RulesetOptions, input: string, readonly plan: SegmentPlan) {
    const entry = workerEntry(join(__dirname, 'run-worker'));
    if (!workerEntryExists(entry)) {
      this.done = true;
      return;
    }
    const data: RunWorkerData = { files: texts, options, input, plan, control: this.control };
    this.worker = new Worker(entry.script, { workerData: data, eval: entry.eval });
    this.worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') this.hash = m.hash;
      else if (m.type === 'result') this.results.set(m.result.index, m.result);
      else this.done = true;
      this.wake?.();
    });
    // A failed worker is not an error of the run: the main thread does its segments.
    const gone = () => {
      this.done = true;
      this.wake?.();
    };
    this.worker.on('error', gone);
    this.worker.on('exit', gone);
  }

  /** Resolves on the next message or when the worker is gone. */
  news(): Promise<void> {
    return new Promise((res) => (this.wake = res));
  }

  async stop(): Promise<void> {
    stopClaims(this.ctl, this.plan.count);
    if (this.worker) await this.worker.terminate();
    this.done = true;
  }
}

/**
 * Run the segments with the worker; returns where to read on sequentially
 * when a segment ended inside a document (its first byte, and the lines before it).
 */
export async function runSegments(p: ParallelInput, w: SegmentWorker): Promise<{ resumeAt?: { byte: number; lines: number } }> {
  const { plan } = p;
  const { ctl } = w;
  // Results of another ruleset (rule files changed in between) are not used; the main thread does it all.
  const mine = new Map<number, SegmentResult>();
  const trusted = () => w.hash === p.ruleset.hash;
  const fd = openSync(p.input, 'r');
  let lines = 0;
  try {
    for (let next = 0; next < plan.count; ) {
      if (w.hash !== undefined && !trusted() && !w.done) await w.stop();
      let r = mine.get(next) ?? (trusted() ? w.results.get(next) : undefined);
      // Claimed by a worker that is gone (or not to be trusted): do it here.
      if (!r && (w.done || (w.hash !== undefined && !trusted())) && Atomics.load(ctl, 0) > next) r = processSegment(fd, plan, next, p.ruleset);
      if (r) {
        mine.delete(next);
        w.results.delete(next);
        if (!r.clean) {
          stopClaims(ctl, plan.count);
          return { resumeAt: { byte: r.start, lines } };
        }
        lines += r.lines;
        await commit(p, r, lines - r.lines);
        markCommitted(ctl, ++next);
        continue;
      }
      const k = claimSegment(ctl, plan.count, false);
      if (k !== undefined) {
        mine.set(k, processSegment(fd, plan, k, p.ruleset));
        // Let the worker's messages in.
        await new Promise((res) => setImmediate(res));
        continue;
      }
      // Nothing left to take (or the worker is WINDOW segments behind): rather than wait for the
      // worker's segment `next` (its thread may be starved on a busy machine), do it here too.
      await new Promise((res) => setImmediate(res));
      if (!(trusted() && w.results.has(next))) mine.set(next, processSegment(fd, plan, next, p.ruleset));
    }
    return {};
  } finally {
    closeSync(fd);
    await w.stop();
  }
}

/** Add a segment's counts to the summary and write its rejections and alerts. */
async function commit(p: ParallelInput, r: SegmentResult, linesBefore: number): Promise<void> {
  const s = p.summary;
  s.documents += r.documents;
  s.events += r.events;
  s.rejected += r.rejected;
  s.alerts += r.alerts;
  for (const [rule, n] of r.byRule) s.byRule.set(rule, (s.byRule.get(rule) ?? 0) + n);
  for (const [priority, n] of r.byPriority) s.byPriority.set(priority, (s.byPriority.get(priority) ?? 0) + n);
  for (const e of r.errors) {
    p.progress.clear();
    p.err.write(`kestrel: ${p.label}:${linesBefore + e.line}: ${e.text}\n`);
  }
  if (r.out) {
    if (p.outSharesTerminal) p.progress.clear();
    const wait = writeWithBackpressure(p.out, r.out);
    if (wait) await wait;
  }
}
