import { RuleCollection } from '../../src/language/collector';
import { formatDiagnostic } from '../../src/language/diagnostics';
import { readRulesFile } from '../../src/language/reader';

const collect = (...files: [string, string][]) => {
  const coll = new RuleCollection();
  const diags: string[] = [];
  for (const [name, text] of files) {
    const r = readRulesFile(name, text);
    diags.push(...r.diagnostics.map(formatDiagnostic));
    coll.add(r.items);
  }
  diags.push(...coll.diagnostics.map(formatDiagnostic));
  return { coll, diags };
};

const RULE = (name: string, extra = '') => `- rule: ${name}
  desc: d
  condition: ka.verb = create
  output: o %ka.user.name
  priority: WARNING
  source: k8s_audit
${extra}`;

describe('reader', () => {
  test('YAML syntax errors are located', () => {
    const { diags } = collect(['a.yaml', '- rule: x\n  condition: [unclosed\n']);
    expect(diags).toHaveLength(1);
    expect(diags[0]).toMatch(/^a\.yaml:3:1: error LOAD_ERR_YAML_PARSE: YAML syntax error: Flow sequence in block collection/);
  });

  test('shape and type errors name file, line and column', () => {
    const { diags } = collect(['b.yaml', [
      '- rule: r1', '  desc: d', '  condition: ka.verb=get', '  output: o', '  priority: LOUD',
      '- rule: r2', '  desc: d', '  output: o', '  priority: info',
      '- list: l', '  items: notalist',
      '- macro: m',
      '- 42',
      '- rule: r3', '  desc: d', '  condition: c', '  output: o', '  priority: debug', '  enabled: "yes"',
    ].join('\n')]);
    expect(diags).toEqual([
      "b.yaml:5:13: error LOAD_ERR_YAML_VALIDATE: rule 'r1': invalid priority 'LOUD' (expected one of emergency, alert, critical, error, warning, notice, informational, info, debug)",
      "b.yaml:6:3: error LOAD_ERR_YAML_VALIDATE: rule 'r2' has no 'condition'",
      "b.yaml:11:10: error LOAD_ERR_YAML_VALIDATE: list 'l': 'items' must be a sequence",
      "b.yaml:12:3: error LOAD_ERR_YAML_VALIDATE: macro 'm' has no 'condition'",
      'b.yaml:13:3: error LOAD_ERR_YAML_VALIDATE: item is not a mapping (expected one of: list, macro, rule, required_engine_version, required_plugin_versions)',
      "b.yaml:19:12: error LOAD_ERR_YAML_VALIDATE: 'enabled' must be true or false",
    ]);
  });

  test('unknown keys and items are warnings', () => {
    const { diags } = collect(['c.yaml', `${RULE('r', '  colour: red\n')}- thing: 1\n`]);
    expect(diags).toEqual([
      "c.yaml:7:3: warning LOAD_UNKNOWN_ITEM: unknown key 'colour' in rule (ignored)",
      "c.yaml:8:3: warning LOAD_UNKNOWN_ITEM: unknown top level item 'thing' (ignored)",
    ]);
  });

  test('priorities are case-insensitive and info means Informational', () => {
    const { coll } = collect(['d.yaml', RULE('r').replace('WARNING', 'info')]);
    expect(coll.rules.get('r')!.priority).toBe('Informational');
  });

  test('engine version too high', () => {
    const { diags } = collect(['e.yaml', '- required_engine_version: 999\n']);
    expect(diags).toEqual(["e.yaml:1:3: error LOAD_ERR_VALIDATE: rules require engine version 999 (0.999.0), but Kestrel's engine version is 0.50.0"]);
  });

  test('override and append together is an error', () => {
    const { diags } = collect(['f.yaml', `${RULE('r')}- rule: r\n  condition: and x\n  append: true\n  override:\n    condition: append\n`]);
    expect(diags).toEqual(["f.yaml:10:3: error LOAD_ERR_YAML_VALIDATE: keys 'override' and 'append: true' cannot be used together"]);
  });
});

