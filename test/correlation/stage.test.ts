/**
 * The service's correlation stage without threads: a StepRecorder (the rule
 * worker's half) records events, CorrelationStage (the main thread's half)
 * replays the steps. Same alerts as one Correlator fed event by event; a
 * reload keeps the state when the correlation rules are unchanged; kafka mode
 * hands the inputs back for the internal topic.
 */
import pino from 'pino';
import type { Alert } from '../../src/engine/alert';
import { Ruleset } from '../../src/engine/ruleset';
import { Metrics } from '../../src/observability/metrics';
import { CorrelationStage } from '../../src/pipeline/correlation-stage';
import { StepRecorder } from '../../src/pipeline/correlation-steps';
import { DEFAULT_CORRELATION } from '../../src/config/sections';
import { request, type AuditEvent } from '../rules/events';

const T0 = Date.UTC(2026, 10, 2, 10, 0, 0);
const at = (s: number, ev: AuditEvent): AuditEvent => {
  const iso = new Date(T0 + s * 1000).toISOString().replace('Z', '000Z');
  return { ...ev, requestReceivedTimestamp: iso, stageTimestamp: iso };
};
const get = (s: number, user: string, name: string) => at(s, request({ verb: 'get', resource: 'secrets', namespace: 'shop', name, user: { username: user } }));
const list = (s: number) => at(s, request({ verb: 'list', resource: 'configmaps', namespace: 'shop' }));

const RULES = (threshold: number) => `
- rule: Secret read
  desc: d
  condition: ka.verb = get and ka.target.resource = secrets
  output: Secret read (user=%ka.user.name secret=%ka.target.name)
  priority: NOTICE
  source: k8s_audit
  rollup:
    timespan: 1m
    group_by: [ka.user.name]
- correlation: Many secrets
  type: value_count
  rules: [Secret read]
  group_by: [ka.user.name]
  timespan: 5m
  condition: {gte: ${threshold}, field: ka.target.name}
  output: Many secrets (user=%ka.user.name count=%correlation.count)
  priority: WARNING
`;

function ruleset(threshold = 3): Ruleset {
  const { ruleset, diagnostics } = Ruleset.build([{ path: 'r.yaml', text: RULES(threshold) }]);
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return ruleset!;
}

const logger = pino({ level: 'silent' });
const names = (alerts: Alert[]) => alerts.map((a) => a.message);

/** Worker half then main-thread half, one job per `jobs` entry. */
function service(rs: Ruleset, jobs: AuditEvent[][], stage = new CorrelationStage(rs, DEFAULT_CORRELATION, new Metrics(), logger)) {
  const rec = StepRecorder.forRuleset(rs)!;
  const out: Alert[] = [];
  for (const job of jobs) {
    const alerts = job.flatMap((obj, i) => rec.evaluate({ obj, source: 'k8s_audit' }, i));
    const r = stage.replay(rec.take(), alerts, (a) => a);
    out.push(...r.kept, ...r.raised.map((x) => x.alert));
  }
  return { out, stage };
}

/** What kestrel run does: one Correlator and one Rollup, event by event. */
function offline(rs: Ruleset, events: AuditEvent[]): Alert[] {
  const c = rs.newCorrelator()!;
  const r = rs.newRollup()!;
  const out: Alert[] = [];
  for (const obj of events) {
    const view = { obj, source: 'k8s_audit' };
    const t = BigInt(Date.parse(obj.stageTimestamp as string)) * 1_000_000n;
    const { alerts, matches } = rs.evaluateDetailed(view);
    out.push(...r.advance(t));
    for (const a of alerts) out.push(...r.consume(a, view));
    for (const m of matches) out.push(...c.consume(m, view));
    if (matches.length === 0) out.push(...c.advance(t));
  }
  return [...out, ...c.flush(), ...r.flush()];
}

