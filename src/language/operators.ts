/**
 * Comparison operators, compiled once per check into a test over one value.
 * Set operators (`in`, `intersects`, `pmatch`) and the rules for list-valued
 * and absent fields live in the compiler; this file only knows how one
 * extracted value relates to the right-hand side.
 */
import type { RE2JS } from 're2js';
import type { FieldValue } from '../fields/types';
import { compileGlob } from './glob';
import { toText } from './values';

export type ValueTest = (v: FieldValue) => boolean;

export class OperatorError extends Error {}

const NUMERIC_OPS = new Set(['=', '==', '!=', '<', '<=', '>', '>=']);

/** Test for a single right-hand value. `numeric`: the field has an integer type. */
export function compileValueTest(op: string, rhs: string, numeric: boolean): ValueTest {
  if (numeric && NUMERIC_OPS.has(op)) return numericTest(op, parseInteger(rhs));
  switch (op) {
    case '=':
    case '==':
      return (v) => toText(v) === rhs;
    case '!=':
      return (v) => toText(v) !== rhs;
    case '<':
      return (v) => toText(v) < rhs;
    case '<=':
      return (v) => toText(v) <= rhs;
    case '>':
      return (v) => toText(v) > rhs;
    case '>=':
      return (v) => toText(v) >= rhs;
    case 'contains':
      return (v) => toText(v).includes(rhs);
    case 'icontains': {
      const low = rhs.toLowerCase();
      return (v) => toText(v).toLowerCase().includes(low);
    }
    case 'startswith':
      return (v) => toText(v).startsWith(rhs);
    case 'endswith':
      return (v) => toText(v).endsWith(rhs);
    case 'bcontains': {
      const bytes = parseHex(rhs);
      return (v) => Buffer.from(toText(v), 'utf8').includes(bytes);
    }
    case 'bstartswith': {
      const bytes = parseHex(rhs);
      return (v) => {
        const b = Buffer.from(toText(v), 'utf8');
        return b.length >= bytes.length && b.subarray(0, bytes.length).equals(bytes);
      };
    }
    case 'glob': {
      const m = compileGlob(rhs);
      return (v) => m(toText(v));
    }
    case 'iglob': {
      const m = compileGlob(rhs, true);
      return (v) => m(toText(v));
    }
    case 'regex': {
      let re: RE2JS;
      try {
        re = loadRe2().compile(rhs);
      } catch (e) {
        throw new OperatorError(`invalid regular expression '${rhs}': ${(e as Error).message}`);
      }
      // RE2 full match, as Falco's `regex` operator: linear time, no backtracking.
      return (v) => re.matches(toText(v));
    }
    case 'pmatch': {
      const m = compilePathPrefix([rhs]);
      return (v) => m(toText(v));
    }
    default:
      throw new OperatorError(`operator '${op}' cannot compare a single value`);
  }
}

/** A set of right-hand values for `in`/`intersects`: membership by text (or by number for integer fields). */
export function compileMembership(rhs: string[], numeric: boolean): ValueTest {
  if (numeric) {
    const set = new Set(rhs.map((r) => parseInteger(r).toString()));
    return (v) => set.has(toBigIntText(v));
  }
  const set = new Set(rhs);
  return (v) => set.has(toText(v));
}

/**
 * `pmatch`: the value is one of the paths or lies below one of them, compared
 * component by component (`/etc` matches `/etc` and `/etc/passwd`, not `/etcd`).
 * Components may be globs (`/var/*` /log).
 */
export function compilePathPrefix(paths: string[]): (s: string) => boolean {
  const prefixes = paths.map((p) => p.split('/').filter((c) => c !== ''));
  const matchers = prefixes.map((comps) => comps.map((c) => (/[*?[]/.test(c) ? compileGlob(c) : (s: string) => s === c)));
  return (s: string) => {
    const comps = s.split('/').filter((c) => c !== '');
    return matchers.some((m) => m.length <= comps.length && m.every((test, i) => test(comps[i])));
  };
}

function numericTest(op: string, rhs: bigint): ValueTest {
  const num = (v: FieldValue): bigint | undefined => {
    try {
      return typeof v === 'bigint' ? v : BigInt(typeof v === 'boolean' ? Number(v) : v);
    } catch {
      return undefined;
    }
  };
  switch (op) {
    case '=':
    case '==':
      return (v) => num(v) === rhs;
    case '!=':
      return (v) => num(v) !== rhs;
    case '<':
      return (v) => { const n = num(v); return n !== undefined && n < rhs; };
    case '<=':
      return (v) => { const n = num(v); return n !== undefined && n <= rhs; };
    case '>':
      return (v) => { const n = num(v); return n !== undefined && n > rhs; };
    default:
      return (v) => { const n = num(v); return n !== undefined && n >= rhs; };
  }
}

function toBigIntText(v: FieldValue): string {
  try {
    return (typeof v === 'bigint' ? v : BigInt(toText(v))).toString();
  } catch {
    return toText(v);
  }
}

export function parseInteger(text: string): bigint {
  const t = text.trim();
  if (!/^-?(0x[0-9a-fA-F]+|\d+)$/.test(t)) throw new OperatorError(`'${text}' is not a number`);
  return t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
}

function parseHex(text: string): Buffer {
  const t = text.replace(/\s+/g, '');
  if (t.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(t)) throw new OperatorError(`'${text}' is not a hex byte string`);
  return Buffer.from(t, 'hex');
}

/** re2js is loaded on first use of `regex` (few rules use it; loading it costs every start ~40 ms). */
let re2: typeof RE2JS | undefined;
function loadRe2(): typeof RE2JS {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (re2 ??= (require('re2js') as typeof import('re2js')).RE2JS);
}
