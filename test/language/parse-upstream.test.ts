/**
 * Every condition of every macro and rule in the shared Falco rule files must
 * parse. The files are read in place (never copied into the repository).
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { ConditionNode } from '../../src/language/ast';
import { ParseError, parseCondition } from '../../src/language/parser';
import { conformanceDir, describeWithConformance } from '../support/conformance-data';

const CONFORMANCE = conformanceDir();
const DIRS = ['upstream-latest', 'falco-legacy/rules'];

/** Conditions per file (path relative to the conformance folder), as observed. */
const EXPECTED_COUNTS: Record<string, number> = {
  'upstream-latest/falco-incubating_rules.yaml': 113,
  'upstream-latest/falco-sandbox_rules.yaml': 220,
  'upstream-latest/falco_rules.yaml': 112,
  'upstream-latest/k8s_audit_rules.yaml': 93,
  'upstream-latest/k8s_audit_rules_gke.yaml': 0,
  'falco-legacy/rules/allow_namespace_foo.yaml': 0,
  'falco-legacy/rules/allow_nginx_container.yaml': 1,
  'falco-legacy/rules/allow_only_apache_container.yaml': 1,
  'falco-legacy/rules/allow_user_some-user.yaml': 0,
  'falco-legacy/rules/disallow_kactivity.yaml': 1,
  'falco-legacy/rules/engine_v4/allow_nginx_container.yaml': 1,
  'falco-legacy/rules/engine_v4/allow_only_apache_container.yaml': 1,
  'falco-legacy/rules/engine_v4_k8s_audit_rules.yaml': 60,
  'falco-legacy/rules/falco_rules.yaml': 377,
  'falco-legacy/rules/k8s_audit_rules.yaml': 85,
  'falco-legacy/rules/single_rule_with_json_pointer.yaml': 1,
  'falco-legacy/rules/trust_nginx_container.yaml': 0,
};

interface Condition {
  file: string;
  name: string;
  text: string;
}

function yamlFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(full);
    return e.name.endsWith('.yaml') ? [full] : [];
  });
}

/**
 * An appended condition (`append: true`, or `override: {condition: append}`)
 * is a fragment such as `or x.y = z` that Falco glues after the original with
 * a blank; parse it behind a placeholder macro the same way.
 */
const APPEND_BASE = 'appended_to ';

function isAppend(item: Record<string, unknown>): boolean {
  const override = item.override as Record<string, unknown> | undefined;
  return item.append === true || override?.condition === 'append';
}

function collect(file: string): Condition[] {
  const doc: unknown = parseYaml(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(doc)) return [];
  const out: Condition[] = [];
  for (const item of doc as Array<Record<string, unknown>>) {
    if (!item || typeof item !== 'object') continue;
    const name = (item.macro ?? item.rule) as string | undefined;
    if (name === undefined || typeof item.condition !== 'string') continue;
    const text = isAppend(item) ? APPEND_BASE + item.condition : item.condition;
    out.push({ file: path.relative(CONFORMANCE, file), name: String(name), text });
  }
  return out;
}

/** Checks that every span lies inside the text and that leaves slice back to what they hold. */
function checkSpans(node: ConditionNode | object, text: string, problems: string[]): void {
  const n = node as { type: string; span?: { start: number; end: number } } & Record<string, unknown>;
  if (n.span) {
    const { start, end } = n.span;
    if (!(start >= 0 && start < end && end <= text.length)) problems.push(`${n.type} span ${start}-${end} out of range`);
    const src = text.slice(start, end);
    if (n.type === 'macro' && src !== n.name) problems.push(`macro span '${src}' != '${String(n.name)}'`);
    if (n.type === 'field' && !src.startsWith(String(n.name))) problems.push(`field span '${src}' != '${String(n.name)}'`);
    if (n.type === 'value' && !n.quoted && src !== n.value) problems.push(`value span '${src}' != '${String(n.value)}'`);
    if (n.type === 'value' && n.quoted && src[0] !== src[src.length - 1]) problems.push(`quoted span '${src}'`);
    if (n.type === 'list' && (src[0] !== '(' || src[src.length - 1] !== ')')) problems.push(`list span '${src}'`);
  }
  for (const [k, v] of Object.entries(n)) {
    if (k === 'span' || !v || typeof v !== 'object') continue;
    for (const child of Array.isArray(v) ? v : [v]) checkSpans(child as object, text, problems);
  }
}

describeWithConformance('upstream Falco rule files', () => {
  const files = DIRS.flatMap((d) => yamlFiles(path.join(CONFORMANCE, d))).sort();
  const conditions = files.flatMap(collect);

  test('every file is read and yields the expected number of conditions', () => {
    const counts: Record<string, number> = {};
    for (const f of files) counts[path.relative(CONFORMANCE, f)] = 0;
    for (const c of conditions) counts[c.file]++;
    expect(counts).toEqual(EXPECTED_COUNTS);
  });

  test('every condition parses', () => {
    const failures: string[] = [];
    for (const c of conditions) {
      try {
        parseCondition(c.text);
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        const near = c.text.slice(Math.max(0, e.offset - 30), e.offset + 30);
        failures.push(`${c.file} ${c.name}: ${e.message} at ${e.offset} near ${JSON.stringify(near)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(conditions.length).toBe(1066);
  });

  test('spans of every parsed node are consistent with the source', () => {
    const problems: string[] = [];
    for (const c of conditions) {
      const local: string[] = [];
      checkSpans(parseCondition(c.text), c.text, local);
      problems.push(...local.map((p) => `${c.file} ${c.name}: ${p}`));
    }
    expect(problems).toEqual([]);
  });
});
