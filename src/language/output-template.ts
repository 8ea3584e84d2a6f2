/**
 * Output templates: `... user=%ka.user.name ns=%ka.target.namespace` is split
 * once, at load time, into literal text and field references.
 */
import { matchFieldPrefix } from '../fields';
import type { FieldCatalog } from '../fields/types';

export interface TemplateField {
  /** As written, e.g. `ka.req.pod.containers.image[0]` (the output_fields key). */
  key: string;
  name: string;
  arg?: string;
  /** Offset of the `%` in the template. */
  offset: number;
}

export type TemplatePart = string | TemplateField;

export class TemplateError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

const NAME_CHAR = /[A-Za-z0-9_.\-]/;

/**
 * Split a template. A reference is `%name`, `%name[arg]` or `%(name[arg])`.
 * The name is the longest field name of the catalog that the text starts with.
 */
export function parseTemplate(template: string, catalog: FieldCatalog): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c !== '%') {
      text += c;
      i++;
      continue;
    }
    const start = i;
    const paren = template[i + 1] === '(';
    let j = paren ? i + 2 : i + 1;
    let name = '';
    while (j < template.length && NAME_CHAR.test(template[j])) name += template[j++];
    if (name === '') {
      text += c;
      i++;
      continue;
    }
    // The field is the longest catalog name the text starts with, as in Falco
    // (so a sentence-ending dot after a field stays text).
    const known = matchFieldPrefix(catalog, name)?.name ?? '';
    if (!known) throw new TemplateError(`unknown field '${name}' in output`, start);
    j = (paren ? i + 2 : i + 1) + known.length;
    let arg: string | undefined;
    if (template[j] === '[') {
      const close = template.indexOf(']', j);
      if (close < 0) throw new TemplateError(`unterminated '[' after field '${known}' in output`, j);
      arg = template.slice(j + 1, close);
      j = close + 1;
    }
    if (paren) {
      if (template[j] !== ')') throw new TemplateError(`expected ')' after field '${known}' in output`, j);
      j++;
    }
    if (text) parts.push(text);
    text = '';
    parts.push({ key: arg === undefined ? known : `${known}[${arg}]`, name: known, arg, offset: start });
    i = j;
  }
  if (text) parts.push(text);
  return parts;
}
