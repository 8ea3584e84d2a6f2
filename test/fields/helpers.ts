import * as fs from 'fs';
import { catalogFor } from '../../src/fields';
import type { EventView, FieldValue } from '../../src/fields/types';
import { conformancePath } from '../support/conformance-data';

/** Read every JSON document of a conformance trace (one per line). */
export function readTrace(name: string): any[] {
  const text = fs.readFileSync(conformancePath('falco-legacy/traces', name), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l));
}

/** Read the raw lines of a conformance file. */
export function readLines(rel: string): string[] {
  return fs
    .readFileSync(conformancePath(rel), 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0);
}

export function view(obj: unknown, source = 'k8s_audit', extra: Partial<EventView> = {}): EventView {
  return { obj, source, ...extra };
}

/** Extract field `name` (with optional arg) from `obj` using the catalog of `source`. */
export function ex(
  name: string,
  obj: unknown,
  arg?: string,
  source = 'k8s_audit',
  extra: Partial<EventView> = {},
): FieldValue[] {
  const cat = catalogFor(source);
  if (cat === undefined) throw new Error(`no catalog for ${source}`);
  const def = cat.get(name);
  if (def === undefined) throw new Error(`no field ${name} in ${source}`);
  if (arg !== undefined && def.checkArg !== undefined) {
    const err = def.checkArg(arg);
    if (err !== undefined) throw new Error(err);
  }
  return def.extract(view(obj, source, extra), arg);
}
