import type { FieldArgSpec, FieldCatalog, FieldDef } from './types';

/** Build a catalog over a list of field definitions (names must be unique). */
export function makeCatalog(source: string, defs: readonly FieldDef[]): FieldCatalog {
  const byName = new Map<string, FieldDef>();
  for (const d of defs) {
    if (byName.has(d.name)) throw new Error(`duplicate field ${d.name} in catalog ${source}`);
    byName.set(d.name, d);
  }
  const all = [...defs];
  return {
    source,
    get: (name: string) => byName.get(name),
    all: () => all.slice(),
  };
}

export const INDEX_ARG: FieldArgSpec = Object.freeze({ required: false, kind: 'index' }) as FieldArgSpec;
export const KEY_ARG_REQUIRED: FieldArgSpec = Object.freeze({ required: true, kind: 'key' }) as FieldArgSpec;
export const POINTER_ARG_REQUIRED: FieldArgSpec = Object.freeze({ required: true, kind: 'pointer' }) as FieldArgSpec;

const MAX_U64 = 18446744073709551615n;

/**
 * libsinsp's validation of an index argument (`field[N]`): non-empty, decimal
 * digits only, no leading zero (except `0` itself), representable on 64 bits.
 */
export function checkIndexArg(fieldName: string, arg: string): string | undefined {
  if (arg.length === 0 || (arg.length > 1 && arg[0] === '0')) {
    return `${fieldName} has an invalid index argument starting with 0: ${arg}`;
  }
  if (!/^[0-9]+$/.test(arg)) {
    return `${fieldName} has an invalid index argument not composed only by digits: ${arg}`;
  }
  if (BigInt(arg) > MAX_U64) {
    return `${fieldName} has an invalid index argument not representable on 64 bit: ${arg}`;
  }
  return undefined;
}

/** The index given by a (validated) argument, or -1 when there is none. */
export function argIndex(arg: string | undefined): number {
  if (arg === undefined) return -1;
  const n = Number(arg);
  return Number.isFinite(n) && n >= 0 ? n : Number.MAX_SAFE_INTEGER;
}
