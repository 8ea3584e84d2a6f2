/** `kestrel run`: evaluate events from a file or stdin and print alerts. */
import { hostname } from 'node:os';
import { DocumentSplitter, DEFAULT_SPLITTER_OPTIONS, type RawDocument } from '../decode/documents';
import { decodeSplitDocument } from '../decode/events';
import { decodeText, type PayloadFormat } from '../decode/envelope';
import { eventTimeNs } from '../fields';
import { alertJson, alertText, type Alert } from '../engine/alert';
import { readRuleFiles } from '../engine/load';
import type { Correlator } from '../engine/correlation/correlator';
import type { Rollup } from '../engine/correlation/rollup';
import type { RuleMatching, Ruleset } from '../engine/ruleset';
import type { EventView } from '../fields/types';
import { PRIORITIES, type Priority } from '../language/priority';
import { openInput } from '../sources/file';
import { loadCommandRules, UsageError, writeWithBackpressure } from './common';
import { formatCostTable } from './list';
import { ProgressLine, type ProgressOptions } from './progress';
// run-parallel (worker threads) is loaded only for --threads 2.
import type { ParallelOptions, SegmentWorker } from './run-parallel';
import { countAlert, numbered, rejections, type AlertCounts } from './run-segments';

export interface RunOptions {
  rules: string[];
  input?: string;
  json: boolean;
  ruleMatching: RuleMatching;
  source: string;
  minPriority?: Priority;
  maxEventBytes?: number;
  /** Decode each document as a Kafka payload in this envelope format (managed-Kubernetes records...). */
  format?: PayloadFormat;
  /** For tests: whether stdin is a terminal (default: process.stdin.isTTY). */
  stdinIsTTY?: boolean;
  /** For tests: the progress line's timing (it shows only when `err` is a TTY). */
  progress?: ProgressOptions;
  /** Print per-rule evaluation cost (sampled) and correlation state after the summary. */
  stats?: boolean;
  /** Out-of-order tolerance of correlation rules, ms (default 30 s). */
  correlationToleranceMs?: number;
  /** Two threads for a large regular file (see run-parallel.ts, `--threads 2`; true: DEFAULT_PARALLEL). Default false: one. */
  parallel?: ParallelOptions | boolean;
}

export interface RunSummary extends AlertCounts {
  documents: number;
  events: number;
  rejected: number;
  /** Records an envelope skipped on purpose (CloudWatch control messages, unselected AKS categories, duplicates). */
  skipped?: number;
}

/** `--threads auto|1|2`: whether a large file may be read on two threads. */
export function twoThreads(flag: string | undefined): boolean {
  const threads = flag ?? 'auto';
  if (threads !== 'auto' && threads !== '1' && threads !== '2') throw new UsageError(`--threads must be auto, 1 or 2, not '${threads}'`);
  // auto and 2 are the same: planSegments (run-parallel.ts) keeps one thread where fewer than two cores are available.
  return threads !== '1';
}

export async function runCommand(opts: RunOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const rulesetOptions = { ruleMatching: opts.ruleMatching, minPriority: opts.minPriority, hostname: hostname() };
  // Read once: the second thread, if any, builds its ruleset from the same texts.
  const ruleFiles = readRuleFiles(opts.rules);
  const { ruleset, code } = loadCommandRules(opts.rules, rulesetOptions, err, true, ruleFiles);
  if (!ruleset) return code;
  const correlator = ruleset.newCorrelator({ toleranceMs: opts.correlationToleranceMs, onLimit: (m) => err.write(`kestrel: ${m}\n`) });
  const rollup = ruleset.newRollup({ onLimit: (m) => err.write(`kestrel: ${m}\n`) });
  // Two threads only where nothing is carried from event to event (same output as one): see run-parallel.ts.
  let worker: SegmentWorker | undefined;
  if (opts.parallel && opts.input && opts.input !== '-' && !opts.format && !opts.stats && !correlator && !rollup && !ruleset.usesField('evt.num')) {
    const { DEFAULT_PARALLEL, planSegments, SegmentWorker } = await import('./run-parallel');
    const parallel = opts.parallel === true ? DEFAULT_PARALLEL : opts.parallel;
    const plan = planSegments(opts.input, parallel, { maxEventBytes: opts.maxEventBytes ?? DEFAULT_SPLITTER_OPTIONS.maxBytes, json: opts.json, source: opts.source, hostname: hostname() });
    if (plan) worker = new SegmentWorker(ruleFiles.files, rulesetOptions, opts.input, plan);
  }
  try {
    return await run(opts, out, err, { ruleset, correlator, rollup }, worker);
  } finally {
    await worker?.stop();
  }
}

interface LoadedRules {
  ruleset: Ruleset;
  correlator: Correlator | undefined;
  rollup: Rollup | undefined;
}

