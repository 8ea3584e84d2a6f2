/**
 * Webhook bodies split into their documents without building one giant string
 * or object: an audit.k8s.io `EventList` (kube-apiserver's batch) becomes the
 * bytes of each item, a single `Event` or AdmissionReview one document, JSON
 * lines one document per line. Every document is validated here, with the
 * same limits and reasons as `kestrel run` (invalid UTF-8, nesting depth,
 * per-document size) plus a limit on documents per request; one bad document
 * rejects the whole body, so a sender's batch is accepted whole or not at all.
 *
 * How: one byte-level pass finds the top-level members and the items' byte
 * ranges (tracking strings and brackets, refusing depth beyond the limit at
 * once); then each item is parsed alone (JSON.parse of its slice) and checked
 * to be an audit Event. Every byte of the body is either inside a slice given
 * to JSON.parse or checked by the pass (structure, whitespace), so the body
 * as a whole is valid JSON exactly when this accepts it. Memory: the body
 * buffer plus one parsed item; the result holds subarrays of the body.
 *
 * The work is a generator yielding after each item, so a caller can give the
 * event loop back between items (see `splitWebhookBodyAsync`).
 */
import { isUtf8 } from 'node:buffer';
import { decodeAdmissionDocument, decodeAuditDocument } from './audit';
import { DEFAULT_SPLITTER_OPTIONS, DocumentSplitter } from './documents';
import { jsonErrorText } from '../language/json-error';

export interface BodyLimits {
  /** Most documents (EventList items, JSON lines) in one body. */
  maxEvents: number;
  /** Largest single document (an item, a line, a lone Event), in bytes. */
  maxEventBytes: number;
  /** Deepest JSON nesting, counted from the body's outer value (as `kestrel run` counts a document). */
  maxDepth: number;
}

/**
 * 10,000 documents: kube-apiserver's default batch is 400 events
 * (--audit-webhook-batch-max-size), so 25x headroom for raised batch sizes,
 * while a body of millions of tiny items is refused at item 10,001.
 */
export const DEFAULT_BODY_LIMITS: BodyLimits = { maxEvents: 10_000, maxEventBytes: DEFAULT_SPLITTER_OPTIONS.maxBytes, maxDepth: DEFAULT_SPLITTER_OPTIONS.maxDepth };

export type SplitResult = { ok: true; documents: Buffer[] } | { ok: false; reason: string };

export type BodySource = 'k8s_audit' | 'k8s_admission';

