/**
 * Event time: parsing and the exact text formats Falco uses.
 *
 * Facts (falcosecurity/plugins and falcosecurity/libs):
 *  - k8saudit (`k8s_audit`): the event timestamp is the audit event's
 *    `stageTimestamp`, parsed as RFC 3339 with optional fraction (Go
 *    time.RFC3339Nano); an event without a parsable one is dropped by the plugin.
 *  - k8sadmission (`k8s_admission`): the timestamp is the document's top-level
 *    `requestReceivedTimestamp` (the plugin's webhook adds it; files must carry it).
 *  - libsinsp `ts_to_string`: `HH:MM:SS.nnnnnnnnn` (evt.time), `HH:MM:SS`
 *    (evt.time.s), with `YYYY-MM-DD ` prepended for evt.datetime(.s). The clock
 *    is the host's local zone; Falco containers run in UTC, which is the default
 *    here (pass an offset in seconds east of UTC to emulate another zone).
 *  - libsinsp `ts_to_iso_8601` (evt.time.iso8601): `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+0000`
 *    (always UTC, numeric offset).
 *  - Falco's JSON alert `time`: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
 */

const NS_PER_S = 1_000_000_000n;
const RFC3339_RE =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:[.,]([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})$/;

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [m <= 2 ? y + 1 : y, m, d];
}

/**
 * Parse an RFC 3339 timestamp (as Go's time.Parse(time.RFC3339Nano) accepts it)
 * into nanoseconds since the epoch. Digits past the ninth fractional one are
 * truncated. Returns undefined when the text is not a valid timestamp.
 */
export function parseRfc3339Ns(text: string): bigint | undefined {
  // One event's timestamp is read several times in a row (jevt.rawtime, evt.time, the alert time).
  if (text === lastText) return lastNs;
  lastDecimal = undefined;
  const ns = parseUtcFast(text) ?? parseRfc3339Regex(text);
  lastText = text;
  lastNs = ns;
  return ns;
}

let lastText: string | undefined;
let lastNs: bigint | undefined;
/** Decimal text of lastNs when the fast path could write it without a bigint conversion. */
let lastDecimal: string | undefined;

/** `ns` in decimal, as ns.toString(); free for the timestamp just parsed. */
export function nsDecimal(ns: bigint): string {
  return ns === lastNs && lastDecimal !== undefined ? lastDecimal : ns.toString();
}