describe('collector', () => {
  test('lists: append, override replace, redefinition', () => {
    const { coll, diags } = collect(
      ['a.yaml', '- list: l\n  items: [a, b]\n- list: m\n  items: [x]\n'],
      ['b.yaml', '- list: l\n  items: [c]\n  append: true\n- list: m\n  items: [y]\n  override:\n    items: replace\n- list: n\n  items: [z]\n  append: true\n'],
    );
    expect(coll.lists.get('l')!.items).toEqual(['a', 'b', 'c']);
    expect(coll.lists.get('m')!.items).toEqual(['y']);
    expect(diags).toEqual(["b.yaml:8:3: error LOAD_ERR_VALIDATE: list 'n' has 'append: true' but no earlier list of that name exists"]);
  });

  test('macros: append joins condition pieces, redefinition replaces', () => {
    const { coll } = collect(
      ['a.yaml', '- macro: m\n  condition: ka.verb=get\n- macro: k\n  condition: a\n'],
      ['b.yaml', '- macro: m\n  condition: or ka.verb=list\n  append: true\n- macro: k\n  condition: b\n'],
    );
    expect(coll.macros.get('m')!.condition.map((c) => c.text)).toEqual(['ka.verb=get', 'or ka.verb=list']);
    expect(coll.macros.get('k')!.condition.map((c) => c.text)).toEqual(['b']);
  });

  test('rules: override per key, enable-only entries, load order kept on redefinition', () => {
    const { coll, diags } = collect(
      ['a.yaml', RULE('r1', '  tags: [b, a]\n') + RULE('r2')],
      ['b.yaml', [
        '- rule: r1', '  condition: and ka.user.name=bob', '  output: (extra)', '  tags: [c]', '  priority: error', '  override:',
        '    condition: append', '    output: append', '    tags: append', '    priority: replace',
        '- rule: r2', '  enabled: false',
        RULE('r1').replace('desc: d', 'desc: redefined').trimEnd(),
        '- rule: ghost', '  enabled: true',
      ].join('\n')],
    );
    expect([...coll.rules.keys()]).toEqual(['r1', 'r2']);
    const r1 = coll.rules.get('r1')!;
    expect(r1.desc).toBe('redefined');
    expect(coll.rules.get('r2')!.enabled).toBe(false);
    expect(diags).toEqual(["b.yaml:19:3: error LOAD_ERR_VALIDATE: rule 'ghost' sets 'enabled' but no earlier rule of that name exists"]);
  });

  test('rules: override append of condition/output/tags and replace of priority', () => {
    const { coll } = collect(
      ['a.yaml', RULE('r1', '  tags: [b, a]\n')],
      ['b.yaml', '- rule: r1\n  condition: and ka.user.name=bob\n  output: (extra)\n  tags: [c]\n  priority: error\n  override:\n    condition: append\n    output: append\n    tags: append\n    priority: replace\n'],
    );
    const r1 = coll.rules.get('r1')!;
    expect(r1.condition.map((c) => c.text)).toEqual(['ka.verb = create', 'and ka.user.name=bob']);
    expect(r1.output).toBe('o %ka.user.name (extra)');
    expect(r1.tags).toEqual(['b', 'a', 'c']);
    expect(r1.priority).toBe('Error');
  });

  test('exceptions: append adds values to a same-named exception or adds a new one', () => {
    const { coll } = collect(
      ['a.yaml', RULE('r', '  exceptions:\n    - name: users\n      fields: [ka.user.name]\n      values: [[alice]]\n')],
      ['b.yaml', '- rule: r\n  exceptions:\n    - name: users\n      values: [[bob]]\n    - name: ns\n      fields: ka.target.namespace\n      values: [kube-system]\n  override:\n    exceptions: append\n'],
    );
    expect(coll.rules.get('r')!.exceptions.map(({ name, fields, values }) => ({ name, fields, values }))).toEqual([
      { name: 'users', fields: ['ka.user.name'], values: [['alice'], ['bob']] },
      { name: 'ns', fields: 'ka.target.namespace', values: ['kube-system'] },
    ]);
  });
});
