import type { FieldValue } from '../fields/types';

/** Falco compares values as text: numbers and booleans as their JSON text. */
export function toText(v: FieldValue): string {
  return typeof v === 'string' ? v : String(v);
}
