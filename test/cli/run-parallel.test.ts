import { spawnSync } from 'node:child_process';
import { closeSync, createWriteStream, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { runCommand, type RunOptions } from '../../src/cli/run';
import { ProgressLine } from '../../src/cli/progress';
import { planSegments, runSegments, SegmentWorker } from '../../src/cli/run-parallel';
import { twoThreads } from '../../src/cli/run';
import { processSegment, WINDOW, type RunWorkerData, type SegmentPlan, type SegmentResult, type WorkerMessage } from '../../src/cli/run-segments';
import { loadRuleset, readRuleFiles } from '../../src/engine/load';
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

test('--threads: auto (the default) and 2 allow two threads, 1 keeps one; anything else is refused', () => {
  expect([twoThreads(undefined), twoThreads('auto'), twoThreads('2'), twoThreads('1')]).toEqual([true, true, true, false]);
  expect(() => twoThreads('4')).toThrow("--threads must be auto, 1 or 2, not '4'");
});

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

  test('two threads only for a regular file of minBytes or more', () => {
    const rest = { maxEventBytes: 100, json: false, source: 'k8s_audit', hostname: 'h' };
    const size = readFileSync(file).length;
    expect(planSegments(file, { segmentBytes: 1000, minBytes: 0 }, rest)).toEqual({ ...rest, size, segmentBytes: 1000, count: Math.ceil(size / 1000) });
    expect(planSegments(file, { segmentBytes: 1000, minBytes: size + 1 }, rest)).toBeUndefined();
    expect(planSegments(file, { segmentBytes: size, minBytes: 0 }, rest)).toBeUndefined(); // one segment
    expect(planSegments(tmp, { segmentBytes: 1000, minBytes: 0 }, rest)).toBeUndefined();
    expect(planSegments(join(tmp, 'missing'), { segmentBytes: 1000, minBytes: 0 }, rest)).toBeUndefined();
  });

  test('--json output is the same', async () => {
    const events = join(tmp, 'events.jsonl');
    writeFileSync(events, Array.from({ length: 40 }, (_, i) => EXAMPLES[i % EXAMPLES.length]).join('\n') + '\n');
    const seq = await run(events, { parallel: false, json: true });
    const par = await run(events, { parallel: { segmentBytes: 1500, minBytes: 0 }, json: true });
    expect(par).toEqual(seq);
    expect(seq.out.trimEnd().split('\n')).toHaveLength(34);
  }, 60_000);

  test('the worker says which rules it built, takes segments within the window and posts what the main thread would compute', async () => {
    const { ruleset } = loadRuleset(RULES, { ruleMatching: 'first', hostname: hostname() });
    const size = readFileSync(file).length;
    const plan: SegmentPlan = { size, segmentBytes: 300, count: Math.ceil(size / 300), maxEventBytes: 2500, json: true, source: 'k8s_audit', hostname: hostname() };
    const fd = openSync(file, 'r');
    const expected = Array.from({ length: plan.count }, (_, k) => processSegment(fd, plan, k, ruleset!));
    closeSync(fd);

    const control = new SharedArrayBuffer(8);
    const ctl = new Int32Array(control);
    const data: RunWorkerData = { files: readRuleFiles(RULES).files, options: { ruleMatching: 'first', hostname: hostname() }, input: file, plan, control };
    const entry = workerEntry(join(ROOT, 'src/cli/run-worker'));
    const got: WorkerMessage[] = [];
    const results = () => got.flatMap((m) => (m.type === 'result' ? [m.result] : []));
    // Maps cloned from the worker are of another realm than jest's: compare their entries.
    const plain = (rs: SegmentResult[]) => rs.map((r) => ({ ...r, byRule: [...r.byRule], byPriority: [...r.byPriority] }));
    await new Promise<void>((res, rej) => {
      const w = new Worker(entry.script, { workerData: data, eval: entry.eval });
      w.on('message', (m: WorkerMessage) => {
        got.push(m);
        // Never more than WINDOW segments ahead of what was written.
        if (m.type === 'result') expect(m.result.index).toBeLessThan(Atomics.load(ctl, 1) + WINDOW);
      });
      w.on('error', rej);
      w.on('exit', () => res());
      const release = setInterval(() => {
        Atomics.store(ctl, 1, results().length);
        Atomics.notify(ctl, 1);
        if (results().length === plan.count) clearInterval(release);
      }, 50);
    });
    expect(got[0]).toEqual({ type: 'ready', hash: ruleset!.hash });
    expect(plain(results())).toEqual(plain(expected));
    expect(expected.some((r) => !r.clean)).toBe(true);
  }, 60_000);

  test('segments the worker did are written in their place', async () => {
    const { ruleset } = loadRuleset(RULES, { ruleMatching: 'first', hostname: hostname() });
    const events = join(tmp, 'worker-first.jsonl');
    writeFileSync(events, Array.from({ length: 60 }, (_, i) => EXAMPLES[i % EXAMPLES.length]).join('\n') + '\n');
    const size = readFileSync(events).length;
    const plan: SegmentPlan = { size, segmentBytes: 1000, count: Math.ceil(size / 1000), maxEventBytes: 2500, json: true, source: 'k8s_audit', hostname: hostname() };
    const worker = new SegmentWorker(readRuleFiles(RULES).files, { ruleMatching: 'first', hostname: hostname() }, events, plan);
    // The worker takes the first WINDOW segments before the main thread starts: those are its.
    while (Atomics.load(worker.ctl, 0) < WINDOW && !worker.done) await new Promise((r) => setTimeout(r, 20));
    expect(worker.hash).toBe(ruleset!.hash);
    const out = new Collect();
    const err = new Collect();
    const summary = { documents: 0, events: 0, rejected: 0, alerts: 0, byRule: new Map(), byPriority: new Map() };
    const progress = new ProgressLine(err, () => summary);
    expect(await runSegments({ ruleset: ruleset!, input: events, plan, summary, out, err, progress, label: events, outSharesTerminal: false }, worker)).toEqual({});
    const seq = await run(events, { parallel: false, json: true });
    expect(out.text).toBe(seq.out);
    expect([summary.events, summary.alerts]).toEqual([60, 51]);
  }, 60_000);

  test('a worker that built other rules (files changed in between) is stopped and its results are not used', async () => {
    const { ruleset } = loadRuleset(RULES, { ruleMatching: 'first', hostname: hostname() });
    const events = join(tmp, 'other-rules.jsonl');
    writeFileSync(events, Array.from({ length: 60 }, (_, i) => EXAMPLES[i % EXAMPLES.length]).join('\n') + '\n');
    const size = readFileSync(events).length;
    const plan: SegmentPlan = { size, segmentBytes: 1000, count: Math.ceil(size / 1000), maxEventBytes: 2500, json: false, source: 'k8s_audit', hostname: hostname() };
    // The worker compiles the first two files only: fewer rules, another hash.
    const worker = new SegmentWorker(readRuleFiles(RULES.slice(0, 2)).files, { ruleMatching: 'first', hostname: hostname() }, events, plan);
    const out = new Collect();
    const err = new Collect();
    const summary = { documents: 0, events: 0, rejected: 0, alerts: 0, byRule: new Map(), byPriority: new Map() };
    const progress = new ProgressLine(err, () => summary);
    // Let the worker get going first.
    while (worker.hash === undefined && !worker.done) await worker.news();
    expect(worker.hash).not.toBe(ruleset!.hash);
    expect(await runSegments({ ruleset: ruleset!, input: events, plan, summary, out, err, progress, label: events, outSharesTerminal: false }, worker)).toEqual({});
    const seq = await run(events, { parallel: false });
    expect(out.text).toBe(seq.out);
    expect(out.text.trimEnd().split('\n')).toHaveLength(51);
    expect(worker.done).toBe(true);
  }, 60_000);

  test('a worker whose rules do not build says so', async () => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, '- rule: r\n  desc: d\n  condition: ka.verb = \n  output: o\n  priority: WARNING\n  source: k8s_audit\n');
    const plan: SegmentPlan = { size: 1, segmentBytes: 1, count: 1, maxEventBytes: 100, json: true, source: 'k8s_audit', hostname: 'h' };
    const data: RunWorkerData = { files: readRuleFiles([bad]).files, options: {}, input: file, plan, control: new SharedArrayBuffer(8) };
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

  test('kestrel run --threads 2 (the built CLI, a 33 MiB file) prints what --threads 1 prints; other counts are refused', async () => {
    const big = join(tmp, 'big.jsonl');
    const ws = createWriteStream(big);
    const block = Array.from({ length: 700 }, (_, i) => EXAMPLES[i % EXAMPLES.length]).join('\n') + '\nnot json\n';
    let written = 0;
    while (written < 33 << 20) {
      if (!ws.write(block)) await new Promise<void>((r) => ws.once('drain', () => r()));
      written += block.length;
    }
    await new Promise<void>((r) => ws.end(() => r()));
    const BIN = join(ROOT, 'bin/kestrel.js');
    const cli = (threads: string) => spawnSync(process.execPath, [BIN, 'run', '-i', big, '--json', '--threads', threads, ...RULES.flatMap((r) => ['-r', r])], { maxBuffer: 1 << 30 });
    const one = cli('1');
    const two = cli('2');
    expect(one.status).toBe(0);
    expect(two.stdout.equals(one.stdout)).toBe(true);
    expect(two.stderr.toString()).toBe(one.stderr.toString());
    expect(one.stderr.toString()).toContain(`kestrel: ${big}:701: rejected: not JSON: line starts with 'not json'\nkestrel: ${big}:1402: rejected:`);
    const auto = cli('auto');
    expect(auto.stdout.equals(one.stdout)).toBe(true);
    expect(auto.stderr.toString()).toBe(one.stderr.toString());
    const bad = cli('3');
    expect([bad.status, bad.stderr.toString()]).toEqual([2, expect.stringContaining("--threads must be auto, 1 or 2, not '3'")]);
  }, 120_000);
});
