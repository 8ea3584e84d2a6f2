import { PassThrough } from 'node:stream';
import { RuleCollection } from '../../src/language/collector';
import {
  countDiagnostics, errorAt, ERROR_CODES, formatDiagnostic, printDiagnostics, warningAt, WARNING_CODES, type Diagnostic,
} from '../../src/language/diagnostics';
import { readRulesFile } from '../../src/language/reader';
import { unusedDefinitions } from '../../src/language/usage';

describe('diagnostic values and the one printing policy', () => {
  const diags: Diagnostic[] = [
    errorAt('LOAD_ERR_COMPILE_CONDITION', 'r.yaml', { line: 3, col: 15 }, "rule 'R': unknown field 'ka.nope' for source k8s_audit"),
    warningAt('LOAD_UNUSED_MACRO', 'r.yaml', { line: 1, col: 3 }, "macro 'm' is not referred to by any rule or macro"),
    errorAt('LOAD_ERR_FILE_READ', 'missing.yaml', undefined, 'no such file or directory'),
  ];

  test('FILE:LINE:COL: severity CODE: message; no position for file-level problems', () => {
    expect(diags.map(formatDiagnostic)).toEqual([
      "r.yaml:3:15: error LOAD_ERR_COMPILE_CONDITION: rule 'R': unknown field 'ka.nope' for source k8s_audit",
      "r.yaml:1:3: warning LOAD_UNUSED_MACRO: macro 'm' is not referred to by any rule or macro",
      'missing.yaml: error LOAD_ERR_FILE_READ: no such file or directory',
    ]);
  });

  test('printDiagnostics writes every error and warning, one line each, to a stream or a logger function', () => {
    const stream = new PassThrough();
    expect(printDiagnostics(diags, stream)).toEqual({ errors: 2, warnings: 1 });
    expect(stream.read().toString()).toBe(diags.map((d) => `${formatDiagnostic(d)}\n`).join(''));
    const logged: [string, string][] = [];
    printDiagnostics(diags, (line, d) => logged.push([d.code, line]));
    expect(logged).toEqual(diags.map((d) => [d.code, formatDiagnostic(d)]));
    expect(countDiagnostics([])).toEqual({ errors: 0, warnings: 0 });
  });

  test("Falco's load_result codes keep Falco's names", () => {
    expect(Object.keys(ERROR_CODES)).toEqual([
      'LOAD_ERR_FILE_READ', 'LOAD_ERR_YAML_PARSE', 'LOAD_ERR_YAML_VALIDATE', 'LOAD_ERR_COMPILE_CONDITION', 'LOAD_ERR_COMPILE_OUTPUT', 'LOAD_ERR_VALIDATE',
    ]);
    expect(Object.keys(WARNING_CODES).slice(0, 5)).toEqual(['LOAD_UNKNOWN_SOURCE', 'LOAD_UNKNOWN_FILTER', 'LOAD_UNUSED_MACRO', 'LOAD_UNUSED_LIST', 'LOAD_UNKNOWN_ITEM']);
  });
});

