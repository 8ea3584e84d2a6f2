/**
 * What an alert carries of the audit event that fired it, beyond Falco's
 * alert: who did what to which object, from where, with what result. It is
 * read from the event document itself (never from the rendered output), in
 * the worker right after evaluation, and is a plain JSON-serialisable object
 * because it crosses worker threads with the alert (postMessage).
 *
 * The OCSF and ECS payloads (sinks/formats/) are filled from it; with an
 * output's `include_event: metadata` it is also attached as is, and with
 * `include_event: full` together with the whole event, as compact JSON text,
 * when that text fits the output's byte cap. Over the cap the event text is
 * left out and `truncated` says so (with its size): a SIEM then still gets
 * every metadata field, and never half a document.
 *
 * k8s_admission documents (AdmissionReview, as kube-audit-rest logs them) are
 * mapped onto the same names: request.uid is the auditID, the operation is the
 * verb, userInfo is the user, kind/resource/namespace/name are the objectRef.
 */
import type { EventView } from '../fields/types';

export type IncludeEvent = 'none' | 'metadata' | 'full';

export interface ContextUser {
  username?: string;
  uid?: string;
  groups?: string[];
}

export interface ContextObjectRef {
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiGroup?: string;
  apiVersion?: string;
  /** The object's kind (AdmissionReview request.kind.kind); audit events do not record it. */
  kind?: string;
}

export interface AlertContext {
  source: string;
  /** k8s_audit auditID; k8s_admission request.uid. */
  auditID?: string;
  stage?: string;
  /** Lower-case API verb (k8s_audit) or the admission operation as sent (CREATE, UPDATE, DELETE, CONNECT). */
  verb?: string;
  requestURI?: string;
  user?: ContextUser;
  impersonatedUser?: ContextUser;
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: ContextObjectRef;
  responseStatus?: { code?: number; reason?: string; message?: string };
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
  /** The event's annotations (authorization.k8s.io/decision and /reason, pod-security.kubernetes.io/*, ...). */
  annotations?: Record<string, string>;
  /** k8s_admission only. */
  dryRun?: boolean;
  /** The whole event as compact JSON text: only with include `full` and when it fits the cap. */
  event?: string;
  /** Set when include `full` was asked but the event is over the cap: its size in bytes and the cap. */
  truncated?: { eventBytes: number; maxEventBytes: number };
}

const AUTH_DECISION = 'authorization.k8s.io/decision';
const AUTH_REASON = 'authorization.k8s.io/reason';

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function strList(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.filter((x): x is string => typeof x === 'string');
  return out.length > 0 ? out : undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Drop undefined members so the object is small and its JSON stable. */
function compact<T extends object>(o: T): T | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return Object.keys(out).length > 0 ? (out as T) : undefined;
}

function userOf(v: unknown): ContextUser | undefined {
  const u = obj(v);
  if (!u) return undefined;
  return compact({ username: str(u.username), uid: str(u.uid), groups: strList(u.groups) });
}

function stringRecord(v: unknown): Record<string, string> | undefined {
  const o = obj(v);
  if (!o) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(o)) if (typeof x === 'string') out[k] = x;
  return Object.keys(out).length > 0 ? out : undefined;
}

function auditContext(ev: Record<string, unknown>): AlertContext {
  const ref = obj(ev.objectRef);
  const status = obj(ev.responseStatus);
  return compact({
    source: 'k8s_audit',
    auditID: str(ev.auditID),
    stage: str(ev.stage),
    verb: str(ev.verb),
    requestURI: str(ev.requestURI),
    user: userOf(ev.user),
    impersonatedUser: userOf(ev.impersonatedUser),
    sourceIPs: strList(ev.sourceIPs),
    userAgent: str(ev.userAgent),
    objectRef: ref && compact({
      resource: str(ref.resource), subresource: str(ref.subresource), namespace: str(ref.namespace), name: str(ref.name),
      uid: str(ref.uid), apiGroup: str(ref.apiGroup), apiVersion: str(ref.apiVersion),
    }),
    responseStatus: status && compact({ code: typeof status.code === 'number' ? status.code : undefined, reason: str(status.reason), message: str(status.message) }),
    requestReceivedTimestamp: str(ev.requestReceivedTimestamp),
    stageTimestamp: str(ev.stageTimestamp),
    annotations: stringRecord(ev.annotations),
  })!;
}

