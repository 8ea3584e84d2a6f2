/**
 * One Kafka message payload → audit events. Log shippers wrap events in their
 * own records; this module recognises the shapes they produce and hands the
 * audit document to src/decode (which owns what counts as an audit event):
 *
 *   event      a bare audit Event (or AdmissionReview for k8s_admission)
 *   eventlist  an EventList
 *   lines      several documents, one per line (every line must decode)
 *   fluentbit  {"log": "<event JSON>", ...} or the event's keys merged beside
 *              Fluent Bit's (`time`, `kubernetes`, `stream`...)
 *   vector     {"message": "<event JSON>" | {event}, ...} or the event's keys
 *              beside Vector's (`timestamp`, `source_type`, `host`...)
 *   cloudwatch EKS via CloudWatch Logs: the subscription envelope (gzip or plain
 *              JSON; DATA_MESSAGE -> its logEvents, CONTROL_MESSAGE skipped) or
 *              one log event {id, timestamp, message} (cloudwatch.ts)
 *   gke        a Cloud Logging LogEntry (k8s.io AuditLog), bare or in a Vector
 *              `message` / Fluent Bit `log` string, converted to an Event (gke.ts)
 *   aks        Azure diagnostic export {"records": [...]}, or one of its records (aks.ts)
 *   ovh        OVH Logs Data Platform: {"message": "<GELF JSON>"}, the GELF
 *              record, or the line `<appID>> <event JSON>` (ovh.ts)
 *   auto       the first that fits, in the order: gzip (CloudWatch) is
 *              uncompressed; JSON document (an Event, else a managed envelope,
 *              else unwrapping `log`/`message`), else one document per line.
 *
 * Managed envelopes give each event its `recordIndex` (the position of its
 * record inside the message) and `meta.cluster` when the record names the
 * cluster; records skipped on purpose (control messages, unselected AKS
 * categories, duplicates) are listed in `skipped`. A truncated or invalid
 * record rejects the whole message with its reason, unless `partialRecords`
 * is set: then the good records are decoded and the bad ones are listed in
 * `rejected` (the caller dead-letters them).
 *
 * Shipper keys beside an event are dropped (only audit Event keys are kept) so
 * a wrapped event evaluates exactly like the bare one. Pure: no I/O.
 */
import { isUtf8 } from 'node:buffer';
import { gunzipSync } from 'node:zlib';
import { decodeDocument, decodeParsed, type DecodedEvent, type DecodeResult } from './events';
import { looksLikeLogEvent, looksLikeSubscription, truncationOf, unwrapLogEvent, unwrapSubscription } from './cloudwatch';
import { convertLogEntry, looksLikeLogEntry } from './gke';
import { looksLikeAksExport, looksLikeAksRecord, unwrapAksExport } from './aks';
import { looksLikeGelf, ovhLinePayload } from './ovh';
import type { RecordNote, Unwrapped } from './records';
import { jsonErrorText } from '../language/json-error';

/** How a message payload is wrapped (input config `format`). */
export type PayloadFormat = 'auto' | 'event' | 'eventlist' | 'lines' | 'fluentbit' | 'vector' | 'cloudwatch' | 'gke' | 'aks' | 'ovh';
export const PAYLOAD_FORMATS: readonly PayloadFormat[] = ['auto', 'event', 'eventlist', 'lines', 'fluentbit', 'vector', 'cloudwatch', 'gke', 'aks', 'ovh'];

export interface EnvelopeOptions {
  format: PayloadFormat;
  source: string;
  hostname?: string;
  maxBytes: number;
  /** AKS: the diagnostic categories read (default kube-audit and kube-audit-admin). */
  aksCategories?: readonly string[];
  /** Multi-record envelopes: decode the good records and list the bad ones in `rejected` instead of rejecting the message. */
  partialRecords?: boolean;
}
type TextOptions = Omit<EnvelopeOptions, 'maxBytes'>;

/** The keys of an audit.k8s.io/v1 Event. */
const AUDIT_EVENT_KEYS = new Set([
  'kind', 'apiVersion', 'level', 'auditID', 'stage', 'requestURI', 'verb', 'user', 'impersonatedUser', 'sourceIPs',
  'userAgent', 'objectRef', 'responseStatus', 'requestObject', 'responseObject', 'requestReceivedTimestamp',
  'stageTimestamp', 'annotations',
]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const looksLikeEvent = (o: Obj) => o.kind === 'Event' || o.kind === 'EventList' || (typeof o.auditID === 'string' && typeof o.stage === 'string');

export function decodePayload(bytes: Uint8Array, opts: EnvelopeOptions): DecodeResult {
  if (bytes.length > opts.maxBytes) return { ok: false, reason: `message larger than the ${opts.maxBytes}-byte limit (${bytes.length} bytes)` };
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    // CloudWatch Logs gzips what its subscriptions deliver.
    if (opts.format !== 'auto' && opts.format !== 'cloudwatch') return { ok: false, reason: `gzip-compressed payload (input format ${opts.format}; use cloudwatch or auto)` };
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: opts.maxBytes });
    } catch (e) {
      const tooBig = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError;
      return { ok: false, reason: tooBig ? `gzip payload larger than the ${opts.maxBytes}-byte limit once uncompressed` : `invalid gzip payload: ${(e as Error).message}` };
    }
  }
  if (!isUtf8(bytes)) return { ok: false, reason: 'invalid UTF-8' };
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (!/\S/.test(text)) return { ok: false, reason: 'empty message' };
  return decodeText(text, opts);
}

