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

/** Falco's JSON alert, one line. bigint values are written as JSON numbers. */
export function alertJson(a: Alert): string {
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
  return JSON.stringify(obj, (_k, v) => (typeof v === 'bigint' ? `\u0000BIG${v}` : v)).replace(/"\\u0000BIG(-?\d+)"/g, '$1');
}