describe('unused macros and lists (LOAD_UNUSED_MACRO, LOAD_UNUSED_LIST), as Falco counts them', () => {
  const unused = (text: string) => {
    const coll = new RuleCollection();
    const read = readRulesFile('u.yaml', text);
    expect(read.diagnostics).toEqual([]);
    coll.add(read.items);
    return unusedDefinitions(coll).map(formatDiagnostic);
  };
  const rule = (condition: string, extra = '') => `- rule: R ${condition.length}\n  desc: d\n  condition: ${condition}\n  output: o\n  priority: INFO\n${extra}`;

  test('a macro used only by another macro, a disabled rule or a syscall rule is used', () => {
    expect(unused([
      '- macro: inner', '  condition: ka.verb = get',
      '- macro: outer', '  condition: inner and ka.verb != list',
      '- macro: for_disabled', '  condition: ka.verb = delete',
      '- macro: for_syscall', '  condition: proc.name = bash',
      rule('outer', '  source: k8s_audit\n'),
      rule('for_disabled or ka.verb = x', '  source: k8s_audit\n  enabled: false\n'),
      rule('for_syscall'),
    ].join('\n'))).toEqual([]);
  });

  test('lists count as used from set operators, value lists, bare values, exceptions, other lists and unused macros', () => {
    expect(unused([
      '- list: in_parens', '  items: [a]',
      '- list: bare', '  items: [b]',
      '- list: nested', '  items: [c]',
      '- list: outer_list', '  items: [nested, d]',
      '- list: in_exception', '  items: [e]',
      '- list: in_unused_macro', '  items: [f]',
      '- list: lonely', '  items: [g]',
      '- macro: lonely_macro', '  condition: ka.verb in (in_unused_macro)',
      rule('ka.verb in (in_parens, x) and ka.user.name in bare and ka.target.name in (outer_list)',
        '  source: k8s_audit\n  exceptions:\n    - name: ex\n      fields: [ka.target.namespace]\n      values: [[in_exception]]\n'),
    ].join('\n'))).toEqual([
      "u.yaml:15:3: warning LOAD_UNUSED_MACRO: macro 'lonely_macro' is not referred to by any rule or macro",
      "u.yaml:13:3: warning LOAD_UNUSED_LIST: list 'lonely' is not referred to by any rule, macro or list",
    ]);
  });

  test('a list that only names itself is unused', () => {
    expect(unused('- list: selfish\n  items: [selfish, x]\n')).toEqual(["u.yaml:1:3: warning LOAD_UNUSED_LIST: list 'selfish' is not referred to by any rule, macro or list"]);
  });
});

describe("Falco's name and exception warnings", () => {
  test('LOAD_APPEND_NO_VALUES: an exception appended without values', () => {
    const read = readRulesFile('a.yaml', [
      '- rule: R', '  exceptions:', '    - name: more', '      fields: ka.verb', '  append: true',
      '- rule: R', '  exceptions:', '    - name: other', '      values: [x]', '  override:', '    exceptions: append',
      '',
    ].join('\n'));
    expect(read.diagnostics.map(formatDiagnostic)).toEqual([
      "a.yaml:3:7: warning LOAD_APPEND_NO_VALUES: rule 'R': exception 'more' is appended or overridden with no values",
    ]);
  });

  test('LOAD_INVALID_MACRO_NAME, LOAD_INVALID_LIST_NAME, LOAD_EXCEPTION_NAME_NOT_UNIQUE', () => {
    const read = readRulesFile('n.yaml', [
      '- macro: bad-name', '  condition: ka.verb = get',
      '- macro: _leading', '  condition: ka.verb = get',
      '- macro: good_name2', '  condition: ka.verb = get',
      '- list: "two words"', '  items: [a]',
      '- list: dashed-list.ok', '  items: [a]',
      '- rule: R', '  desc: d', '  condition: ka.verb = get', '  output: o', '  priority: INFO', '  source: k8s_audit',
      '  exceptions:', '    - name: twice', '      fields: ka.user.name', '    - name: twice', '      fields: ka.verb',
      '',
    ].join('\n'));
    expect(read.diagnostics.map(formatDiagnostic)).toEqual([
      "n.yaml:1:3: warning LOAD_INVALID_MACRO_NAME: macro name 'bad-name' cannot be used in a condition: macro names match [a-zA-Z]+[a-zA-Z0-9_]*",
      "n.yaml:3:3: warning LOAD_INVALID_MACRO_NAME: macro name '_leading' cannot be used in a condition: macro names match [a-zA-Z]+[a-zA-Z0-9_]*",
      "n.yaml:7:3: warning LOAD_INVALID_LIST_NAME: list name 'two words' cannot be used in a condition: it must not contain spaces, quotes, parentheses, '=' or ','",
      "n.yaml:20:7: warning LOAD_EXCEPTION_NAME_NOT_UNIQUE: rule 'R': exception 'twice' is defined more than once in the same rule",
    ]);
  });
});
