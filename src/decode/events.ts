/** Parse one raw document into event views for the engine, or a rejection with its reason. */
import type { EventView } from '../fields/types';
import { eventTimeNs } from '../fields';
import { decoderFor } from './audit';

import type { RecordNote } from './records';

/** An event view plus where it came from inside its message. */
export interface DecodedEvent extends EventView {
  /**
   * Index of the event's record inside the message (CloudWatch logEvents[i],
   * AKS records[i]); set by multi-record envelopes and by GKE (0). Absent: the
   * message is the record (use 0 in headers).
   */
  readonly recordIndex?: number;
}

export type DecodeResult =
  | {
      ok: true;
      events: DecodedEvent[];
      /** Records rejected while the others were decoded (only with EnvelopeOptions.partialRecords). */
      rejected?: RecordNote[];
      /** Records skipped on purpose: CloudWatch control messages, unselected AKS categories, duplicates. */
      skipped?: RecordNote[];
    }
  | { ok: false; reason: string };

export function decodeDocument(text: string, source: string, hostname?: string): DecodeResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `invalid JSON: ${(e as Error).message}` };
  }
  return decodeParsed(doc, source, hostname, text);
}

/** A document from the splitter; uses the value its JSON Lines fast path already parsed. */
export function decodeSplitDocument(doc: { text: string; value?: unknown }, source: string, hostname?: string): DecodeResult {
  return doc.value !== undefined ? decodeParsed(doc.value, source, hostname, doc.text) : decodeDocument(doc.text, source, hostname);
}

/**
 * An already-parsed document to event views. `text` is the document's JSON
 * text when it is exactly `doc` (kept as the event's raw text for jevt.obj).
 */
export function decodeParsed(doc: unknown, source: string, hostname?: string, text?: string): DecodeResult {
  const decoded = decoderFor(source)(doc);
  if (!decoded.ok) return decoded;
  const single = text !== undefined && decoded.events.length === 1 && decoded.events[0] === doc;
  return {
    ok: true,
    events: decoded.events.map((obj) => {
      // kube-audit-rest lines carry no timestamp: their time is when Kestrel read them.
      const tsNs = source === 'k8s_admission' && eventTimeNs(obj, source) === undefined ? BigInt(Date.now()) * 1_000_000n : undefined;
      return { obj, source, raw: single ? text : undefined, hostname, tsNs };
    }),
  };
}
