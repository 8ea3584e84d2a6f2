/** alertContext: what an alert carries of its event, for k8s_audit and k8s_admission, and the include_event cap. */
import { alertContext, contextFor, contextNeeds } from '../../src/engine/alert-context';
import { decodeDocument } from '../../src/decode/events';
import type { EventView } from '../../src/fields/types';
import { formatAlert } from '../../src/sinks/formats';
import { outgoing, rulesetWith } from './helpers';

const AUDIT = {
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'RequestResponse',
  auditID: '9e2b6f0a-1c4d-4e8f-b2a7-3d5c6e7f8a90',
  stage: 'ResponseComplete',
  requestURI: '/api/v1/namespaces/shop/secrets/db-credentials',
  verb: 'get',
  user: { username: 'system:serviceaccount:shop:cart', uid: '3f1e2d3c-4b5a-4968-8776-655443322110', groups: ['system:serviceaccounts', 'system:authenticated'], extra: { 'authentication.kubernetes.io/pod-name': ['cart-7d9f'] } },
  impersonatedUser: { username: 'mallory@example.com' },
  sourceIPs: ['10.0.12.9'],
  userAgent: 'python-requests/2.32.3',
  objectRef: { resource: 'secrets', namespace: 'shop', name: 'db-credentials', apiVersion: 'v1', uid: '77aa88bb-0000-4000-8000-00000000c0de' },
  responseStatus: { metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403, message: 'secrets "db-credentials" is forbidden' },
  responseObject: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 403 },
  requestReceivedTimestamp: '2026-11-30T09:00:00.000100Z',
  stageTimestamp: '2026-11-30T09:00:00.002300Z',
  annotations: { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': '' },
};

const ADMISSION = {
  kind: 'AdmissionReview',
  apiVersion: 'admission.k8s.io/v1',
  requestReceivedTimestamp: '2026-11-30T09:05:00.000000Z',
  request: {
    uid: '5b1d7f2e-8a3c-4d6e-9f01-23456789abcd',
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    resource: { group: 'apps', version: 'v1', resource: 'deployments' },
    name: 'checkout',
    namespace: 'shop',
    operation: 'UPDATE',
    userInfo: { username: 'dana@example.com', uid: 'u-42', groups: ['ops', 'system:authenticated'] },
    object: { kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'checkout', namespace: 'shop' } },
    oldObject: null,
    dryRun: true,
    options: { kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1' },
  },
};

const auditView: EventView = { obj: AUDIT, source: 'k8s_audit' };

