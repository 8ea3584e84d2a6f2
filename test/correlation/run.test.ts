/**
 * Correlations in `kestrel run`: the shipped correlation rules on the shipped
 * event files, the --stats counters, and --correlation-tolerance.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main';
import { runCommand, type RunOptions } from '../../src/cli/run';

const ROOT = resolve(__dirname, '../..');
const RULES = join(ROOT, 'rules');
const EVENTS = join(ROOT, 'rules/tests');

async function run(opts: Partial<RunOptions>): Promise<{ code: number; out: string[]; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c) => o.push(c));
  err.on('data', (c) => e.push(c));
  const code = await runCommand({ rules: [RULES], json: false, ruleMatching: 'first', source: 'k8s_audit', ...opts }, out, err);
  return { code, out: Buffer.concat(o).toString().split('\n').filter((l) => l), err: Buffer.concat(e).toString() };
}

test('the forbidden burst gives exactly one correlation alert, and --stats prints the correlation counters', async () => {
  const r = await run({ input: join(EVENTS, 'forbidden-burst.jsonl'), stats: true });
  expect(r.code).toBe(0);
  expect(r.out).toEqual([
    '11:00:45.009000000: Warning Burst of forbidden requests (user=mallory@example.com refused=10 first=2026-11-02T11:00:00.009000000Z last=2026-11-02T11:00:45.009000000Z last_uri=/api/v1/namespaces source_ip=203.0.113.50)',
  ]);
  expect(r.err).toContain('kestrel: 10 events read, 0 rejected, 1 alerts\n');
  expect(r.err).toContain('\ncorrelation: 1 alerts, 1 groups held, 0 late matches, 0 suppressed, 0 dropped at the group cap\n');
});

test('each shipped sequence raises its correlation once (rule_matching first, all rules loaded)', async () => {
  const names = async (file: string) => (await run({ input: join(EVENTS, file), minPriority: 'Warning' })).out.map((l) => l.replace(/^\S+ \w+ /, '').replace(/ \(.*$/, ''));
  expect(await names('secret-enumeration.jsonl')).toEqual(['Secret enumeration by one identity']);
  expect(await names('pod-hit-and-run.jsonl')).toEqual(["Pod created, exec'd into and deleted"]);
  expect(await names('binding-then-cluster-reads.jsonl')).toEqual(['ClusterRoleBinding created, then cluster-wide reads']);
  expect(await names('pod-out-of-order.jsonl')).toEqual([]);
  expect(await names('forbidden-slow.jsonl')).toEqual([]);
});

test('--correlation-tolerance: reversed arrival counts within the tolerance, not with 0', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'kestrel-corr-run-'));
  try {
    // The burst, newest first: every event but the first arrives up to 45 s late.
    const lines = readFileSync(join(EVENTS, 'forbidden-burst.jsonl'), 'utf8').trimEnd().split('\n').reverse();
    const file = join(tmp, 'reversed.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const wide = await run({ input: file, stats: true, correlationToleranceMs: 60_000 });
    expect(wide.out).toHaveLength(1);
    expect(wide.err).toContain('correlation: 1 alerts, 1 groups held, 0 late matches');
    const none = await run({ input: file, stats: true, correlationToleranceMs: 0 });
    expect(none.out).toEqual([]);
    expect(none.err).toContain('correlation: 0 alerts, 1 groups held, 9 late matches');
    // Through the command line parser too.
    await expect(main(['run', '-i', file, '--correlation-tolerance', 'soon'])).rejects.toThrow('--correlation-tolerance must be a duration such as 0, 30s or 2m');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
