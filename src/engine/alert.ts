/**
 * Alerts in Falco's two shapes: the text line
 * `HH:MM:SS.nnnnnnnnn: Priority message` and the JSON object with keys in
 * Falco's (alphabetical) order. Times are printed in UTC.
 */
import { formatIso8601, formatTimeHMS } from '../fields/time';
import type { Priority } from '../language/priority';

export interface Alert {
  /** Event time, nanoseconds since the epoch. */
  timeNs: bigint;
  rule: string;
  priority: Priority;
  source: string;
  tags: string[];
  hostname: string;
  /** The rule's output with fields substituted (no time/priority prefix). */
  message: string;
  /** Field values by the name used in the output template, typed (null when absent). */
  outputFields: Record<string, unknown>;
  /** Extra static fields configured by the operator (cluster, environment...). */
  extra?: Record<string, unknown>;
}

/** `HH:MM:SS.nnnnnnnnn` in UTC (pre-1970 times too: the fraction is never negative). */
export function formatTime(ns: bigint): string {
  return formatTimeHMS(ns);
}

/** Falco's JSON alert `time`: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`. */
export function formatIsoTime(ns: bigint): string {
  return formatIso8601(ns);
}

/** Falco's text line. */
export function alertText(a: Alert): string {
  return `${formatTime(a.timeNs)}: ${a.priority} ${a.message}`;
}

/**
 * Falco's JSON alert, one line: keys of the alert and of output_fields in
 * alphabetical order, bigint values written as JSON numbers. Written by hand
 * from per-key-set layouts (the sorted keys, already quoted) instead of
 * sorting and stringifying a fresh object per alert; the bytes are those of
 * `alertJsonReference`, which the tests hold it to.
 */
export function alertJson(a: Alert): string {
  const layout = fieldsLayout(a.outputFields);
  if (!layout || (a.extra && Object.keys(a.extra).some(isIndexLike))) return alertJsonReference(a);
  let fields = '{';
  for (const { key, prefix } of layout) fields = member(fields, prefix, key === 'evt.time' ? jsonValue(a.timeNs) : jsonValue(a.outputFields[key]));
  let out = member('{', '"hostname":', jsonValue(a.hostname));
  out = member(out, '"output":', JSON.stringify(alertText(a)));
  out = member(out, '"output_fields":', `${fields}}`);
  out = member(out, '"priority":', jsonValue(a.priority));
  out = member(out, '"rule":', jsonValue(a.rule));
  out = member(out, '"source":', jsonValue(a.source));
  out = member(out, '"tags":', jsonValue(a.tags));
  out = member(out, '"time":', `"${formatIsoTime(a.timeNs)}"`);
  if (a.extra) for (const [k, v] of Object.entries(a.extra)) if (!(k in ALERT_KEYS)) out = member(out, `${JSON.stringify(k)}:`, jsonValue(v));
  out += '}';
  // A string that reads like the reference's bigint marker is turned into a number there too.
  return out.includes('\\u0000BIG') ? out.replace(BIG_MARKED, '$1') : out;
}

/** `obj` (an object's text so far, from its `{`) with one more member, unless the value is left out. */
function member(obj: string, prefix: string, text: string | undefined): string {
  if (text === undefined) return obj;
  return obj.length > 1 ? `${obj},${prefix}${text}` : obj + prefix + text;
}

/** The straightforward formatter: the definition of alertJson's output. */
export function alertJsonReference(a: Alert): string {
  const fields: Record<string, unknown> = { ...a.outputFields, 'evt.time': a.timeNs };
  const sortedFields: Record<string, unknown> = {};
  for (const k of Object.keys(fields).sort()) sortedFields[k] = fields[k];
  const obj: Record<string, unknown> = {
    hostname: a.hostname,
    output: alertText(a),
    output_fields: sortedFields,
    priority: a.priority,
    rule: a.rule,
    source: a.source,
    tags: a.tags,
    time: formatIsoTime(a.timeNs),
  };
  if (a.extra) for (const [k, v] of Object.entries(a.extra)) if (!(k in obj)) obj[k] = v;
  return JSON.stringify(obj, markBigint).replace(BIG_MARKED, '$1');
}

/** The alert's own keys (extra fields never replace them; `in` also sees Object.prototype's, as the reference). */
const ALERT_KEYS: Record<string, unknown> = { hostname: 0, output: 0, output_fields: 0, priority: 0, rule: 0, source: 0, tags: 0, time: 0 };
const BIG_MARKED = /"\\u0000BIG(-?\d+)"/g;
const markBigint = (_k: string, v: unknown) => (typeof v === 'bigint' ? `\u0000BIG${v}` : v);

/** One value as the reference writes it inside an object; undefined when it would be left out. */
function jsonValue(v: unknown): string | undefined {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return v.toString();
  if (v === null) return 'null';
  return JSON.stringify(v, markBigint);
}

/** Integer-like keys are ordered numerically by JS objects: those alerts are left to the reference. */
const isIndexLike = (k: string) => /^(0|[1-9]\d*)$/.test(k);

type FieldsLayout = { key: string; prefix: string }[];
/** Layouts by output_fields key set (a rule's fields, maybe plus shaping's): few distinct ones. */
const layouts = new Map<string, FieldsLayout | undefined>();
const MAX_LAYOUTS = 4096;

/** output_fields keys with evt.time, sorted, each with its quoted `"key":`; undefined for keys JS objects treat specially. */
function fieldsLayout(fields: Record<string, unknown>): FieldsLayout | undefined {
  const keys = Object.keys(fields);
  const sig = keys.join('\u0001');
  if (layouts.has(sig)) return layouts.get(sig);
  const layout = keys.some((k) => isIndexLike(k) || k === '__proto__')
    ? undefined
    : [...new Set([...keys, 'evt.time'])].sort().map((key) => ({ key, prefix: `${JSON.stringify(key)}:` }));
  if (layouts.size >= MAX_LAYOUTS) layouts.clear();
  layouts.set(sig, layout);
  return layout;
}