export function decodeText(text: string, opts: TextOptions): DecodeResult {
  switch (opts.format) {
    case 'lines':
      return decodeLines(text, opts);
    case 'event':
    case 'eventlist': {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (e) {
        return { ok: false, reason: `invalid JSON: ${jsonErrorText(e)}` };
      }
      const r = decodeParsed(doc, opts.source, opts.hostname, text);
      if (!r.ok || opts.source !== 'k8s_audit') return r;
      const kind = (doc as Obj).kind;
      if (opts.format === 'eventlist' && kind !== 'EventList') return { ok: false, reason: 'not an EventList (input.format is eventlist)' };
      if (opts.format === 'event' && kind === 'EventList') return { ok: false, reason: 'an EventList, not an Event (input.format is event)' };
      return r;
    }
    default: {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (e) {
        // Several documents, one per line, do not parse as one.
        if (opts.format === 'auto' && text.trim().includes('\n')) return decodeLines(text, opts);
        if (opts.format === 'ovh' || opts.format === 'auto') {
          const json = ovhLinePayload(text.trim());
          if (json !== undefined) return inner(json, 'OVH line', { ...opts, format: 'event' }, 1);
        }
        return { ok: false, reason: `invalid JSON: ${jsonErrorText(e)}` };
      }
      return decodeRecord(doc, text, opts);
    }
  }
}

/** One parsed record: bare document, a managed envelope, or a shipper record around one. */
function decodeRecord(doc: unknown, text: string, opts: TextOptions, depth = 0): DecodeResult {
  if (isObj(doc) && !looksLikeEvent(doc)) {
    const f = opts.format;
    const any = f === 'auto';
    if ((any || f === 'cloudwatch') && looksLikeSubscription(doc)) return fromUnwrapped(unwrapSubscription(doc), opts);
    if ((any || f === 'cloudwatch') && looksLikeLogEvent(doc)) return fromUnwrapped(unwrapLogEvent(doc), opts);
    if ((any || f === 'aks') && (looksLikeAksExport(doc) || looksLikeAksRecord(doc))) return fromUnwrapped(unwrapAksExport(doc, opts.aksCategories), opts);
    if ((any || f === 'gke') && looksLikeLogEntry(doc)) return fromLogEntry(doc, opts);
    if ((any || f === 'ovh') && looksLikeGelf(doc)) return inner(doc.short_message as string, 'OVH GELF record: short_message', { ...opts, format: 'event' }, depth + 1);
    // The string fields shippers put a record in; what is inside may be a managed record too.
    const wrapped = f === 'auto' || f === 'gke' || f === 'ovh' ? opts.format : 'event';
    const fluent = any || f === 'fluentbit' || f === 'gke';
    const vector = any || f === 'vector' || f === 'gke' || f === 'ovh';
    if (depth === 0 && fluent && typeof doc.log === 'string') return inner(doc.log, 'Fluent Bit record: log', { ...opts, format: wrapped }, depth + 1);
    if (depth === 0 && vector && typeof doc.message === 'string') return inner(doc.message, f === 'ovh' ? 'OVH message' : 'Vector event: message', { ...opts, format: wrapped }, depth + 1);
    if ((any || f === 'vector') && isObj(doc.message)) return decodeRecord(project(doc.message), '', { ...opts, format: 'event' }, depth + 1);
    if (f !== 'auto' && f !== 'event' && f !== 'eventlist') return { ok: false, reason: NOT_THIS_FORMAT[f] ?? `not a ${f} record` };
  } else if (isObj(doc) && looksLikeEvent(doc) && MANAGED.has(opts.format) && depth === 0) {
    return { ok: false, reason: NOT_THIS_FORMAT[opts.format]! };
  }
  if (isObj(doc) && opts.source === 'k8s_audit') {
    const projected = project(doc);
    // Unchanged bare document: keep its text (raw) exactly as `kestrel run` does.
    return decodeParsed(projected, opts.source, opts.hostname, projected === doc && text !== '' ? text : undefined);
  }
  return decodeParsed(doc, opts.source, opts.hostname, text === '' ? undefined : text);
}

