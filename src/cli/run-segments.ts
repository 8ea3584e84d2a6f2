/**
 * One segment of a regular input file for `kestrel run` on two threads (see
 * run-parallel.ts): the whole lines between two byte offsets, split, decoded
 * and evaluated as the sequential run would (the same splitter and the same
 * per-document steps), with everything it produces kept for the main thread
 * to write in file order. Runs on the main thread and in the worker alike.
 *
 * Segment k nominally starts at byte k × segmentBytes and really starts just
 * after the first newline at or after that byte - 1 (segment 0 at byte 0), so
 * every segment is made of whole lines and both threads find the same cuts
 * on their own. A segment is read with a fresh splitter, which is what the
 * sequential run has too at that point as long as the previous segment ended
 * between documents (`clean`); when it did not (a pretty-printed document
 * spans the cut), the main thread discards the speculative results and reads
 * on sequentially from there.
 */
import { readSync } from 'node:fs';
import { DocumentSplitter, DEFAULT_SPLITTER_OPTIONS, type RawDocument } from '../decode/documents';
import { decodeSplitDocument } from '../decode/events';
import { alertJson, alertText, type Alert } from '../engine/alert';
import type { Ruleset, RulesetOptions, RulesFile } from '../engine/ruleset';
import type { EventView } from '../fields/types';
import type { Priority } from '../language/priority';

/** What both threads need to cut and read the file the same way. */
export interface SegmentPlan {
  /** Size of the file when the run started; segments end there (the last one reads on to the end). */
  size: number;
  segmentBytes: number;
  /** ceil(size / segmentBytes). */
  count: number;
  maxEventBytes: number;
  json: boolean;
  source: string;
  hostname: string;
}

export interface SegmentResult extends AlertCounts {
  index: number;
  /** First byte of the segment. */
  start: number;
  /** The alerts, formatted, one per line. */
  out: string;
  /** Rejections: line number counted from the segment's first line, and the message after `FILE:LINE: `. */
  errors: { line: number; text: string }[];
  documents: number;
  events: number;
  rejected: number;
  /** Lines the segment holds. */
  lines: number;
  /** Ended between documents (always so for the last segment, which ends the input). */
  clean: boolean;
}

/** What the worker thread starts with. */
export interface RunWorkerData {
  files: RulesFile[];
  options: RulesetOptions;
  input: string;
  plan: SegmentPlan;
  /** Int32 slots NEXT, COMMITTED (see claimSegment). */
  control: SharedArrayBuffer;
}

/** `ready` (rules built, with their Ruleset.hash) comes first; `failed`: the rules did not build. */
export type WorkerMessage = { type: 'ready'; hash: string } | { type: 'result'; result: SegmentResult } | { type: 'failed' };

const NEXT = 0;
const COMMITTED = 1;
/** Segments done ahead of the next one to write, at most (bounds the results held in memory). */
export const WINDOW = 8;

/**
 * The next segment for this thread to do, or undefined when none is left (or,
 * on the main thread, when the window is full: it has results to write first).
 * The worker waits for the main thread to write results when the window is full.
 */
export function claimSegment(ctl: Int32Array, count: number, wait: boolean): number | undefined {
  for (;;) {
    const next = Atomics.load(ctl, NEXT);
    if (next >= count) return undefined;
    const committed = Atomics.load(ctl, COMMITTED);
    if (next >= committed + WINDOW) {
      if (!wait) return undefined;
      Atomics.wait(ctl, COMMITTED, committed, 1000);
      continue;
    }
    if (Atomics.compareExchange(ctl, NEXT, next, next + 1) === next) return next;
  }
}

/** The main thread wrote the results of segments before `committed`: wake a waiting worker. */
export function markCommitted(ctl: Int32Array, committed: number): void {
  Atomics.store(ctl, COMMITTED, committed);
  Atomics.notify(ctl, COMMITTED);
}

/** No segment is handed out any more (the main thread reads on alone). */
export function stopClaims(ctl: Int32Array, count: number): void {
  Atomics.store(ctl, NEXT, count);
  Atomics.notify(ctl, COMMITTED);
}

const READ_BYTES = 1 << 20;
/** Scratch space for finding a cut (used synchronously only). */
const scan = Buffer.allocUnsafe(16 * 1024);