const AUDIT_METADATA = {
  source: 'k8s_audit',
  auditID: '9e2b6f0a-1c4d-4e8f-b2a7-3d5c6e7f8a90',
  stage: 'ResponseComplete',
  verb: 'get',
  requestURI: '/api/v1/namespaces/shop/secrets/db-credentials',
  user: { username: 'system:serviceaccount:shop:cart', uid: '3f1e2d3c-4b5a-4968-8776-655443322110', groups: ['system:serviceaccounts', 'system:authenticated'] },
  impersonatedUser: { username: 'mallory@example.com' },
  sourceIPs: ['10.0.12.9'],
  userAgent: 'python-requests/2.32.3',
  objectRef: { resource: 'secrets', namespace: 'shop', name: 'db-credentials', uid: '77aa88bb-0000-4000-8000-00000000c0de', apiVersion: 'v1' },
  responseStatus: { code: 403, reason: 'Forbidden', message: 'secrets "db-credentials" is forbidden' },
  requestReceivedTimestamp: '2026-11-30T09:00:00.000100Z',
  stageTimestamp: '2026-11-30T09:00:00.002300Z',
  annotations: { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': '' },
};

describe('k8s_audit', () => {
  test('metadata: exactly these fields, read from the event', () => {
    expect(alertContext(auditView, 'k8s_audit', 'metadata', 1000)).toEqual(AUDIT_METADATA);
    expect(alertContext(auditView, 'k8s_audit', 'none', 1000)).toEqual(AUDIT_METADATA);
  });

  test('full: plus the event as compact JSON text when it fits the cap', () => {
    const text = JSON.stringify(AUDIT);
    const bytes = Buffer.byteLength(text);
    expect(alertContext(auditView, 'k8s_audit', 'full', bytes)).toEqual({ ...AUDIT_METADATA, event: text });
    expect(alertContext(auditView, 'k8s_audit', 'full', bytes - 1)).toEqual({ ...AUDIT_METADATA, truncated: { eventBytes: bytes, maxEventBytes: bytes - 1 } });
  });

  test('a pretty-printed input still gives one-line event text', () => {
    const pretty = JSON.stringify(AUDIT, null, 2);
    const d = decodeDocument(pretty, 'k8s_audit');
    if (!d.ok) throw new Error(d.reason);
    expect(alertContext(d.events[0], 'k8s_audit', 'full', 1 << 20).event).toBe(JSON.stringify(AUDIT));
  });

  test('the size is counted in UTF-8 bytes', () => {
    const ev = { ...AUDIT, userAgent: 'ünïcødé' };
    const text = JSON.stringify(ev);
    const bytes = Buffer.byteLength(text);
    expect(bytes).toBeGreaterThan(text.length);
    expect(alertContext({ obj: ev, source: 'k8s_audit' }, 'k8s_audit', 'full', text.length).truncated).toEqual({ eventBytes: bytes, maxEventBytes: text.length });
  });

  test('crosses worker threads unchanged (structured clone)', () => {
    const ctx = alertContext(auditView, 'k8s_audit', 'full', 1 << 20);
    expect(structuredClone(ctx)).toEqual(ctx);
  });

  test('odd members are skipped, not copied: wrong types, non-string groups', () => {
    const odd = { kind: 'Event', auditID: 42, verb: 'list', user: { username: 'x', groups: ['a', 7, null] }, sourceIPs: 'not-a-list', objectRef: 'pods', responseStatus: { code: '200' } };
    expect(alertContext({ obj: odd, source: 'k8s_audit' }, 'k8s_audit', 'none', 0)).toEqual({ source: 'k8s_audit', verb: 'list', user: { username: 'x', groups: ['a'] } });
  });
});

describe('k8s_admission (AdmissionReview)', () => {
  test('request uid, operation, userInfo, kind/resource, namespace/name, dryRun', () => {
    expect(alertContext({ obj: ADMISSION, source: 'k8s_admission' }, 'k8s_admission', 'metadata', 0)).toEqual({
      source: 'k8s_admission',
      auditID: '5b1d7f2e-8a3c-4d6e-9f01-23456789abcd',
      verb: 'UPDATE',
      user: { username: 'dana@example.com', uid: 'u-42', groups: ['ops', 'system:authenticated'] },
      objectRef: { resource: 'deployments', namespace: 'shop', name: 'checkout', apiGroup: 'apps', apiVersion: 'v1', kind: 'Deployment' },
      requestReceivedTimestamp: '2026-11-30T09:05:00.000000Z',
      dryRun: true,
    });
  });

  test('OCSF and ECS of an admission alert', () => {
    const view: EventView = { obj: ADMISSION, source: 'k8s_admission' };
    const [alert] = rulesetWith([`
- rule: Deployment changed
  desc: test rule
  condition: kar.target.resource = deployments and kar.verb = UPDATE
  output: deployment changed (name=%kar.target.name user=%kar.user.name)
  priority: NOTICE
  source: k8s_admission
  tags: [k8s, mitre_persistence]
`]).evaluate(view);
    const o = JSON.parse(formatAlert('ocsf', outgoing(alert, view)));
    const e = JSON.parse(formatAlert('ecs', outgoing(alert, view)));
    expect(o.evidences).toEqual([{
      actor: { user: { name: 'dana@example.com', uid: 'u-42', groups: [{ name: 'ops' }, { name: 'system:authenticated' }] } },
      api: { operation: 'UPDATE', version: 'apps/v1', request: { uid: '5b1d7f2e-8a3c-4d6e-9f01-23456789abcd' } },
    }]);
    expect(o.resources).toEqual([{ type: 'deployments', name: 'checkout', namespace: 'shop', version: 'apps/v1' }]);
    expect(o.finding_info.attacks).toEqual([{ tactic: { uid: 'TA0003', name: 'Persistence' } }]);
    expect(o.finding_info.data_sources).toEqual(['k8s_admission']);
    expect(e.event).toMatchObject({ category: ['configuration'], type: ['change'], action: 'UPDATE', provider: 'k8s_admission' });
    expect(e.event.outcome).toBeUndefined();
    expect(e.orchestrator).toEqual({ type: 'kubernetes', namespace: 'shop', api_version: 'apps/v1', resource: { type: 'deployments', name: 'checkout' } });
    expect(e.time).toBeUndefined();
    expect(e['@timestamp']).toBe('2026-11-30T09:05:00.000000000Z');
  });
});

describe('contextFor: what one output shows', () => {
  const full = alertContext(auditView, 'k8s_audit', 'full', 1 << 20);
  const bytes = Buffer.byteLength(JSON.stringify(AUDIT));

  test('none, metadata, full', () => {
    expect(contextFor(full, 'none')).toBeUndefined();
    expect(contextFor(full, 'metadata')).toEqual(AUDIT_METADATA);
    expect(contextFor(full, 'full')).toEqual(full);
  });

  test("an output's own cap below the worker's: the event is dropped and marked", () => {
    expect(contextFor(full, 'full', 500)).toEqual({ ...AUDIT_METADATA, truncated: { eventBytes: bytes, maxEventBytes: 500 } });
  });

  test('over the cap in each format: the metadata stays, the event goes, `truncated` says why', () => {
    const [alert] = rulesetWith().evaluate(auditView);
    const a = outgoing(alert, auditView, 'full', 500);
    const falco = JSON.parse(formatAlert('json', a, { includeEvent: 'full' }));
    const ocsf = JSON.parse(formatAlert('ocsf', a, { includeEvent: 'full' }));
    const ecs = JSON.parse(formatAlert('ecs', a, { includeEvent: 'full' }));
    const marker = { eventBytes: bytes, maxEventBytes: 500 };
    expect(falco.audit).toEqual({ ...AUDIT_METADATA, truncated: marker });
    expect(ocsf.unmapped.audit).toEqual({ ...AUDIT_METADATA, truncated: marker });
    expect(ocsf.raw_data).toBeUndefined();
    expect(ecs.kubernetes.audit).toEqual({ ...AUDIT_METADATA, truncated: marker });
    expect(ecs.event.original).toBeUndefined();
  });

  test('within the cap: Falco audit.event (object), OCSF raw_data and ECS event.original (text)', () => {
    const [alert] = rulesetWith().evaluate(auditView);
    const a = outgoing(alert, auditView);
    expect(JSON.parse(formatAlert('json', a, { includeEvent: 'full' })).audit.event).toEqual(AUDIT);
    expect(JSON.parse(formatAlert('ocsf', a, { includeEvent: 'full' })).raw_data).toBe(JSON.stringify(AUDIT));
    expect(JSON.parse(formatAlert('ecs', a, { includeEvent: 'full' })).event.original).toBe(JSON.stringify(AUDIT));
    expect(JSON.parse(formatAlert('ocsf', a, { includeEvent: 'metadata' })).raw_data).toBeUndefined();
  });
});

describe('contextNeeds: one extraction in the worker for all outputs', () => {
  test('the strongest include, and the largest cap among the outputs asking for full', () => {
    expect(contextNeeds([], 65536)).toEqual({ include: 'none', maxEventBytes: 0 });
    expect(contextNeeds([{ includeEvent: 'none' }, { includeEvent: 'metadata', includeEventMaxBytes: 10 }], 65536)).toEqual({ include: 'metadata', maxEventBytes: 0 });
    expect(contextNeeds([{ includeEvent: 'full', includeEventMaxBytes: 1000 }, { includeEvent: 'full' }, { includeEvent: 'metadata', includeEventMaxBytes: 1 << 30 }], 65536))
      .toEqual({ include: 'full', maxEventBytes: 65536 });
    expect(contextNeeds([{ includeEvent: 'full', includeEventMaxBytes: 1 << 20 }, { includeEvent: 'full', includeEventMaxBytes: 1000 }], 65536)).toEqual({ include: 'full', maxEventBytes: 1 << 20 });
  });
});
