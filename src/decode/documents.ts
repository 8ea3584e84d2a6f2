/**
 * Splits a byte stream into JSON documents: one per line (JSON Lines), or
 * documents spread over several lines (pretty-printed). It tracks brace depth
 * and strings so it never parses a partial document, and reports bad input
 * (invalid UTF-8, oversized, truncated, non-JSON) with the line it started on.
 *
 * JSON Lines fast path (option `parse`): a line that is a whole document is
 * handed to JSON.parse straight away and comes out with its parsed `value`,
 * skipping the character-by-character scan; anything JSON.parse refuses (a
 * line opening a pretty-printed document, trailing text, bad JSON) takes the
 * scanning path, so documents, limits and error lines are exactly those of
 * the scanner. UTF-8 is validated (and ASCII recognised) once per chunk for
 * the lines it completes, which are decoded in one piece and sliced.
 */
import { isAscii, isUtf8 } from 'node:buffer';

export type RawDocument =
  /** `value`: the parsed document, set by the JSON Lines fast path only. */
  | { ok: true; text: string; line: number; value?: unknown }
  | { ok: false; line: number; reason: string };

/** Where split documents go: an array, or anything with a push(). */
export interface DocumentSink {
  push(doc: RawDocument): unknown;
}

export interface SplitterOptions {
  /** Largest document accepted, in bytes. */
  maxBytes: number;
  /** Deepest nesting accepted. */
  maxDepth: number;
  /** Parse single-line documents on the way (their RawDocument carries `value`). */
  parse?: boolean;
  /** Lines already read before the first byte pushed (documents are numbered after them). */
  startLine?: number;
  /** The first byte pushed is not the start of the input: no byte order mark is looked for. */
  midStream?: boolean;
}

export const DEFAULT_SPLITTER_OPTIONS: SplitterOptions = { maxBytes: 16 * 1024 * 1024, maxDepth: 512 };

