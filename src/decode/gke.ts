/**
 * GKE: a Cloud Logging LogEntry whose protoPayload is a google.cloud.audit.AuditLog
 * written by the Kubernetes API server (serviceName k8s.io), converted into an
 * audit.k8s.io/v1 Event the way Falco's k8saudit-gke plugin does, so the
 * upstream rules and the GKE overlay see the same fields. Where the plugin drops
 * information Kestrel keeps it (docs/managed.md, "GKE: differences from the plugin"):
 *  - responseStatus comes from the record (the apiserver's Status response, else
 *    protoPayload.status mapped to HTTP) instead of an invented 200/201;
 *  - both timestamps are the LogEntry `timestamp` (the apiserver's), not
 *    `receiveTimestamp` (Cloud Logging's ingestion time).
 * Pure: no I/O.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export const AUDIT_LOG_TYPE = 'type.googleapis.com/google.cloud.audit.AuditLog';

/** A LogEntry shape (any service): has a protoPayload object. */
export function looksLikeLogEntry(o: Obj): boolean {
  return isObj(o.protoPayload) && (typeof o.insertId === 'string' || typeof o.logName === 'string');
}

export type GkeConversion = { ok: true; event: Obj; cluster?: string } | { ok: false; reason: string };

/**
 * google.rpc.Code -> the HTTP status the API server answers with (the mapping
 * of google/rpc/code.proto's comments), for records without a Status response.
 */
const RPC_TO_HTTP: Record<number, number> = {
  1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
};
const RPC_NAMES: Record<number, string> = {
  1: 'Cancelled', 2: 'Unknown', 3: 'InvalidArgument', 4: 'DeadlineExceeded', 5: 'NotFound', 6: 'AlreadyExists', 7: 'PermissionDenied',
  8: 'ResourceExhausted', 9: 'FailedPrecondition', 10: 'Aborted', 11: 'OutOfRange', 12: 'Unimplemented', 13: 'Internal', 14: 'Unavailable',
  15: 'DataLoss', 16: 'Unauthenticated',
};

export function convertLogEntry(entry: Obj): GkeConversion {
  const p = entry.protoPayload;
  if (!isObj(p)) return { ok: false, reason: 'GKE LogEntry without a protoPayload object' };
  if (p['@type'] !== AUDIT_LOG_TYPE) return { ok: false, reason: `GKE LogEntry: protoPayload @type ${JSON.stringify(p['@type'])} is not ${AUDIT_LOG_TYPE}` };
  if (p.serviceName !== 'k8s.io') return { ok: false, reason: `GKE LogEntry: serviceName ${JSON.stringify(p.serviceName)} is not k8s.io (not a Kubernetes audit log)` };
  const insertId = str(entry.insertId);
  if (!insertId) return { ok: false, reason: 'GKE LogEntry without an insertId (the audit ID)' };
  const methodName = str(p.methodName);
  if (!methodName) return { ok: false, reason: 'GKE LogEntry: protoPayload has no methodName' };

  const resourceName = typeof p.resourceName === 'string' ? p.resourceName : '';
  const objectRef = objectRefOf(resourceName);
  const verb = methodName.slice(methodName.lastIndexOf('.') + 1);
  const streaming = objectRef?.subresource === 'exec' || objectRef?.subresource === 'attach';
  const auth = isObj(p.authenticationInfo) ? p.authenticationInfo : {};
  const meta = isObj(p.requestMetadata) ? p.requestMetadata : {};
  const resource = isObj(entry.resource) ? entry.resource : {};
  const resourceLabels = isObj(resource.labels) ? resource.labels : {};

  const annotations: Record<string, string> = {};
  for (const labels of [entry.labels, resourceLabels]) {
    if (isObj(labels)) for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') annotations[k] = v;
  }
  const time = str(entry.timestamp) ?? str(entry.receiveTimestamp);

  const event: Obj = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: streaming ? 'Request' : 'RequestResponse',
    auditID: insertId,
    stage: streaming ? 'ResponseStarted' : 'ResponseComplete',
    requestURI: `/${resourceName}`,
    verb,
    user: str(auth.principalEmail) ? { username: auth.principalEmail } : {},
    sourceIPs: str(meta.callerIp) ? [meta.callerIp] : undefined,
    userAgent: str(meta.callerSuppliedUserAgent),
    objectRef,
    responseStatus: responseStatusOf(p, verb, streaming),
    requestObject: isObj(p.request) ? p.request : undefined,
    responseObject: isObj(p.response) ? p.response : undefined,
    requestReceivedTimestamp: time,
    stageTimestamp: time,
    annotations,
  };
  for (const k of Object.keys(event)) if (event[k] === undefined) delete event[k];
  return { ok: true, event, cluster: str(resourceLabels.cluster_name) };
}

/**
 * resourceName is `<group>/<version>/[namespaces/<ns>/]<resource>[/<name>[/<subresource>]]`
 * with the core group written `core`. Same segment rules as the plugin: shapes it
 * does not recognise (e.g. 3 segments: a list, or a non-resource path) get no objectRef.
 */
function objectRefOf(resourceName: string): Obj | undefined {
  if (resourceName === '') return undefined;
  const s = resourceName.split('/');
  const namespaced = s[2] === 'namespaces';
  let ref: Obj | undefined;
  if (namespaced && s.length === 6) ref = { apiGroup: s[0], apiVersion: s[1], namespace: s[3], resource: s[4], name: s[5] };
  else if (namespaced && s.length === 5) ref = { apiGroup: s[0], apiVersion: s[1], namespace: s[3], resource: s[4] };
  else if (s.length === 4) ref = { apiGroup: s[0], apiVersion: s[1], resource: s[2], name: s[3] };
  else if (namespaced && s.length >= 7) ref = { apiGroup: s[0], apiVersion: s[1], namespace: s[3], resource: s[4], name: s[5], subresource: s[6] };
  else if (!namespaced && s.length >= 5) ref = { apiGroup: s[0], apiVersion: s[1], resource: s[2], name: s[3], subresource: s[4] };
  return ref;
}

/**
 * What the API server answered: its own Status response when the record has
 * one (exact HTTP code), else protoPayload.status (google.rpc.Status) mapped to
 * HTTP; success without a Status: 101 for exec/attach, 201 for create, 200.
 */
function responseStatusOf(p: Obj, verb: string, streaming: boolean): Obj {
  const resp = p.response;
  if (isObj(resp) && (resp.kind === 'Status' || resp['@type'] === 'core.k8s.io/v1.Status') && typeof resp.code === 'number') {
    const out: Obj = { metadata: {}, code: resp.code };
    if (typeof resp.status === 'string') out.status = resp.status;
    if (typeof resp.message === 'string') out.message = resp.message;
    if (typeof resp.reason === 'string') out.reason = resp.reason;
    return out;
  }
  const st = isObj(p.status) ? p.status : {};
  const rpc = typeof st.code === 'number' ? st.code : 0;
  if (rpc !== 0) {
    const out: Obj = { metadata: {}, status: 'Failure', code: RPC_TO_HTTP[rpc] ?? 500, reason: RPC_NAMES[rpc] ?? `RpcCode${rpc}` };
    if (typeof st.message === 'string' && st.message !== '') out.message = st.message;
    return out;
  }
  if (streaming) return { metadata: {}, code: 101 };
  return { metadata: {}, code: verb === 'create' ? 201 : 200 };
}
