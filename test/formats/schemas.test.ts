/**
 * Every alert the default rules raise for their test events (test/rules/),
 * for the example events, and for the real Falco traces and kube-audit-rest
 * log in ../shared, validates against the published schemas (docs/schemas/)
 * in each format and with each include_event setting.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ValidateFunction } from 'ajv';
import type { IncludeEvent } from '../../src/engine/alert-context';
import type { Alert } from '../../src/engine/alert';
import { AlertShaper } from '../../src/engine/shaping';
import { loadRuleset } from '../../src/engine/load';
import { decodeDocument } from '../../src/decode/events';
import type { EventView } from '../../src/fields/types';
import { formatAlert, type FormattableAlert } from '../../src/sinks/formats';
import { OVERRIDES } from '../rules/cases';
import { caseAlerts, errorsOf, outgoing, rulesetWith, validators } from './helpers';
import { conformanceDir, describeWithConformance } from '../support/conformance-data';

const v = validators();
const INCLUDES: IncludeEvent[] = ['none', 'metadata', 'full'];
const SCHEMA = { json: v['falco-alert'], ocsf: v['ocsf-detection-finding'], ecs: v['ecs-alert'] } as const;

/** Problems of one alert in every format and include setting ([] when all valid). */
function problems(name: string, a: FormattableAlert, maxEventBytes?: number): string[] {
  const out: string[] = [];
  for (const format of ['json', 'ocsf', 'ecs'] as const) {
    for (const includeEvent of INCLUDES) {
      const text = formatAlert(format, a, { includeEvent, includeEventMaxBytes: maxEventBytes });
      if (text.includes('\n')) out.push(`${name} [${format}/${includeEvent}]: not one line`);
      const validate: ValidateFunction = SCHEMA[format];
      if (!validate(JSON.parse(text))) out.push(`${name} [${format}/${includeEvent}]: ${errorsOf(validate).join('; ')}`);
    }
  }
  return out;
}

describe('the default rules on their test events (test/rules/cases.ts)', () => {
  const alerts = caseAlerts();
  const shaper = new AlertShaper({ staticFields: { cluster: 'prod-eu-1', environment: 'production' } });

  test('the cases raise 109 alerts, of every one of the 56 rules (what the validation covers)', () => {
    const seen = new Set(alerts.map((a) => a.alert.rule));
    // Silent rules (alert: false) only feed correlations: they never raise an alert of their own.
    const alerting = rulesetWith().summary().rules.filter((r) => r.alert && r.compiled).map((r) => r.name);
    expect(alerting).toHaveLength(56);
    expect(alerting.filter((n) => !seen.has(n))).toEqual([]);
    expect(alerts).toHaveLength(109);
  });

  test('every alert validates in json, ocsf and ecs, with include_event none, metadata and full', () => {
    const found = alerts.flatMap(({ name, view, alert }) => problems(name, outgoing(alert, view)));
    expect(found).toEqual([]);
  });

  test('... also with static fields (cluster, environment) added by shaping', () => {
    const found = alerts.flatMap(({ name, view, alert }) => problems(name, outgoing(shaper.shape([alert])[0], view)));
    expect(found).toEqual([]);
  });

  test('... also when the event is over the include_event cap (truncated)', () => {
    const found = alerts.flatMap(({ name, view, alert }) => problems(name, outgoing(alert, view, 'full', 100), 100));
    expect(found).toEqual([]);
  });
});