async function run(opts: RunOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream, { ruleset, correlator, rollup }: LoadedRules, worker: SegmentWorker | undefined): Promise<number> {
  const fromStdin = !opts.input || opts.input === '-';
  if (!opts.input && (opts.stdinIsTTY ?? process.stdin.isTTY) === true) {
    // Without this line a user who forgot -i sees a command that seems to hang.
    err.write('kestrel: reading audit events from stdin (end with Ctrl-D); pass -i FILE to read a file\n');
  }

  const summary: RunSummary = { documents: 0, events: 0, rejected: 0, alerts: 0, byRule: new Map(), byPriority: new Map() };
  const maxEventBytes = opts.maxEventBytes ?? DEFAULT_SPLITTER_OPTIONS.maxBytes;
  const host = hostname();
  const label = fromStdin ? 'stdin' : opts.input!;
  let pendingOut = '';
  const progress = new ProgressLine(err, () => summary, opts.progress);
  // Alerts to the same terminal would land on the progress line: erase it first.
  const outSharesTerminal = (out as { isTTY?: boolean }).isTTY === true;

  let resumeAt: { byte: number; lines: number } | undefined = { byte: 0, lines: 0 };
  if (worker) {
    try {
      const { runSegments } = await import('./run-parallel');
      ({ resumeAt } = await runSegments({ ruleset, input: opts.input!, plan: worker.plan, summary, out, err, progress, label, outSharesTerminal }, worker));
    } catch (e) {
      progress.stop();
      err.write(`kestrel: cannot read ${label}: ${readError(e as NodeJS.ErrnoException)}\n`);
      return 2;
    }
  }
  const splitter = new DocumentSplitter({
    ...DEFAULT_SPLITTER_OPTIONS, maxBytes: maxEventBytes, parse: true, startLine: resumeAt?.lines ?? 0, midStream: (resumeAt?.byte ?? 0) > 0,
  });
  const emit = (alerts: Alert[]) => {
    for (const alert of alerts) {
      countAlert(summary, alert);
      pendingOut += (opts.json ? alertJson(alert) : alertText(alert)) + '\n';
    }
  };

  const evaluate = (view: EventView) => {
    if (!correlator && !rollup) {
      emit(ruleset.evaluate(view));
      return;
    }
    // Correlation rules: base-rule matches go to the correlator; every event moves
    // the correlator's and the rollup's clocks (event time).
    const t = view.tsNs ?? eventTimeNs(view.obj, view.source);
    const { alerts, matches } = correlator ? ruleset.evaluateDetailed(view) : { alerts: ruleset.evaluate(view), matches: [] };
    if (rollup) {
      if (t !== undefined) emit(rollup.advance(t));
      for (const a of alerts) emit(rollup.consume(a, view));
    } else emit(alerts);
    if (correlator) {
      for (const m of matches) emit(correlator.consume(m, view));
      if (matches.length === 0 && t !== undefined) emit(correlator.advance(t));
    }
  };

  const handleDoc = (doc: RawDocument) => {
    summary.documents++;
    const decoded = !doc.ok
      ? doc
      : opts.format
        ? decodeText(doc.text, { format: opts.format, source: opts.source, hostname: host, partialRecords: true })
        : decodeSplitDocument(doc, opts.source, host);
    for (const text of rejections(decoded)) {
      summary.rejected++;
      progress.clear();
      err.write(`kestrel: ${label}:${doc.line}: ${text}\n`);
    }
    if (!decoded.ok) return;
    if (decoded.skipped?.length) summary.skipped = (summary.skipped ?? 0) + decoded.skipped.length;
    for (const ev of decoded.events) {
      summary.events++;
      evaluate(numbered(ev, summary.events));
    }
  };
  // Each document is decoded and evaluated as soon as it is split: fewer live objects per GC.
  const sink = { push: handleDoc };

  const input = resumeAt ? openInput(opts.input, resumeAt.byte) : [];
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      splitter.pushTo(chunk, sink);
      if (pendingOut) {
        if (outSharesTerminal) progress.clear();
        const wait = writeWithBackpressure(out, pendingOut);
        pendingOut = '';
        if (wait) await wait;
      }
    }
  } catch (e) {
    progress.stop();
    err.write(`kestrel: cannot read ${label}: ${readError(e as NodeJS.ErrnoException)}\n`);
    return 2;
  }
  progress.stop();
  if (resumeAt) for (const doc of splitter.end()) handleDoc(doc);
  if (correlator) emit(correlator.flush());
  if (rollup) emit(rollup.flush());
  if (pendingOut) await (writeWithBackpressure(out, pendingOut) ?? Promise.resolve());
  err.write(formatSummary(summary));
  if (opts.stats) {
    err.write(`rule cost (1 in ${ruleset.options.costSampleEvery} evaluations timed per rule; times are estimates):\n`);
    err.write(formatCostTable(ruleset.costStats()));
    if (correlator) {
      const c = correlator.stats();
      err.write(`correlation: ${c.alerts} alerts, ${c.groups} groups held, ${c.late} late matches, ${c.suppressed} suppressed, ${c.droppedAtCap} dropped at the group cap\n`);
    }
    if (rollup) {
      const r = rollup.stats();
      err.write(`rollup: ${r.rolledUp} alerts rolled up into ${r.summaries} summaries, ${r.passedAtCap} passed through at the window cap\n`);
    }
  }
  return 0;
}

function readError(e: NodeJS.ErrnoException): string {
  const what: Record<string, string> = { ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory' };
  return e.code ? (what[e.code] ? `${what[e.code]} (${e.code})` : e.code) : e.message;
}

export function formatSummary(s: RunSummary): string {
  const skipped = s.skipped ? `, ${s.skipped} records skipped` : '';
  let text = `kestrel: ${s.events} events read, ${s.rejected} rejected${skipped}, ${s.alerts} alerts\n`;
  if (s.byRule.size > 0) {
    text += 'alerts by rule:\n';
    for (const [rule, n] of [...s.byRule].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) text += `  ${n}\t${rule}\n`;
    text += 'alerts by priority:\n';
    for (const p of PRIORITIES) if (s.byPriority.has(p)) text += `  ${s.byPriority.get(p)}\t${p}\n`;
  }
  return text;
}
