/**
 * JSON text for alert payloads: bigint values as bare integers (nanosecond
 * timestamps in Falco's output_fields pass 2^53) and `RawJson` values spliced
 * in as the JSON text they already are (the Falco alert, the audit event), so
 * neither is parsed again. Placeholders carry a per-process random token, so a
 * string in an event cannot pose as one.
 */
import { randomBytes } from 'node:crypto';

/** A value that is already JSON text (one line), written as is. */
export class RawJson {
  constructor(readonly text: string) {}
}

const TOKEN = randomBytes(8).toString('hex');
const PLACEHOLDER = new RegExp(`"\\\\u0000${TOKEN}(B|R)([^"]*)"`, 'g');

export function stringify(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (typeof v === 'bigint') return `\u0000${TOKEN}B${v}`;
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `\u0000${TOKEN}R${raws.length - 1}`;
    }
    return v;
  });
  return text.replace(PLACEHOLDER, (_m, kind: string, arg: string) => (kind === 'B' ? arg : raws[Number(arg)]));
}
