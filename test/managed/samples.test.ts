/**
 * Every sample under ../shared/conformance/managed decoded through the payload
 * envelopes (format auto, as a Kafka input would), with the exact audit Event
 * fields expected per sample. GKE LogEntries are converted (src/decode/gke.ts);
 * the plugin-compatible parts and Kestrel's documented differences (real
 * responseStatus, LogEntry timestamp) are both pinned here.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { gzipSync } from 'zlib';
import { decodePayload, type EnvelopeOptions, type PayloadFormat } from '../../src/decode/envelope';
import { describeWithShared, MANAGED, samplePayload } from './shared';

function decode(payload: Buffer | string, format: PayloadFormat = 'auto', extra: Partial<EnvelopeOptions> = {}) {
  return decodePayload(typeof payload === 'string' ? Buffer.from(payload) : payload, { format, source: 'k8s_audit', hostname: 'h', maxBytes: 1 << 20, ...extra });
}

function ok(payload: Buffer | string, format: PayloadFormat = 'auto', extra: Partial<EnvelopeOptions> = {}) {
  const r = decode(payload, format, extra);
  if (!r.ok) throw new Error(r.reason);
  return r;
}

/** The Event without kind/apiVersion, its bodies and annotations (checked separately). */
function core(obj: Record<string, unknown>) {
  const { kind: _k, apiVersion: _v, requestObject: _q, responseObject: _r, annotations: _a, ...rest } = obj;
  return rest;
}

