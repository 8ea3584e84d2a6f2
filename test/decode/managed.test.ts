/**
 * Managed-Kubernetes envelopes on synthetic records: truncation, control
 * messages, partial records, gzip limits and pinned-format mismatches. The
 * real samples are decoded in test/managed/.
 */
import { gzipSync } from 'zlib';
import { decodePayload, type EnvelopeOptions, type PayloadFormat } from '../../src/decode/envelope';

const EVENT = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: 'a-1', stage: 'ResponseComplete', verb: 'get', requestURI: '/api/v1/pods', user: { username: 'dana' } };
const EVENT2 = { ...EVENT, auditID: 'a-2', verb: 'create' };

function decode(payload: Buffer | string, format: PayloadFormat = 'auto', extra: Partial<EnvelopeOptions> = {}) {
  return decodePayload(typeof payload === 'string' ? Buffer.from(payload) : payload, { format, source: 'k8s_audit', hostname: 'h', maxBytes: 1 << 20, ...extra });
}

const subscription = (messages: string[], logGroup = '/aws/eks/blue/cluster') =>
  JSON.stringify({ messageType: 'DATA_MESSAGE', owner: '1', logGroup, logStream: 'kube-apiserver-audit-1', subscriptionFilters: ['k'], logEvents: messages.map((message, i) => ({ id: String(i), timestamp: 1700000000000 + i, message })) });

describe('CloudWatch', () => {
  test('a [Truncated...] line rejects the message, or only itself with partialRecords', () => {
    const cut = `${JSON.stringify(EVENT).slice(0, 40)}[Truncated...]`;
    const payload = gzipSync(subscription([JSON.stringify(EVENT), cut, JSON.stringify(EVENT2)]));
    const reason = `CloudWatch logEvents[1]: message truncated by CloudWatch (ends with "[Truncated...]", ${cut.length} characters)`;
    expect(decode(payload)).toEqual({ ok: false, reason });
    const r = decode(payload, 'cloudwatch', { partialRecords: true });
    if (!r.ok) throw new Error(r.reason);
    expect(r.events.map((e) => [e.recordIndex, e.meta, e.obj.auditID])).toEqual([[0, { cluster: 'blue' }, 'a-1'], [2, { cluster: 'blue' }, 'a-2']]);
    expect(r.rejected).toEqual([{ recordIndex: 1, reason }]);
  });

  test('a single truncated log event, bare or in a Vector message', () => {
    const cut = `${JSON.stringify(EVENT).slice(0, 30)}[Truncated...]`;
    expect(decode(JSON.stringify({ id: '1', timestamp: 1, message: cut }))).toEqual({
      ok: false,
      reason: `CloudWatch log event: message truncated by CloudWatch (ends with "[Truncated...]", ${cut.length} characters)`,
    });
    expect(decode(JSON.stringify({ message: cut, source_type: 'aws_kinesis_firehose' }))).toEqual({
      ok: false,
      reason: `Vector event: message: message truncated by CloudWatch (ends with "[Truncated...]", ${cut.length} characters)`,
    });
  });

  test('log groups that are not EKS control-plane groups name no cluster', () => {
    const r = decode(subscription([JSON.stringify(EVENT)], '/aws/lambda/x'));
    expect(r.ok && r.events.map((e) => [e.recordIndex, e.meta])).toEqual([[0, undefined]]);
  });

  test.each<[string | Buffer, PayloadFormat, string]>([
    [JSON.stringify({ messageType: 'OTHER', logEvents: [] }), 'auto', 'CloudWatch subscription: unknown messageType "OTHER"'],
    [JSON.stringify({ messageType: 'DATA_MESSAGE', logEvents: [] }), 'cloudwatch', 'CloudWatch DATA_MESSAGE with no logEvents'],
    [JSON.stringify(EVENT), 'cloudwatch', 'not a CloudWatch Logs subscription message or log event (input format cloudwatch)'],
    [gzipSync(JSON.stringify(EVENT)), 'event', 'gzip-compressed payload (input format event; use cloudwatch or auto)'],
    [gzipSync(JSON.stringify(EVENT)).subarray(0, 20), 'auto', 'invalid gzip payload: unexpected end of file'],
  ])('rejects case %#', (payload, format, reason) => {
    expect(decode(payload, format)).toEqual({ ok: false, reason });
  });

  test('a gzip payload bigger than the limit once uncompressed is rejected', () => {
    const big = gzipSync(subscription([JSON.stringify({ ...EVENT, pad: 'x'.repeat(5000) })]));
    expect(big.length).toBeLessThan(1000);
    expect(decode(big, 'auto', { maxBytes: 2000 })).toEqual({ ok: false, reason: 'gzip payload larger than the 2000-byte limit once uncompressed' });
  });
});