/** Two ASCII digits at i as a number, or -1. */
function d2(t: string, i: number): number {
  const a = t.charCodeAt(i) - 48, b = t.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * The usual form, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, without a regex; same
 * result as parseRfc3339Regex. Undefined for anything else (the regex decides).
 */
function parseUtcFast(t: string): bigint | undefined {
  const n = t.length;
  if (n < 20 || t.charCodeAt(n - 1) !== 90 /* Z */) return undefined;
  if (t.charCodeAt(4) !== 45 || t.charCodeAt(7) !== 45 || t.charCodeAt(10) !== 84 || t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58) return undefined;
  const y1 = d2(t, 0), y2 = d2(t, 2), mo = d2(t, 5), d = d2(t, 8), h = d2(t, 11), mi = d2(t, 14), s = d2(t, 17);
  if (y1 < 0 || y2 < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return undefined;
  let frac = 0;
  if (n > 20) {
    const sep = t.charCodeAt(19);
    if ((sep !== 46 && sep !== 44) || n === 21) return undefined;
    // Digits 20 .. n-2; the first nine count, the rest are truncated.
    let scale = 100_000_000;
    for (let i = 20; i < n - 1; i++) {
      const c = t.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return undefined;
      frac += c * scale;
      scale = scale / 10;
      if (scale < 1) scale = 0;
    }
  }
  const y = y1 * 100 + y2;
  if (mo < 1 || mo > 12 || d < 1) return undefined;
  const dim = mo === 2 && isLeap(y) ? 29 : MONTH_DAYS[mo - 1];
  // Out-of-range parts: the regex path gives the same answer (undefined).
  if (d > dim || h > 23 || mi > 59 || s > 59) return undefined;
  const secs = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  // Seconds since 1970 then nine digits of fraction: the decimal of secs * 1e9 + frac.
  if (secs > 0) lastDecimal = String(secs) + String(frac).padStart(9, '0');
  return BigInt(secs) * NS_PER_S + BigInt(frac);
}

/** The definition: parseRfc3339Ns gives what this gives, for every text. */
export function parseRfc3339Regex(text: string): bigint | undefined {
  const m = RFC3339_RE.exec(text);
  if (m === null) return undefined;
  const y = +m[1], mo = +m[2], d = +m[3], h = +m[4], mi = +m[5], s = +m[6];
  if (mo < 1 || mo > 12 || d < 1) return undefined;
  const dim = mo === 2 && isLeap(y) ? 29 : MONTH_DAYS[mo - 1];
  if (d > dim || h > 23 || mi > 59 || s > 59) return undefined;
  let offsetS = 0;
  const z = m[8];
  if (z !== 'Z') {
    const oh = +z.slice(1, 3), om = +z.slice(4, 6);
    if (oh > 23 || om > 59) return undefined;
    offsetS = (oh * 3600 + om * 60) * (z[0] === '-' ? -1 : 1);
  }
  const frac = m[7] === undefined ? 0n : BigInt((m[7] + '00000000').slice(0, 9));
  const secs = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offsetS;
  return BigInt(secs) * NS_PER_S + frac;
}

/**
 * The event time of a decoded document in nanoseconds since the epoch:
 * `stageTimestamp` for k8s_audit (the default), `requestReceivedTimestamp`
 * for k8s_admission. Undefined when missing or unparsable.
 *
 * Not cached per document: the engine already memoizes each field once per
 * event, and a WeakMap keyed by every event costs more in garbage collection
 * (measured: ~10 us per event) than parsing the timestamp again.
 */
export function eventTimeNs(obj: unknown, source: string = 'k8s_audit'): bigint | undefined {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const v = (obj as Record<string, unknown>)[source === 'k8s_admission' ? 'requestReceivedTimestamp' : 'stageTimestamp'];
  return typeof v === 'string' ? parseRfc3339Ns(v) : undefined;
}

function p2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}
function p9(n: bigint): string {
  return n.toString().padStart(9, '0');
}
function p4(n: number): string {
  return String(n).padStart(4, '0');
}

function split(ns: bigint, tzOffsetS: number): { days: number; sod: number; frac: bigint } {
  let sec = ns / NS_PER_S;
  let frac = ns % NS_PER_S;
  if (frac < 0n) {
    frac += NS_PER_S;
    sec -= 1n;
  }
  const local = Number(sec) + tzOffsetS;
  const days = Math.floor(local / 86400);
  return { days, sod: local - days * 86400, frac };
}

function hms(sod: number): string {
  return p2(Math.floor(sod / 3600)) + ':' + p2(Math.floor((sod % 3600) / 60)) + ':' + p2(sod % 60);
}

function ymd(days: number): string {
  const [y, m, d] = civilFromDays(days);
  return p4(y) + '-' + p2(m) + '-' + p2(d);
}

/** evt.time: `HH:MM:SS.nnnnnnnnn`. */
export function formatTimeHMS(ns: bigint, tzOffsetS = 0): string {
  const t = split(ns, tzOffsetS);
  return hms(t.sod) + '.' + p9(t.frac);
}

/** evt.time.s: `HH:MM:SS`. */
export function formatTimeHMSs(ns: bigint, tzOffsetS = 0): string {
  return hms(split(ns, tzOffsetS).sod);
}

/** evt.datetime: `YYYY-MM-DD HH:MM:SS.nnnnnnnnn`. */
export function formatDatetime(ns: bigint, tzOffsetS = 0): string {
  const t = split(ns, tzOffsetS);
  return ymd(t.days) + ' ' + hms(t.sod) + '.' + p9(t.frac);
}

/** evt.datetime.s: `YYYY-MM-DD HH:MM:SS`. */
export function formatDatetimeS(ns: bigint, tzOffsetS = 0): string {
  const t = split(ns, tzOffsetS);
  return ymd(t.days) + ' ' + hms(t.sod);
}

/** Falco's JSON alert `time`: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` (UTC). */
export function formatIso8601(ns: bigint): string {
  const t = split(ns, 0);
  return ymd(t.days) + 'T' + hms(t.sod) + '.' + p9(t.frac) + 'Z';
}

/** evt.time.iso8601: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+0000` (UTC). */
export function formatIso8601Offset(ns: bigint): string {
  const t = split(ns, 0);
  return ymd(t.days) + 'T' + hms(t.sod) + '.' + p9(t.frac) + '+0000';
}
