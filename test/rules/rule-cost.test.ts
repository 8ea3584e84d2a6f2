/**
 * Per-rule cost: exact evaluation and match counts, sampling 1 in N, the
 * ranking with a deliberately expensive rule, and the CLI tables
 * (`kestrel run --stats`, `kestrel rules --cost -i FILE`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { rulesCostCommand } from '../../src/cli/list';
import { runCommand } from '../../src/cli/run';
import { Ruleset, type RulesetOptions } from '../../src/engine/ruleset';
import { createPod, request } from './events';

const RULES = `
- rule: Cheap
  desc: one string comparison
  condition: ka.verb = patch
  output: cheap %ka.user.name
  priority: INFO
  source: k8s_audit
- rule: Expensive
  desc: serializes and transforms the whole event three times
  condition: >
    tolower(jevt.obj) contains "no-such-text" or toupper(jevt.obj) contains "NO-SUCH-TEXT"
    or b64(jevt.obj) contains "no-such-text" or jevt.obj regex "(a|b|c|d)+no-such-text"
    or b64(tolower(jevt.obj)) contains "no-such-text" or len(toupper(b64(jevt.obj))) = 1
    or tolower(jevt.obj) regex "(e|f|g|h)+[0-9]no-such-text"
  output: expensive %ka.user.name
  priority: INFO
  source: k8s_audit
- rule: Pod created
  desc: a pod
  condition: ka.verb = create and ka.target.resource = pods
  output: pod %ka.target.name
  priority: INFO
  source: k8s_audit
`;

const pods = (n: number) => [...Array(n).keys()].map((i) => createPod(`web-${i}`, 'shop', { containers: [{ image: 'docker.io/library/nginx:1.27' }] }));
const reads = (n: number) => [...Array(n).keys()].map(() => request({ verb: 'get', resource: 'pods', namespace: 'shop', name: 'web-1' }));

function build(options: RulesetOptions): Ruleset {
  const { ruleset, diagnostics } = Ruleset.build([{ path: 'cost.yaml', text: RULES }], options);
  expect(diagnostics).toEqual([]);
  return ruleset!;
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'kestrel-cost-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('Ruleset.costStats', () => {
  test('exact counts; every evaluation timed with costSampleEvery 1; the expensive rule ranks first', () => {
    const rs = build({ ruleMatching: 'all', costSampleEvery: 1 });
    for (const obj of [...pods(30), ...reads(20)]) rs.evaluate({ obj, source: 'k8s_audit' });
    const stats = rs.costStats();
    expect(stats.map((s) => [s.rule, s.evaluations, s.matches, s.samples])).toEqual([
      ['Expensive', 50, 0, 50],
      expect.anything(),
      expect.anything(),
    ]);
    expect(stats.slice(1).map((s) => [s.rule, s.evaluations, s.matches, s.samples]).sort()).toEqual([
      ['Cheap', 50, 0, 50],
      ['Pod created', 50, 30, 50],
    ]);
    const [expensive, ...rest] = stats;
    // Means are skewed by the odd garbage collection; the ranking is what users read.
    for (const s of rest) expect(expensive.meanNs).toBeGreaterThan(2 * s.meanNs);
    for (const s of stats) {
      expect(s.meanNs).toBeCloseTo(s.sampledNs / s.samples, 6);
      expect(s.estimatedTotalNs).toBeCloseTo(s.meanNs * s.evaluations, 3);
    }
  });

  test('1 in N evaluations is timed and reported to onCostSample; counts stay exact', () => {
    const samples: [string, number][] = [];
    const rs = build({ ruleMatching: 'all', costSampleEvery: 4, onCostSample: (rule, ns) => samples.push([rule, ns]) });
    for (const obj of reads(50)) rs.evaluate({ obj, source: 'k8s_audit' });
    const byRule = new Map(rs.costStats().map((s) => [s.rule, s]));
    for (const name of ['Cheap', 'Expensive', 'Pod created']) {
      expect([byRule.get(name)!.evaluations, byRule.get(name)!.samples]).toEqual([50, 12]);
      expect(samples.filter(([r]) => r === name)).toHaveLength(12);
    }
    expect(samples.every(([, ns]) => Number.isInteger(ns) && ns >= 0)).toBe(true);
  });

  test('costSampleEvery 0 times nothing; counts stay exact with rule_matching first', () => {
    const rs = build({ ruleMatching: 'first', costSampleEvery: 0 });
    for (const obj of [...pods(3), ...reads(2)]) rs.evaluate({ obj, source: 'k8s_audit' });
    expect(rs.costStats().map((s) => [s.rule, s.evaluations, s.matches, s.samples, s.sampledNs])).toEqual([
      ['Cheap', 5, 0, 0, 0],
      ['Expensive', 5, 0, 0, 0],
      ['Pod created', 5, 3, 0, 0],
    ]);
  });
});

describe('CLI', () => {
  const rulesFile = () => {
    const p = join(tmp, 'cost.yaml');
    writeFileSync(p, RULES);
    return p;
  };
  const eventsFile = () => {
    const p = join(tmp, 'events.jsonl');
    writeFileSync(p, [...pods(30), ...reads(20)].map((e) => JSON.stringify(e)).join('\n') + '\n');
    return p;
  };

  test('kestrel rules --cost -i FILE ranks the rules, most expensive first, with exact counts', async () => {
    const out = capture();
    const err = capture();
    expect(await rulesCostCommand({ rules: [rulesFile()], input: eventsFile(), ruleMatching: 'all', source: 'k8s_audit' }, out.stream, err.stream)).toBe(0);
    expect(err.text()).toBe('');
    const lines = out.text().trimEnd().split('\n');
    expect(lines[0]).toBe('rule cost on 50 events (0 rejected), rule_matching all, every evaluation timed:');
    expect(lines[1].split(/\s+/)).toEqual(['RANK', 'EST_TOTAL_MS', 'SHARE', 'MEAN_US', 'EVALUATIONS', 'MATCHES', 'SAMPLES', 'RULE']);
    const rows = lines.slice(2).map((l) => l.split(/\s{2,}/));
    expect(rows).toHaveLength(3);
    // Ranked by estimated total time (timings vary with the machine's load; the counts are exact).
    expect(rows.map((r) => r[0])).toEqual(['1', '2', '3']);
    const totals = rows.map((r) => Number(r[1]));
    expect([...totals].sort((a, b) => b - a)).toEqual(totals);
    expect(rows.map((r) => r[7]).sort()).toEqual(['Cheap', 'Expensive', 'Pod created']);
    expect(rows.find((r) => r[7] === 'Expensive')!.slice(4, 7)).toEqual(['50', '0', '50']);
    expect(rows.find((r) => r[7] === 'Pod created')!.slice(4, 7)).toEqual(['50', '30', '50']);
    const shares = rows.map((r) => Number(r[2].replace('%', '')));
    expect(Math.abs(shares.reduce((a, b) => a + b, 0) - 100)).toBeLessThan(0.2);
  });

  test('kestrel run --stats prints the cost table after the summary (1 in 64 timed)', async () => {
    const out = capture();
    const err = capture();
    expect(await runCommand({ rules: [rulesFile()], input: eventsFile(), json: false, ruleMatching: 'first', source: 'k8s_audit', stats: true }, out.stream, err.stream)).toBe(0);
    expect(out.text().split('\n').filter((l) => l).length).toBe(30);
    const lines = err.text().trimEnd().split('\n');
    expect(lines.slice(0, 6)).toEqual([
      'kestrel: 50 events read, 0 rejected, 30 alerts',
      'alerts by rule:',
      '  30\tPod created',
      'alerts by priority:',
      '  30\tInformational',
      'rule cost (1 in 64 evaluations timed per rule; times are estimates):',
    ]);
    // 50 evaluations per rule: none reaches the 64th, so no time yet; counts are exact.
    expect(lines.slice(7).map((l) => l.split(/\s{2,}/).slice(4))).toEqual([
      ['50', '0', '0', 'Cheap'],
      ['50', '0', '0', 'Expensive'],
      ['50', '30', '0', 'Pod created'],
    ]);
  });
});
