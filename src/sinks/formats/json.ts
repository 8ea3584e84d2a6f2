/**
 * JSON text for alert payloads: `RawJson` values (the Falco alert, the audit
 * event) are spliced in as the JSON text they already are, so neither is
 * parsed or serialised again, and bigint values (nanosecond timestamps beyond
 * 2^53) are written as bare integers. Placeholders carry a per-process random
 * token, so a string in an event cannot pose as one.
 */
import { randomBytes } from 'node:crypto';

/** A value that is already JSON text (one line), written as is. */
export class RawJson {
  constructor(readonly text: string) {}
}

const TOKEN = randomBytes(8).toString('hex');
const MARK = `\u0000${TOKEN}`;
/** How a marker looks once JSON.stringify has escaped it inside a string. */
const MARK_JSON = JSON.stringify(MARK).slice(1, -1);
const PLACEHOLDER = new RegExp(`"${MARK_JSON.replace(/\\/g, '\\\\')}(B|R)([^"]*)"`, 'g');

/**
 * Payload objects hold RawJson only as direct members of plain objects (never
 * deeper inside a RawJson), so they are swapped for markers in one walk and
 * JSON.stringify runs without a replacer (a replacer call per value costs
 * several times the serialisation itself).
 */
export function stringify(value: unknown): string {
  const raws: string[] = [];
  const marked = mark(value, raws);
  let text: string;
  try {
    text = JSON.stringify(marked);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    // A bigint somewhere: the slower path with a replacer.
    text = JSON.stringify(marked, (_k, v) => (typeof v === 'bigint' ? `${MARK}B${v}` : v));
  }
  if (raws.length === 0 && !text.includes(MARK_JSON)) return text;
  return text.replace(PLACEHOLDER, (_m, kind: string, arg: string) => (kind === 'B' ? arg : raws[Number(arg)]));
}

function mark(v: unknown, raws: string[]): unknown {
  if (v instanceof RawJson) {
    raws.push(v.text);
    return `${MARK}R${raws.length - 1}`;
  }
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.some((x) => x !== null && typeof x === 'object') ? v.map((x) => mark(x, raws)) : v;
  let out: Record<string, unknown> | undefined;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const m = x !== null && typeof x === 'object' ? mark(x, raws) : x;
    if (m !== x) (out ??= { ...(v as Record<string, unknown>) })[k] = m;
  }
  return out ?? v;
}
