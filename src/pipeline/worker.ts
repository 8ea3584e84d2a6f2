/**
 * A rule worker thread: decodes raw payloads and evaluates them with its own
 * Ruleset, built from the rule files the main thread validated (no engine
 * state crosses threads; building is deterministic). Runs from compiled JS:
 * dist/src/pipeline/worker.js.
 */
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { decodePayload } from '../decode/envelope';
import { alertJson } from '../engine/alert';
import { bucketCounts, countInto, EVALUATION_BUCKETS } from '../observability/batched-histogram';
import { alertContext } from '../engine/alert-context';
import { Ruleset } from '../engine/ruleset';
import { StepRecorder } from './correlation-steps';
import type { AlertOut, FromWorker, JobRequest, RejectOut, ToWorker, WorkerInit } from './protocol';

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
/** Sampled rule cost since the last job result: rule → [ns, samples] (RulesetOptions.onCostSample). */
let costs = new Map<string, [number, number]>();
const onCostSample = (rule: string, ns: number) => {
  const c = costs.get(rule);
  if (c) {
    c[0] += ns;
    c[1]++;
  } else costs.set(rule, [ns, 1]);
};
const options = { ruleMatching: init.ruleMatching, minPriority: init.minPriority, hostname: init.hostname, onCostSample };
const takeCosts = () => {
  const out = [...costs].map(([rule, [ns, n]]) => [rule, ns, n] as [string, number, number]);
  costs = new Map();
  return out;
};

function firstError(diags: { severity: string; file?: string; line?: number; message: string }[]): string {
  const d = diags.find((x) => x.severity === 'error');
  return d ? `${d.file ?? '?'}:${d.line ?? 0}: ${d.message}` : 'rules failed to build';
}

const initial = Ruleset.build(init.files, options);
if (!initial.ruleset) {
  post({ type: 'fatal', message: firstError(initial.diagnostics) });
} else {
  let ruleset = initial.ruleset;
  // Correlation rules and rollups: the steps the main thread replays (undefined when the ruleset has neither).
  let recorder = StepRecorder.forRuleset(ruleset);
  let num = 0;
  post({ type: 'ready', rules: ruleset.compiledRules().length });

  const evaluateJob = (job: JobRequest) => {
    const rs = ruleset;
    const rec = recorder;
    const alerts: AlertOut[] = [];
    const rejects: RejectOut[] = [];
    const timing = bucketCounts(EVALUATION_BUCKETS);
    const envelope = { format: job.format, source: job.source, hostname: init.hostname, maxBytes: init.maxEventBytes, aksCategories: job.aksCategories, partialRecords: true };
    let events = 0;
    let pos = 0;
    for (let i = 0; i < job.lengths.length; i++) {
      const len = job.lengths[i];
      const started = performance.now();
      if (len < 0) {
        rejects.push({ i, reason: 'null message value', value: null });
        countInto(timing, EVALUATION_BUCKETS, 0);
        continue;
      }
      const bytes = new Uint8Array(job.buf, job.starts ? job.starts[i] : pos, len);
      pos += len;
      const decoded = decodePayload(bytes, envelope);
      if (!decoded.ok) {
        rejects.push({ i, reason: decoded.reason, value: bytes.slice() });
      } else {
        // A message of many records: its bad ones are dead letters (with their index), the good ones evaluated.
        for (const r of decoded.rejected ?? []) rejects.push({ i, record: r.recordIndex, reason: r.reason, value: bytes.slice() });
        for (const ev of decoded.events) {
          events++;
          // A fresh view of this payload's decoding: numbered in place, not copied.
          (ev as { num?: number }).num = ++num;
          const raised = rec ? rec.evaluate(ev, i, ev.recordIndex) : rs.evaluate(ev);
          if (raised.length === 0) continue;
          // Extracted once per event that raised alerts, only when an output needs it.
          const context = init.context ? alertContext(ev, job.source, init.context.include, init.context.maxEventBytes) : undefined;
          for (const alert of raised) alerts.push({ i, alert, json: alertJson(alert), context, record: ev.recordIndex });
        }
      }
      countInto(timing, EVALUATION_BUCKETS, (performance.now() - started) / 1e3);
    }
    post({ type: 'result', id: job.id, alerts, rejects, events, timing, heap: getHeapStatistics().total_heap_size, ...(rec ? { steps: rec.take() } : {}), ...(costs.size > 0 ? { costs: takeCosts() } : {}) }, [timing.buffer as ArrayBuffer]);
  };

  port.on('message', (msg: ToWorker) => {
    if ('type' in msg) {
      // Messages are handled in order, so every job posted after this one uses the new rules.
      const built = Ruleset.build(msg.files, options);
      if (built.ruleset) {
        ruleset = built.ruleset;
        recorder = StepRecorder.forRuleset(ruleset);
        post({ type: 'rules', ok: true, rules: ruleset.compiledRules().length });
      } else post({ type: 'rules', ok: false, rules: ruleset.compiledRules().length, message: firstError(built.diagnostics) });
      return;
    }
    evaluateJob(msg);
  });
}
