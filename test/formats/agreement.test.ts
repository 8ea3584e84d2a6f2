/**
 * One audit event, three payloads: the Falco, OCSF and ECS alerts agree on
 * every value they share (user, verb, resource, namespace, source IP, rule,
 * priority/severity, time), exactly; and each mapping table holds.
 */
import { alertJson, type Alert } from '../../src/engine/alert';
import { AlertShaper } from '../../src/engine/shaping';
import type { EventView } from '../../src/fields/types';
import { PRIORITIES } from '../../src/language/priority';
import { formatAlert, type FormattableAlert } from '../../src/sinks/formats';
import { SEVERITY_BY_PRIORITY } from '../../src/sinks/formats/severity';
import { errorsOf, outgoing, rulesetWith, validators } from './helpers';

/** A privileged pod created by an operator impersonating a CI service account, as the API server logs it. */
const EVENT = {
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'Request',
  auditID: '0d5f9c1e-3b7a-4e61-9a4c-5c2b8f7d1e90',
  stage: 'ResponseComplete',
  requestURI: '/api/v1/namespaces/payments/pods?fieldManager=kubectl-client-side-apply',
  verb: 'create',
  user: { username: 'erin@example.com', uid: 'a71c2d04-55e3-4f0b-8c6e-0e4f1f2a9b10', groups: ['platform', 'system:authenticated'] },
  impersonatedUser: { username: 'system:serviceaccount:ci:deployer', groups: ['system:serviceaccounts', 'system:serviceaccounts:ci'] },
  sourceIPs: ['198.51.100.23', '10.0.0.4'],
  userAgent: 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46',
  objectRef: { resource: 'pods', namespace: 'payments', name: 'node-debugger', apiVersion: 'v1' },
  responseStatus: { metadata: {}, code: 201 },
  requestObject: {
    kind: 'Pod', apiVersion: 'v1', metadata: { name: 'node-debugger', namespace: 'payments' },
    spec: { containers: [{ name: 'shell', image: 'docker.io/library/busybox:1.36', securityContext: { privileged: true } }] },
  },
  requestReceivedTimestamp: '2026-11-30T08:41:07.120481Z',
  stageTimestamp: '2026-11-30T08:41:07.135927Z',
  annotations: {
    'authorization.k8s.io/decision': 'allow',
    'authorization.k8s.io/reason': 'RBAC: allowed by RoleBinding "deployer" of ClusterRole "edit" to ServiceAccount "deployer/ci"',
  },
};

const view: EventView = { obj: EVENT, source: 'k8s_audit' };
const rs = rulesetWith([], 'kestrel-7');
const [raw] = rs.evaluate(view).filter((a) => a.rule === 'Privileged pod created');
const [alert] = new AlertShaper({ staticFields: { cluster: 'prod-eu-1', environment: 'production' } }).shape([raw]);
const a = outgoing(alert, view);
const falco = JSON.parse(formatAlert('json', a));
const ocsf = JSON.parse(formatAlert('ocsf', a));
const ecs = JSON.parse(formatAlert('ecs', a));

