/** The payload serialiser: raw JSON spliced in, bigints exact, nothing else touched. */
import { RawJson, stringify } from '../../src/sinks/formats/json';

test('RawJson members are written as the JSON text they are, in objects and arrays', () => {
  expect(stringify({ a: 1, falco: new RawJson('{"x":[1,2]}'), list: [{ e: new RawJson('true') }, 'k'] })).toBe('{"a":1,"falco":{"x":[1,2]},"list":[{"e":true},"k"]}');
});

test('bigints are bare integers, exact beyond 2^53', () => {
  expect(stringify({ t: 1796028067135927001n, n: [2n ** 64n] })).toBe('{"t":1796028067135927001,"n":[18446744073709551616]}');
});

test('strings that look like markers stay strings', () => {
  const tricky = { s: '\u0000R0', t: '\u0000B12', raw: new RawJson('{}') };
  expect(JSON.parse(stringify(tricky))).toEqual({ s: '\u0000R0', t: '\u0000B12', raw: {} });
});

test('the input object is not modified', () => {
  const raw = new RawJson('1');
  const v = { a: { b: raw } };
  stringify(v);
  expect(v.a.b).toBe(raw);
});