/** The event with its sequence number (a literal of one shape: cheaper than a spread). */
export function numbered(ev: EventView, num: number): EventView {
  return { obj: ev.obj, source: ev.source, raw: ev.raw, hostname: ev.hostname, tsNs: ev.tsNs, meta: ev.meta, num };
}

/** What one document contributes to the rejection lines (`FILE:LINE: ` comes before each): the whole document, or records of it. */
export function rejections(decoded: { ok: false; reason: string } | { ok: true; rejected?: { recordIndex: number; reason: string }[] }): string[] {
  if (!decoded.ok) return [`rejected: ${decoded.reason}`];
  return (decoded.rejected ?? []).map((r) => `record ${r.recordIndex} rejected: ${r.reason}`);
}

/** Counts of alerts per rule and per priority (the run summary's, and a segment's). */
export interface AlertCounts {
  alerts: number;
  byRule: Map<string, number>;
  byPriority: Map<Priority, number>;
}

export function countAlert(s: AlertCounts, a: Alert): void {
  s.alerts++;
  s.byRule.set(a.rule, (s.byRule.get(a.rule) ?? 0) + 1);
  s.byPriority.set(a.priority, (s.byPriority.get(a.priority) ?? 0) + 1);
}

/** First byte of segment `k`: just after the first newline at or after byte k × segmentBytes - 1. */
export function segmentStart(fd: number, plan: SegmentPlan, k: number): number {
  if (k === 0) return 0;
  let pos = k * plan.segmentBytes - 1;
  if (pos >= plan.size) return plan.size;
  while (pos < plan.size) {
    const n = readSync(fd, scan, 0, Math.min(scan.length, plan.size - pos), pos);
    if (n <= 0) break;
    const nl = scan.subarray(0, n).indexOf(10);
    if (nl >= 0) return pos + nl + 1;
    pos += n;
  }
  return plan.size;
}

/** Split, decode and evaluate segment `k` of the file open as `fd`. */
export function processSegment(fd: number, plan: SegmentPlan, k: number, ruleset: Ruleset): SegmentResult {
  const start = segmentStart(fd, plan, k);
  const end = k + 1 >= plan.count ? plan.size : segmentStart(fd, plan, k + 1);
  const r: SegmentResult = {
    index: k, start, out: '', errors: [], documents: 0, events: 0, rejected: 0, alerts: 0, byRule: new Map(), byPriority: new Map(), lines: 0, clean: true,
  };
  if (start >= plan.size) return r;
  const format = plan.json ? alertJson : alertText;
  const emit = (alerts: Alert[]) => {
    for (const a of alerts) {
      countAlert(r, a);
      r.out += format(a) + '\n';
    }
  };
  // The same steps as the sequential run's handleDoc without --format (run.ts).
  const handleDoc = (doc: RawDocument) => {
    r.documents++;
    const decoded = doc.ok ? decodeSplitDocument(doc, plan.source, plan.hostname) : doc;
    for (const text of rejections(decoded)) {
      r.rejected++;
      r.errors.push({ line: doc.line, text });
    }
    if (!decoded.ok) return;
    for (const ev of decoded.events) {
      r.events++;
      emit(ruleset.evaluate(numbered(ev, r.events)));
    }
  };
  const splitter = new DocumentSplitter({ ...DEFAULT_SPLITTER_OPTIONS, maxBytes: plan.maxEventBytes, parse: true, midStream: k > 0 });
  const sink = { push: handleDoc };
  // The segment that ends where the file ended at the start reads on to the end of the input.
  const last = end >= plan.size;
  let pos = start;
  while (last || pos < end) {
    const want = last ? READ_BYTES : Math.min(READ_BYTES, end - pos);
    const chunk = Buffer.allocUnsafe(want);
    const n = readSync(fd, chunk, 0, want, pos);
    if (n <= 0) break;
    pos += n;
    splitter.pushTo(n < want ? chunk.subarray(0, n) : chunk, sink);
  }
  if (last) for (const doc of splitter.end()) handleDoc(doc);
  r.lines = splitter.lines;
  r.clean = last || splitter.idle;
  return r;
}
