/**
 * From one parsed JSON document to audit events. Accepts an audit.k8s.io
 * `Event`, an `EventList` (each item an event), and for the admission source
 * a kube-audit-rest AdmissionReview. Everything else is rejected with a
 * reason; nothing is guessed silently.
 */
export type Decoded = { ok: true; events: object[] } | { ok: false; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Heuristic for an Event whose `kind` was dropped (e.g. EventList items, some shippers). */
function looksLikeAuditEvent(o: Record<string, unknown>): boolean {
  return typeof o.auditID === 'string' && typeof o.stage === 'string';
}

export function decodeAuditDocument(doc: unknown): Decoded {
  if (!isObject(doc)) return { ok: false, reason: `not an audit event: JSON ${Array.isArray(doc) ? 'array' : typeof doc === 'object' ? 'null' : typeof doc} instead of an object` };
  const kind = doc.kind;
  if (kind === 'EventList') {
    if (!Array.isArray(doc.items)) return { ok: false, reason: 'EventList without an items array' };
    const bad = doc.items.findIndex((it) => !isObject(it));
    if (bad >= 0) return { ok: false, reason: `EventList item ${bad} is not an object` };
    return { ok: true, events: doc.items as object[] };
  }
  if (kind === 'Event' || (kind === undefined && looksLikeAuditEvent(doc))) {
    if (typeof doc.apiVersion === 'string' && !doc.apiVersion.startsWith('audit.k8s.io/')) {
      return { ok: false, reason: `not an audit event: apiVersion '${doc.apiVersion}' (expected audit.k8s.io/v1)` };
    }
    return { ok: true, events: [doc] };
  }
  return { ok: false, reason: `not an audit event: kind ${kind === undefined ? 'missing' : JSON.stringify(kind)} (expected "Event" or "EventList")` };
}

/** kube-audit-rest writes one AdmissionReview per line; its `request.uid` identifies it. */
export function decodeAdmissionDocument(doc: unknown): Decoded {
  if (!isObject(doc)) return { ok: false, reason: 'not an AdmissionReview: JSON value is not an object' };
  if (doc.kind !== undefined && doc.kind !== 'AdmissionReview') return { ok: false, reason: `not an AdmissionReview: kind ${JSON.stringify(doc.kind)}` };
  const req = doc.request;
  if (!isObject(req)) return { ok: false, reason: 'AdmissionReview without a request object' };
  if (typeof req.uid !== 'string' || req.uid === '') return { ok: false, reason: 'AdmissionReview request has no uid' };
  return { ok: true, events: [doc] };
}

export function decoderFor(source: string): (doc: unknown) => Decoded {
  return source === 'k8s_admission' ? decodeAdmissionDocument : decodeAuditDocument;
}
