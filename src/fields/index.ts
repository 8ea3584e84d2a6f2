/**
 * Field catalogs per event source, and how Falco renders field values in alerts.
 *
 * Rendering facts (falcosecurity/libs, sinsp_filter_check::tostring / tojson,
 * sinsp_evt_formatter; falcosecurity/falco formats):
 *  - A field with no value prints `<NA>` in the output string and is `null` in
 *    the JSON alert's `output_fields`. A plugin field that yields zero values
 *    has no value (an empty list is absent too).
 *  - A list field prints as `(v1,v2,...)`: parentheses, comma, no spaces, no
 *    quoting, even with a single value; the whole text is cut to 1023 bytes
 *    (libsinsp's 1024-byte property buffer). In output_fields it is a JSON array.
 *  - A string value prints as-is (no quotes, no escaping); in output_fields it
 *    is a JSON string. All ka.*, kar.*, json.* / jevt.* fields are strings, so a
 *    response code is "201" (a string) in output_fields, and json.rawtime is a
 *    string of digits.
 *  - Unsigned integers (evt.num, evt.rawtime, evt.rawtime.s) print in decimal
 *    and are JSON numbers; evt.rawtime.ns prints zero-padded to 9 digits but is
 *    a JSON number. Booleans (evt.is_async) print true/false and are JSON booleans.
 *  - evt.time, evt.time.s, evt.time.iso8601, evt.datetime, evt.datetime.s print
 *    their text, but output_fields holds the raw timestamp as an integer in ns.
 *  - Output formats pick a field by the longest field name that prefixes the
 *    text after `%` (so `%kar.target.resourcekar.x` is kar.target.resource then
 *    the literal `kar.x`); see matchFieldPrefix.
 */
import { makeCatalog } from './catalog';
import { evtFields } from './evt';
import { jsonFields } from './json';
import { k8sAdmissionFields } from './k8sadmission';
import { k8sAuditFields } from './k8saudit';
import { kestrelFields } from './kestrel';
import type { EventView, FieldCatalog, FieldDef, FieldValue } from './types';

export type { EventMeta } from './types';
export type { EventView, FieldCatalog, FieldDef, FieldValue, FieldArgSpec, FieldType } from './types';
export {
  eventTimeNs,
  parseRfc3339Ns,
  formatTimeHMS,
  formatTimeHMSs,
  formatDatetime,
  formatDatetimeS,
  formatIso8601,
  formatIso8601Offset,
} from './time';
export { marshal as toCompactJson, marshalIndent as toIndentedJson } from './jsonutil';
export { parsePointer, checkPointerArg } from './json';

/** Event sources Kestrel knows fields for. */
export const KNOWN_SOURCES: readonly string[] = Object.freeze(['k8s_audit', 'k8s_admission']);

const catalogs = new Map<string, FieldCatalog>();

/**
 * The field catalog of a source: k8s_audit -> ka.* + json.* / jevt.* + evt.* + kestrel.*;
 * k8s_admission -> kar.* + json.* / jevt.* + evt.* + kestrel.*. Undefined for other sources.
 */
export function catalogFor(source: string): FieldCatalog | undefined {
  let c = catalogs.get(source);
  if (c !== undefined) return c;
  if (source === 'k8s_audit') c = makeCatalog(source, [...k8sAuditFields(), ...jsonFields(), ...evtFields(), ...kestrelFields()]);
  else if (source === 'k8s_admission') c = makeCatalog(source, [...k8sAdmissionFields(), ...jsonFields(), ...evtFields(), ...kestrelFields()]);
  else return undefined;
  catalogs.set(source, c);
  return c;
}

const prefixOrder = new WeakMap<FieldCatalog, FieldDef[]>();

/**
 * The field an output format refers to at the start of `text` (the text after
 * `%`): the catalog field with the longest name that `text` starts with.
 */
export function matchFieldPrefix(catalog: FieldCatalog, text: string): FieldDef | undefined {
  let defs = prefixOrder.get(catalog);
  if (defs === undefined) {
    defs = catalog.all().sort((a, b) => b.name.length - a.name.length);
    prefixOrder.set(catalog, defs);
  }
  for (const d of defs) if (text.startsWith(d.name)) return d;
  return undefined;
}

const LIST_TEXT_MAX_BYTES = 1023;

function valueText(def: FieldDef, v: FieldValue): string {
  if (def.formatValue !== undefined) return def.formatValue(v);
  return typeof v === 'string' ? v : String(v);
}

function valueJson(def: FieldDef, v: FieldValue): unknown {
  switch (def.type) {
    case 'bool':
      return v === true || v === 'true';
    case 'uint64':
    case 'int64':
    case 'abstime':
    case 'reltime': {
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') {
        return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
      }
      return v;
    }
    default:
      return typeof v === 'string' ? v : String(v);
  }
}

function truncateBytes(s: string, max: number): string {
  if (s.length * 3 <= max || Buffer.byteLength(s, 'utf8') <= max) return s;
  return Buffer.from(s, 'utf8').subarray(0, max).toString('utf8');
}

/**
 * How Falco prints a field in an alert: `text` for the output string, `json`
 * for the JSON alert's output_fields. Pass the event to get libsinsp's special
 * JSON values (evt.time & co. export the raw ns timestamp). `json` may hold a
 * bigint for integers beyond 2^53 (serialize it as a bare integer, see
 * stringifyOutputJson).
 */
export function renderForOutput(
  def: FieldDef,
  values: FieldValue[],
  ev?: EventView,
): { text: string; json: unknown } {
  if (values.length === 0) return { text: '<NA>', json: null };
  let json: unknown;
  if (def.extractJson !== undefined && ev !== undefined) {
    json = def.extractJson(ev, undefined);
  } else if (def.isList) {
    json = values.map((v) => valueJson(def, v));
  } else {
    json = valueJson(def, values[0]);
  }
  if (!def.isList) return { text: valueText(def, values[0]), json };
  let text = '(';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) text += ',';
    text += valueText(def, values[i]);
  }
  text += ')';
  return { text: truncateBytes(text, LIST_TEXT_MAX_BYTES), json };
}

/** JSON.stringify that writes bigint values as bare integers (for output_fields). */
export function stringifyOutputJson(value: unknown): string {
  const marks: string[] = [];
  const s = JSON.stringify(value, (_k, v) => {
    if (typeof v === 'bigint') {
      marks.push(v.toString());
      return `\u0000BIGINT${marks.length - 1}\u0000`;
    }
    return v;
  });
  if (marks.length === 0) return s;
  return s.replace(/"\\u0000BIGINT([0-9]+)\\u0000"/g, (_m, i: string) => marks[Number(i)]);
}
