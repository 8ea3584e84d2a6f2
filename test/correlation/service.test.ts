/**
 * Correlation rules and rollups in the service (`kestrel start`, local mode):
 * a file input over the shipped correlation event files gives exactly the
 * alerts `kestrel run --json` gives for the same events, correlation alerts
 * and rollup summaries included, with the correlation metrics counted.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { runCommand } from '../../src/cli/run';
import { runService } from '../../src/cli/service-command';
import { parseServiceConfig } from '../../src/config/load';
import type { Service } from '../../src/pipeline/service';

const ROOT = resolve(__dirname, '../..');
const EVENTS = join(ROOT, 'rules/tests');
const CORRELATIONS = ['Secret enumeration by one identity', 'Burst of forbidden requests', "Pod created, exec'd into and deleted", 'ClusterRoleBinding created, then cluster-wide reads'];

/** Every shipped event file, in name order, as one input: file k moved k hours later (each file's events lie within 11:00-12:00). */
export function allEvents(dir: string): string {
  const path = join(dir, 'events.jsonl');
  const files = readdirSync(EVENTS).filter((f) => f.endsWith('.jsonl')).sort();
  const shifted = files.map((f, k) => readFileSync(join(EVENTS, f), 'utf8').trimEnd().replaceAll('2026-11-02T11:', `2026-11-02T${11 + k}:`) + '\n');
  writeFileSync(path, shifted.join(''));
  return path;
}

const ROLLUP_RULE = `
- rule: Secret read (rolled up)
  desc: secrets read, one alert per identity per 10 minutes plus a summary
  condition: ka.verb = get and ka.target.resource = secrets
  output: Secret read (user=%ka.user.name secret=%ka.target.name)
  priority: NOTICE
  source: k8s_audit
  rollup:
    timespan: 10m
    group_by: [ka.user.name]
`;

async function offline(rules: string[], input: string): Promise<string[]> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c) => chunks.push(c));
  const code = await runCommand({ rules, input, json: true, ruleMatching: 'first', source: 'k8s_audit' }, out, new PassThrough());
  expect(code).toBe(0);
  return Buffer.concat(chunks).toString().split('\n').filter((l) => l);
}

async function service(dir: string, rules: string[], input: string, workers: number): Promise<{ lines: string[]; metrics: string }> {
  const alerts = join(dir, `alerts-${workers}.jsonl`);
  const cfg = parseServiceConfig(
    JSON.stringify({
      inputs: [{ type: 'file', path: input }],
      rules: { paths: rules },
      engine: { workers },
      outputs: [{ type: 'file', path: alerts, format: 'json' }],
      correlation: { tolerance_ms: 30_000 },
      log: { level: 'silent' },
    }),
    dir,
    {},
  );
  let svc: Service | undefined;
  const code = await runService(cfg, new PassThrough(), { logger: pino({ level: 'silent' }), onStarted: (s) => (svc = s) });
  expect(code).toBe(0);
  // The file output creates its file with the first alert.
  const lines = existsSync(alerts) ? readFileSync(alerts, 'utf8').split('\n').filter((l) => l) : [];
  return { lines, metrics: await svc!.metrics.registry.metrics() };
}

const sorted = (lines: string[]) => [...lines].sort();
const ruleOf = (line: string) => (JSON.parse(line) as { rule: string }).rule;

test('a file input through kestrel start gives exactly the alerts of kestrel run --json, correlation alerts and rollup summaries included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-corr-svc-'));
  const input = allEvents(dir);
  writeFileSync(join(dir, 'rollup.yaml'), ROLLUP_RULE);
  const rules = [join(ROOT, 'rules'), join(dir, 'rollup.yaml')];

  const expected = await offline(rules, input);
  const correlationAlerts = expected.filter((l) => CORRELATIONS.includes(ruleOf(l)));
  // Each shipped correlation fires on its event file (the other files hold its negative cases).
  expect(correlationAlerts.map(ruleOf).sort()).toEqual([...CORRELATIONS].sort());
  expect(expected.filter((l) => l.includes('(rollup: ')).length).toBe(2);

  for (const workers of [1, 2]) {
    const got = await service(dir, rules, input, workers);
    const missing = expected.filter((l) => !got.lines.includes(l));
    const extra = got.lines.filter((l) => !expected.includes(l));
    expect({ workers, missing, extra }).toEqual({ workers, missing: [], extra: [] });
    expect(sorted(got.lines)).toEqual(sorted(expected));
    for (const name of CORRELATIONS) expect(got.metrics).toContain(`kestrel_correlation_alerts_total{rule="${name}"} 1\n`);
    expect(got.metrics).toContain('kestrel_correlation_state_limit_total 0\n');
    expect(got.metrics).toMatch(/\nkestrel_correlation_groups \d+\n/);
  }
}, 120_000);

test('a group cap of 1 drops the matches of another group, counts them, and still raises the first group\'s alert', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-corr-cap-'));
  // Ten secrets read by one service account, and one by dana@example.com (a second group).
  const input = join(EVENTS, 'secret-enumeration.jsonl');
  const alerts = join(dir, 'alerts.jsonl');
  const cfg = parseServiceConfig(
    JSON.stringify({
      inputs: [{ type: 'file', path: input }],
      rules: { paths: [join(ROOT, 'rules')] },
      engine: { workers: 1 },
      outputs: [{ type: 'file', path: alerts, format: 'json' }],
      correlation: { max_groups: 1 },
      log: { level: 'silent' },
    }),
    dir,
    {},
  );
  let svc: Service | undefined;
  expect(await runService(cfg, new PassThrough(), { logger: pino({ level: 'silent' }), onStarted: (s) => (svc = s) })).toBe(0);
  const lines = readFileSync(alerts, 'utf8').split('\n').filter((l) => l);
  expect(lines.map(ruleOf).filter((r) => CORRELATIONS.includes(r))).toEqual(['Secret enumeration by one identity']);
  const metrics = await svc!.metrics.registry.metrics();
  expect(metrics).toContain('kestrel_correlation_groups 1\n');
  expect(metrics).toContain('kestrel_correlation_state_limit_total 1\n');
}, 60_000);

test('per-rule evaluation cost from the workers\' samples: one evaluation in 64 timed, its time counted for 64', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-corr-cost-'));
  const input = join(dir, 'events.jsonl');
  // 20 × 16 secret reads: the feed rule is evaluated 320 times, so it has 5 samples.
  writeFileSync(input, readFileSync(join(EVENTS, 'secret-rereads.jsonl'), 'utf8').trimEnd().concat('\n').repeat(20));
  const { metrics } = await service(dir, [join(ROOT, 'rules')], input, 1);
  const samples = new Map([...metrics.matchAll(/^kestrel_rule_evaluation_samples_total\{rule="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  const seconds = new Map([...metrics.matchAll(/^kestrel_rule_evaluation_seconds_total\{rule="([^"]+)"\} (\S+)$/gm)].map((m) => [m[1], Number(m[2])]));
  expect(samples.get('Secret read (correlation feed)')).toBe(5);
  expect([...seconds.keys()].sort()).toEqual([...samples.keys()].sort());
  expect(seconds.get('Secret read (correlation feed)')).toBeGreaterThan(0);
}, 60_000);
