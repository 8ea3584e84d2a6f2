import { alertJson, alertJsonReference, type Alert } from '../../src/engine/alert';

const base: Alert = {
  timeNs: 1793610912340123000n,
  rule: 'Some "rule"',
  priority: 'Warning',
  source: 'k8s_audit',
  tags: ['k8s', 'mitre_execution'],
  hostname: 'host-1',
  message: 'user=dana verb=create',
  outputFields: { 'ka.verb': 'create', 'ka.user.name': 'dana', 'jevt.value[/sourceIPs/0]': '10.0.12.7' },
};

describe('alertJson', () => {
  test('exact bytes of a typical alert', () => {
    expect(alertJson(base)).toBe(
      '{"hostname":"host-1","output":"09:15:12.340123000: Warning user=dana verb=create","output_fields":{"evt.time":1793610912340123000,' +
        '"jevt.value[/sourceIPs/0]":"10.0.12.7","ka.user.name":"dana","ka.verb":"create"},"priority":"Warning","rule":"Some \\"rule\\"",' +
        '"source":"k8s_audit","tags":["k8s","mitre_execution"],"time":"2026-11-02T09:15:12.340123000Z"}',
    );
  });

  const tricky: [string, Partial<Alert>][] = [
    ['no output fields, no tags', { outputFields: {}, tags: [] }],
    ['typed values: null, numbers, booleans, bigints, lists, NaN', { outputFields: { 'a.null': null, 'b.num': 42, 'c.neg': -1.5, 'd.bool': false, 'e.big': -12345678901234567890n, 'f.list': ['x', 'y'], 'g.bigs': [1n, 2n], 'h.nan': NaN } }],
    ['undefined values are left out, like JSON.stringify', { outputFields: { 'a.undef': undefined, 'b.x': 'y' }, hostname: undefined as unknown as string }],
    ['strings needing escapes, unicode, lone surrogates', { outputFields: { 'a.s': 'quote " backslash \\ nl \n tab \t nul \u0000 é 😀 \ud800 end' }, message: 'line\nbreak "q"' }],
    ['a string that looks like the bigint marker', { outputFields: { 'a.s': '\u0000BIG42', 'b.s': 'x\u0000BIG42' } }],
    ['evt.time already among the fields (the alert time wins)', { outputFields: { 'evt.time': 'text', 'ka.verb': 'get' } }],
    ['sorting by UTF-16 code units', { outputFields: { 'b': 1, 'B': 2, 'a.z': 3, 'a.Z': 4, 'é': 5, '_': 6, 'evt.timf': 7, 'evt.tim': 8 } }],
    ['index-like keys', { outputFields: { '10': 'ten', '2': 'two', 'ka.verb': 'get', '01': 'x' } }],
    ['__proto__ as an output field', { outputFields: JSON.parse('{"__proto__":{"x":1},"ka.verb":"get"}') }],
    ['extra fields: added after, never replacing the alert keys or prototype names', { extra: { cluster: 'eu-1', rule: 'no', constructor: 'no', toString: 'no', big: 5n, nested: { a: [1n] }, gone: undefined } }],
    ['extra with an index-like key', { extra: { '7': 'seven', env: 'prod' } }],
    ['extra __proto__', { extra: JSON.parse('{"__proto__":"p","z":1}') }],
    ['time before the epoch fraction padding', { timeNs: 1000000005n }],
    ['values with toJSON', { outputFields: { 'a.date': new Date(0) as unknown as string } }],
  ];
  test.each(tricky)('same bytes as the reference formatter: %s', (_name, change) => {
    const a = { ...base, ...change };
    expect(alertJson(a)).toBe(alertJsonReference(a));
    // Twice: the second call uses the cached layout.
    expect(alertJson(a)).toBe(alertJsonReference(a));
  });

  test('the same rule with a shaping field added later', () => {
    const shaped = { ...base, outputFields: { ...base.outputFields, 'kestrel.suppressed': 3 } };
    expect(alertJson(base)).toBe(alertJsonReference(base));
    expect(alertJson(shaped)).toBe(alertJsonReference(shaped));
    expect(JSON.parse(alertJson(shaped)).output_fields['kestrel.suppressed']).toBe(3);
  });
});
