/**
 * A rule worker thread: decodes raw message bytes and evaluates them with its
 * own Ruleset (built from the rule files, so no engine state crosses threads).
 * Runs from compiled JS: dist/src/pipeline/worker.js.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { alertJson } from '../engine/alert';
import { loadRuleset } from '../engine/load';
import { Ruleset } from '../engine/ruleset';
import { decodePayload } from '../decode/envelope';
import type { AlertOut, FromWorker, RejectOut, ToWorker, WorkerInit } from './protocol';

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

const options = { ruleMatching: init.ruleMatching, minPriority: init.minPriority, hostname: init.hostname };
const loaded = loadRuleset(init.rulePaths, options);
let ruleset = loaded.ruleset;
const diagnostics = loaded.diagnostics;
if (!ruleset) {
  const first = diagnostics.find((d) => d.severity === 'error');
  post({ type: 'fatal', message: first ? `${first.file}:${first.line}: ${first.message}` : 'rules failed to load' });
} else {
  const envelope = { format: init.format, source: init.source, hostname: init.hostname, maxBytes: init.maxMessageBytes };
  let num = 0;
  post({ type: 'ready', rules: ruleset.compiledRules().length });
  port.on('message', (job: ToWorker) => {
    if ('type' in job) {
      // Messages are handled in order, so every job posted after this uses the new rules.
      const built = Ruleset.build(job.files, options);
      if (built.ruleset) ruleset = built.ruleset;
      return;
    }
    const rs = ruleset!;
    const alerts: AlertOut[] = [];
    const rejects: RejectOut[] = [];
    const seconds = new Float64Array(job.lengths.length);
    let events = 0;
    let pos = 0;
    for (let i = 0; i < job.lengths.length; i++) {
      const len = job.lengths[i];
      const started = process.hrtime.bigint();
      if (len < 0) {
        rejects.push({ i, reason: 'null message value', value: null });
        continue;
      }
      const bytes = new Uint8Array(job.buf, pos, len);
      pos += len;
      const decoded = decodePayload(bytes, envelope);
      if (!decoded.ok) {
        rejects.push({ i, reason: decoded.reason, value: bytes.slice() });
      } else {
        for (const ev of decoded.events) {
          events++;
          for (const alert of rs.evaluate({ ...ev, num: ++num })) alerts.push({ i, alert, json: alertJson(alert) });
        }
      }
      seconds[i] = Number(process.hrtime.bigint() - started) / 1e9;
    }
    post({ type: 'result', id: job.id, alerts, rejects, events, seconds }, [seconds.buffer as ArrayBuffer]);
  });
}