describe('examples/audit-events.jsonl', () => {
  test('every alert validates', () => {
    const rs = rulesetWith();
    const lines = readFileSync(resolve(__dirname, '../../examples/audit-events.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
    const found: string[] = [];
    let n = 0;
    for (const [i, line] of lines.entries()) {
      const view: EventView = { obj: JSON.parse(line), source: 'k8s_audit', raw: line };
      for (const alert of rs.evaluate(view)) {
        n++;
        found.push(...problems(`line ${i + 1}: ${alert.rule}`, outgoing(alert, view)));
      }
    }
    expect(n).toBe(10);
    expect(found).toEqual([]);
  });
});

describe("the default correlation rules on their test events (rules/tests/)", () => {
  test('every correlation alert validates, of each of the 4 correlations', () => {
    const rs = rulesetWith();
    const found: string[] = [];
    const fired: string[] = [];
    for (const f of ['secret-enumeration.jsonl', 'forbidden-burst.jsonl', 'pod-hit-and-run.jsonl', 'binding-then-cluster-reads.jsonl']) {
      const correlator = rs.newCorrelator()!;
      const check = (alerts: Alert[], view: EventView) => {
        for (const alert of alerts) {
          fired.push(alert.rule);
          found.push(...problems(`${f}: ${alert.rule}`, outgoing(alert, view)));
        }
      };
      let last: EventView | undefined;
      for (const [i, line] of readFileSync(resolve(__dirname, '../../rules/tests', f), 'utf8').split('\n').entries()) {
        if (!line.trim()) continue;
        const d = decodeDocument(line, 'k8s_audit', 'kestrel-test');
        if (!d.ok) throw new Error(`${f}:${i + 1}: ${d.reason}`);
        for (const view of d.events) {
          last = view;
          for (const m of rs.evaluateDetailed(view).matches) check(correlator.consume(m, view), view);
        }
      }
      check(correlator.flush(), last!);
    }
    expect(fired.sort()).toEqual([
      'Burst of forbidden requests',
      'ClusterRoleBinding created, then cluster-wide reads',
      "Pod created, exec'd into and deleted",
      'Secret enumeration by one identity',
    ]);
    expect(found).toEqual([]);
  });
});

const SHARED = conformanceDir();

describeWithConformance('real events in ../shared/conformance', () => {
  test("Falco's k8s_audit traces with the upstream k8s_audit rules: every alert validates", () => {
    const { ruleset, diagnostics } = loadRuleset([join(SHARED, 'upstream-latest/k8s_audit_rules.yaml')], { ruleMatching: 'all', hostname: 'kestrel-test' });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const dir = join(SHARED, 'falco-legacy/traces');
    const found: string[] = [];
    let n = 0;
    for (const f of readdirSync(dir).sort()) {
      for (const [i, line] of readFileSync(join(dir, f), 'utf8').split('\n').entries()) {
        if (!line.trim()) continue;
        const d = decodeDocument(line, 'k8s_audit', 'kestrel-test');
        if (!d.ok) continue;
        for (const view of d.events) {
          for (const alert of ruleset!.evaluate(view)) {
            n++;
            found.push(...problems(`${f}:${i + 1}: ${alert.rule}`, outgoing(alert, view)));
          }
        }
      }
    }
    expect(n).toBeGreaterThan(40);
    expect(found).toEqual([]);
  });

  test('the kube-audit-rest log (k8s_admission), one alert per line: every alert validates', () => {
    const rs = rulesetWith([`
- rule: Every admission request
  desc: test rule raising one alert per AdmissionReview
  condition: kar.uid exists
  output: admission (user=%kar.user.name verb=%kar.verb resource=%kar.target.resource ns=%kar.target.namespace name=%kar.target.name uid=%kar.uid)
  priority: NOTICE
  source: k8s_admission
  tags: [k8s, mitre_discovery, T1613]
`]);
    const lines = readFileSync(join(SHARED, 'admission/kube-audit-rest.log'), 'utf8').split('\n').filter((l) => l.trim());
    const found: string[] = [];
    let n = 0;
    for (const [i, line] of lines.entries()) {
      const d = decodeDocument(line, 'k8s_admission', 'kestrel-test');
      if (!d.ok) throw new Error(`line ${i + 1}: ${d.reason}`);
      for (const view of d.events) {
        for (const alert of rs.evaluate(view)) {
          n++;
          found.push(...problems(`line ${i + 1}`, outgoing(alert, view)));
        }
      }
    }
    expect(n).toBe(59);
    expect(found).toEqual([]);
  });
});

describe('odd but possible events still give valid payloads', () => {
  const rs = rulesetWith([OVERRIDES.allEvents]);
  const base = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', stage: 'ResponseComplete', stageTimestamp: '2026-11-30T10:00:00.000000Z' };
  test.each([
    ['bare minimum: no user, verb, objectRef, response', { ...base, auditID: 'a-1' }],
    ['a source address that is no IP, code 0, empty reason annotation', {
      ...base, auditID: 'a-2', verb: 'list', sourceIPs: ['unix-socket', '10.0.0.1'], responseStatus: { code: 0 },
      annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' }, objectRef: { resource: 'pods' },
    }],
    ['stage Panic, IPv6 source, impersonation without groups', {
      ...base, stage: 'Panic', auditID: 'a-3', verb: 'delete', sourceIPs: ['2001:db8::7'], impersonatedUser: { username: 'y' },
      objectRef: { resource: 'secrets', namespace: 'ns', name: 'n', apiGroup: '', apiVersion: 'v1' }, responseStatus: { code: 500, reason: 'InternalError' },
    }],
  ])('%s', (_name, ev) => {
    const view: EventView = { obj: ev, source: 'k8s_audit' };
    const alerts = rs.evaluate(view);
    expect(alerts.map((x) => x.rule)).toContain('Audit event');
    expect(alerts.flatMap((alert) => problems(alert.rule, outgoing(alert, view)))).toEqual([]);
  });
});

test('an alert without context (no event attached) gives valid OCSF and ECS with the alert fields only', () => {
  const { view, alert } = caseAlerts()[0];
  expect(problems('no context', { alert })).toEqual([]);
  const ocsf = JSON.parse(formatAlert('ocsf', { alert }));
  expect(ocsf.evidences).toBeUndefined();
  expect(ocsf.finding_info.uid).not.toBe(JSON.parse(formatAlert('ocsf', outgoing(alert, view))).finding_info.uid);
  expect(JSON.parse(formatAlert('ocsf', { alert: { ...alert, timeNs: alert.timeNs + 1n } })).finding_info.uid).not.toBe(ocsf.finding_info.uid);
});
