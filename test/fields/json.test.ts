import { catalogFor, parsePointer } from '../../src/fields';
import { ex } from './helpers';

const doc = {
  auditID: 'j1',
  stage: 'ResponseComplete',
  user: { username: 'alice', groups: ['devs', 'system:authenticated'] },
  annotations: { 'authorization.k8s.io/decision': 'allow' },
  responseStatus: { metadata: {}, code: 201 },
  requestObject: { spec: { hostNetwork: true, containers: [{ name: 'app', image: 'nginx' }] } },
  'a/~b': 'slash-tilde',
  'a~b': 'tilde',
  '': 'empty-key',
  nothing: null,
  ratio: 0.25,
  text: 'line1\nline2 "quoted"',
  stageTimestamp: '2018-10-25T13:58:49.730588Z',
};

describe('json.value / jevt.value', () => {
  test.each<[string, unknown[]]>([
    ['/stage', ['ResponseComplete']],
    ['/user/username', ['alice']],
    ['/user', ['{"username":"alice","groups":["devs","system:authenticated"]}']],
    ['/user/groups', ['["devs","system:authenticated"]']],
    ['/user/groups/0', ['devs']],
    ['/user/groups/1', ['system:authenticated']],
    ['/user/groups/2', []],
    ['/user/groups/-1', []],
    ['/user/groups/01', ['system:authenticated']],
    ['/user/groups/x', []],
    ['/responseStatus/code', ['201']],
    ['/responseStatus/metadata', ['{}']],
    ['/requestObject/spec/hostNetwork', ['true']],
    ['/requestObject/spec/containers/0/image', ['nginx']],
    ['/requestObject/spec/containers/0', ['{"name":"app","image":"nginx"}']],
    ['/annotations/authorization.k8s.io~1decision', ['allow']],
    ['/a~1~0b', ['slash-tilde']],
    ['/a~0b', ['tilde']],
    ['/', ['empty-key']],
    ['/nothing', ['null']],
    ['/nothing/deeper', []],
    ['/ratio', ['0.25']],
    ['/text', ['line1\nline2 "quoted"']],
    ['/missing', []],
    ['/stage/x', []],
  ])('%s', (pointer, expected) => {
    expect(ex('json.value', doc, pointer)).toEqual(expected);
    expect(ex('jevt.value', doc, pointer)).toEqual(expected);
  });

  test('pointer parsing', () => {
    expect(parsePointer('/a~1b/c~0d/~01')).toEqual(['a/b', 'c~d', '~1']);
    expect(parsePointer('/')).toEqual(['']);
    expect(parsePointer('/a/')).toEqual(['a', '']);
  });

  test('checkArg rejects pointers without a leading slash', () => {
    const cat = catalogFor('k8s_audit')!;
    for (const name of ['json.value', 'jevt.value']) {
      const d = cat.get(name)!;
      expect(d.arg).toEqual({ required: true, kind: 'pointer' });
      expect(d.checkArg!('/stage')).toBeUndefined();
      expect(d.checkArg!('stage')).toBe(
        `${name} argument "stage" is not a JSON pointer: it must start with "/" (RFC 6901), e.g. ${name}[/stage]`,
      );
      expect(d.checkArg!('')).toMatch(/requires a JSON pointer/);
    }
  });

  test('non-object documents yield nothing', () => {
    expect(ex('json.value', 'plain', '/a')).toEqual([]);
    expect(ex('json.obj', 42)).toEqual([]);
  });
});

describe('json.obj / jevt.obj', () => {
  const small = { a: 1, b: [true, null, 'x'], c: {}, d: [], e: { f: 'g' } };
  const expected = [
    '{',
    '  "a": 1,',
    '  "b": [',
    '    true,',
    '    null,',
    '    "x"',
    '  ],',
    '  "c": {},',
    '  "d": [],',
    '  "e": {',
    '    "f": "g"',
    '  }',
    '}',
  ].join('\n');
  test('indented with two spaces like Go json.Indent', () => {
    expect(ex('json.obj', small)).toEqual([expected]);
    expect(ex('jevt.obj', small)).toEqual([expected]);
  });
});

describe('json.rawtime / jevt.rawtime', () => {
  test('event timestamp in ns as text', () => {
    expect(ex('json.rawtime', doc)).toEqual(['1540475929730588000']);
    expect(ex('jevt.rawtime', doc)).toEqual(['1540475929730588000']);
  });
  test('timestamp given by the source wins', () => {
    expect(ex('jevt.rawtime', doc, undefined, 'k8s_audit', { tsNs: 5n })).toEqual(['5']);
  });
  test('no timestamp: absent', () => {
    expect(ex('jevt.rawtime', { auditID: 'x' })).toEqual([]);
  });
  test('is a string field', () => {
    expect(catalogFor('k8s_audit')!.get('json.rawtime')!.type).toBe('string');
  });
});

describe('json fields on k8s_admission', () => {
  test('available and working', () => {
    const adm = { kind: 'AdmissionReview', request: { uid: 'u', object: { spec: { tls: [{ hosts: ['a.example'] }] } } } };
    expect(ex('jevt.value', adm, '/request/object/spec/tls', 'k8s_admission')).toEqual(['[{"hosts":["a.example"]}]']);
    expect(ex('json.value', adm, '/request/uid', 'k8s_admission')).toEqual(['u']);
  });
});