export class DocumentSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lineNo: number;
  /** Current multi-line document, if one is open. */
  private doc: OpenDoc | undefined;

  constructor(private readonly options: SplitterOptions = DEFAULT_SPLITTER_OPTIONS) {
    this.lineNo = options.startLine ?? 0;
  }

  /** Lines read so far (including options.startLine). */
  get lines(): number {
    return this.lineNo;
  }

  /** Between documents: no partial line held and no multi-line document open. */
  get idle(): boolean {
    return this.doc === undefined && this.pending.length === 0 && this.pendingBytes === 0;
  }

  /** Feed a chunk; returns the documents completed by it. */
  push(chunk: Buffer): RawDocument[] {
    const out: RawDocument[] = [];
    this.pushTo(chunk, out);
    return out;
  }

  /**
   * Feed a chunk; hands each document it completes to `out` as soon as it is
   * split (so a caller can be done with one before the next is parsed).
   */
  pushTo(chunk: Buffer, out: DocumentSink): void {
    let start = 0;
    const first = chunk.indexOf(10);
    if (first >= 0 && this.pending.length > 0) {
      // The line begun in an earlier chunk ends here.
      this.pending.push(chunk.subarray(0, first));
      this.pendingBytes += first;
      this.takeLine(out);
      start = first + 1;
    }
    const last = chunk.lastIndexOf(10);
    if (last >= start) this.takeLines(chunk, start, last, out);
    if (last >= 0) start = Math.max(start, last + 1);
    if (start < chunk.length) {
      // Keep at most maxBytes+1 of an unfinished line: enough to know it is too big.
      if (this.pendingBytes <= this.options.maxBytes) this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
    }
  }

  /**
   * The whole lines chunk[start, end) (end is the offset of the last newline).
   * Valid UTF-8 (the usual case, checked once) is decoded in one piece and
   * each line is a slice of it: no copy per line.
   */
  private takeLines(chunk: Buffer, start: number, end: number, out: DocumentSink): void {
    const max = this.options.maxBytes;
    const region = chunk.subarray(start, end);
    // ASCII (the usual audit log) decodes as Latin-1 to the same string, several times faster.
    const ascii = isAscii(region);
    if (!ascii && !isUtf8(region)) {
      // Line by line, to tell which lines are bad.
      while (start <= end) {
        const nl = chunk.indexOf(10, start);
        const bytes = nl - start;
        this.lineNo++;
        if (bytes > max) this.rejectLine(out, `document larger than the ${max}-byte limit (${bytes} bytes on this line)`);
        else if (!isUtf8(chunk.subarray(start, nl))) this.rejectLine(out, 'invalid UTF-8');
        else this.takeText(chunk.toString('utf8', start, nl), bytes, out);
        start = nl + 1;
      }
      return;
    }
    const text = chunk.toString(ascii ? 'latin1' : 'utf8', start, end + 1);
    // With non-ASCII text, byte lengths come from the bytes' own newlines.
    let from = 0;
    let byteFrom = start;
    while (from < text.length) {
      const nl = text.indexOf('\n', from);
      const byteNl = ascii ? byteFrom + (nl - from) : chunk.indexOf(10, byteFrom);
      const bytes = byteNl - byteFrom;
      this.lineNo++;
      if (bytes > max) this.rejectLine(out, `document larger than the ${max}-byte limit (${bytes} bytes on this line)`);
      else this.takeText(text.slice(from, nl), bytes, out);
      from = nl + 1;
      byteFrom = byteNl + 1;
    }
  }

  /** End of input: flush the last line and any open document. */
  end(): RawDocument[] {
    const out: RawDocument[] = [];
    if (this.pendingBytes > 0 || this.pending.length > 0) this.takeLine(out);
    if (this.doc) {
      out.push({ ok: false, line: this.doc.startLine, reason: 'truncated JSON document: input ended before it was closed' });
      this.doc = undefined;
    }
    return out;
  }

  /** The pending parts form one line. */
  private takeLine(out: DocumentSink): void {
    this.lineNo++;
    const bytes = this.pendingBytes;
    const buf = bytes > this.options.maxBytes ? undefined : this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    if (!buf) this.rejectLine(out, `document larger than the ${this.options.maxBytes}-byte limit (${bytes} bytes on this line)`);
    else if (!isUtf8(buf)) this.rejectLine(out, 'invalid UTF-8');
    else this.takeText(buf.toString('utf8'), buf.length, out);
  }

  /** The current line cannot be read: it ends any open document too. */
  private rejectLine(out: DocumentSink, reason: string): void {
    this.failDoc(out);
    out.push({ ok: false, line: this.lineNo, reason });
  }

  /** One line of valid UTF-8 text (`bytes` long, line terminator excluded). */
  private takeText(text: string, bytes: number, out: DocumentSink): void {
    if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    if (this.lineNo === 1 && !this.options.midStream && text.charCodeAt(0) === 0xfeff) text = text.slice(1);

    if (!this.doc) {
      if (this.options.parse) {
        const value = this.parseWholeLine(text, bytes);
        if (value !== undefined) {
          out.push({ ok: true, text, line: this.lineNo, value });
          return;
        }
      }
      const trimmed = text.trim();
      if (trimmed === '') return;
      const first = trimmed[0];
      if (first !== '{' && first !== '[') {
        out.push({ ok: false, line: this.lineNo, reason: `not JSON: line starts with '${clip(trimmed, 20)}'` });
        return;
      }
      this.doc = openDoc(this.lineNo);
    } else if (/^[{[]/.test(text)) {
      // A document starting at column 0 while another is still open: the open one
      // was truncated (pretty-printed documents indent their nested lines).
      this.failDoc(out);
      this.doc = openDoc(this.lineNo);
    }
    const d = this.doc!;
    this.scan(d, text);
    d.bytes += bytes + 1;
    if (d.bytes > this.options.maxBytes) d.tooBig = true;
    else d.parts.push(text);
    if (d.depth <= 0) this.finishDoc(out);
  }

  /**
   * The parsed line when it is one whole document the scanner would accept
   * as it is; undefined sends the line down the scanning path. A line that
   * JSON.parse accepts and that starts with { or [ closes its document at its
   * last bracket, so the scanner would find no trailing text, and its
   * nesting is the scanner's depth.
   */
  private parseWholeLine(text: string, bytes: number): unknown {
    const c = text.charCodeAt(0);
    if ((c !== 123 && c !== 91) || bytes + 1 > this.options.maxBytes) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    // Depth d needs d openings and d closings; most lines have too few brackets to go deep.
    const maxDepth = this.options.maxDepth;
    if (text.length > 2 * maxDepth + 1 && countOpenings(text, maxDepth + 1) > maxDepth) {
      // Measured on the text as the scanner measures it (a duplicate key may have dropped a deep value from `value`).
      const d = openDoc(0);
      this.scan(d, text);
      if (d.maxDepth > maxDepth) return undefined;
    }
    return value;
  }

  /** Update depth and string state over one line. */
  private scan(d: OpenDoc, text: string): void {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (d.inString) {
        if (d.escape) d.escape = false;
        else if (c === 92) d.escape = true;
        else if (c === 34) d.inString = false;
        continue;
      }
      if (c === 34) d.inString = true;
      else if (c === 123 || c === 91) {
        d.depth++;
        if (d.depth > d.maxDepth) d.maxDepth = d.depth;
      } else if (c === 125 || c === 93) {
        d.depth--;
        if (d.depth === 0 && text.slice(i + 1).trim() !== '') {
          // Trailing text after the document closed on this line.
          d.depth = -1;
          return;
        }
      }
    }
  }

  private finishDoc(out: DocumentSink): void {
    const d = this.doc!;
    this.doc = undefined;
    if (d.tooBig) out.push({ ok: false, line: d.startLine, reason: `document larger than the ${this.options.maxBytes}-byte limit` });
    else if (d.maxDepth > this.options.maxDepth) out.push({ ok: false, line: d.startLine, reason: `JSON nested deeper than ${this.options.maxDepth} levels` });
    else if (d.depth < 0) out.push({ ok: false, line: d.startLine, reason: 'invalid JSON: unexpected text after the end of the document' });
    else out.push({ ok: true, text: d.parts.join('\n'), line: d.startLine });
  }

  private failDoc(out: DocumentSink): void {
    if (!this.doc) return;
    out.push({ ok: false, line: this.doc.startLine, reason: 'truncated JSON document: a new document started before it was closed' });
    this.doc = undefined;
  }
}

/** A document being read line by line: the scanner's state. */
interface OpenDoc {
  startLine: number;
  parts: string[];
  bytes: number;
  depth: number;
  inString: boolean;
  escape: boolean;
  maxDepth: number;
  tooBig: boolean;
}

function openDoc(startLine: number): OpenDoc {
  return { startLine, parts: [], bytes: 0, depth: 0, inString: false, escape: false, maxDepth: 0, tooBig: false };
}

/** How many { and [ `text` holds, counting no further than `limit`. */
function countOpenings(text: string, limit: number): number {
  let n = 0;
  for (let i = text.indexOf('{'); i >= 0 && n < limit; i = text.indexOf('{', i + 1)) n++;
  for (let i = text.indexOf('['); i >= 0 && n < limit; i = text.indexOf('[', i + 1)) n++;
  return n;
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}...` : s;
}
