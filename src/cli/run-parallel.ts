/**
 * `kestrel run -i FILE` on two threads. A large regular file is cut into
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
 * from that segment's start; if the worker fails, the main thread does its
 * segments.
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
  /** Files smaller than this are read sequentially (a worker costs ~0.15 s of CPU to start). */
  minBytes: number;
}

export const DEFAULT_PARALLEL: ParallelOptions = { segmentBytes: 4 << 20, minBytes: 32 << 20 };

export interface ParallelInput {
  ruleset: Ruleset;
  texts: RulesFile[];
  rulesetOptions: RulesetOptions;
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
 * Run the segments; returns where to read on sequentially when a segment
 * ended inside a document (its first byte, and the lines before it).
 */
export async function runSegments(p: ParallelInput): Promise<{ resumeAt?: { byte: number; lines: number } }> {
  const { plan, summary } = p;
  const control = new SharedArrayBuffer(8);
  const ctl = new Int32Array(control);
  const results = new Map<number, SegmentResult>();
  let workerDone = false;
  let wake: (() => void) | undefined;
  const signal = () => wake?.();

  let worker: Worker | undefined;
  const entry = workerEntry(join(__dirname, 'run-worker'));
  if (workerEntryExists(entry)) {
    const data: RunWorkerData = { files: p.texts, options: p.rulesetOptions, hash: p.ruleset.hash, input: p.input, plan, control };
    worker = new Worker(entry.script, { workerData: data, eval: entry.eval });
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'result') results.set(m.result.index, m.result);
      else workerDone = true;
      signal();
    });
    // A failed worker is not an error of the run: the main thread does its segments.
    worker.on('error', () => {
      workerDone = true;
      signal();
    });
    worker.on('exit', () => {
      workerDone = true;
      signal();
    });
  } else workerDone = true;

  const fd = openSync(p.input, 'r');
  let lines = 0;
  try {
    for (let next = 0; next < plan.count; ) {
      let r = results.get(next);
      // Claimed by a worker that is gone: do it here.
      if (!r && workerDone && Atomics.load(ctl, 0) > next) r = processSegment(fd, plan, next, p.ruleset);
      if (r) {
        results.delete(next);
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
        results.set(k, processSegment(fd, plan, k, p.ruleset));
        continue;
      }
      await new Promise<void>((res) => (wake = res));
      wake = undefined;
    }
    return {};
  } finally {
    closeSync(fd);
    stopClaims(ctl, plan.count);
    if (worker) await worker.terminate();
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
