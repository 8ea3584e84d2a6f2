/**
 * Fields of Falco's `json` plugin (falcosecurity/plugins, plugins/json), which
 * extracts from any plugin source whose events are JSON documents: here
 * k8s_audit and k8s_admission.
 *
 * Facts mirrored from the plugin:
 *  - json.value[P] / jevt.value[P]: P is a JSON pointer. The plugin drops one
 *    leading `/`, splits the rest on `/`, and in each token replaces `~1` with
 *    `/` then `~0` with `~` (RFC 6901). Each token selects an object member, or
 *    an array element when the node is an array (the token is read like Go's
 *    strconv.Atoi: `0`, `12`, also `+1` and `01`). A missing step yields no value.
 *  - The value's text: a string yields its decoded text (no quotes); anything
 *    else (number, true/false, null, object, array) yields its compact JSON text,
 *    e.g. `[{"name":"a"}]`, `201`, `true`, `null`.
 *  - json.obj / jevt.obj: the whole event as JSON indented by two spaces (Go's
 *    json.Indent of the compact event the source plugin emitted).
 *  - json.rawtime / jevt.rawtime: the event timestamp in ns as decimal text
 *    (a string field, not a number).
 *
 * Deviation required by Kestrel: the plugin also accepts a pointer without the
 * leading `/` (json.value[stage] reads /stage); Kestrel rejects it at compile time.
 */
import { evtTs } from './evt';
import { POINTER_ARG_REQUIRED } from './catalog';
import { jget, jtext, marshalIndent, setRenderEvent } from './jsonutil';
import { nsDecimal } from './time';
import type { EventView, FieldDef, FieldValue } from './types';

/** Shared empty result (frozen: extracted arrays must not be mutated). */
const NONE: FieldValue[] = Object.freeze([]) as unknown as FieldValue[];

/** Parse an RFC 6901 pointer (validated to start with `/`) into tokens as the plugin does. */
export function parsePointer(pointer: string): string[] {
  const body = pointer.length > 0 && pointer[0] === '/' ? pointer.slice(1) : pointer;
  return body.split('/').map((t) => t.split('~1').join('/').split('~0').join('~'));
}

/** Check a json.value argument: a non-empty JSON pointer starting with `/`. */
export function checkPointerArg(fieldName: string, arg: string): string | undefined {
  if (arg.length === 0) return `${fieldName} requires a JSON pointer argument, e.g. ${fieldName}[/user/username]`;
  if (arg[0] !== '/') {
    return `${fieldName} argument "${arg}" is not a JSON pointer: it must start with "/" (RFC 6901), e.g. ${fieldName}[/${arg}]`;
  }
  return undefined;
}

/** Resolve tokens against a document; undefined when a step is missing. */
export function resolvePointer(doc: unknown, tokens: readonly string[]): unknown {
  let v = doc;
  for (let i = 0; i < tokens.length; i++) {
    v = jget(v, tokens[i]);
    if (v === undefined) return undefined;
  }
  return v;
}

function isJsonDoc(obj: unknown): boolean {
  // The plugin only handles event data whose first character is `{` or `[`.
  return obj !== null && typeof obj === 'object';
}

function valueField(name: string, desc: string): FieldDef {
  const cache = new Map<string, string[]>();
  return {
    name,
    type: 'string',
    isList: false,
    arg: POINTER_ARG_REQUIRED,
    desc,
    checkArg: (arg) => checkPointerArg(name, arg),
    extract(ev: EventView, arg: string | undefined): FieldValue[] {
      if (arg === undefined || !isJsonDoc(ev.obj)) return NONE;
      let tokens = cache.get(arg);
      if (tokens === undefined) {
        tokens = parsePointer(arg);
        if (cache.size < 4096) cache.set(arg, tokens);
      }
      const v = resolvePointer(ev.obj, tokens);
      if (v === undefined) return NONE;
      setRenderEvent(ev);
      return [jtext(v)];
    },
  };
}

function objField(name: string, desc: string): FieldDef {
  return {
    name,
    type: 'string',
    isList: false,
    desc,
    extract(ev) {
      if (!isJsonDoc(ev.obj)) return NONE;
      setRenderEvent(ev);
      return [marshalIndent(ev.obj)];
    },
  };
}

function rawtimeField(name: string, desc: string): FieldDef {
  return {
    name,
    type: 'string',
    isList: false,
    desc,
    extract(ev) {
      if (!isJsonDoc(ev.obj)) return NONE;
      const ts = evtTs(ev);
      return ts === undefined ? NONE : [nsDecimal(ts)];
    },
  };
}

/** The json plugin's six fields (json.* and their jevt.* aliases). */
export function jsonFields(): FieldDef[] {
  return [
    valueField('json.value', 'Value at a JSON pointer in the event, e.g. json.value[/user/username]; non-string values as compact JSON.'),
    objField('json.obj', 'The whole event as indented JSON text.'),
    rawtimeField('json.rawtime', 'Event timestamp in nanoseconds since the epoch, as text (same as evt.rawtime).'),
    valueField('jevt.value', 'Legacy alias of json.value.'),
    objField('jevt.obj', 'Legacy alias of json.obj.'),
    rawtimeField('jevt.rawtime', 'Legacy alias of json.rawtime.'),
  ];
}
