import { catalogFor } from '../../src/fields';
import { parseTemplate, TemplateError } from '../../src/language/output-template';

const catalog = catalogFor('k8s_audit')!;

describe('output templates', () => {
  test('fields, arguments, parenthesised form and trailing punctuation', () => {
    expect(parseTemplate('user=%ka.user.name. cmd=%ka.uri.param[command] %(ka.verb)-x 100%', catalog)).toEqual([
      'user=',
      { key: 'ka.user.name', name: 'ka.user.name', arg: undefined, offset: 5 },
      '. cmd=',
      { key: 'ka.uri.param[command]', name: 'ka.uri.param', arg: 'command', offset: 24 },
      ' ',
      { key: 'ka.verb', name: 'ka.verb', arg: undefined, offset: 47 },
      '-x 100%',
    ]);
  });

  test('the longest known field name wins', () => {
    expect(parseTemplate('%ka.target.namespacex', catalog)).toEqual([
      { key: 'ka.target.namespace', name: 'ka.target.namespace', arg: undefined, offset: 0 },
      'x',
    ]);
  });

  test('unknown fields are errors with the offset of the %', () => {
    expect(() => parseTemplate('a %nope.field b', catalog)).toThrow(new TemplateError("unknown field 'nope.field' in output", 2));
    expect(() => parseTemplate('%ka.uri.param[x', catalog)).toThrow("unterminated '[' after field 'ka.uri.param' in output");
  });
});
