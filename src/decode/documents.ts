/**
 * Splits a byte stream into JSON documents: one per line (JSON Lines), or
 * documents spread over several lines (pretty-printed). It tracks brace depth
 * and strings so it never parses a partial document, and reports bad input
 * (invalid UTF-8, oversized, truncated, non-JSON) with the line it started on.
 */
import { isUtf8 } from 'node:buffer';

export type RawDocument =
  | { ok: true; text: string; line: number }
  | { ok: false; line: number; reason: string };

export interface SplitterOptions {
  /** Largest document accepted, in bytes. */
  maxBytes: number;
  /** Deepest nesting accepted. */
  maxDepth: number;
}

export const DEFAULT_SPLITTER_OPTIONS: SplitterOptions = { maxBytes: 16 * 1024 * 1024, maxDepth: 512 };

export class DocumentSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lineNo = 0;
  /** Current multi-line document, if one is open. */
  private doc: { startLine: number; parts: string[]; bytes: number; depth: number; inString: boolean; escape: boolean; maxDepth: number; tooBig: boolean } | undefined;

  constructor(private readonly options: SplitterOptions = DEFAULT_SPLITTER_OPTIONS) {}

  /** Feed a chunk; returns the documents completed by it. */
  push(chunk: Buffer): RawDocument[] {
    const out: RawDocument[] = [];
    let start = 0;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, start)) {
      this.pending.push(chunk.subarray(start, i));
      this.pendingBytes += i - start;
      this.takeLine(out);
      start = i + 1;
    }
    if (start < chunk.length) {
      // Keep at most maxBytes+1 of an unfinished line: enough to know it is too big.
      if (this.pendingBytes <= this.options.maxBytes) this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
    }
    return out;
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

  private takeLine(out: RawDocument[]): void {
    this.lineNo++;
    const bytes = this.pendingBytes;
    const buf = bytes > this.options.maxBytes ? undefined : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    if (!buf) {
      this.failDoc(out);
      out.push({ ok: false, line: this.lineNo, reason: `document larger than the ${this.options.maxBytes}-byte limit (${bytes} bytes on this line)` });
      return;
    }
    if (!isUtf8(buf)) {
      this.failDoc(out);
      out.push({ ok: false, line: this.lineNo, reason: 'invalid UTF-8' });
      return;
    }
    let text = buf.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (this.lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);

    if (!this.doc) {
      const trimmed = text.trim();
      if (trimmed === '') return;
      const first = trimmed[0];
      if (first !== '{' && first !== '[') {
        out.push({ ok: false, line: this.lineNo, reason: `not JSON: line starts with '${clip(trimmed, 20)}'` });
        return;
      }
      this.doc = { startLine: this.lineNo, parts: [], bytes: 0, depth: 0, inString: false, escape: false, maxDepth: 0, tooBig: false };
    } else if (/^[{[]/.test(text)) {
      // A document starting at column 0 while another is still open: the open one
      // was truncated (pretty-printed documents indent their nested lines).
      this.failDoc(out);
      this.doc = { startLine: this.lineNo, parts: [], bytes: 0, depth: 0, inString: false, escape: false, maxDepth: 0, tooBig: false };
    }
    const d = this.doc!;
    this.scan(d, text);
    d.bytes += buf.length + 1;
    if (d.bytes > this.options.maxBytes) d.tooBig = true;
    else d.parts.push(text);
    if (d.depth <= 0) this.finishDoc(out);
  }

  /** Update depth and string state over one line. */
  private scan(d: NonNullable<DocumentSplitter['doc']>, text: string): void {
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

  private finishDoc(out: RawDocument[]): void {
    const d = this.doc!;
    this.doc = undefined;
    if (d.tooBig) out.push({ ok: false, line: d.startLine, reason: `document larger than the ${this.options.maxBytes}-byte limit` });
    else if (d.maxDepth > this.options.maxDepth) out.push({ ok: false, line: d.startLine, reason: `JSON nested deeper than ${this.options.maxDepth} levels` });
    else if (d.depth < 0) out.push({ ok: false, line: d.startLine, reason: 'invalid JSON: unexpected text after the end of the document' });
    else out.push({ ok: true, text: d.parts.join('\n'), line: d.startLine });
  }

  private failDoc(out: RawDocument[]): void {
    if (!this.doc) return;
    out.push({ ok: false, line: this.doc.startLine, reason: 'truncated JSON document: a new document started before it was closed' });
    this.doc = undefined;
  }
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}...` : s;
}