describeWithShared(MANAGED)('GKE LogEntry samples -> audit Events', () => {
  // [sample, cluster, Event without kind/apiVersion/bodies/annotations]
  const cases: [string, string, Record<string, unknown>][] = [
    ['gke-labs-kube-agents/delete_call.json', 'prod-1', {
      "level": "RequestResponse",
      "auditID": "fb041e37-b9e3-4203-8dd1-af6f4c1b5574",
      "stage": "ResponseComplete",
      "requestURI": "/core/v1/namespaces/gke-gmp-system/pods/collector-9gt27",
      "verb": "delete",
      "user": {
        "username": "system:node:gke-prod-1-pool-1-abcd1234-node"
      },
      "sourceIPs": [
        "203.0.113.10"
      ],
      "userAgent": "kubelet/v1.35.7 (linux/amd64) kubernetes/532e3c3",
      "objectRef": {
        "apiGroup": "core",
        "apiVersion": "v1",
        "namespace": "gke-gmp-system",
        "resource": "pods",
        "name": "collector-9gt27"
      },
      "responseStatus": {
        "metadata": {},
        "code": 200
      },
      "requestReceivedTimestamp": "2026-09-15T22:57:16.658605Z",
      "stageTimestamp": "2026-09-15T22:57:16.658605Z"
    }],
    ['gke-labs-kube-agents/failed_aborted.json', 'prod-1', {
      "level": "RequestResponse",
      "auditID": "c31ecfc1-d3bd-48dc-bb6f-e5d59d73a2d2",
      "stage": "ResponseComplete",
      "requestURI": "/coordination.k8s.io/v1/namespaces/kube-system/leases/gke-spiffe-controller-c4afa9e1-2626-4975-903d-57c6936e78f9",
      "verb": "create",
      "user": {
        "username": "system:gke-spiffe-controller"
      },
      "sourceIPs": [
        "203.0.113.10"
      ],
      "userAgent": "gke_spiffe_controller/v0.0.0 (linux/amd64) kubernetes/$Format",
      "objectRef": {
        "apiGroup": "coordination.k8s.io",
        "apiVersion": "v1",
        "namespace": "kube-system",
        "resource": "leases",
        "name": "gke-spiffe-controller-c4afa9e1-2626-4975-903d-57c6936e78f9"
      },
      "responseStatus": {
        "metadata": {},
        "status": "Failure",
        "code": 409,
        "reason": "Aborted",
        "message": "leases.coordination.k8s.io \"gke-spiffe-controller-c4afa9e1-2626-4975-903d-57c6936e78f9\" already exists"
      },
      "requestReceivedTimestamp": "2026-09-15T22:57:18.027049Z",
      "stageTimestamp": "2026-09-15T22:57:18.027049Z"
    }],
    ['gke-labs-kube-agents/human_denied.json', 'prod-1', {
      "level": "RequestResponse",
      "auditID": "fe6ca30b-887e-4bfd-84a9-444c7b33ef0e",
      "stage": "ResponseComplete",
      "requestURI": "/core/v1/namespaces/default/pods/crashloop-probe",
      "verb": "create",
      "user": {
        "username": "engineer@example.com"
      },
      "sourceIPs": [
        "203.0.113.10"
      ],
      "userAgent": "kubectl/v1.36.3 (linux/amd64) kubernetes/0f29094",
      "objectRef": {
        "apiGroup": "core",
        "apiVersion": "v1",
        "namespace": "default",
        "resource": "pods",
        "name": "crashloop-probe"
      },
      "responseStatus": {
        "metadata": {},
        "status": "Failure",
        "code": 403,
        "reason": "PermissionDenied",
        "message": "pods \"crashloop-probe\" is forbidden: failed quota: default-quota: must specify limits.cpu for: crashloop-probe; limits.memory for: crashloop-probe; requests.cpu for: crashloop-probe; requests.memory for: crashloop-probe"
      },
      "requestReceivedTimestamp": "2026-08-18T20:36:19.032809Z",
      "stageTimestamp": "2026-08-18T20:36:19.032809Z"
    }],
    ['gke-labs-kube-agents/human_exec.json', 'prod-1', {
      "level": "Request",
      "auditID": "c1d9f0a7-2e64-4f1b-9a35-6be2f0c4d871",
      "stage": "ResponseStarted",
      "requestURI": "/core/v1/namespaces/kubeagents-system/pods/standalone-replay-7d9c8b6f5-xk2mq/exec",
      "verb": "create",
      "user": {
        "username": "engineer@example.com"
      },
      "sourceIPs": [
        "203.0.113.10"
      ],
      "userAgent": "kubectl/v1.36.4 (linux/amd64) kubernetes/bb826b1",
      "objectRef": {
        "apiGroup": "core",
        "apiVersion": "v1",
        "namespace": "kubeagents-system",
        "resource": "pods",
        "name": "standalone-replay-7d9c8b6f5-xk2mq",
        "subresource": "exec"
      },
      "responseStatus": {
        "metadata": {},
        "code": 101
      },
      "requestReceivedTimestamp": "2026-09-04T20:44:41.302887Z",
      "stageTimestamp": "2026-09-04T20:44:41.302887Z"
    }],
    ['gke-labs-kube-agents/human_patch.json', 'prod-1', {
      "level": "RequestResponse",
      "auditID": "804a823a-b500-4283-83f6-494ba93d5d39",
      "stage": "ResponseComplete",
      "requestURI": "/apps/v1/namespaces/kubeagents-system/deployments/standalone-replay",
      "verb": "patch",
      "user": {
        "username": "engineer@example.com"
      },
      "sourceIPs": [
        "203.0.113.10"
      ],
      "userAgent": "kubectl/v1.36.4 (linux/amd64) kubernetes/bb826b1",
      "objectRef": {
        "apiGroup": "apps",
        "apiVersion": "v1",
        "namespace": "kubeagents-system",
        "resource": "deployments",
        "name": "standalone-replay"
      },
      "responseStatus": {
        "metadata": {},
        "code": 200
      },
      "requestReceivedTimestamp": "2026-09-04T20:41:03.889214Z",
      "stageTimestamp": "2026-09-04T20:41:03.889214Z"
    }],
    ['gke-labs-kube-agents/kubelet_bootstrap.json', 'prod-1', {
      "level": "RequestResponse",
      "auditID": "22b05738-62a2-434b-9e67-692f39ba004e",
      "stage": "ResponseComplete",
      "requestURI": "/certificates.k8s.io/v1/certificatesigningrequests/node-csr-hpM6hbesnl8Z0M7FGF_PN6R9fhRs7ySusYK9FwbSF_A",
      "verb": "create",
      "user": {
        "username": "kubelet-nodepool-bootstrap"
      },
      "sourceIPs": [
        "203.0.113.10"
      ],
      "userAgent": "gke-exec-auth-plugin/v0.0.0 (linux/amd64) kubernetes/$Format",
      "objectRef": {
        "apiGroup": "certificates.k8s.io",
        "apiVersion": "v1",
        "resource": "certificatesigningrequests",
        "name": "node-csr-hpM6hbesnl8Z0M7FGF_PN6R9fhRs7ySusYK9FwbSF_A"
      },
      "responseStatus": {
        "metadata": {},
        "code": 201
      },
      "requestReceivedTimestamp": "2026-09-15T22:57:08.216985Z",
      "stageTimestamp": "2026-09-15T22:57:08.216985Z"
    }],
    ['gke-labs-kube-agents/serviceaccount.json', 'prod-1', {
      "level": "RequestResponse",
      "auditID": "79d059a0-e312-4826-ad22-eac31439d6c6",
      "stage": "ResponseComplete",
      "requestURI": "/coordination.k8s.io/v1/namespaces/kube-system/leases/gke-gateway-leader-election",
      "verb": "update",
      "user": {
        "username": "service-000000000000@container-engine-robot.iam.gserviceaccount.com"
      },
      "sourceIPs": [
        "203.0.113.10"
      ],
      "userAgent": "Google GKE Gateway Controller",
      "objectRef": {
        "apiGroup": "coordination.k8s.io",
        "apiVersion": "v1",
        "namespace": "kube-system",
        "resource": "leases",
        "name": "gke-gateway-leader-election"
      },
      "responseStatus": {
        "metadata": {},
        "code": 200
      },
      "requestReceivedTimestamp": "2026-09-15T22:57:20.408882Z",
      "stageTimestamp": "2026-09-15T22:57:20.408882Z"
    }],
    ['gke-labs-kube-agents/system_success.json', 'prod-1', {
      "level": "RequestResponse",
      "auditID": "4897b84f-253e-4744-a131-0204b1521d1d",
      "stage": "ResponseComplete",
      "requestURI": "/core/v1/namespaces/kube-system/configmaps/dpv2-fast-start-config",
      "verb": "patch",
      "user": {
        "username": "system:anet-controller-manager"
      },
      "sourceIPs": [
        "203.0.113.10"
      ],
      "userAgent": "faststart/v0.0.0 (linux/arm64) kubernetes/$Format/anet-controller-manager/1119e51",
      "objectRef": {
        "apiGroup": "core",
        "apiVersion": "v1",
        "namespace": "kube-system",
        "resource": "configmaps",
        "name": "dpv2-fast-start-config"
      },
      "responseStatus": {
        "metadata": {},
        "code": 200
      },
      "requestReceivedTimestamp": "2026-09-15T22:57:18.905239Z",
      "stageTimestamp": "2026-09-15T22:57:18.905239Z"
    }],
    ['gke-labs-kube-agents/unauthenticated_bot.json', 'prod-1', {
      "level": "RequestResponse",
      "auditID": "d8ab2ed7-dabc-4b9b-94e4-8e61c24fe8fa",
      "stage": "ResponseComplete",
      "requestURI": "/core/templates/preview",
      "verb": "create",
      "user": {},
      "sourceIPs": [
        "203.0.113.10"
      ],
      "userAgent": "Mozilla/5.0 (compatible; KimiBot/1.0; +https://kimi.ai/)",
      "responseStatus": {
        "metadata": {},
        "code": 401,
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized"
      },
      "requestReceivedTimestamp": "2026-09-15T19:53:00.533800Z",
      "stageTimestamp": "2026-09-15T19:53:00.533800Z"
    }],
    ['khi/container_recorder_test_1_1.yaml', 'sample-cluster', {
      "level": "RequestResponse",
      "auditID": "85371f7c-2383-4041-96e8-dad63d2d1990",
      "stage": "ResponseComplete",
      "requestURI": "/core/v1/namespaces/1-2-deployment-update/pods/nginx-deployment-surge-8655b4b8c5-xf5f4",
      "verb": "create",
      "user": {
        "username": "system:serviceaccount:kube-system:replicaset-controller"
      },
      "sourceIPs": [
        "172.16.0.3"
      ],
      "userAgent": "kube-controller-manager/v1.28.14 (linux/amd64) kubernetes/a4ef1a6/system:serviceaccount:kube-system:replicaset-controller",
      "objectRef": {
        "apiGroup": "core",
        "apiVersion": "v1",
        "namespace": "1-2-deployment-update",
        "resource": "pods",
        "name": "nginx-deployment-surge-8655b4b8c5-xf5f4"
      },
      "responseStatus": {
        "metadata": {},
        "code": 201
      },
      "requestReceivedTimestamp": "2024-01-01T01:00:00Z",
      "stageTimestamp": "2024-01-01T01:00:00Z"
    }],
    ['khi/container_recorder_test_1_2.yaml', 'sample-cluster', {
      "level": "RequestResponse",
      "auditID": "c7842d26-11fe-446a-b985-b2b67ddbab09",
      "stage": "ResponseComplete",
      "requestURI": "/core/v1/namespaces/1-2-deployment-update/pods/nginx-deployment-surge-8655b4b8c5-xf5f4/status",
      "verb": "patch",
      "user": {
        "username": "system:node:gke-sample-cluster-default-abcdefgh-abcd"
      },
      "sourceIPs": [
        "10.146.0.7"
      ],
      "userAgent": "kubelet/v1.28.14 (linux/amd64) kubernetes/a4ef1a6",
      "objectRef": {
        "apiGroup": "core",
        "apiVersion": "v1",
        "namespace": "1-2-deployment-update",
        "resource": "pods",
        "name": "nginx-deployment-surge-8655b4b8c5-xf5f4",
        "subresource": "status"
      },
      "responseStatus": {
        "metadata": {},
        "code": 200
      },
      "requestReceivedTimestamp": "2024-01-01T01:00:00Z",
      "stageTimestamp": "2024-01-01T01:00:00Z"
    }],
    ['khi/container_recorder_test_1_3.yaml', 'sample-cluster', {
      "level": "RequestResponse",
      "auditID": "7bf65423-5d85-43a0-aaf7-30a2ce7475df",
      "stage": "ResponseComplete",
      "requestURI": "/core/v1/namespaces/1-2-deployment-update/pods/nginx-deployment-surge-8655b4b8c5-xf5f4/status",
      "verb": "patch",
      "user": {
        "username": "system:node:gke-sample-cluster-default-abcdefgh-abcd"
      },
      "sourceIPs": [
        "10.146.0.7"
      ],
      "userAgent": "kubelet/v1.28.14 (linux/amd64) kubernetes/a4ef1a6",
      "objectRef": {
        "apiGroup": "core",
        "apiVersion": "v1",
        "namespace": "1-2-deployment-update",
        "resource": "pods",
        "name": "nginx-deployment-surge-8655b4b8c5-xf5f4",
        "subresource": "status"
      },
      "responseStatus": {
        "metadata": {},
        "code": 200
      },
      "requestReceivedTimestamp": "2024-01-01T01:00:00Z",
      "stageTimestamp": "2024-01-01T01:00:00Z"
    }],
  ];

  test.each(cases)('%s', (rel, cluster, expected) => {
    const payload = samplePayload(join('k8saudit-gke', rel));
    const entry = JSON.parse(payload.toString('utf8'));
    for (const format of ['auto', 'gke'] as PayloadFormat[]) {
      const r = ok(payload, format);
      expect(r.events).toHaveLength(1);
      const ev = r.events[0];
      expect(ev.recordIndex).toBe(0);
      expect(ev.meta).toEqual({ cluster });
      expect(ev.obj.kind).toBe('Event');
      expect(ev.obj.apiVersion).toBe('audit.k8s.io/v1');
      expect(core(ev.obj)).toEqual(expected);
      // Bodies verbatim; annotations = LogEntry labels, then resource labels.
      expect(ev.obj.requestObject).toEqual(entry.protoPayload.request);
      expect(ev.obj.responseObject).toEqual(entry.protoPayload.response);
      expect(ev.obj.annotations).toEqual({ ...(entry.labels ?? {}), ...entry.resource.labels });
    }
  });

  test('the same LogEntry inside a Vector message or a Fluent Bit log string gives the same event', () => {
    const text = samplePayload('k8saudit-gke/gke-labs-kube-agents/human_exec.json').toString('utf8');
    const bare = ok(text).events[0];
    for (const [payload, format] of [
      [JSON.stringify({ message: text, source_type: 'gcp_pubsub', timestamp: '2026-09-04T20:44:52Z' }), 'auto'],
      [JSON.stringify({ message: text }), 'gke'],
      [JSON.stringify({ log: text, date: 1.5 }), 'auto'],
      [JSON.stringify({ log: text }), 'gke'],
    ] as [string, PayloadFormat][]) {
      const r = ok(payload, format);
      expect(r.events.map((e) => [e.obj, e.meta, e.recordIndex])).toEqual([[bare.obj, { cluster: 'prod-1' }, 0]]);
    }
  });
});

