/**
 * The second thread of `kestrel run` (run-parallel.ts): builds the ruleset
 * from the rule texts the main thread read, then takes segments of
 * the input file in turn with the main thread and posts each one's results.
 */
import { closeSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Ruleset } from '../engine/ruleset';
import { claimSegment, processSegment, type RunWorkerData, type WorkerMessage } from './run-segments';

function main(): void {
  const data = workerData as RunWorkerData;
  const post = (m: WorkerMessage) => parentPort!.postMessage(m);
  const { ruleset } = Ruleset.build(data.files, data.options);
  if (!ruleset) return post({ type: 'failed' });
  // The main thread uses our results only if it built the same rules (see SegmentWorker).
  post({ type: 'ready', hash: ruleset.hash });
  const ctl = new Int32Array(data.control);
  const fd = openSync(data.input, 'r');
  try {
    for (let k = claimSegment(ctl, data.plan.count, true); k !== undefined; k = claimSegment(ctl, data.plan.count, true)) {
      post({ type: 'result', result: processSegment(fd, data.plan, k, ruleset) });
    }
  } finally {
    closeSync(fd);
  }
}

main();