describe('AKS', () => {
  const record = (log: string, category = 'kube-audit') => ({ category, resourceId: '/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/GREEN', properties: { log, stream: 'stdout' } });

  test('properties.log cut at 16 KiB is rejected with that reason; partialRecords keeps the others', () => {
    const long = JSON.stringify({ ...EVENT, auditID: 'a-3', requestObject: { data: 'y'.repeat(20000) } }).slice(0, 16384);
    const payload = JSON.stringify({ records: [record(JSON.stringify(EVENT)), record(long)] });
    const reason = 'AKS records[1]: properties.log truncated by Azure at 16 KiB (16384 bytes, not a complete JSON document)';
    expect(decode(payload)).toEqual({ ok: false, reason });
    const r = decode(payload, 'aks', { partialRecords: true });
    expect(r).toEqual({ ok: true, events: [expect.objectContaining({ recordIndex: 0, meta: { cluster: 'GREEN' } })], rejected: [{ recordIndex: 1, reason }] });
  });

  test('a short invalid log is invalid JSON, not truncation; the same auditID at another stage is not a duplicate', () => {
    expect(decode(JSON.stringify({ records: [record('{"kind":')] }))).toEqual({ ok: false, reason: 'AKS records[0]: properties.log is not valid JSON: Unexpected end of JSON input' });
    const started = { ...EVENT, stage: 'ResponseStarted' };
    const r = decode(JSON.stringify({ records: [record(JSON.stringify(started)), record(JSON.stringify(EVENT)), record(JSON.stringify(EVENT), 'kube-audit-admin')] }));
    if (!r.ok) throw new Error(r.reason);
    expect(r.events.map((e) => [e.recordIndex, e.obj.stage])).toEqual([[0, 'ResponseStarted'], [1, 'ResponseComplete']]);
    expect(r.skipped?.map((s) => s.recordIndex)).toEqual([2]);
  });

  test('only unselected categories: no events, every record skipped', () => {
    const r = decode(JSON.stringify({ records: [record(JSON.stringify(EVENT), 'kube-apiserver')] }));
    expect(r).toEqual({ ok: true, events: [], skipped: [{ recordIndex: 0, reason: 'AKS records[0]: category "kube-apiserver" not selected (kube-audit, kube-audit-admin)' }] });
  });
});

describe('GKE', () => {
  const entry = (p: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      insertId: 'i-1',
      logName: 'projects/p/logs/cloudaudit.googleapis.com%2Fdata_access',
      protoPayload: { '@type': 'type.googleapis.com/google.cloud.audit.AuditLog', serviceName: 'k8s.io', methodName: 'io.k8s.core.v1.pods.list', resourceName: 'core/v1/namespaces/ns1/pods', ...p },
      resource: { type: 'k8s_cluster', labels: { cluster_name: 'c1' } },
      timestamp: '2026-01-02T03:04:05.123456Z',
      receiveTimestamp: '2026-01-02T03:04:09Z',
      ...extra,
    });

  test('a namespaced list: objectRef without name; status 5 -> 404; timestamps from timestamp', () => {
    const r = decode(entry({ status: { code: 5, message: 'gone' } }), 'gke');
    if (!r.ok) throw new Error(r.reason);
    const o = r.events[0].obj;
    expect([o.verb, o.objectRef, o.responseStatus, o.requestReceivedTimestamp, o.stageTimestamp]).toEqual([
      'list', { apiGroup: 'core', apiVersion: 'v1', namespace: 'ns1', resource: 'pods' },
      { metadata: {}, status: 'Failure', code: 404, reason: 'NotFound', message: 'gone' },
      '2026-01-02T03:04:05.123456Z', '2026-01-02T03:04:05.123456Z',
    ]);
  });

  test('non-namespaced subresource and a missing timestamp (receiveTimestamp is used)', () => {
    const r = decode(entry({ methodName: 'io.k8s.core.v1.nodes.proxy.get', resourceName: 'core/v1/nodes/n1/proxy' }, { timestamp: undefined }));
    if (!r.ok) throw new Error(r.reason);
    const o = r.events[0].obj;
    expect([o.verb, o.objectRef, o.responseStatus, o.stageTimestamp]).toEqual(['get', { apiGroup: 'core', apiVersion: 'v1', resource: 'nodes', name: 'n1', subresource: 'proxy' }, { metadata: {}, code: 200 }, '2026-01-02T03:04:09Z']);
  });

  test.each<[string, PayloadFormat, string]>([
    [entry({ serviceName: 'compute.googleapis.com' }), 'auto', 'GKE LogEntry: serviceName "compute.googleapis.com" is not k8s.io (not a Kubernetes audit log)'],
    [entry({ '@type': 'type.googleapis.com/google.protobuf.Struct' }), 'gke', 'GKE LogEntry: protoPayload @type "type.googleapis.com/google.protobuf.Struct" is not type.googleapis.com/google.cloud.audit.AuditLog'],
    [entry({}, { insertId: '' }), 'auto', 'GKE LogEntry without an insertId (the audit ID)'],
    [entry({ methodName: undefined }), 'auto', 'GKE LogEntry: protoPayload has no methodName'],
    [JSON.stringify({ message: entry({ serviceName: 'x' }) }), 'auto', 'Vector event: message: GKE LogEntry: serviceName "x" is not k8s.io (not a Kubernetes audit log)'],
    [JSON.stringify(EVENT), 'gke', 'not a Cloud Logging LogEntry (input format gke)'],
  ])('rejects case %#', (payload, format, reason) => {
    expect(decode(payload, format)).toEqual({ ok: false, reason });
  });
});

describe('OVH', () => {
  test.each<[string, PayloadFormat, string]>([
    ['app> {"kind":"Pod"}', 'ovh', 'OVH line: not an audit event: kind "Pod" (expected "Event" or "EventList")'],
    [JSON.stringify({ message: 'no separator here' }), 'ovh', 'OVH message: invalid JSON: Unexpected token \'o\', "no separator here" is not valid JSON'],
    [JSON.stringify(EVENT), 'ovh', 'not an OVH Logs Data Platform record (input format ovh)'],
  ])('rejects case %#', (payload, format, reason) => {
    expect(decode(payload, format)).toEqual({ ok: false, reason });
  });
});
