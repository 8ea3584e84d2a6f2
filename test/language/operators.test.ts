import { compileGlob } from '../../src/language/glob';
import { compileMembership, compilePathPrefix, compileValueTest, OperatorError } from '../../src/language/operators';

const t = (op: string, rhs: string, v: string | number | boolean | bigint, numeric = false) => compileValueTest(op, rhs, numeric)(v);

describe('single-value operators on text', () => {
  test.each([
    ['=', 'create', 'create', true],
    ['=', 'create', 'Create', false],
    ['!=', 'create', 'delete', true],
    ['!=', 'create', 'create', false],
    ['<', 'b', 'a', true],
    ['<', 'b', 'c', false],
    ['<=', 'b', 'b', true],
    ['>', 'b', 'c', true],
    ['>=', 'b', 'a', false],
    ['contains', 'key', 'aws_access_key_id', true],
    ['contains', 'KEY', 'aws_access_key_id', false],
    ['icontains', 'KEY', 'aws_access_key_id', true],
    ['startswith', 'system:', 'system:node:n1', true],
    ['startswith', 'system:', 'admin', false],
    ['endswith', '.sh', '/tmp/x.sh', true],
    ['endswith', '.sh', '/tmp/x.shy', false],
    ['glob', '/etc/*.conf', '/etc/a.conf', true],
    ['glob', '/etc/*.conf', '/etc/a.conf.bak', false],
    ['glob', 'a?c', 'abc', true],
    ['glob', '[a-c]x', 'bx', true],
    ['glob', '[!a-c]x', 'bx', false],
    ['iglob', '*.CONF', 'x.conf', true],
    ['regex', 'ab+c', 'abbc', true],
    ['regex', 'ab+c', 'xabbcx', false],
    ['bcontains', '6b6579', 'a key here', true],
    ['bcontains', '6b6579', 'a kez here', false],
    ['bstartswith', '6b65', 'key', true],
    ['bstartswith', '6b65', 'okey', false],
  ])('%s %s on %s -> %s', (op, rhs, v, want) => {
    expect(t(op, rhs, v)).toBe(want);
  });

  test('numbers and booleans compare as their JSON text', () => {
    expect(t('startswith', '2', 201)).toBe(true);
    expect(t('=', 'true', true)).toBe(true);
    expect(t('=', '201', 201)).toBe(true);
    expect(t('<', '3', 201)).toBe(true); // text comparison: "201" < "3"
  });

  test('integer fields compare numerically', () => {
    expect(t('<', '3', 201, true)).toBe(false);
    expect(t('>', '100', 201, true)).toBe(true);
    expect(t('=', '0x10', 16, true)).toBe(true);
    expect(t('>=', '1700000000000000000', 1700000000000000001n, true)).toBe(true);
    expect(() => compileValueTest('<', 'abc', true)).toThrow(new OperatorError("'abc' is not a number"));
  });

  test('regex is RE2: linear time and no backreferences', () => {
    const evil = compileValueTest('regex', '(a+)+$', false);
    expect(evil('a'.repeat(5000) + 'b')).toBe(false);
    expect(() => compileValueTest('regex', '(a)\\1', false)).toThrow(OperatorError);
    expect(() => compileValueTest('regex', '([a-z', false)).toThrow(/invalid regular expression '\(\[a-z'/);
  });

  test('bcontains needs hex', () => {
    expect(() => compileValueTest('bcontains', 'xyz', false)).toThrow("'xyz' is not a hex byte string");
  });
});

describe('sets and paths', () => {
  test('membership by text, or by number for integer fields', () => {
    expect(compileMembership(['a', 'b'], false)('b')).toBe(true);
    expect(compileMembership(['a', 'b'], false)('c')).toBe(false);
    expect(compileMembership(['200', '0x10'], true)(16)).toBe(true);
  });

  test('pmatch matches whole path components', () => {
    const m = compilePathPrefix(['/etc', '/var/run/docker.sock', '/home/*/.ssh']);
    expect([m('/etc'), m('/etc/passwd'), m('/etcd'), m('/var/run/docker.sock'), m('/var/run'), m('/home/ann/.ssh/id_rsa'), m('/home/ann/x')])
      .toEqual([true, true, false, true, false, true, false]);
  });

  test('glob with many stars stays linear', () => {
    const g = compileGlob('*a*a*a*a*a*a*a*b');
    expect(g('a'.repeat(3000))).toBe(false);
    expect(g('aaaaaaab')).toBe(true);
  });
});
