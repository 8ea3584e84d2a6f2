/**
 * The `tests:` list of a rule or correlation item: events and the result the
 * item must give for them. Read here (shape and types only); run by
 * `kestrel test` (src/cli/test.ts).
 */
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import type { Position } from './location';
import { jsonErrorText } from './json-error';

export type TestExpectation = 'fires' | 'does_not_fire';

export interface RuleTestSpec {
  /** 1-based place in the item's `tests:` list (after appends). */
  index: number;
  /** Optional description, printed after the test number. */
  name?: string;
  /** An inline event (a mapping, or a JSON string parsed at read time). */
  event?: unknown;
  /** A file of events (JSON lines, or an audit EventList), relative to the rules file. */
  eventsFile?: string;
  /** Extra rules files loaded after the tested ruleset for this test only, relative to the rules file. */
  withRules?: string[];
  expect: TestExpectation;
  /** Exact number of alerts expected (with `fires`). */
  count?: number;
  /** Values the first alert's output_fields must have (exact JSON equality per key). */
  outputFields?: Record<string, unknown>;
  /** The rules file the test was written in (paths are relative to it). */
  file: string;
  pos: Position;
}

const TEST_KEYS = new Set(['name', 'event', 'events_file', 'with_rules', 'expect', 'count', 'output_fields']);

/** Raised with the offset of the offending node; the reader turns it into a located error. */
export class TestSpecError extends Error {
  constructor(message: string, readonly node: Node | null | undefined) {
    super(message);
  }
}

export function readTests(what: string, file: string, node: Node | null, posOf: (n: Node) => Position): RuleTestSpec[] {
  if (node === null) return [];
  if (!isSeq(node)) throw new TestSpecError(`${what}: 'tests' must be a sequence`, node);
  return node.items.map((n, i) => readTest(`${what} test ${i + 1}`, file, n as Node, i + 1, posOf));
}

function readTest(what: string, file: string, node: Node, index: number, posOf: (n: Node) => Position): RuleTestSpec {
  if (!isMap(node)) throw new TestSpecError(`${what}: must be a mapping`, node);
  const map = node as YAMLMap;
  const get = (k: string): Node | null | undefined => {
    const p = map.items.find((it) => isScalar(it.key) && it.key.value === k);
    return p ? (p.value as Node | null) : undefined;
  };
  for (const p of map.items) {
    const k = isScalar(p.key) ? String(p.key.value) : '';
    if (!TEST_KEYS.has(k)) throw new TestSpecError(`${what}: unknown key '${k}' (expected: ${[...TEST_KEYS].join(', ')})`, p.key as Node);
  }
  const spec: RuleTestSpec = { index, expect: 'fires', file, pos: posOf(map) };
  const expect = get('expect');
  if (!isScalar(expect) || (expect.value !== 'fires' && expect.value !== 'does_not_fire')) {
    throw new TestSpecError(`${what}: 'expect' must be fires or does_not_fire`, expect ?? map);
  }
  spec.expect = expect.value;
  const name = get('name');
  if (name !== undefined) {
    if (!isScalar(name) || typeof name.value !== 'string') throw new TestSpecError(`${what}: 'name' must be a string`, name ?? map);
    spec.name = name.value;
  }
  const event = get('event');
  const eventsFile = get('events_file');
  if ((event === undefined) === (eventsFile === undefined)) throw new TestSpecError(`${what}: give exactly one of 'event' and 'events_file'`, map);
  if (event !== undefined) {
    if (isMap(event)) spec.event = event.toJSON();
    else if (isScalar(event) && typeof event.value === 'string') {
      try {
        spec.event = JSON.parse(event.value);
      } catch (e) {
        throw new TestSpecError(`${what}: 'event' is not valid JSON: ${jsonErrorText(e)}`, event);
      }
    } else throw new TestSpecError(`${what}: 'event' must be a mapping or a JSON string`, event ?? map);
  }
  if (eventsFile !== undefined) {
    if (!isScalar(eventsFile) || typeof eventsFile.value !== 'string' || eventsFile.value === '') throw new TestSpecError(`${what}: 'events_file' must be a path`, eventsFile ?? map);
    spec.eventsFile = eventsFile.value;
  }
  const withRules = get('with_rules');
  if (withRules !== undefined) {
    const list = isSeq(withRules) ? withRules.items : [withRules];
    spec.withRules = list.map((it) => {
      const n = it as Node;
      if (!isScalar(n) || typeof n.value !== 'string' || n.value === '') throw new TestSpecError(`${what}: 'with_rules' must be a path or a list of paths`, n);
      return n.value;
    });
  }
  const count = get('count');
  if (count !== undefined) {
    if (!isScalar(count) || typeof count.value !== 'number' || !Number.isInteger(count.value) || count.value < 0) {
      throw new TestSpecError(`${what}: 'count' must be a non-negative integer`, count ?? map);
    }
    if (spec.expect === 'does_not_fire') throw new TestSpecError(`${what}: 'count' goes with 'expect: fires'`, count);
    spec.count = count.value;
  }
  const fields = get('output_fields');
  if (fields !== undefined) {
    if (!isMap(fields)) throw new TestSpecError(`${what}: 'output_fields' must be a mapping of field: value`, fields ?? map);
    if (spec.expect === 'does_not_fire') throw new TestSpecError(`${what}: 'output_fields' goes with 'expect: fires'`, fields);
    spec.outputFields = fields.toJSON() as Record<string, unknown>;
  }
  return spec;
}