describe('the same event in Falco, OCSF and ECS', () => {
  test('rule', () => {
    expect(falco.rule).toBe('Privileged pod created');
    expect(ocsf.finding_info.title).toBe('Privileged pod created');
    expect(ocsf.finding_info.analytic).toEqual({ name: 'Privileged pod created', type: 'Rule', type_id: 1 });
    expect(ecs.rule).toEqual({ name: 'Privileged pod created', ruleset: 'kestrel' });
  });

  test('priority and severity', () => {
    expect(falco.priority).toBe('Warning');
    expect([ocsf.severity_id, ocsf.severity]).toEqual([3, 'Medium']);
    expect(ecs.event.severity).toBe(3);
  });

  test('time: Falco ns, OCSF ms, ECS the same text as Falco; from stageTimestamp', () => {
    expect(falco.time).toBe('2026-11-30T08:41:07.135927000Z');
    expect(falco.output_fields['evt.time']).toBe(1796028067135927000);
    expect(ocsf.time).toBe(Date.parse('2026-11-30T08:41:07.135Z'));
    expect(ocsf.time).toBe(1796028067135);
    expect(ocsf.finding_info.created_time).toBe(1796028067135);
    expect(ecs['@timestamp']).toBe('2026-11-30T08:41:07.135927000Z');
    expect(ocsf.metadata.original_time).toBe('2026-11-30T08:41:07.135927Z');
  });

  test('user (the requester; the impersonated account apart)', () => {
    expect(falco.output_fields['ka.user.name']).toBe('erin@example.com');
    expect(ocsf.evidences[0].actor.user).toEqual({
      name: 'erin@example.com', uid: 'a71c2d04-55e3-4f0b-8c6e-0e4f1f2a9b10', groups: [{ name: 'platform' }, { name: 'system:authenticated' }],
    });
    expect(ocsf.unmapped.impersonated_user).toEqual({ username: 'system:serviceaccount:ci:deployer', groups: ['system:serviceaccounts', 'system:serviceaccounts:ci'] });
    expect(ecs.user).toEqual({
      name: 'erin@example.com', id: 'a71c2d04-55e3-4f0b-8c6e-0e4f1f2a9b10', roles: ['platform', 'system:authenticated'],
      effective: { name: 'system:serviceaccount:ci:deployer', roles: ['system:serviceaccounts', 'system:serviceaccounts:ci'] },
    });
    expect(ocsf.observables).toContainEqual({ name: 'evidences.actor.user.name', type_id: 4, type: 'User Name', value: 'erin@example.com' });
  });

  test('verb, audit id and response', () => {
    expect(ocsf.evidences[0].api).toEqual({ operation: 'create', version: 'v1', request: { uid: EVENT.auditID }, response: { code: 201 } });
    expect(ecs.event.action).toBe('create');
    expect(ecs.event.outcome).toBe('success');
    expect(ecs.http).toEqual({ request: { id: EVENT.auditID }, response: { status_code: 201 } });
    expect(falco.output_fields['ka.auditid']).toBe(EVENT.auditID);
    expect(ecs.event.category).toEqual(['configuration']);
    expect(ecs.event.type).toEqual(['creation']);
  });

  test('resource and namespace', () => {
    expect(falco.output_fields['ka.target.namespace']).toBe('payments');
    // The rule prints the response object's name, absent at level Request; OCSF and ECS read objectRef.
    expect(falco.output_fields['ka.resp.name']).toBeNull();
    expect(falco.output).toContain('pod=<NA> ns=payments');
    expect(ocsf.resources).toEqual([{ type: 'pods', name: 'node-debugger', namespace: 'payments', version: 'v1', labels: ['cluster:prod-eu-1'] }]);
    expect(ecs.orchestrator).toEqual({
      type: 'kubernetes', cluster: { name: 'prod-eu-1' }, namespace: 'payments', api_version: 'v1', resource: { type: 'pods', name: 'node-debugger' },
    });
    expect(ecs.kubernetes).toEqual({ namespace: 'payments', pod: { name: 'node-debugger' } });
  });

  test('source IP: the first of sourceIPs', () => {
    expect(falco.output_fields['jevt.value[/sourceIPs/0]']).toBe('198.51.100.23');
    expect(ocsf.evidences[0].src_endpoint).toEqual({ ip: '198.51.100.23' });
    expect(ecs.source).toEqual({ ip: '198.51.100.23' });
  });

  test('user agent, request URI and the authorization decision', () => {
    expect(falco.output_fields['ka.useragent']).toBe(EVENT.userAgent);
    expect(ocsf.evidences[0].http_request).toEqual({
      user_agent: EVENT.userAgent,
      url: { url_string: EVENT.requestURI, path: '/api/v1/namespaces/payments/pods', query_string: 'fieldManager=kubectl-client-side-apply' },
    });
    expect(ecs.user_agent).toEqual({ original: EVENT.userAgent });
    expect(ecs.url).toEqual({ original: EVENT.requestURI });
    expect(ocsf.evidences[0].actor.authorizations).toEqual([
      { decision: 'allow', policy: { desc: 'RBAC: allowed by RoleBinding "deployer" of ClusterRole "edit" to ServiceAccount "deployer/ci"' } },
    ]);
  });

  test('MITRE ATT&CK from the tags [k8s, container, mitre_privilege_escalation, T1611, T1610]', () => {
    expect(falco.tags).toEqual(['T1610', 'T1611', 'container', 'k8s', 'mitre_privilege_escalation']);
    expect(ocsf.finding_info.attacks).toEqual([
      { technique: { uid: 'T1610', name: 'Deploy Container' } },
      { tactic: { uid: 'TA0004', name: 'Privilege Escalation' }, technique: { uid: 'T1611', name: 'Escape to Host' } },
    ]);
    expect(ocsf.finding_info.types).toEqual(['container', 'k8s']);
    expect(ecs.threat).toEqual({
      framework: 'MITRE ATT&CK',
      tactic: { id: ['TA0004'], name: ['Privilege Escalation'] },
      technique: { id: ['T1610', 'T1611'], name: ['Deploy Container', 'Escape to Host'] },
    });
    expect(ecs.tags).toEqual(falco.tags);
  });

  test('cluster and static fields', () => {
    expect(falco.output_fields.cluster).toBe('prod-eu-1');
    expect(ocsf.metadata.labels).toEqual(['cluster:prod-eu-1']);
    expect(ecs.labels).toEqual({ cluster: 'prod-eu-1', environment: 'production' });
  });

  test('message and finding id (stable: rule + auditID)', () => {
    expect(ocsf.message).toBe(alert.message);
    expect(ocsf.finding_info.desc).toBe(alert.message);
    expect(ecs.message).toBe(alert.message);
    expect(falco.output).toBe(`08:41:07.135927000: Warning ${alert.message}`);
    expect(ocsf.finding_info.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(ecs.event.id).toBe(ocsf.finding_info.uid);
    expect(ocsf.metadata.uid).toBe(ocsf.finding_info.uid);
    // The same rule on the same request is the same finding, at any time and from any host.
    const again = outgoing({ ...alert, timeNs: alert.timeNs + 5_000_000_000n, hostname: 'kestrel-9' }, view);
    expect(JSON.parse(formatAlert('ocsf', again)).finding_info.uid).toBe(ocsf.finding_info.uid);
    const other = outgoing({ ...alert, rule: 'Pod shares host PID namespace' }, view);
    expect(JSON.parse(formatAlert('ocsf', other)).finding_info.uid).not.toBe(ocsf.finding_info.uid);
  });

  test('the Falco alert rides along unchanged: OCSF unmapped.falco and ECS falco are the Falco JSON, byte for byte', () => {
    const text = formatAlert('json', a);
    expect(formatAlert('ocsf', a)).toContain(`"unmapped":{"falco":${text}`);
    expect(formatAlert('ecs', a).endsWith(`"falco":${text}}`)).toBe(true);
  });

  test('the OCSF class constants', () => {
    expect(ocsf).toMatchObject({
      activity_id: 1, activity_name: 'Create', category_uid: 2, category_name: 'Findings', class_uid: 2004, class_name: 'Detection Finding',
      type_uid: 200401, type_name: 'Detection Finding: Create', status_id: 1, status: 'New',
      metadata: { version: '1.4.0', product: { name: 'Kestrel', vendor_name: 'Kestrel', version: '0.1.0' } },
    });
    expect(ecs.ecs).toEqual({ version: '8.11.0' });
    expect(ecs.event.kind).toBe('alert');
    expect(ecs.observer).toEqual({ product: 'Kestrel', vendor: 'Kestrel', type: 'ids', version: '0.1.0', hostname: 'kestrel-7' });
  });

  test('fields come from the event, not from the rendered output: a rule that prints nothing still gets them', () => {
    const quiet = rulesetWith([`
- rule: Quiet pod rule
  desc: a rule whose output names no field
  condition: ka.target.resource = pods and ka.verb = create
  output: a pod was created
  priority: ERROR
  source: k8s_audit
`]).evaluate(view).find((x) => x.rule === 'Quiet pod rule')!;
    const o = JSON.parse(formatAlert('ocsf', outgoing(quiet, view)));
    const e = JSON.parse(formatAlert('ecs', outgoing(quiet, view)));
    expect(quiet.message).toBe('a pod was created');
    expect(o.evidences[0].actor.user.name).toBe('erin@example.com');
    expect(o.evidences[0].src_endpoint.ip).toBe('198.51.100.23');
    expect(o.resources[0].name).toBe('node-debugger');
    expect([o.severity_id, e.event.severity]).toEqual([4, 4]);
    expect(e.user.name).toBe('erin@example.com');
    expect(e.orchestrator.namespace).toBe('payments');
  });
});

describe('priority to severity (the table)', () => {
  test.each([
    ['Emergency', 6, 'Fatal'], ['Alert', 5, 'Critical'], ['Critical', 5, 'Critical'], ['Error', 4, 'High'],
    ['Warning', 3, 'Medium'], ['Notice', 2, 'Low'], ['Informational', 1, 'Informational'], ['Debug', 1, 'Informational'],
  ] as const)('%s -> %d %s', (priority, id, name) => {
    const p: Alert = { ...alert, priority };
    const o = JSON.parse(formatAlert('ocsf', { alert: p, context: a.context }));
    const e = JSON.parse(formatAlert('ecs', { alert: p, context: a.context }));
    expect([o.severity_id, o.severity, e.event.severity, o.unmapped.falco.priority, e.falco.priority]).toEqual([id, name, id, priority, priority]);
  });

  test('covers every Falco priority', () => {
    expect(Object.keys(SEVERITY_BY_PRIORITY).sort()).toEqual([...PRIORITIES].sort());
  });
});

describe('a broken mapping fails schema validation', () => {
  const v = validators();
  const check = (schema: 'ocsf-detection-finding' | 'ecs-alert' | 'falco-alert', doc: unknown) => (v[schema](doc) ? [] : errorsOf(v[schema]));
  const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

  test('the documents of this event are valid', () => {
    expect(check('falco-alert', falco)).toEqual([]);
    expect(check('ocsf-detection-finding', ocsf)).toEqual([]);
    expect(check('ecs-alert', ecs)).toEqual([]);
  });

  test('a severity table that maps a priority out of OCSF range', () => {
    const saved = SEVERITY_BY_PRIORITY.Warning;
    SEVERITY_BY_PRIORITY.Warning = { id: 7, name: 'Severe' };
    try {
      expect(check('ocsf-detection-finding', JSON.parse(formatAlert('ocsf', a)))).toEqual([
        '/severity_id must be equal to one of the allowed values',
        '/severity must be equal to one of the allowed values',
      ]);
      expect(check('ecs-alert', JSON.parse(formatAlert('ecs', a)))).toEqual(['/event/severity must be <= 6']);
    } finally {
      SEVERITY_BY_PRIORITY.Warning = saved;
    }
  });

  test('severity name and id that disagree', () => {
    const doc = clone(ocsf);
    doc.severity = 'High';
    expect(check('ocsf-detection-finding', doc)).toEqual(['/severity must be equal to constant', '/ must match "then" schema']);
  });

  test('wrong class, a missing finding uid, a misplaced attribute', () => {
    const doc = clone(ocsf);
    doc.class_uid = 2003;
    delete doc.finding_info.uid;
    doc.evidences[0].actor.user.username = 'erin@example.com';
    expect(check('ocsf-detection-finding', doc)).toEqual([
      '/class_uid must be equal to constant',
      "/finding_info must have required property 'uid'",
      '/evidences/0/actor/user must NOT have additional properties',
    ]);
  });

  test('ECS: a category with a type ECS does not allow with it, a source.ip that is no IP', () => {
    const doc = clone(ecs);
    doc.event.category = ['iam'];
    doc.event.type = ['access'];
    doc.source.ip = 'erin@example.com';
    expect(check('ecs-alert', doc)).toEqual([
      '/event/type/0 must be equal to one of the allowed values',
      '/event must match "then" schema',
      '/source/ip must match format "ipv4"',
      '/source/ip must match format "ipv6"',
      '/source/ip must match a schema in anyOf',
    ]);
  });

  test('Falco: an unknown priority, a time without nanoseconds', () => {
    const doc = clone(falco);
    doc.priority = 'Warn';
    doc.time = '2026-11-30T08:41:07Z';
    expect(check('falco-alert', doc)).toEqual(['/priority must be equal to one of the allowed values', '/time must match pattern "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z$"']);
  });
});

test('alertJson is what the OCSF and ECS payloads embed when the worker did not precompute it', () => {
  const without: FormattableAlert = { alert, context: a.context };
  expect(formatAlert('ocsf', without)).toBe(formatAlert('ocsf', a));
  expect(formatAlert('ecs', without)).toBe(formatAlert('ecs', a));
  expect(a.json).toBe(alertJson(alert));
});
