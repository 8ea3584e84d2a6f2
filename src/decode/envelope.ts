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
 *   auto       the first that fits, in the order: JSON document (unwrapping
 *              `log`/`message`), else one document per line.
 *
 * Shipper keys beside an event are dropped (only audit Event keys are kept) so
 * a wrapped event evaluates exactly like the bare one. Pure: no I/O.
 */
import { isUtf8 } from 'node:buffer';
import { decodeDocument, decodeParsed, type DecodeResult } from './events';
import type { EventView } from '../fields/types';

/** How a message payload is wrapped (input config `format`). */
export type PayloadFormat = 'auto' | 'event' | 'eventlist' | 'lines' | 'fluentbit' | 'vector';
export const PAYLOAD_FORMATS: readonly PayloadFormat[] = ['auto', 'event', 'eventlist', 'lines', 'fluentbit', 'vector'];

export interface EnvelopeOptions {
  format: PayloadFormat;
  source: string;
  hostname?: string;
  maxBytes: number;
}

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
  if (!isUtf8(bytes)) return { ok: false, reason: 'invalid UTF-8' };
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (!/\S/.test(text)) return { ok: false, reason: 'empty message' };
  return decodeText(text, opts);
}

export function decodeText(text: string, opts: Omit<EnvelopeOptions, 'maxBytes'>): DecodeResult {
  switch (opts.format) {
    case 'lines':
      return decodeLines(text, opts);
    case 'event':
    case 'eventlist': {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (e) {
        return { ok: false, reason: `invalid JSON: ${(e as Error).message}` };
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
        return { ok: false, reason: `invalid JSON: ${(e as Error).message}` };
      }
      return decodeRecord(doc, text, opts);
    }
  }
}

/** One parsed record: bare document, or a shipper record around one. */
function decodeRecord(doc: unknown, text: string, opts: Omit<EnvelopeOptions, 'maxBytes'>): DecodeResult {
  if (isObj(doc) && !looksLikeEvent(doc)) {
    const fluent = opts.format === 'auto' || opts.format === 'fluentbit';
    const vector = opts.format === 'auto' || opts.format === 'vector';
    if (fluent && typeof doc.log === 'string') return inner(doc.log, 'Fluent Bit record: log', opts);
    if (vector && typeof doc.message === 'string') return inner(doc.message, 'Vector event: message', opts);
    if (vector && isObj(doc.message)) return decodeParsed(project(doc.message), opts.source, opts.hostname);
    if (opts.format !== 'auto') {
      const what = opts.format === 'fluentbit' ? 'Fluent Bit record without a log string or audit event keys' : 'Vector event without a message or audit event keys';
      return { ok: false, reason: what };
    }
  }
  if (isObj(doc) && opts.source === 'k8s_audit') {
    const projected = project(doc);
    // Unchanged bare document: keep its text (raw) exactly as `kestrel run` does.
    return decodeParsed(projected, opts.source, opts.hostname, projected === doc ? text : undefined);
  }
  return decodeParsed(doc, opts.source, opts.hostname, text);
}

/** A shipper field holding the event as a JSON string. */
function inner(text: string, what: string, opts: Omit<EnvelopeOptions, 'maxBytes'>): DecodeResult {
  const r = decodeDocument(text, opts.source, opts.hostname);
  return r.ok ? r : { ok: false, reason: `${what}: ${r.reason}` };
}

/** Drop non-Event keys from an event that carries shipper metadata; same object when there are none. */
function project(o: Obj): Obj {
  if (o.kind === 'EventList' || !Object.keys(o).some((k) => !AUDIT_EVENT_KEYS.has(k))) return o;
  const out: Obj = {};
  for (const k of Object.keys(o)) if (AUDIT_EVENT_KEYS.has(k)) out[k] = o[k];
  return out;
}

function decodeLines(text: string, opts: Omit<EnvelopeOptions, 'maxBytes'>): DecodeResult {
  const events: EventView[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch (e) {
      return { ok: false, reason: `line ${i + 1}: invalid JSON: ${(e as Error).message}` };
    }
    const r = decodeRecord(doc, line, { ...opts, format: opts.format === 'lines' ? 'auto' : opts.format });
    if (!r.ok) return { ok: false, reason: `line ${i + 1}: ${r.reason}` };
    events.push(...r.events);
  }
  if (events.length === 0) return { ok: false, reason: 'empty message' };
  return { ok: true, events };
}