describeWithShared(MANAGED)('AKS diagnostic export samples', () => {
  const dir = 'k8saudit-aks/sysdiglabs-aks-audit-log';

  test('event.json: 22 kube-audit records -> 22 events in order, cluster from resourceId', () => {
    const raw = JSON.parse(readFileSync(join(MANAGED, dir, 'event.json'), 'utf8'));
    const r = ok(samplePayload(join(dir, 'event.json')));
    expect(r.events).toHaveLength(22);
    expect(r.skipped).toBeUndefined();
    expect(r.events.map((e) => e.recordIndex)).toEqual([...Array(22).keys()]);
    expect(r.events.map((e) => e.obj)).toEqual(raw.records.map((rec: any) => JSON.parse(rec.properties.log)));
    expect(new Set(r.events.map((e) => e.meta?.cluster))).toEqual(new Set(['KUBETEST']));
    const e2 = r.events[2].obj;
    expect([e2.auditID, e2.verb, e2.user.username, e2.objectRef.resource, e2.objectRef.namespace, e2.responseStatus.code]).toEqual([
      'c8a9b881-23a1-464b-8c82-dae1981b34c1', 'create', 'aksService', 'configmaps', 'kube-system', 409,
    ]);
    expect(r.events.filter((e) => e.obj.stage === 'ResponseStarted').map((e) => e.recordIndex)).toEqual([11, 13]);
  });

  test('sample_EventHubs_event.json: one record on its own (BOM, pretty-printed)', () => {
    const r = ok(samplePayload(join(dir, 'sample_EventHubs_event.json')), 'aks');
    expect(r.events).toHaveLength(1);
    const ev = r.events[0];
    expect([ev.recordIndex, ev.meta]).toEqual([0, { cluster: 'KUBEAUDITLOGTESTCLUSTER' }]);
    expect([ev.obj.auditID, ev.obj.verb, ev.obj.requestURI, ev.obj.user.username, ev.obj.stageTimestamp]).toEqual([
      '4e2a4193-cb3d-4ff7-bf37-32c392fbc23b', 'get', '/apis/autoscaling/v2beta1?timeout=32s',
      'system:serviceaccount:kube-system:generic-garbage-collector', '2020-05-08T22:44:17.862312Z',
    ]);
  });

  test('sample_KubeAuditLog_event.json: a decoded properties.log is a plain Event (no envelope metadata)', () => {
    const r = ok(samplePayload(join(dir, 'sample_KubeAuditLog_event.json')));
    expect(r.events).toHaveLength(1);
    const ev = r.events[0];
    expect(ev.recordIndex).toBeUndefined();
    expect(ev.meta).toBeUndefined();
    expect([ev.obj.auditID, ev.obj.verb, ev.obj.level, ev.obj.objectRef.resource, ev.obj.objectRef.name, ev.obj.responseStatus.code]).toEqual([
      '71749feb-8e92-43e6-a72f-af6171f811ee', 'update', 'RequestResponse', 'controllerrevisions', 'kube-proxy-56987cf666', 200,
    ]);
  });

  test('both categories enabled: kube-audit-admin copies are skipped as duplicates; one category selectable', () => {
    const raw = JSON.parse(readFileSync(join(MANAGED, dir, 'event.json'), 'utf8'));
    // kube-audit-admin = the same events without get/list/watch, appended as Azure would send them.
    const admin = raw.records.filter((rec: any) => !/"verb":"(get|list|watch)"/.test(rec.properties.log)).map((rec: any) => ({ ...rec, category: 'kube-audit-admin' }));
    expect(admin).toHaveLength(1);
    const both = Buffer.from(JSON.stringify({ records: [...raw.records, ...admin] }));
    const r = ok(both);
    expect(r.events).toHaveLength(22);
    expect(r.skipped).toEqual([
      { recordIndex: 22, reason: 'AKS records[22]: duplicate of records[2] (auditID c8a9b881-23a1-464b-8c82-dae1981b34c1, stage ResponseComplete; kube-audit-admin)' },
    ]);
    const onlyAdmin = ok(both, 'aks', { aksCategories: ['kube-audit-admin'] });
    expect(onlyAdmin.events.map((e) => [e.recordIndex, e.obj.auditID])).toEqual([[22, 'c8a9b881-23a1-464b-8c82-dae1981b34c1']]);
    expect(onlyAdmin.skipped).toHaveLength(22);
    expect(onlyAdmin.skipped![0]).toEqual({ recordIndex: 0, reason: 'AKS records[0]: category "kube-audit" not selected (kube-audit-admin)' });
  });
});

