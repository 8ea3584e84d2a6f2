/**
 * Rule tests written in rule files (`tests:`) and `kestrel test`: the forms
 * of a test, the exact PASS/FAIL lines and exit code, located errors for
 * malformed tests, and silent (`alert: false`) rules.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { checkCommand } from '../../src/cli/check';
import { runCommand } from '../../src/cli/run';
import { testCommand } from '../../src/cli/test';
import { request } from './events';

const RULES_DIR = resolve(__dirname, '../../rules');

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'kestrel-rule-tests-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

function runTests(paths: string[]): { code: number; out: string; err: string } {
  const out = capture();
  const err = capture();
  const code = testCommand(paths, out.stream, err.stream);
  return { code, out: out.text(), err: err.text() };
}

const secretGet = (user: string, name = 'db-credentials') => request({ verb: 'get', resource: 'secrets', namespace: 'shop', name, user: { username: user } });

const RULE = `
- rule: Secret read
  desc: a secret was read
  condition: ka.verb = get and ka.target.resource = secrets
  output: Secret read (user=%ka.user.name secret=%ka.target.name)
  priority: NOTICE
  source: k8s_audit
  tests:
`;

describe('kestrel test', () => {
  test('every form of a test, with exact PASS and FAIL lines, a summary and exit 1 on a failure', () => {
    const dir = join(tmp, 'forms');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'events'), { recursive: true });
    writeFileSync(join(dir, 'events/three-reads.jsonl'), [secretGet('a@x'), secretGet('b@x'), secretGet('c@x')].map((e) => JSON.stringify(e)).join('\n') + '\n');
    const inline = JSON.stringify(secretGet('dana@example.com'));
    writeFileSync(join(dir, 'r.yaml'), RULE + `
    - name: inline mapping
      expect: fires
      output_fields: {ka.user.name: dana@example.com, ka.target.name: db-credentials}
      event: ${inline}
    - expect: fires
      event: '${inline}'
    - name: a file of events
      expect: fires
      count: 3
      events_file: events/three-reads.jsonl
    - name: a list is not a read
      expect: does_not_fire
      event: ${JSON.stringify(request({ verb: 'list', resource: 'secrets', namespace: 'shop' }))}
    - name: wrong expectation
      expect: does_not_fire
      event: ${inline}
    - name: wrong field
      expect: fires
      output_fields: {ka.user.name: eve@example.com}
      event: ${inline}
    - name: wrong count
      expect: fires
      count: 2
      events_file: events/three-reads.jsonl
    - name: missing file
      expect: fires
      events_file: events/nope.jsonl
`);
    const { code, out, err } = runTests([join(dir, 'r.yaml')]);
    expect(err).toBe('');
    expect(out.split('\n')).toEqual([
      'PASS Secret read: test 1 (inline mapping)',
      'PASS Secret read: test 2',
      'PASS Secret read: test 3 (a file of events)',
      'PASS Secret read: test 4 (a list is not a read)',
      'FAIL Secret read: test 5 (wrong expectation): expected does_not_fire, got 1 alert',
      'FAIL Secret read: test 6 (wrong field): expected output_fields \'ka.user.name\' = "eve@example.com", got "dana@example.com"',
      'FAIL Secret read: test 7 (wrong count): expected 2 alert(s), got 3',
      'FAIL Secret read: test 8 (missing file): events_file events/nope.jsonl: cannot read: ENOENT',
      'kestrel test: 4 passed, 4 failed, 0 skipped (8 tests of 1 rules and correlations)',
      '',
    ]);
    expect(code).toBe(1);
  });

  test('kestrel test -r rules/ passes, and fails on one broken expectation', () => {
    const good = runTests([RULES_DIR]);
    expect(good.code).toBe(0);
    expect(good.out.split('\n').filter((l) => l && !l.startsWith('PASS '))).toEqual([
      expect.stringMatching(/^kestrel test: \d+ passed, 0 failed, 0 skipped/),
    ]);

    const dir = join(tmp, 'broken-rules');
    cpSync(RULES_DIR, dir, { recursive: true });
    const file = join(dir, '20_kestrel_suspicious.yaml');
    const text = readFileSync(file, 'utf8');
    const broken = text.replace('    - name: anonymous health check\n      expect: does_not_fire', '    - name: anonymous health check\n      expect: fires');
    expect(broken).not.toBe(text);
    writeFileSync(file, broken);
    const bad = runTests([dir]);
    expect(bad.code).toBe(1);
    expect(bad.out.split('\n').filter((l) => l.startsWith('FAIL '))).toEqual([
      'FAIL Unauthenticated request allowed: test 2 (anonymous health check): expected fires, got no alert',
    ]);
    const passed = Number(/(\d+) passed/.exec(good.out)![1]);
    expect(bad.out).toContain(`kestrel test: ${passed - 1} passed, 1 failed, 0 skipped`);
  });

  test('rules that do not load: diagnostics, no test ran, exit 1', () => {
    const file = join(tmp, 'bad.yaml');
    writeFileSync(file, '- rule: x\n  desc: d\n  condition: ka.verb = get\n  output: o\n  priority: INFO\n  source: k8s_audit\n  tests: 5\n');
    const { code, out, err } = runTests([file]);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toBe(`${file}:7:10: rule 'x': 'tests' must be a sequence\nkestrel: rules do not load; no test ran\n`);
  });

  test.each([
    ['    - expect: maybe\n      event: {}', "9:15: rule 'Secret read' test 1: 'expect' must be fires or does_not_fire"],
    ['    - expect: fires', "9:7: rule 'Secret read' test 1: give exactly one of 'event' and 'events_file'"],
    ['    - expect: fires\n      event: {}\n      events_file: x.jsonl', "9:7: rule 'Secret read' test 1: give exactly one of 'event' and 'events_file'"],
    ['    - expect: fires\n      colour: red\n      event: {}', "10:7: rule 'Secret read' test 1: unknown key 'colour' (expected: name, event, events_file, with_rules, expect, count, output_fields)"],
    ["    - expect: fires\n      event: '{not json'", "10:14: rule 'Secret read' test 1: 'event' is not valid JSON: Expected property name or '}' in JSON at position 1"],
    ['    - expect: does_not_fire\n      count: 2\n      event: {}', "10:14: rule 'Secret read' test 1: 'count' goes with 'expect: fires'"],
  ])('a malformed test is a located error (case %#)', (body, message) => {
    const file = join(tmp, 'malformed.yaml');
    writeFileSync(file, RULE + body + '\n');
    const err = capture();
    expect(checkCommand([file], capture().stream, err.stream)).toBe(1);
    expect(err.text().split('\n')[0]).toBe(`${file}:${message}`);
  });

  test('kestrel check is clean for files with tests, silent rules and correlations (the shipped rules)', () => {
    const out = capture();
    const err = capture();
    expect(checkCommand([RULES_DIR], out.stream, err.stream)).toBe(0);
    expect(err.text()).toBe('');
  });
});

describe('silent rules (alert: false)', () => {
  const SILENT = `
- rule: Secret read
  desc: feeds a correlation, never alerts
  condition: ka.verb = get and ka.target.resource = secrets
  output: Secret read (user=%ka.user.name)
  priority: NOTICE
  source: k8s_audit
  alert: false
  tests:
    - expect: fires
      event: ${JSON.stringify(secretGet('dana@example.com'))}
- correlation: Many secrets
  type: event_count
  rules: [Secret read]
  group_by: [ka.user.name]
  timespan: 5m
  condition: {gte: 2}
  output: Many secrets read (user=%ka.user.name count=%correlation.count)
  priority: WARNING
`;

  test('a silent rule is tested like any rule but raises no alert in kestrel run', async () => {
    const file = join(tmp, 'silent.yaml');
    writeFileSync(file, SILENT);
    const { code, out } = runTests([file]);
    expect(out).toBe('PASS Secret read: test 1\nkestrel test: 1 passed, 0 failed, 0 skipped (1 tests of 1 rules and correlations)\n');
    expect(code).toBe(0);

    const events = join(tmp, 'one-read.jsonl');
    writeFileSync(events, JSON.stringify(secretGet('dana@example.com')) + '\n');
    const o = capture();
    const e = capture();
    expect(await runCommand({ rules: [file], input: events, json: false, ruleMatching: 'first', source: 'k8s_audit' }, o.stream, e.stream)).toBe(0);
    expect(o.text()).toBe('');
    expect(e.text()).toBe('kestrel: 1 events read, 0 rejected, 0 alerts\n');
  });

  test('a silent rule that feeds nothing is a warning', () => {
    const file = join(tmp, 'silent-alone.yaml');
    writeFileSync(file, SILENT.slice(0, SILENT.indexOf('- correlation:')));
    const err = capture();
    expect(checkCommand([file], capture().stream, err.stream)).toBe(0);
    expect(err.text()).toBe(`${file}:2:3: warning: rule 'Secret read' has 'alert: false' but no enabled correlation uses it\n`);
  });
});