const EVENTS = [get(0, 'eve', 'a'), list(1), list(2), get(10, 'eve', 'b'), get(20, 'bob', 'a'), list(30), get(40, 'eve', 'c'), list(100), list(200), get(300, 'eve', 'd')];

test('replayed steps give the alerts of one Correlator and Rollup fed event by event, however the events are cut into jobs', () => {
  const rs = ruleset();
  const expected = names(offline(rs, EVENTS)).sort();
  expect(expected.filter((m) => m.startsWith('Many secrets'))).toEqual(['Many secrets (user=eve count=3)']);
  expect(expected.filter((m) => m.includes('(rollup: '))).toHaveLength(1);
  for (const cut of [[EVENTS], [EVENTS.slice(0, 3), EVENTS.slice(3, 7), EVENTS.slice(7)], EVENTS.map((e) => [e])]) {
    const { out, stage } = service(rs, cut);
    expect([...names(out), ...names(stage.flush())].sort()).toEqual(expected);
  }
});

test('quiet events make one step carrying the latest time', () => {
  const rec = StepRecorder.forRuleset(ruleset())!;
  for (const [i, ev] of [list(1), list(5), list(3)].entries()) rec.evaluate({ obj: ev, source: 'k8s_audit' }, i);
  rec.evaluate({ obj: get(6, 'eve', 'a'), source: 'k8s_audit' }, 3, 2);
  const steps = rec.take();
  expect(steps.map((s) => ({ i: s.i, t: s.t, alerts: s.alerts, inputs: s.inputs?.length, record: s.record }))).toEqual([
    { i: 2, t: BigInt(T0 + 5_000) * 1_000_000n, alerts: 0, inputs: undefined, record: undefined },
    { i: 3, t: BigInt(T0 + 6_000) * 1_000_000n, alerts: 1, inputs: 1, record: 2 },
  ]);
  expect(rec.take()).toEqual([]);
});

test('a reload keeps the correlation state when the correlation rules are unchanged, and starts over (judging the old state) when they change', () => {
  const rs = ruleset(3);
  const { stage } = service(rs, [[get(0, 'eve', 'a'), get(10, 'eve', 'b')]]);
  stage.swap(ruleset(3));
  const kept = [...service(rs, [[get(20, 'eve', 'c')]], stage).out, ...stage.flush()];
  expect(names(kept).filter((m) => m.startsWith('Many'))).toEqual(['Many secrets (user=eve count=3)']);

  const { stage: s2 } = service(rs, [[get(0, 'eve', 'a'), get(10, 'eve', 'b')]]);
  s2.swap(ruleset(2));
  const changed = [...service(ruleset(2), [[get(20, 'eve', 'c')]], s2).out, ...s2.flush()];
  // The new rules start empty: one more secret is not a second distinct one yet.
  expect(names(changed).filter((m) => m.startsWith('Many'))).toEqual([]);
});

test('kafka mode hands every prepared input back, with its payload, and correlates nothing here', () => {
  const rs = ruleset();
  const stage = new CorrelationStage(rs, { ...DEFAULT_CORRELATION, mode: 'kafka' }, new Metrics(), logger);
  const rec = StepRecorder.forRuleset(rs)!;
  const alerts = [get(0, 'eve', 'a'), list(1), get(2, 'eve', 'b'), get(3, 'eve', 'c')].flatMap((obj, i) => rec.evaluate({ obj, source: 'k8s_audit' }, i));
  const r = stage.replay(rec.take(), alerts, (a) => a);
  expect(r.inputs.map((x) => [x.i, x.input.correlation, x.input.key, x.input.values])).toEqual([
    [0, 'Many secrets', '["eve"]', ['a']],
    [2, 'Many secrets', '["eve"]', ['b']],
    [3, 'Many secrets', '["eve"]', ['c']],
  ]);
  expect(r.raised.filter((x) => x.alert.rule === 'Many secrets')).toEqual([]);
  expect(names(stage.flush()).filter((m) => m.startsWith('Many'))).toEqual([]);
});
