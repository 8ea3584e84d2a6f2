/**
 * Low-level JSON helpers that reproduce how Falco's Go plugins (k8saudit,
 * k8sadmission, json) walk and render parsed JSON documents.
 *
 * The plugins parse events with valyala/fastjson. The behaviours mirrored here:
 *  - `get(v, key)`: on an object, the member named `key`; on an array, `key` is
 *    parsed like Go's strconv.Atoi (optional sign, decimal digits) and used as an
 *    index when 0 <= n < length; on anything else, nothing.
 *  - text of a value: a JSON string yields its decoded text; every other value
 *    (number, true/false, null, object, array) yields its compact JSON text.
 *  - compact JSON text keeps member order and has no whitespace; see quote()
 *    for how strings inside it are escaped.
 *
 * Known, accepted differences (JavaScript's JSON.parse loses the original text):
 * numbers are re-rendered by JavaScript (e.g. `1.0` becomes `1`, integers beyond
 * 2^53 lose precision), duplicate keys keep the last value (fastjson: the first),
 * and integer-like member names are enumerated first by JavaScript engines.
 */

/** The value a lookup yields when the key/index is not there (Go's nil). */
export type JVal = unknown;

const hasOwn = Object.prototype.hasOwnProperty;
const INT_RE = /^[+-]?[0-9]+$/;

/** fastjson `Value.Get(key)` for one key. Returns undefined when not found. */
export function jget(v: JVal, key: string): JVal {
  if (v === null || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) {
    if (!INT_RE.test(key)) return undefined;
    const n = Number(key);
    if (!(n >= 0) || n >= v.length) return undefined; // also rejects NaN
    return v[n === 0 ? 0 : n];
  }
  return hasOwn.call(v, key) ? (v as Record<string, unknown>)[key] : undefined;
}

/** fastjson `Value.Get(keys...)`. Returns undefined when any step is missing. */
export function jpath(v: JVal, keys: readonly string[]): JVal {
  for (let i = 0; i < keys.length; i++) {
    if (v === null || typeof v !== 'object') return undefined;
    const k = keys[i];
    if (Array.isArray(v)) {
      v = jget(v, k);
    } else {
      if (!hasOwn.call(v, k)) return undefined;
      v = (v as Record<string, unknown>)[k];
    }
    if (v === undefined) return undefined;
  }
  return v;
}

/**
 * libsinsp reads plugin string values as C strings: text after a NUL byte is lost.
 */
export function cstr(s: string): string {
  const i = s.indexOf('\u0000');
  return i < 0 ? s : s.slice(0, i);
}

/** The plugins' jsonValueAsString: a string's text, or any other value's compact JSON. */
export function jtext(v: JVal): string {
  if (typeof v === 'string') return cstr(v);
  return cstr(marshal(v));
}

// ---------------------------------------------------------------------------
// Serialization
// ---------------------------------------------------------------------------

/**
 * fastjson re-emits the strings of an object verbatim from the event text, so
 * how `<`, `>`, `&`, U+2028 and U+2029 look inside rendered objects depends on
 * the producer of the event: Go's encoding/json (the API server) writes them as
 * \u003c, \u003e, \u0026, \u2028, \u2029; most other producers write them
 * raw. When the event's original text is known and uses those escapes, they are
 * reproduced; otherwise the characters are written raw.
 */
let renderEvent: { readonly obj: unknown; readonly raw?: string } | undefined;
// One-entry cache (the event being extracted): a WeakMap keyed by every event costs GC time.
let htmlStyleFor: { obj: object; result: boolean } | undefined;
const HTML_ESCAPES_RE = /\\u00(?:26|3c|3e)/;

/** Set the event whose text style renderings should follow (call before extracting). */
export function setRenderEvent(ev: { readonly obj: unknown; readonly raw?: string } | undefined): void {
  renderEvent = ev;
}

function htmlStyle(): boolean {
  const ev = renderEvent;
  if (ev === undefined || ev.raw === undefined) return false;
  const o = ev.obj;
  if (o !== null && typeof o === 'object') {
    if (htmlStyleFor?.obj === o) return htmlStyleFor.result;
    const r = HTML_ESCAPES_RE.test(ev.raw);
    htmlStyleFor = { obj: o, result: r };
    return r;
  }
  return HTML_ESCAPES_RE.test(ev.raw);
}

const MAYBE_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;
const HEX = '0123456789abcdef';

/**
 * Quote a string as JSON: `"`, `\`, \n, \r, \t, \b, \f get a short escape,
 * other control characters \u00XX, a lone surrogate \ufffd, and (for events
 * written by Go's encoding/json, see above) `<`, `>`, `&`, U+2028, U+2029 \uXXXX.
 */
export function quote(s: string): string {
  if (!MAYBE_ESCAPE.test(s)) return '"' + s + '"';
  const html = htmlStyle();
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c < 0x20) {
      switch (c) {
        case 0x0a: rep = '\\n'; break;
        case 0x0d: rep = '\\r'; break;
        case 0x09: rep = '\\t'; break;
        case 0x08: rep = '\\b'; break;
        case 0x0c: rep = '\\f'; break;
        default: rep = '\\u00' + HEX[c >> 4] + HEX[c & 15];
      }
    } else if (c === 0x22) rep = '\\"';
    else if (c === 0x5c) rep = '\\\\';
    else if (html && (c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029)) {
      rep = '\\u' + c.toString(16).padStart(4, '0');
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A well-formed surrogate pair passes through; a lone half is invalid UTF-16.
      if (c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          i++;
          continue;
        }
      }
      rep = '\\ufffd';
    }
    if (rep !== undefined) {
      out += s.slice(start, i) + rep;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

function numberText(n: number): string {
  // JSON has no NaN/Infinity; JSON.parse never produces them.
  return Number.isFinite(n) ? String(n) : 'null';
}

/** Compact JSON text (no whitespace), member order preserved. */
export function marshal(v: JVal): string {
  switch (typeof v) {
    case 'string':
      return quote(v);
    case 'number':
      return numberText(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) {
          if (i > 0) out += ',';
          out += marshal(v[i]);
        }
        return out + ']';
      }
      let out = '{';
      let first = true;
      for (const k in v as Record<string, unknown>) {
        if (!hasOwn.call(v, k)) continue;
        const m = (v as Record<string, unknown>)[k];
        if (m === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += quote(k) + ':' + marshal(m);
      }
      return out + '}';
    }
    default:
      return 'null';
  }
}

/**
 * Indented JSON text as produced by Go's `json.Indent(dst, src, "", "  ")` on
 * a compact document: one member/element per line, two spaces per level,
 * `"key": value`, and empty objects/arrays kept as `{}` / `[]`.
 */
export function marshalIndent(v: JVal): string {
  return indentInto(v, '');
}

function indentInto(v: JVal, pad: string): string {
  if (v === null || typeof v !== 'object') return marshal(v);
  const inner = pad + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      out += (i > 0 ? ',\n' : '\n') + inner + indentInto(v[i], inner);
    }
    return out + '\n' + pad + ']';
  }
  let out = '{';
  let n = 0;
  for (const k in v as Record<string, unknown>) {
    if (!hasOwn.call(v, k)) continue;
    const m = (v as Record<string, unknown>)[k];
    if (m === undefined) continue;
    out += (n > 0 ? ',\n' : '\n') + inner + quote(k) + ': ' + indentInto(m, inner);
    n++;
  }
  return n === 0 ? '{}' : out + '\n' + pad + '}';
}