describeWithShared(MANAGED)('CloudWatch Logs (EKS) samples', () => {
  const dir = 'k8saudit-eks/otel-collector-contrib';

  test('valid_cloudwatch_log.json: a DATA_MESSAGE whose messages are not audit events is rejected with the first reason', () => {
    for (const payload of [samplePayload(join(dir, 'valid_cloudwatch_log.json')), gzipSync(samplePayload(join(dir, 'valid_cloudwatch_log.json')))]) {
      expect(decode(payload)).toEqual({
        ok: false,
        reason: "CloudWatch logEvents[0]: invalid JSON: Expected ',' or '}' after property value in JSON at position 53 (and 2 more rejected records)",
      });
    }
  });

  test('valid_cloudwatch_log_control.json: CONTROL_MESSAGE gives no events and is counted as skipped, not an error', () => {
    for (const format of ['auto', 'cloudwatch'] as PayloadFormat[]) {
      expect(decode(gzipSync(samplePayload(join(dir, 'valid_cloudwatch_log_control.json'))), format)).toEqual({
        ok: true,
        events: [],
        skipped: [{ recordIndex: 0, reason: 'CloudWatch CONTROL_MESSAGE (destination health check, no audit events)' }],
      });
    }
  });

  test('the AKS sample events shipped from an EKS log group: gzip subscription and per-event records', () => {
    const raw = JSON.parse(readFileSync(join(MANAGED, 'k8saudit-aks/sysdiglabs-aks-audit-log/event.json'), 'utf8'));
    const messages: string[] = raw.records.map((rec: any) => rec.properties.log.trimEnd());
    const logEvents = messages.map((message, i) => ({ id: `3795${i}`, timestamp: 1588977857862 + i, message }));
    const envelope = { messageType: 'DATA_MESSAGE', owner: '123456789012', logGroup: '/aws/eks/prod-eks/cluster', logStream: 'kube-apiserver-audit-0f1e2d', subscriptionFilters: ['kestrel'], logEvents };
    const r = ok(gzipSync(JSON.stringify(envelope)), 'cloudwatch');
    expect(r.events.map((e) => [e.recordIndex, e.meta?.cluster, e.obj.auditID])).toEqual(messages.map((m, i) => [i, 'prod-eks', JSON.parse(m).auditID]));
    // One log event per record (Vector unnested), with and without the group.
    const one = ok(JSON.stringify({ ...logEvents[3], log_group: '/aws/eks/prod-eks/cluster' }));
    expect(one.events.map((e) => [e.recordIndex, e.meta, e.obj])).toEqual([[0, { cluster: 'prod-eks' }, JSON.parse(messages[3])]]);
    expect(ok(JSON.stringify(logEvents[3]), 'cloudwatch').events[0].meta).toBeUndefined();
  });
});

describeWithShared(MANAGED)('OVH Logs Data Platform (built from a real audit Event)', () => {
  test('tail message, GELF record and rendered line all give the event', () => {
    const event = JSON.parse(samplePayload('k8saudit-aks/sysdiglabs-aks-audit-log/sample_KubeAuditLog_event.json').toString('utf8').replace(/^\uFEFF/, ''));
    const gelf = { version: '1.1', host: 'mks', short_message: JSON.stringify(event), _appID: '5f2c1a9e', timestamp: 1588977857.8 };
    for (const [payload, format] of [
      [JSON.stringify({ message: JSON.stringify(gelf) }), 'ovh'],
      [JSON.stringify({ message: JSON.stringify(gelf) }), 'auto'],
      [JSON.stringify(gelf), 'auto'],
      [`5f2c1a9e> ${JSON.stringify(event)}`, 'ovh'],
      [`5f2c1a9e> ${JSON.stringify(event)}`, 'auto'],
      [JSON.stringify({ message: `5f2c1a9e> ${JSON.stringify(event)}` }), 'ovh'],
    ] as [string, PayloadFormat][]) {
      expect(ok(payload, format).events.map((e) => e.obj)).toEqual([event]);
    }
  });
});
