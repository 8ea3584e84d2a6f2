import { mkdtempSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { runCommand, type RunOptions } from '../../src/cli/run';
import { processSegment, WINDOW, type RunWorkerData, type SegmentPlan, type SegmentResult, type WorkerMessage } from '../../src/cli/run-segments';
import { loadRuleset } from '../../src/engine/load';
import { workerEntry } from '../../src/pipeline/worker-script';

const ROOT = resolve(__dirname, '../..');
// Kestrel's rules without the correlation file (correlations keep a run on one thread).
const RULES = ['10_kestrel_macros.yaml', '20_kestrel_suspicious.yaml', '30_kestrel_tracking.yaml'].map((f) => join(ROOT, 'rules', f));
const EXAMPLES = readFileSync(join(ROOT, 'examples/audit-events.jsonl'), 'utf8').trimEnd().split('\n');
const tmp = mkdtempSync(join(tmpdir(), 'kestrel-run-parallel-'));

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString('utf8');
    cb();
  }
}

async function run(file: string, extra: Partial<RunOptions>): Promise<{ code: number; out: string; err: string }> {
  const out = new Collect();
  const err = new Collect();
  const code = await runCommand({ rules: RULES, input: file, json: false, ruleMatching: 'first', source: 'k8s_audit', ...extra }, out, err);
  return { code, out: out.text, err: err.text };
}

/** Events, bad lines and pretty-printed documents, so that segment cuts fall everywhere. */
function mixedInput(): Buffer {
  const pretty = JSON.stringify(JSON.parse(EXAMPLES[2]), null, 2);
  const parts: (string | Buffer)[] = ['\ufeff' + EXAMPLES[0] + '\n'];
  for (let i = 0; i < 6; i++) {
    for (const e of EXAMPLES) parts.push(e + (i % 2 ? '\r\n' : '\n'));
    parts.push('not json at all\n', '\n', '{"kind": 0}\n', Buffer.from([0x7b, 0xc3, 0x28, 0x7d, 0x0a]));
    parts.push(pretty + '\n', `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[${EXAMPLES[3]},${EXAMPLES[4]}]}\n`);
    parts.push('['.repeat(600) + ']'.repeat(600) + '\n', `{"kind":"Event","x":"${'a'.repeat(3000)}"}\n`);
    // A document left open by the next one, then one split over lines without indentation.
    parts.push('{"kind":"Event",\n', `${EXAMPLES[5]}\n`, '{\n"kind":"Event",\n"apiVersion":"audit.k8s.io/v1"\n}\n');
  }
  parts.push(EXAMPLES[6], '\n{"kind":"Event",\n  "auditID": "x"'); // truncated at the end of the input
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}

describe('kestrel run on two threads', () => {
  const file = join(tmp, 'mixed.jsonl');
  writeFileSync(file, mixedInput());

  test.each([16, 97, 512, 2048, 9000])('segments of %i bytes give the sequential output, alerts and rejections alike', async (segmentBytes) => {
    const seq = await run(file, { parallel: false, maxEventBytes: 2500 });
    const par = await run(file, { parallel: { segmentBytes, minBytes: 0 }, maxEventBytes: 2500 });
    expect(seq.code).toBe(0);
    expect(seq.err).toContain(': rejected: truncated JSON document: input ended before it was closed');
    expect(seq.err).toContain(': rejected: document larger than the 2500-byte limit');
    expect(seq.err).toMatch(/kestrel: \d+ events read, \d+ rejected, \d+ alerts/);
    expect(par).toEqual(seq);
  }, 60_000);

  test('--json output is the same, and a file of events only never falls back', async () => {
    const events = join(tmp, 'events.jsonl');
    writeFileSync(events, Array.from({ length: 40 }, (_, i) => EXAMPLES[i % EXAMPLES.length]).join('\n') + '\n');
    const seq = await run(events, { parallel: false, json: true });
    const par = await run(events, { parallel: { segmentBytes: 1500, minBytes: 0 }, json: true });
    expect(par).toEqual(seq);
    expect(seq.out.trimEnd().split('\n')).toHaveLength(34);
  }, 60_000);

  test('the worker builds the same rules, takes segments within the window and posts what the main thread would compute', async () => {
    const { ruleset, texts } = loadRuleset(RULES, { ruleMatching: 'first', hostname: hostname() });
    const size = readFileSync(file).length;
    const plan: SegmentPlan = { size, segmentBytes: 300, count: Math.ceil(size / 300), maxEventBytes: 2500, json: true, source: 'k8s_audit', hostname: hostname() };
    const fd = openSync(file, 'r');
    const expected = Array.from({ length: plan.count }, (_, k) => processSegment(fd, plan, k, ruleset!));
    closeSync(fd);

    const control = new SharedArrayBuffer(8);
    const ctl = new Int32Array(control);
    const data: RunWorkerData = { files: texts, options: { ruleMatching: 'first', hostname: hostname() }, hash: ruleset!.hash, input: file, plan, control };
    const entry = workerEntry(join(ROOT, 'src/cli/run-worker'));
    const got: SegmentResult[] = [];
    await new Promise<void>((res, rej) => {
      const w = new Worker(entry.script, { workerData: data, eval: entry.eval });
      w.on('message', (m: WorkerMessage) => {
        if (m.type !== 'result') return rej(new Error('worker failed'));
        got.push(m.result);
        // Never more than WINDOW segments ahead of what was written.
        expect(m.result.index).toBeLessThan(Atomics.load(ctl, 1) + WINDOW);
        if (got.length % 3 === 0) {
          Atomics.store(ctl, 1, got.length);
          Atomics.notify(ctl, 1);
        }
      });
      w.on('error', rej);
      w.on('exit', () => res());
      const release = setInterval(() => {
        Atomics.store(ctl, 1, got.length);
        Atomics.notify(ctl, 1);
        if (got.length === plan.count) clearInterval(release);
      }, 50);
    });
    expect(got).toEqual(expected);
    expect(expected.some((r) => !r.clean)).toBe(true);
  }, 60_000);

  test('a worker whose rules differ from the main thread\'s refuses to work', async () => {
    const { texts } = loadRuleset(RULES, {});
    const plan: SegmentPlan = { size: 1, segmentBytes: 1, count: 1, maxEventBytes: 100, json: true, source: 'k8s_audit', hostname: 'h' };
    const data: RunWorkerData = { files: texts, options: {}, hash: 'other', input: file, plan, control: new SharedArrayBuffer(8) };
    const entry = workerEntry(join(ROOT, 'src/cli/run-worker'));
    const messages = await new Promise<WorkerMessage[]>((res, rej) => {
      const got: WorkerMessage[] = [];
      const w = new Worker(entry.script, { workerData: data, eval: entry.eval });
      w.on('message', (m: WorkerMessage) => got.push(m));
      w.on('error', rej);
      w.on('exit', () => res(got));
    });
    expect(messages).toEqual([{ type: 'failed' }]);
  }, 60_000);
});