function admissionContext(doc: Record<string, unknown>): AlertContext {
  const req = obj(doc.request) ?? {};
  const resource = obj(req.resource);
  const kind = obj(req.kind);
  return compact({
    source: 'k8s_admission',
    auditID: str(req.uid),
    verb: str(req.operation),
    user: userOf(req.userInfo),
    objectRef: compact({
      resource: str(resource?.resource), subresource: str(req.subResource), namespace: str(req.namespace), name: str(req.name),
      apiGroup: str(resource?.group) || undefined, apiVersion: str(resource?.version), kind: str(kind?.kind),
    }),
    requestReceivedTimestamp: str(doc.requestReceivedTimestamp),
    dryRun: typeof req.dryRun === 'boolean' ? req.dryRun : undefined,
  })!;
}

/**
 * The context of the event an alert was raised for. `include` is the most the
 * outputs ask for: `none` and `metadata` give the metadata fields (the OCSF and
 * ECS payloads need them either way); `full` adds the event text when its
 * UTF-8 size is at most `maxEventBytes`, otherwise `truncated`.
 */
export function alertContext(view: EventView, source: string, include: IncludeEvent, maxEventBytes: number): AlertContext {
  const doc = obj(view.obj) ?? {};
  const ctx = source === 'k8s_admission' ? admissionContext(doc) : auditContext(doc);
  if (include === 'full') {
    // Compact text even when the input was pretty-printed: outputs are one alert per line.
    const text = JSON.stringify(view.obj);
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes <= maxEventBytes) ctx.event = text;
    else ctx.truncated = { eventBytes: bytes, maxEventBytes };
  }
  return ctx;
}

/** The authorization decision and reason the API server recorded (k8s_audit annotations). */
export function authorization(ctx: AlertContext): { decision?: string; reason?: string } {
  return { decision: ctx.annotations?.[AUTH_DECISION], reason: ctx.annotations?.[AUTH_REASON] || undefined };
}

/**
 * The context as one output shows it: nothing (`none`), the metadata, or the
 * metadata and the event (`full`) when the event fits this output's cap (the
 * worker extracted it with the largest cap of all outputs).
 */
export function contextFor(ctx: AlertContext, include: IncludeEvent, maxEventBytes = Infinity): AlertContext | undefined {
  if (include === 'none') return undefined;
  const { event, truncated, ...metadata } = ctx;
  if (include === 'metadata') return metadata;
  if (event !== undefined) {
    const bytes = Buffer.byteLength(event, 'utf8');
    return bytes <= maxEventBytes ? { ...metadata, event } : { ...metadata, truncated: { eventBytes: bytes, maxEventBytes } };
  }
  if (truncated) return { ...metadata, truncated: { eventBytes: truncated.eventBytes, maxEventBytes: Math.min(truncated.maxEventBytes, maxEventBytes) } };
  return metadata;
}

/** An output's event settings (include_event and its cap), as the worker needs them. */
export interface EventInclusion {
  includeEvent?: IncludeEvent;
  /** Cap on the event text with includeEvent full (YAML `include_event_max_bytes`). */
  includeEventMaxBytes?: number;
}

/**
 * What the worker extracts for a set of outputs: the most any output includes,
 * and with `full` the largest cap of the outputs that ask for it (each output
 * then applies its own cap in contextFor).
 */
export function contextNeeds(outputs: readonly EventInclusion[], defaultMaxEventBytes: number): { include: IncludeEvent; maxEventBytes: number } {
  const full = outputs.filter((o) => o.includeEvent === 'full');
  if (full.length > 0) return { include: 'full', maxEventBytes: Math.max(...full.map((o) => o.includeEventMaxBytes ?? defaultMaxEventBytes)) };
  return { include: outputs.some((o) => o.includeEvent === 'metadata') ? 'metadata' : 'none', maxEventBytes: 0 };
}
