/**
 * Hot reload: RulesetHolder (atomic swap, broken rulesets rejected with
 * FILE:LINE:COL errors, counters, hash, fs watch) and SIGHUP on a real
 * `kestrel serve` process (needs `npm run build`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RulesetHolder } from '../../src/engine/holder';
import { auditEvent, BATCH, postJson, request, tempDir, TEST_RULES, writeRules } from '../sinks/helpers';

const EXEC_ONLY = TEST_RULES.split('\n- rule: Secret read')[0];
const BROKEN = `${TEST_RULES}
- rule: Broken
  desc: d
  condition: ka.verb=create and ka.no.such.field=x
  output: o
  priority: WARNING
  source: k8s_audit
`;
const secretGet = auditEvent({ id: 'r-1', verb: 'get', resource: 'secrets', name: 's' });
const rulesOf = (h: RulesetHolder) => h.current.evaluate({ obj: secretGet, source: 'k8s_audit' }).map((a) => a.rule);

describe('RulesetHolder', () => {
  test('reload swaps to the new rules, counts, notifies; unchanged files swap nothing', () => {
    const file = writeRules(EXEC_ONLY);
    const logs: string[] = [];
    const { holder } = RulesetHolder.load([file], {}, (l) => logs.push(l));
    const h = holder!;
    const first = h.hash;
    expect(rulesOf(h)).toEqual([]);
    const swaps: string[] = [];
    h.onSwap((rs, prev) => swaps.push(`${prev.hash.slice(0, 6)}->${rs.hash.slice(0, 6)}`));

    writeFileSync(file, TEST_RULES);
    const r = h.reload();
    expect(r).toEqual({ ok: true, changed: true, hash: h.hash, errors: [] });
    expect(h.hash).not.toBe(first);
    expect(rulesOf(h)).toEqual(['Secret read']);
    expect(swaps).toEqual([`${first.slice(0, 6)}->${h.hash.slice(0, 6)}`]);
    expect(h.stats).toMatchObject({ reloads: 1, failures: 0 });
    expect(h.currentFiles).toEqual([{ path: file, text: TEST_RULES }]);

    expect(h.reload()).toEqual({ ok: true, changed: false, hash: h.hash, errors: [] });
    expect(h.stats.reloads).toBe(1);
    expect(logs[0]).toMatch(/^kestrel: rules reloaded: ruleset [0-9a-f]{12} \(was [0-9a-f]{12}\), 3 rules$/);
  });

  test('a broken ruleset is rejected with FILE:LINE:COL errors and the old one keeps running', () => {
    const file = writeRules(TEST_RULES);
    const logs: string[] = [];
    const h = RulesetHolder.load([file], {}, (l) => logs.push(l)).holder!;
    const hash = h.hash;
    const before = h.current;
    writeFileSync(file, BROKEN);
    const r = h.reload();
    const error = `${file}:28:33: error LOAD_ERR_COMPILE_CONDITION: rule 'Broken': unknown field 'ka.no.such.field' for source k8s_audit`;
    expect(r).toEqual({ ok: false, changed: false, hash, errors: [error] });
    expect(h.current).toBe(before);
    expect(rulesOf(h)).toEqual(['Secret read']);
    expect(h.stats).toMatchObject({ reloads: 0, failures: 1, lastError: error });
    expect(logs).toEqual([`kestrel: rules reload failed (1 error(s)); still running ruleset ${hash.slice(0, 12)}`, error]);
  });

  test('a missing rules file at reload is a failure too', () => {
    const dir = tempDir();
    const file = writeRules(TEST_RULES, dir);
    const h = RulesetHolder.load([file], {}, () => {}).holder!;
    writeFileSync(file, ''); // an empty file compiles to an empty ruleset: a valid change
    expect(h.reload().ok).toBe(true);
    const gone = RulesetHolder.load([join(dir, 'nope.yaml')], {}, () => {});
    expect(gone.holder).toBeUndefined();
    expect(gone.diagnostics.map((d) => d.message)).toEqual(['no such file or directory']);
  });

  test('adopt(files): a worker builds the ruleset the main thread validated, with the same hash', () => {
    const main = RulesetHolder.load([writeRules(TEST_RULES)], {}, () => {}).holder!;
    const worker = RulesetHolder.load([writeRules(EXEC_ONLY)], {}, () => {}).holder!;
    expect(worker.adopt(main.currentFiles)).toEqual({ ok: true, changed: true, hash: main.hash, errors: [] });
    expect(rulesOf(worker)).toEqual(['Secret read']);
  });

  test('watch: a change to a rules file reloads after the debounce', async () => {
    const file = writeRules(EXEC_ONLY);
    const h = RulesetHolder.load([file], {}, () => {}).holder!;
    const stop = h.watch(50);
    try {
      writeFileSync(file, TEST_RULES);
      const deadline = Date.now() + 5000;
      while (h.stats.reloads === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      expect(h.stats.reloads).toBe(1);
      expect(rulesOf(h)).toEqual(['Secret read']);
    } finally {
      stop();
    }
  });
});

const ROOT = resolve(__dirname, '../..');
const MAIN_JS = join(ROOT, 'dist/src/cli/main.js');
const SERVE_JS = join(ROOT, 'dist/src/cli/serve.js');

/** `kestrel serve` once main.ts wires it, else the built serve module run directly. */
function serveCommand(): string[] {
  const wired = existsSync(MAIN_JS) && readFileSync(MAIN_JS, 'utf8').includes('serveCommand');
  return wired ? [join(ROOT, 'bin/kestrel.js'), 'serve'] : [SERVE_JS];
}

