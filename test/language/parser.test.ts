import { BINARY_OPERATORS, ConditionNode } from '../../src/language/ast';
import { ParseError, parseCondition } from '../../src/language/parser';

const span = (start: number, end: number) => ({ start, end });
const field = (name: string, start: number, end: number, arg?: string) =>
  arg === undefined ? { type: 'field', name, span: span(start, end) } : { type: 'field', name, arg, span: span(start, end) };
const value = (v: string, start: number, end: number, quoted = false) => ({ type: 'value', value: v, quoted, span: span(start, end) });
const macro = (name: string, start: number, end: number) => ({ type: 'macro', name, span: span(start, end) });

/** Drops spans so structure-only assertions stay readable. */
function shape(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(shape);
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) if (k !== 'span') out[k] = shape(v);
    return out;
  }
  return node;
}

function parseError(text: string): ParseError {
  try {
    parseCondition(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    return e as ParseError;
  }
  throw new Error(`expected a parse error for: ${text}`);
}

function expectError(text: string, message: string, offset: number): void {
  const e = parseError(text);
  expect({ message: e.message, offset: e.offset }).toEqual({ message, offset });
}

/** The right-hand side of a single binary check. */
function rhs(text: string): unknown {
  const n = parseCondition(text);
  if (n.type !== 'binary') throw new Error(`not a binary check: ${text}`);
  return n.value;
}

describe('exact ASTs with spans', () => {
  test('binary check with bare value', () => {
    expect(parseCondition('ka.verb=create')).toEqual({
      type: 'binary', op: '=', field: field('ka.verb', 0, 7), value: value('create', 8, 14), span: span(0, 14),
    });
  });

  test('flattened and chain', () => {
    expect(parseCondition('a and b and c')).toEqual({
      type: 'and', operands: [macro('a', 0, 1), macro('b', 6, 7), macro('c', 12, 13)], span: span(0, 13),
    });
  });

  test('or binds looser than and', () => {
    expect(parseCondition('a or b and c')).toEqual({
      type: 'or',
      operands: [
        macro('a', 0, 1),
        { type: 'and', operands: [macro('b', 5, 6), macro('c', 11, 12)], span: span(5, 12) },
      ],
      span: span(0, 12),
    });
  });

  test('repeated not', () => {
    expect(parseCondition('not not a')).toEqual({
      type: 'not', operand: { type: 'not', operand: macro('a', 8, 9), span: span(4, 9) }, span: span(0, 9),
    });
  });

  test('parentheses: group spans exclude the parens, enclosing spans include them', () => {
    expect(parseCondition('(a or b) and not (c)')).toEqual({
      type: 'and',
      operands: [
        { type: 'or', operands: [macro('a', 1, 2), macro('b', 6, 7)], span: span(1, 7) },
        { type: 'not', operand: macro('c', 18, 19), span: span(13, 20) },
      ],
      span: span(0, 20),
    });
  });

  test('exists with a field argument', () => {
    expect(parseCondition('ka.uri.param[command] exists')).toEqual({
      type: 'unary', op: 'exists', field: field('ka.uri.param', 0, 21, 'command'), span: span(0, 28),
    });
  });

  test('transformer on the field side, quoted value', () => {
    expect(parseCondition('tolower(ka.user.name) startswith "sys"')).toEqual({
      type: 'binary',
      op: 'startswith',
      field: { type: 'transform', fn: 'tolower', args: [field('ka.user.name', 8, 20)], span: span(0, 21) },
      value: value('sys', 33, 38, true),
      span: span(0, 38),
    });
  });

  test('val() on the right-hand side', () => {
    expect(parseCondition('ka.target.name = val(ka.user.name)')).toEqual({
      type: 'binary',
      op: '=',
      field: field('ka.target.name', 0, 14),
      value: { type: 'fieldvalue', field: field('ka.user.name', 21, 33), span: span(17, 34) },
      span: span(0, 34),
    });
  });

  test('transformer on the right-hand side is a field comparison', () => {
    expect(parseCondition('a.b != b64(c.d)')).toEqual({
      type: 'binary',
      op: '!=',
      field: field('a.b', 0, 3),
      value: {
        type: 'fieldvalue',
        field: { type: 'transform', fn: 'b64', args: [field('c.d', 11, 14)], span: span(7, 15) },
        span: span(7, 15),
      },
      span: span(0, 15),
    });
  });

  test('list with bare, quoted and list-name items', () => {
    expect(parseCondition('evt.type in (open, "a b", shell_binaries)')).toEqual({
      type: 'binary',
      op: 'in',
      field: field('evt.type', 0, 8),
      value: {
        type: 'list',
        items: [value('open', 13, 17), value('a b', 19, 24, true), value('shell_binaries', 26, 40)],
        span: span(12, 41),
      },
      span: span(0, 41),
    });
  });

  test('empty list', () => {
    expect(parseCondition('x.y in ()')).toEqual({
      type: 'binary', op: 'in', field: field('x.y', 0, 3), value: { type: 'list', items: [], span: span(7, 9) }, span: span(0, 9),
    });
  });

  test('multi-line condition with tabs and CRLF', () => {
    const text = '(kevt\n\tand ka.verb in (create,\r\n   update))\n';
    expect(parseCondition(text)).toEqual({
      type: 'and',
      operands: [
        macro('kevt', 1, 5),
        {
          type: 'binary',
          op: 'in',
          field: field('ka.verb', 11, 18),
          value: { type: 'list', items: [value('create', 23, 29), value('update', 35, 41)], span: span(22, 42) },
          span: span(11, 42),
        },
      ],
      span: span(1, 42),
    });
  });

  test('nested transformers', () => {
    expect(parseCondition('toupper( b64(x.y) ) exists')).toEqual({
      type: 'unary',
      op: 'exists',
      field: {
        type: 'transform',
        fn: 'toupper',
        args: [{ type: 'transform', fn: 'b64', args: [field('x.y', 13, 16)], span: span(9, 17) }],
        span: span(0, 19),
      },
      span: span(0, 26),
    });
  });
});

describe('precedence and grouping', () => {
  test('mixed chain', () => {
    expect(shape(parseCondition('a or b and not c or d'))).toEqual(shape({
      type: 'or',
      operands: [
        macro('a', 0, 0),
        { type: 'and', operands: [macro('b', 0, 0), { type: 'not', operand: macro('c', 0, 0) }] },
        macro('d', 0, 0),
      ],
    }));
  });

  test('not binds tighter than and', () => {
    expect(shape(parseCondition('not a and b'))).toEqual(shape({
      type: 'and', operands: [{ type: 'not', operand: macro('a', 0, 0) }, macro('b', 0, 0)],
    }));
  });

  test('not applies to a whole check', () => {
    expect(shape(parseCondition('not ka.verb = get'))).toEqual(shape({
      type: 'not', operand: { type: 'binary', op: '=', field: field('ka.verb', 0, 0), value: value('get', 0, 0) },
    }));
  });

  test('parentheses override precedence and are not flattened', () => {
    expect(shape(parseCondition('a and (b or c) and (d and e)'))).toEqual(shape({
      type: 'and',
      operands: [
        macro('a', 0, 0),
        { type: 'or', operands: [macro('b', 0, 0), macro('c', 0, 0)] },
        { type: 'and', operands: [macro('d', 0, 0), macro('e', 0, 0)] },
      ],
    }));
  });

  test('keywords glued to parentheses', () => {
    expect(shape(parseCondition('not(a)and(b)or(c)'))).toEqual(shape({
      type: 'or',
      operands: [
        { type: 'and', operands: [{ type: 'not', operand: macro('a', 0, 0) }, macro('b', 0, 0)] },
        macro('c', 0, 0),
      ],
    }));
  });

  test('redundant parentheses collapse to the inner node', () => {
    expect(parseCondition('((a))')).toEqual(macro('a', 2, 3));
  });

  test('identifiers that start with keywords are macros, not keywords', () => {
    expect(shape(parseCondition('android and not_macro or order or notb'))).toEqual(shape({
      type: 'or',
      operands: [
        { type: 'and', operands: [macro('android', 0, 0), macro('not_macro', 0, 0)] },
        macro('order', 0, 0),
        macro('notb', 0, 0),
      ],
    }));
  });

  test('a dotted name starting with a keyword is a field', () => {
    expect(shape(parseCondition('not.x exists'))).toEqual(shape({ type: 'unary', op: 'exists', field: field('not.x', 0, 0) }));
  });

  test('many not in a row', () => {
    let n: ConditionNode = parseCondition('not not not not a');
    let count = 0;
    while (n.type === 'not') {
      n = n.operand;
      count++;
    }
    expect(count).toBe(4);
    expect(n).toEqual(macro('a', 16, 17));
  });
});

describe('operators', () => {
  const valueFor: Record<string, string> = { '<': '1', '<=': '1', '>': '1', '>=': '1' };
  test.each(BINARY_OPERATORS.map((op) => [op]))('%s', (op) => {
    const list = op === 'in' || op === 'intersects' || op === 'pmatch';
    const text = `x.y ${op} ${list ? '(v)' : valueFor[op] ?? 'v'}`;
    const node = parseCondition(text);
    expect(node.type).toBe('binary');
    expect(node.type === 'binary' && node.op).toBe(op);
    expect(node.span).toEqual(span(0, text.length));
  });

  test('exists', () => {
    expect(shape(parseCondition('x.y exists and z'))).toEqual(shape({
      type: 'and', operands: [{ type: 'unary', op: 'exists', field: field('x.y', 0, 0) }, macro('z', 0, 0)],
    }));
  });

  test('symbolic operators need no blanks', () => {
    for (const op of ['=', '==', '!=', '<', '<=', '>', '>=']) {
      const node = parseCondition(`x.y${op}5`);
      expect(node.type === 'binary' && [node.op, node.value]).toEqual([op, value('5', 3 + op.length, 4 + op.length)]);
    }
  });

  test('list operators need no blank before the list', () => {
    expect(shape(rhs('x.y in(a,b)'))).toEqual(shape({ type: 'list', items: [value('a', 0, 0), value('b', 0, 0)] }));
  });

  test('list operators accept a bare list name', () => {
    expect(rhs('ka.user.name in allowed_users')).toEqual(value('allowed_users', 16, 29));
  });

  test('list operators accept a field transformer', () => {
    expect(shape(rhs('x.y intersects toupper(z.w)'))).toEqual(shape({
      type: 'fieldvalue', field: { type: 'transform', fn: 'toupper', args: [field('z.w', 0, 0)] },
    }));
  });

  test('numeric operators accept libsinsp numbers', () => {
    for (const v of ['0', '443', '-1', '+1', '1.5', '1.', '-0.1222e+10', '0x1F', '0XaB00']) {
      expect(rhs(`x.y >= ${v}`)).toEqual(value(v, 7, 7 + v.length));
    }
  });

  test('numeric operators accept val()', () => {
    expect(shape(rhs('x.y < val(z.w)'))).toEqual(shape({ type: 'fieldvalue', field: field('z.w', 0, 0) }));
  });
});

describe('values', () => {
  test.each([
    ['evt.dir=<', '<'],
    ['evt.dir = >', '>'],
    ['fd.name startswith /etc/', '/etc/'],
    ['fd.name glob *.sh', '*.sh'],
    ['evt.arg.flags contains O_WRONLY', 'O_WRONLY'],
    ['evt.res = -1', '-1'],
    ['fd.sport = 443', '443'],
    ['ka.user.name = system:anonymous', 'system:anonymous'],
    ['proc.cmdline = runc:[0:PARENT]', 'runc:[0:PARENT]'],
    ['fd.name = /proc/*/environ', '/proc/*/environ'],
    ['ka.uri = /healthz?', '/healthz?'],
    ['x.y = !0.1e+10', '!0.1e+10'],
    ['x.y = a.b', 'a.b'],
    ['x.y = 0a!@#456:/\\.;!$%^&*[]{}|', '0a!@#456:/\\.;!$%^&*[]{}|'],
    ['proc.args endswith \\', '\\'],
    ['x.y = not', 'not'],
  ])('bare: %s', (text, v) => {
    const start = text.length - v.length;
    expect(rhs(text)).toEqual(value(v, start, text.length));
  });

  test('a bare value stops at blanks, parentheses, commas and =', () => {
    expect(shape(parseCondition('(x.y = a)'))).toEqual(shape({ type: 'binary', op: '=', field: field('x.y', 0, 0), value: value('a', 0, 0) }));
    expectError('x.y = a,', "unexpected ','", 7);
    expectError('x.y = a=', "unexpected '='", 7);
  });

  test.each([
    ['"a b"', 'a b'],
    ["'a b'", 'a b'],
    ['""', ''],
    ["''", ''],
    ['"mixed \'"', "mixed '"],
    ["'mixed \"'", 'mixed "'],
    ['"x\\"y"', 'x"y'],
    ["'it\\'s'", "it's"],
    ['"a\\\\b"', 'a\\b'],
    ['"\\/"', '/'],
    ['"\\b\\f\\n\\r\\t"', '\b\f\n\r\t'],
    ['"\\ "', '\\'],
    ['"sh -c envdir \\"/run/etc\\" wal-g"', 'sh -c envdir "/run/etc" wal-g'],
    ['"( ) , = and or"', '( ) , = and or'],
  ])('quoted: %s', (literal, v) => {
    expect(rhs(`x.y = ${literal}`)).toEqual(value(v, 6, 6 + literal.length, true));
  });

  test('list items may be quoted, bare, multi-line, and name other lists', () => {
    const text = 'proc.name in (\n  "a b", \'c\',\n  shell_binaries,\n  /usr/bin/x\n)';
    expect(shape(rhs(text))).toEqual(shape({
      type: 'list',
      items: [value('a b', 0, 0, true), value('c', 0, 0, true), value('shell_binaries', 0, 0), value('/usr/bin/x', 0, 0)],
    }));
  });

  test('blank-only list is empty', () => {
    expect(shape(rhs('x.y pmatch ( \n )'))).toEqual({ type: 'list', items: [] });
  });
});

describe('fields', () => {
  test.each([
    ['proc.aname[2]', 'proc.aname', '2'],
    ['ka.uri.param[command]', 'ka.uri.param', 'command'],
    ['jevt.value[/requestObject/spec/tls]', 'jevt.value', '/requestObject/spec/tls'],
    ['jevt.value[/annotations/authorization.k8s.io~1decision]', 'jevt.value', '/annotations/authorization.k8s.io~1decision'],
    ['container.mount.dest[/proc*]', 'container.mount.dest', '/proc*'],
    ['x.y[(a),=!]', 'x.y', '(a),=!'],
    ["x.y['a b']", 'x.y', 'a b'],
    ['x.y["a \\"q\\""]', 'x.y', 'a "q"'],
    ['x.y[""]', 'x.y', ''],
  ])('%s', (text, name, arg) => {
    expect(parseCondition(`${text} exists`)).toEqual({
      type: 'unary', op: 'exists', field: field(name, 0, text.length, arg), span: span(0, text.length + 7),
    });
  });

  test('field names without arguments', () => {
    for (const name of ['ka.user.name', 'evt.arg.flags', 'fd.name', 'k8s.ns.name', 'container.image.repository', 'a1.b_2.c']) {
      expect(parseCondition(`${name} exists`)).toEqual({
        type: 'unary', op: 'exists', field: field(name, 0, name.length), span: span(0, name.length + 7),
      });
    }
  });
});

describe('transformers', () => {
  test.each(['tolower', 'toupper', 'b64', 'basename', 'len'])('%s on the field side', (fn) => {
    const text = `${fn}(x.y) = v`;
    expect(shape(parseCondition(text))).toEqual({
      type: 'binary', op: '=', field: { type: 'transform', fn, args: [{ type: 'field', name: 'x.y' }] }, value: { type: 'value', value: 'v', quoted: false },
    });
  });

  test('blanks and newlines inside the parentheses', () => {
    expect(shape(parseCondition('b64(\n x.y[1] \n) exists'))).toEqual({
      type: 'unary', op: 'exists', field: { type: 'transform', fn: 'b64', args: [{ type: 'field', name: 'x.y', arg: '1' }] },
    });
  });

  test('both sides', () => {
    expect(shape(parseCondition('tolower(a.b) = tolower(basename(c.d))'))).toEqual({
      type: 'binary',
      op: '=',
      field: { type: 'transform', fn: 'tolower', args: [{ type: 'field', name: 'a.b' }] },
      value: {
        type: 'fieldvalue',
        field: { type: 'transform', fn: 'tolower', args: [{ type: 'transform', fn: 'basename', args: [{ type: 'field', name: 'c.d' }] }] },
      },
    });
  });

  test('val() with a field argument and blanks', () => {
    expect(rhs('x.y contains val( z.w[k] )')).toEqual({ type: 'fieldvalue', field: field('z.w', 18, 24, 'k'), span: span(13, 26) });
  });

  test('a quoted transformer call is just a string', () => {
    expect(rhs("x.y = 'b64(z.w)'")).toEqual(value('b64(z.w)', 6, 16, true));
  });

  test('a field name on the right-hand side without val() is a bare string', () => {
    expect(rhs('x.y = z.w')).toEqual(value('z.w', 6, 9));
  });
});

describe('errors', () => {
  test.each([
    // [text, message, offset]
    ['', 'empty condition', 0],
    [' \n\t ', 'empty condition', 0],
    ['ka.user.name = "abc', 'unterminated string', 15],
    ["x.y in ('a', 'b)", 'unterminated string', 13],
    ['x.y = "a\\\\"', 'unterminated string', 6],
    ['ka.verb startswith ', "expected a value after operator 'startswith'", 19],
    ['ka.verb =', "expected a value after operator '='", 9],
    ['ka.verb = )', "expected a value after operator '='", 10],
    ['ka.verb == =', "expected a value after operator '=='", 11],
    ['ka.verb startwith create', "unknown operator 'startwith'", 8],
    ['x.y ExIsTs', "unknown operator 'ExIsTs'", 4],
    ['x.y IN (a)', "unknown operator 'IN'", 4],
    ['x.y containsvalue', "unknown operator 'containsvalue'", 4],
    ['x.y ! 1', "unknown operator '!'", 4],
    ['x.y contains"v"', "expected a blank after operator 'contains'", 12],
    ['ka.verb', "expected an operator after 'ka.verb'", 7],
    ['(ka.verb)', "expected an operator after 'ka.verb'", 8],
    ['ka.verb and a', "expected an operator after 'ka.verb'", 8],
    ['b64(\n  x.y)\n', "expected an operator after 'b64( x.y)'", 12],
    ['a and b)', "unexpected ')'", 7],
    [')', "unexpected ')'", 0],
    ['(a and b', 'unbalanced parenthesis', 0],
    ['a and ((b)', 'unbalanced parenthesis', 6],
    ['(', 'unbalanced parenthesis', 0],
    ['x.y in (a', 'unbalanced parenthesis', 7],
    ['x.y in (a,', 'unbalanced parenthesis', 7],
    ['b64(x.y', 'unbalanced parenthesis', 3],
    ['x.y = val(z.w', 'unbalanced parenthesis', 9],
    ['ka.verb = create foo', "unexpected 'foo'", 17],
    ['a b', "unexpected 'b'", 2],
    ['a.b = b = 1', "unexpected '='", 8],
    ['a andb', "unexpected 'andb'", 2],
    ['a and', "expected a condition after 'and'", 5],
    ['a or ', "expected a condition after 'or'", 5],
    ['not', "expected a condition after 'not'", 3],
    ['a and not ', "expected a condition after 'not'", 10],
    ['and a', "unexpected 'and'", 0],
    ['a and or b', "unexpected 'or'", 6],
    ['a and )', "unexpected ')'", 6],
    ['macro > 12', "unexpected '>'", 6],
    ['x.y > abc', "expected a number after operator '>'", 6],
    ['x.y < 0xAAA.1', "expected a number after operator '<'", 6],
    ['x.y >= 1e5', "expected a number after operator '>='", 7],
    ['x.y > "5"', "expected a number after operator '>'", 6],
    ['x.y = (a)', "operator '=' does not take a list", 6],
    ['x.y startswith (a)', "operator 'startswith' does not take a list", 15],
    ['x.y in 443', "expected a list after operator 'in'", 7],
    ['x.y in "a"', "expected a list after operator 'in'", 7],
    ['x.y in a.b', "expected a list after operator 'in'", 7],
    ['x.y in (a,)', "expected a value after ','", 10],
    ['x.y in (a, )', "expected a value after ','", 11],
    ['x.y in (,)', "unexpected ','", 8],
    ['x.y in (a b)', "unexpected 'b'", 10],
    ['x.y in (a, b64(z.w))', "unexpected '('", 14],
    ['x.y[] = a', 'expected a field argument', 4],
    ['x.y[ a] = b', 'expected a field argument', 4],
    ['x.y[a b] = c', "expected ']'", 5],
    ['x.y[a', "expected ']'", 5],
    ['x.y = "\\q"', "unsupported escape sequence '\\q'", 7],
    ['x.y = "\\\'"', "invalid escape sequence '\\'' in double-quoted string", 7],
    ["x.y = 'a\\\"'", "invalid escape sequence '\\\"' in single-quoted string", 8],
    ['val(x.y) exists', 'val() can only be used on the right-hand side of a comparison', 0],
    ['b64(val(x.y)) = a', 'val() cannot be used inside a transformer', 4],
    ['x.y = val(tolower(z.w))', 'expected a field inside val()', 10],
    ['x.y = val(z)', 'expected a field inside val()', 10],
    ['foo(x.y) exists', "unknown transformer 'foo'", 0],
    ['x.y = foo(z.w)', "unknown transformer 'foo'", 6],
    ['TOLOWER(x.y) exists', "unknown transformer 'TOLOWER'", 0],
    ['join(",", (a.b, c.d)) = x', "transformer 'join' is not supported", 0],
    ['b64(x.y, z.w) exists', "transformer 'b64' takes a single argument", 7],
    ['b64(x.y exists', "unexpected 'exists'", 8],
    ['b64() exists', 'expected a field inside b64()', 4],
    ['b64(macro) exists', 'expected a field inside b64()', 4],
    ['b64 (x.y) exists', "unexpected '('", 4],
    ['x.y = b64and(m)', "unknown transformer 'b64and'", 6],
    ['"a" = b', "unexpected '\"a\"'", 0],
  ])('%j', (text, message, offset) => {
    expectError(text as string, message as string, offset as number);
  });

  test('ParseError is an Error with an offset', () => {
    const e = parseError('(');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ParseError');
    expect(typeof e.offset).toBe('number');
  });

  test('deep nesting is refused instead of overflowing the stack', () => {
    expectError(`${'('.repeat(500)}a${')'.repeat(500)}`, 'condition is nested too deeply', 200);
    expectError(`${'not '.repeat(500)}a`, 'condition is nested too deeply', 800);
    expect(parseCondition(`${'('.repeat(100)}a${')'.repeat(100)}`)).toEqual(macro('a', 100, 101));
  });
});

describe('performance', () => {
  test('long inputs parse in linear time', () => {
    const items = Array.from({ length: 20000 }, (_, i) => `"item ${i}"`).join(', ');
    const ors = Array.from({ length: 20000 }, (_, i) => `fd.name startswith /p${i}`).join(' or ');
    const t0 = Date.now();
    const list = parseCondition(`fd.name in (${items})`);
    const chain = parseCondition(ors);
    expect(list.type === 'binary' && list.value.type === 'list' && list.value.items.length).toBe(20000);
    expect(chain.type === 'or' && chain.operands.length).toBe(20000);
    expectError(`x.y = "${'\\"'.repeat(50000)}`, 'unterminated string', 6);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
