/**
 * Rollups: the first alert of a rule and group goes out at once, repeats in
 * the window are counted, one summary alert follows when the window is over.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCommand } from '../../src/cli/run';
import type { Alert } from '../../src/engine/alert';
import type { RollupOptions } from '../../src/engine/correlation/rollup';
import { Ruleset } from '../../src/engine/ruleset';
import { formatDiagnostic } from '../../src/language/diagnostics';
import { request, type AuditEvent } from '../rules/events';

const T0 = Date.UTC(2026, 10, 2, 10, 0, 0);
function get(s: number, user: string): AuditEvent {
  const iso = new Date(T0 + s * 1000).toISOString().replace('Z', '000Z');
  return { ...request({ verb: 'get', resource: 'secrets', namespace: 'shop', name: 'db', user: { username: user } }), requestReceivedTimestamp: iso, stageTimestamp: iso };
}

const RULES = (rollup = 'rollup: {timespan: 5m, group_by: [ka.user.name]}') => `
- rule: Secret read
  desc: d
  condition: ka.verb = get and ka.target.resource = secrets
  output: Secret read (user=%ka.user.name)
  priority: NOTICE
  source: k8s_audit
  ${rollup}
`;

function build(text = RULES()): Ruleset {
  const { ruleset, diagnostics } = Ruleset.build([{ path: 'r.yaml', text }]);
  expect(diagnostics.map(formatDiagnostic)).toEqual([]);
  return ruleset!;
}

/** Per event, what is emitted right then; then what flush() emits. */
function feed(rs: Ruleset, events: AuditEvent[], options: RollupOptions = {}) {
  const r = rs.newRollup(options)!;
  const steps: string[][] = [];
  const line = (a: Alert) => a.message;
  for (const obj of events) {
    const view = { obj, source: 'k8s_audit' };
    const out = r.advance(BigInt(Date.parse(obj.stageTimestamp as string)) * 1_000_000n);
    for (const a of rs.evaluate(view)) out.push(...r.consume(a, view));
    steps.push(out.map(line));
  }
  return { steps, flushed: r.flush(), stats: r.stats() };
}

test('the first alert at once, repeats counted, one summary when the window is over', () => {
  const { steps, flushed, stats } = feed(build(), [get(0, 'a'), get(60, 'a'), get(120, 'a'), get(240, 'a'), get(301, 'b')]);
  expect(steps).toEqual([
    ['Secret read (user=a)'],
    [],
    [],
    [],
    ['Secret read (user=a) (rollup: 3 more since 2026-11-02T10:00:00.000000000Z, last at 2026-11-02T10:04:00.000000000Z)', 'Secret read (user=b)'],
  ]);
  expect(flushed).toEqual([]);
  expect(stats).toEqual({ open: 0, rolledUp: 3, summaries: 1, passedAtCap: 0 });
});

test('the summary is Falco-shaped with the count in output_fields; groups are separate; no repeats, no summary', () => {
  const { steps, flushed } = feed(build(), [get(0, 'a'), get(10, 'b'), get(20, 'a')]);
  expect(steps).toEqual([['Secret read (user=a)'], ['Secret read (user=b)'], []]);
  expect(flushed).toHaveLength(1);
  expect(flushed[0]).toMatchObject({
    rule: 'Secret read', priority: 'Notice', source: 'k8s_audit',
    outputFields: { 'ka.user.name': 'a', 'rollup.count': 1, 'rollup.first_time': '2026-11-02T10:00:00.000000000Z', 'rollup.last_time': '2026-11-02T10:00:20.000000000Z' },
  });
});

test('after a window closes the next alert opens a new one and goes out at once', () => {
  const { steps, flushed } = feed(build(), [get(0, 'a'), get(400, 'a'), get(410, 'a')]);
  expect(steps).toEqual([['Secret read (user=a)'], ['Secret read (user=a)'], []]);
  expect(flushed.map((a) => a.outputFields['rollup.count'])).toEqual([1]);
});

test('past the window cap alerts pass through unrolled (nothing is dropped), logged once', () => {
  const logs: string[] = [];
  const { steps, stats } = feed(build(), [get(0, 'a'), get(1, 'b'), get(2, 'b'), get(3, 'c')], { maxWindows: 1, onLimit: (m) => logs.push(m) });
  expect(steps).toEqual([['Secret read (user=a)'], ['Secret read (user=b)'], ['Secret read (user=b)'], ['Secret read (user=c)']]);
  expect(stats.passedAtCap).toBe(3);
  expect(logs).toEqual(['rollup: the cap of 1 open windows is reached; alerts pass through unrolled']);
});

test('a wrong rollup is a located error', () => {
  const diags = (text: string) => Ruleset.build([{ path: 'r.yaml', text }]).diagnostics.map(formatDiagnostic);
  expect(diags(RULES('rollup: {timespan: 5m, group_by: [ka.nope]}'))).toEqual(["r.yaml:2:3: rule 'Secret read': rollup: unknown field 'ka.nope' for source k8s_audit"]);
  expect(diags(RULES('rollup: {group_by: [ka.user.name]}'))).toEqual(["r.yaml:8:11: rule 'Secret read': 'rollup' needs a 'timespan'"]);
  expect(diags(RULES('rollup: {timespan: soon}'))).toEqual(["r.yaml:8:22: rule 'Secret read': 'timespan' must be a duration such as 30s, 5m, 1h or 1d"]);
});

test('kestrel run applies rollups and prints their counters with --stats', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'kestrel-rollup-'));
  try {
    writeFileSync(join(tmp, 'r.yaml'), RULES());
    writeFileSync(join(tmp, 'e.jsonl'), [get(0, 'a'), get(30, 'a'), get(60, 'a')].map((e) => JSON.stringify(e)).join('\n') + '\n');
    const out = new PassThrough();
    const err = new PassThrough();
    const o: Buffer[] = [];
    const e: Buffer[] = [];
    out.on('data', (c) => o.push(c));
    err.on('data', (c) => e.push(c));
    expect(await runCommand({ rules: [join(tmp, 'r.yaml')], input: join(tmp, 'e.jsonl'), json: false, ruleMatching: 'first', source: 'k8s_audit', stats: true }, out, err)).toBe(0);
    expect(Buffer.concat(o).toString()).toBe([
      '10:00:00.000000000: Notice Secret read (user=a)',
      '10:01:00.000000000: Notice Secret read (user=a) (rollup: 2 more since 2026-11-02T10:00:00.000000000Z, last at 2026-11-02T10:01:00.000000000Z)',
      '',
    ].join('\n'));
    const stderr = Buffer.concat(e).toString();
    expect(stderr.startsWith('kestrel: 3 events read, 0 rejected, 2 alerts\n')).toBe(true);
    expect(stderr.endsWith('rollup: 2 alerts rolled up into 1 summaries, 0 passed through at the window cap\n')).toBe(true);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