const MANAGED = new Set<PayloadFormat>(['cloudwatch', 'gke', 'aks', 'ovh']);
const NOT_THIS_FORMAT: Partial<Record<PayloadFormat, string>> = {
  fluentbit: 'Fluent Bit record without a log string or audit event keys',
  vector: 'Vector event without a message or audit event keys',
  cloudwatch: 'not a CloudWatch Logs subscription message or log event (input format cloudwatch)',
  gke: 'not a Cloud Logging LogEntry (input format gke)',
  aks: 'not an Azure diagnostic export with a records array (input format aks)',
  ovh: 'not an OVH Logs Data Platform record (input format ovh)',
};

/** A shipper field holding a record as a JSON string (or, for OVH, as `<appID>> <json>`). */
function inner(text: string, what: string, opts: TextOptions, depth: number): DecodeResult {
  const cut = truncationOf(text);
  if (cut) return { ok: false, reason: `${what}: ${cut}` };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const json = opts.format === 'auto' || opts.format === 'ovh' ? ovhLinePayload(text) : undefined;
    if (json !== undefined) return inner(json, `${what}: OVH line`, { ...opts, format: 'event' }, depth + 1);
    return { ok: false, reason: `${what}: invalid JSON: ${jsonErrorText(e)}` };
  }
  const r = opts.format === 'event' || opts.format === 'eventlist' ? decodeParsed(doc, opts.source, opts.hostname, text) : decodeRecord(doc, text, opts, depth);
  return r.ok ? r : { ok: false, reason: `${what}: ${r.reason}` };
}

/** A GKE LogEntry converted to an audit Event; the cluster from resource.labels. */
function fromLogEntry(entry: Record<string, unknown>, opts: TextOptions): DecodeResult {
  const c = convertLogEntry(entry);
  if (!c.ok) return c;
  const r = decodeParsed(c.event, opts.source, opts.hostname);
  if (!r.ok) return { ok: false, reason: `GKE LogEntry: ${r.reason}` };
  return { ok: true, events: r.events.map((ev) => withMeta(ev, 0, c.cluster)) };
}

/** Decode the records of a multi-record envelope; see the module comment for rejected records. */
function fromUnwrapped(u: Unwrapped | { error: string }, opts: TextOptions): DecodeResult {
  if ('error' in u) return { ok: false, reason: u.error };
  const events: DecodedEvent[] = [];
  const rejected: RecordNote[] = [...u.rejected];
  for (const rec of u.records) {
    const r = rec.text !== undefined ? decodeDocument(rec.text, opts.source, opts.hostname) : decodeParsed(rec.doc, opts.source, opts.hostname);
    if (!r.ok) rejected.push({ recordIndex: rec.recordIndex, reason: `${rec.label}: ${r.reason}` });
    else for (const ev of r.events) events.push(withMeta(ev, rec.recordIndex, rec.cluster));
  }
  rejected.sort((a, b) => a.recordIndex - b.recordIndex);
  if (rejected.length > 0 && (!opts.partialRecords || events.length === 0)) {
    const more = rejected.length > 1 ? ` (and ${rejected.length - 1} more rejected records)` : '';
    return { ok: false, reason: rejected[0].reason + more };
  }
  const out: DecodeResult = { ok: true, events };
  if (rejected.length > 0) out.rejected = rejected;
  if (u.skipped.length > 0) out.skipped = u.skipped;
  return out;
}

function withMeta(ev: DecodedEvent, recordIndex: number, cluster: string | undefined): DecodedEvent {
  return cluster === undefined ? { ...ev, recordIndex } : { ...ev, recordIndex, meta: { cluster } };
}

/** Drop non-Event keys from an event that carries shipper metadata; same object when there are none. */
function project(o: Obj): Obj {
  if (o.kind === 'EventList' || !Object.keys(o).some((k) => !AUDIT_EVENT_KEYS.has(k))) return o;
  const out: Obj = {};
  for (const k of Object.keys(o)) if (AUDIT_EVENT_KEYS.has(k)) out[k] = o[k];
  return out;
}

function decodeLines(text: string, opts: TextOptions): DecodeResult {
  const events: DecodedEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch (e) {
      return { ok: false, reason: `line ${i + 1}: invalid JSON: ${jsonErrorText(e)}` };
    }
    const r = decodeRecord(doc, line, { ...opts, format: opts.format === 'lines' ? 'auto' : opts.format });
    if (!r.ok) return { ok: false, reason: `line ${i + 1}: ${r.reason}` };
    events.push(...r.events);
  }
  if (events.length === 0) return { ok: false, reason: 'empty message' };
  return { ok: true, events };
}