describe('SIGHUP on a running kestrel serve', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  test('reloads good rules, rejects broken ones (errors on stderr) and keeps the old ones', async () => {
    expect(existsSync(SERVE_JS)).toBe(true); // run `npm run build` first
    const file = writeRules(EXEC_ONLY);
    const c = spawn(process.execPath, [...serveCommand(), '--listen', '127.0.0.1:0', '-r', file, '--json', '--field', 'cluster=t1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let out = '';
    let err = '';
    c.stdout!.on('data', (d) => (out += d));
    c.stderr!.on('data', (d) => (err += d));
    const waitFor = async (pred: () => boolean, what: string) => {
      const deadline = Date.now() + 10_000;
      while (!pred()) {
        if (Date.now() > deadline || c.exitCode !== null) throw new Error(`timed out waiting for ${what}; stderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const logs = () => err.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; [k: string]: unknown });
    await waitFor(() => logs().some((l) => l.msg === 'webhook listening'), 'the server');
    const port = Number(logs().find((l) => l.msg === 'webhook listening')!.port);
    const rulesInOutput = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l).rule);
    const hashOf = async () => JSON.parse((await request(port, { method: 'GET', path: '/readyz' })).body);

    expect((await postJson(port, BATCH)).body).toBe('{"events":3,"alerts":1}\n');
    expect(rulesInOutput()).toEqual(['Exec into pod']);
    expect(JSON.parse(out.split('\n')[0]).output_fields.cluster).toBe('t1');
    const firstHash = (await hashOf()).ruleset;

    writeFileSync(file, TEST_RULES);
    c.kill('SIGHUP');
    await waitFor(() => err.includes('rules reloaded'), 'the reload');
    expect((await postJson(port, BATCH)).body).toBe('{"events":3,"alerts":2}\n');
    expect(rulesInOutput()).toEqual(['Exec into pod', 'Exec into pod', 'Secret read']);
    const second = await hashOf();
    expect(second.ruleset).not.toBe(firstHash);

    writeFileSync(file, BROKEN);
    c.kill('SIGHUP');
    const error = `${file}:28:33: error LOAD_ERR_COMPILE_CONDITION: rule 'Broken': unknown field 'ka.no.such.field' for source k8s_audit`;
    await waitFor(() => logs().some((l) => l.msg === error), 'the failed reload');
    const msgs = logs().map((l) => l.msg);
    const failed = msgs.indexOf(`rules reload failed (1 error(s)); still running ruleset ${second.ruleset.slice(0, 12)}`);
    expect([failed >= 0, msgs[failed + 1]]).toEqual([true, error]);
    expect((await postJson(port, BATCH)).body).toBe('{"events":3,"alerts":2}\n');
    expect(await hashOf()).toEqual({ ready: true, reasons: [], ruleset: second.ruleset });
    const m = (await request(port, { method: 'GET', path: '/metrics' })).body;
    expect(m).toContain('kestrel_rules_reloads_total{result="ok"} 1');
    expect(m).toContain('kestrel_rules_reloads_total{result="failed"} 1');

    c.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.on('exit', (code) => r(code))));
    expect(code).toBe(0);
    expect(logs().find((l) => l.msg === 'stopping: draining in-flight work')?.signal).toBe('SIGTERM');
  });
});