class Rejected extends Error {}
const reject = (reason: string): never => {
  throw new Rejected(reason);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const QUOTE = 34, BACKSLASH = 92, COMMA = 44, COLON = 58;
const OPEN_OBJ = 123, CLOSE_OBJ = 125, OPEN_ARR = 91, CLOSE_ARR = 93;
const isWs = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

function skipWs(b: Buffer, i: number): number {
  while (i < b.length && isWs(b[i])) i++;
  return i;
}

function describe(b: Buffer, i: number): string {
  if (i >= b.length) return 'end of input';
  const c = b[i];
  return c >= 33 && c <= 126 ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}

function expected(b: Buffer, i: number, what: string): never {
  return i >= b.length ? reject(`invalid JSON: input ended, expected ${what}`) : reject(`invalid JSON at byte ${i}: expected ${what}, found ${describe(b, i)}`);
}

/** Index after the string starting at b[i] (a quote). */
function skipString(b: Buffer, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = b.indexOf(QUOTE, from);
    if (q < 0) return reject(`invalid JSON: string starting at byte ${i} is not closed`);
    let slashes = 0;
    for (let k = q - 1; k > i && b[k] === BACKSLASH; k--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/**
 * Index after the value starting at b[i]; `depth` is the depth of its
 * container. Only strings and brackets are tracked: the slice is validated by
 * JSON.parse afterwards (mismatched brackets fail there).
 */
function skipValue(b: Buffer, i: number, depth: number, maxDepth: number): number {
  const c = b[i];
  if (c === QUOTE) return skipString(b, i);
  if (c !== OPEN_OBJ && c !== OPEN_ARR) {
    let j = i;
    while (j < b.length) {
      const d = b[j];
      if (d === COMMA || d === CLOSE_OBJ || d === CLOSE_ARR || isWs(d)) break;
      j++;
    }
    return j === i ? expected(b, i, 'a value') : j;
  }
  let level = depth;
  for (let j = i; j < b.length; ) {
    const d = b[j];
    if (d === QUOTE) {
      j = skipString(b, j);
      continue;
    }
    if (d === OPEN_OBJ || d === OPEN_ARR) {
      if (++level > maxDepth) reject(`JSON nested deeper than ${maxDepth} levels`);
    } else if (d === CLOSE_OBJ || d === CLOSE_ARR) {
      if (--level === depth) return j + 1;
    }
    j++;
  }
  return reject(`invalid JSON: input ended before the value starting at byte ${i} was closed`);
}

function parseSlice(b: Buffer, start: number, end: number, what: string): unknown {
  try {
    return JSON.parse(b.toString('utf8', start, end));
  } catch (e) {
    return reject(`${what}invalid JSON: ${jsonErrorText(e)}`);
  }
}

/** One EventList item, checked to be an audit Event; its bytes. */
function auditItem(b: Buffer, s: number, e: number, n: number): Buffer {
  const item = parseSlice(b, s, e, `EventList item ${n}: `);
  if (!isObject(item)) reject(`EventList item ${n} is not an object`);
  const it = item as Record<string, unknown>;
  if (it.kind !== undefined && it.kind !== 'Event') reject(`EventList item ${n}: not an audit event: kind ${JSON.stringify(it.kind)} (expected "Event")`);
  const r = decodeAuditDocument(it);
  if (!r.ok) reject(`EventList item ${n}: ${r.reason.includes('kind missing') ? 'not an audit event: no kind, and no auditID and stage' : r.reason}`);
  return b.subarray(s, e);
}

interface TopLevel {
  members: Map<string, unknown>;
  /** Byte ranges of the `items` array's elements, when `items` is an array. */
  items?: [number, number][];
  /**
   * The items already checked, when `kind: EventList` came before them (as
   * kube-apiserver writes it): a bad item then stops the scan at once.
   */
  validated?: Buffer[];
  /** Index after the outer object. */
  end: number;
}

/** The outer object of an audit body: small members parsed, items located. */
function* scanTopLevel(b: Buffer, start: number, limits: BodyLimits): Generator<void, TopLevel> {
  const top: TopLevel = { members: new Map(), end: 0 };
  let i = start + 1;
  i = skipWs(b, i);
  if (b[i] === CLOSE_OBJ) {
    top.end = i + 1;
    return top;
  }
  for (;;) {
    if (b[i] !== QUOTE) expected(b, i, 'a member name');
    const keyEnd = skipString(b, i);
    const key = parseSlice(b, i, keyEnd, '') as string;
    i = skipWs(b, keyEnd);
    if (b[i] !== COLON) expected(b, i, "':'");
    i = skipWs(b, i + 1);
    if (key === 'items' && b[i] === OPEN_ARR) {
      top.items = [];
      top.validated = top.members.get('kind') === 'EventList' ? [] : undefined;
      i = skipWs(b, i + 1);
      if (b[i] === CLOSE_ARR) i++;
      else {
        for (;;) {
          if (top.items.length >= limits.maxEvents) reject(`more than ${limits.maxEvents} events in one request (limit)`);
          const end = skipValue(b, i, 2, limits.maxDepth);
          if (end - i > limits.maxEventBytes) reject(`EventList item ${top.items.length}: event larger than the ${limits.maxEventBytes}-byte limit (${end - i} bytes)`);
          if (top.validated) {
            top.validated.push(auditItem(b, i, end, top.items.length));
            yield;
          } else if (top.items.length % 1000 === 0) yield;
          top.items.push([i, end]);
          i = skipWs(b, end);
          if (b[i] === COMMA) {
            i = skipWs(b, i + 1);
            continue;
          }
          if (b[i] === CLOSE_ARR) {
            i++;
            break;
          }
          expected(b, i, "',' or ']'");
        }
      }
    } else {
      const end = skipValue(b, i, 1, limits.maxDepth);
      const value = parseSlice(b, i, end, '');
      if (key === 'items') top.items = top.validated = undefined; // the last member of a name wins, as in JSON.parse
      // Only small scalar members are kept (kind, apiVersion, auditID, stage).
      top.members.set(key, typeof value === 'object' ? undefined : value);
      i = end;
      yield;
    }
    i = skipWs(b, i);
    if (b[i] === COMMA) {
      i = skipWs(b, i + 1);
      continue;
    }
    if (b[i] === CLOSE_OBJ) {
      top.end = i + 1;
      return top;
    }
    expected(b, i, "',' or '}'");
  }
}

function checkText(b: Buffer): number {
  if (!isUtf8(b)) reject('invalid UTF-8');
  let i = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0; // BOM, as run skips it
  i = skipWs(b, i);
  if (i >= b.length) reject('empty body');
  return i;
}

/** One whole-body document (a lone Event or AdmissionReview): size, depth, JSON. */
function wholeDocument(b: Buffer, start: number, limits: BodyLimits): [unknown, Buffer] {
  let end = b.length;
  while (end > start && isWs(b[end - 1])) end--;
  if (end - start > limits.maxEventBytes) reject(`document larger than the ${limits.maxEventBytes}-byte limit (${end - start} bytes)`);
  const after = skipValue(b, start, 0, limits.maxDepth);
  if (skipWs(b, after) !== b.length) reject(`invalid JSON at byte ${skipWs(b, after)}: unexpected text after the end of the document`);
  return [parseSlice(b, start, end, ''), b.subarray(start, end)];
}

function* auditSteps(b: Buffer, limits: BodyLimits): Generator<void, Buffer[]> {
  const start = checkText(b);
  if (b[start] === OPEN_ARR) reject('not an audit event: JSON array instead of an object');
  if (b[start] !== OPEN_OBJ) {
    // A scalar or garbage: for a short body JSON.parse gives the precise reason.
    if (b.length - start > 1024) expected(b, start, "'{'");
    const v = parseSlice(b, start, b.length, '');
    return reject(`not an audit event: JSON ${v === null ? 'null' : typeof v} instead of an object`);
  }
  const top = yield* scanTopLevel(b, start, limits);
  const after = skipWs(b, top.end);
  if (after !== b.length) reject(`invalid JSON at byte ${after}: unexpected text after the end of the document`);
  const kind = top.members.get('kind');
  if (kind !== 'EventList') {
    // A lone Event (or not an audit event at all: decodeAuditDocument says which).
    if (kind !== 'Event' && kind !== undefined) reject(`not an audit event: kind ${JSON.stringify(kind)} (expected "Event" or "EventList")`);
    const [doc, bytes] = wholeDocument(b, start, limits);
    const r = decodeAuditDocument(doc);
    if (!r.ok) reject(r.reason);
    return [bytes];
  }
  if (!top.items) return reject('EventList without an items array');
  if (top.validated) return top.validated;
  const documents: Buffer[] = [];
  for (let n = 0; n < top.items.length; n++) {
    const [s, e] = top.items[n];
    documents.push(auditItem(b, s, e, n));
    yield;
  }
  return documents;
}

function* admissionSteps(b: Buffer, limits: BodyLimits): Generator<void, Buffer[]> {
  const start = checkText(b);
  const [doc, bytes] = wholeDocument(b, start, limits);
  const r = decodeAdmissionDocument(doc);
  if (!r.ok) reject(r.reason);
  return [bytes];
}

/** JSON lines (or pretty-printed documents one after another): each one of the source's kind. */
function* linesSteps(b: Buffer, source: BodySource, limits: BodyLimits): Generator<void, Buffer[]> {
  checkText(b);
  const splitter = new DocumentSplitter({ maxBytes: limits.maxEventBytes, maxDepth: limits.maxDepth });
  const documents: Buffer[] = [];
  for (const doc of [...splitter.push(b), ...splitter.end()]) {
    if (!doc.ok) reject(`line ${doc.line}: ${doc.reason}`);
    const text = Buffer.from((doc as { text: string }).text, 'utf8');
    try {
      const inner = source === 'k8s_admission' ? admissionSteps(text, limits) : auditSteps(text, limits);
      let step = inner.next();
      while (!step.done) {
        yield;
        step = inner.next();
      }
      documents.push(...step.value);
    } catch (e) {
      if (e instanceof Rejected) reject(`line ${doc.line}: ${e.message}`);
      throw e;
    }
    if (documents.length > limits.maxEvents) reject(`more than ${limits.maxEvents} events in one request (limit)`);
  }
  if (documents.length === 0) reject('empty body');
  return documents;
}

/** The step generator for a body: `lines` for application/x-ndjson. */
export function webhookBodySteps(body: Buffer, source: BodySource, lines: boolean, limits: BodyLimits = DEFAULT_BODY_LIMITS): Generator<void, Buffer[]> {
  if (lines) return linesSteps(body, source, limits);
  return source === 'k8s_admission' ? admissionSteps(body, limits) : auditSteps(body, limits);
}

function finish(run: () => Buffer[]): SplitResult {
  try {
    return { ok: true, documents: run() };
  } catch (e) {
    if (e instanceof Rejected) return { ok: false, reason: e.message };
    throw e;
  }
}

/** Split and validate a webhook body in one go. */
export function splitWebhookBody(body: Buffer, source: BodySource, lines: boolean, limits: BodyLimits = DEFAULT_BODY_LIMITS): SplitResult {
  return finish(() => {
    const steps = webhookBodySteps(body, source, lines, limits);
    for (let s = steps.next(); ; s = steps.next()) if (s.done) return s.value;
  });
}

/** An audit body (EventList or a lone Event) to its events' bytes. */
export function splitEventList(body: Buffer, limits: BodyLimits = DEFAULT_BODY_LIMITS): SplitResult {
  return splitWebhookBody(body, 'k8s_audit', false, limits);
}

/** As splitWebhookBody, giving the event loop back whenever `sliceMs` of work has run. */
export async function splitWebhookBodyAsync(body: Buffer, source: BodySource, lines: boolean, limits: BodyLimits = DEFAULT_BODY_LIMITS, sliceMs = 5): Promise<SplitResult> {
  try {
    const steps = webhookBodySteps(body, source, lines, limits);
    let started = Date.now();
    for (let s = steps.next(); ; s = steps.next()) {
      if (s.done) return { ok: true, documents: s.value };
      if (Date.now() - started >= sliceMs) {
        await new Promise<void>((r) => setImmediate(r));
        started = Date.now();
      }
    }
  } catch (e) {
    if (e instanceof Rejected) return { ok: false, reason: e.message };
    throw e;
  }
}
