import { DocumentSplitter } from '../../src/decode/documents';
import { decodeAuditDocument } from '../../src/decode/audit';

const split = (text: string | Buffer, opts?: ConstructorParameters<typeof DocumentSplitter>[0]) => {
  const s = new DocumentSplitter(opts);
  return [...s.push(Buffer.isBuffer(text) ? text : Buffer.from(text)), ...s.end()];
};

describe('DocumentSplitter', () => {
  test('one document per line, blank lines ignored, CRLF accepted', () => {
    expect(split('{"a":1}\n\n{"b":2}\r\n{"c":3}')).toEqual([
      { ok: true, text: '{"a":1}', line: 1 },
      { ok: true, text: '{"b":2}', line: 3 },
      { ok: true, text: '{"c":3}', line: 4 },
    ]);
  });

  test('a pretty-printed document spanning lines, braces inside strings ignored', () => {
    const doc = '{\n  "kind": "Event",\n  "x": "}{[",\n  "y": {"z": [1, 2]}\n}\n';
    expect(split(doc)).toEqual([{ ok: true, text: doc.trimEnd(), line: 1 }]);
  });

  test('chunks split anywhere give the same documents', () => {
    const text = '{"a":"x\\"}"}\n{"b":[1,\n2]}\nnot json\n';
    const s = new DocumentSplitter();
    const out = [];
    for (const ch of Buffer.from(text)) out.push(...s.push(Buffer.from([ch])));
    out.push(...s.end());
    expect(out).toEqual([
      { ok: true, text: '{"a":"x\\"}"}', line: 1 },
      { ok: true, text: '{"b":[1,\n2]}', line: 2 },
      { ok: false, line: 4, reason: "not JSON: line starts with 'not json'" },
    ]);
  });

  test('bad lines are reported with their line and the next documents still come through', () => {
    const bad = Buffer.concat([Buffer.from('{"ok":1}\n'), Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]), Buffer.from('{"truncated": \n{"ok":2}\n{"a":1} trailing\n{"open": [\n')]);
    expect(split(bad)).toEqual([
      { ok: true, text: '{"ok":1}', line: 1 },
      { ok: false, line: 2, reason: 'invalid UTF-8' },
      { ok: false, line: 3, reason: 'truncated JSON document: a new document started before it was closed' },
      { ok: true, text: '{"ok":2}', line: 4 },
      { ok: false, line: 5, reason: 'invalid JSON: unexpected text after the end of the document' },
      { ok: false, line: 6, reason: 'truncated JSON document: input ended before it was closed' },
    ]);
  });

  test('oversized and too deeply nested documents are rejected, not parsed', () => {
    const big = `{"x":"${'a'.repeat(2000)}"}\n{"ok":1}\n`;
    expect(split(big, { maxBytes: 1000, maxDepth: 512 })).toEqual([
      { ok: false, line: 1, reason: 'document larger than the 1000-byte limit (2008 bytes on this line)' },
      { ok: true, text: '{"ok":1}', line: 2 },
    ]);
    const deep = '['.repeat(10000) + ']'.repeat(10000) + '\n{"ok":2}\n';
    expect(split(deep)).toEqual([
      { ok: false, line: 1, reason: 'JSON nested deeper than 512 levels' },
      { ok: true, text: '{"ok":2}', line: 2 },
    ]);
  });
});

describe('decodeAuditDocument', () => {
  const ev = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: 'a', stage: 'ResponseComplete' };
  test('Event, EventList and kind-less events', () => {
    expect(decodeAuditDocument(ev)).toEqual({ ok: true, events: [ev] });
    expect(decodeAuditDocument({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [ev, { auditID: 'b', stage: 'RequestReceived' }] }))
      .toEqual({ ok: true, events: [ev, { auditID: 'b', stage: 'RequestReceived' }] });
    expect(decodeAuditDocument({ auditID: 'c', stage: 'ResponseComplete' })).toEqual({ ok: true, events: [{ auditID: 'c', stage: 'ResponseComplete' }] });
  });
  test('everything else is rejected with a reason', () => {
    expect(decodeAuditDocument({ kind: 0 })).toEqual({ ok: false, reason: 'not an audit event: kind 0 (expected "Event" or "EventList")' });
    expect(decodeAuditDocument([1])).toEqual({ ok: false, reason: 'not an audit event: JSON array instead of an object' });
    expect(decodeAuditDocument('x')).toEqual({ ok: false, reason: 'not an audit event: JSON string instead of an object' });
    expect(decodeAuditDocument({ kind: 'Pod', apiVersion: 'v1' })).toEqual({ ok: false, reason: 'not an audit event: kind "Pod" (expected "Event" or "EventList")' });
    expect(decodeAuditDocument({ kind: 'Event', apiVersion: 'v1' })).toEqual({ ok: false, reason: "not an audit event: apiVersion 'v1' (expected audit.k8s.io/v1)" });
    expect(decodeAuditDocument({ kind: 'EventList', items: [1] })).toEqual({ ok: false, reason: 'EventList item 0 is not an object' });
  });
});

describe('DocumentSplitter JSON Lines fast path (parse: true)', () => {
  type Opts = ConstructorParameters<typeof DocumentSplitter>[0];
  /** Split `input` fed in chunks of `size` bytes (0: one chunk). */
  const splitChunked = (input: Buffer, size: number, opts: Opts) => {
    const s = new DocumentSplitter(opts);
    const out = [];
    if (size === 0) out.push(...s.push(input));
    else for (let i = 0; i < input.length; i += size) out.push(...s.push(input.subarray(i, i + size)));
    out.push(...s.end());
    return out;
  };
  const limits = { maxBytes: 200, maxDepth: 8 };
  /** The fast path gives exactly the scanner's documents (plus parsed values) for every chunking. */
  const expectSameAsScanner = (input: Buffer, opts = limits) => {
    const slow = splitChunked(input, 0, opts);
    for (const size of [0, 1, 2, 3, 7, 64]) {
      const fast = splitChunked(input, size, { ...opts, parse: true });
      expect(fast.map((d) => (d.ok ? { ok: true, text: d.text, line: d.line } : d))).toEqual(slow);
      for (const d of fast) if (d.ok && d.value !== undefined) expect(d.value).toEqual(JSON.parse(d.text));
    }
    return splitChunked(input, 0, { ...opts, parse: true });
  };

  test('plain lines are parsed on the way; blank lines, CRLF and a BOM as the scanner', () => {
    const input = Buffer.from('\ufeff{"a":1}\r\n\n  \n{"b":"é€😀"}\r\n[1,{"c":[]}]\n{"__proto__":{"x":1}}');
    const out = expectSameAsScanner(input);
    expect(out).toEqual([
      { ok: true, text: '{"a":1}', line: 1, value: { a: 1 } },
      { ok: true, text: '{"b":"é€😀"}', line: 4, value: { b: 'é€😀' } },
      { ok: true, text: '[1,{"c":[]}]', line: 5, value: [1, { c: [] }] },
      { ok: true, text: '{"__proto__":{"x":1}}', line: 6, value: JSON.parse('{"__proto__":{"x":1}}') },
    ]);
  });

  test('multi-line documents, trailing text, bad JSON and non-JSON lines take the scanner path', () => {
    const input = Buffer.from('{\n  "a": "}{[",\n  "b": [1,\n 2]\n}\n{"x":1} tail\n{"y":}\n  {"lead":1}\n"str"\n42\n{"open": [\n{"z":2}\n');
    const out = expectSameAsScanner(input);
    expect(out).toEqual([
      { ok: true, text: '{\n  "a": "}{[",\n  "b": [1,\n 2]\n}', line: 1 },
      { ok: false, line: 6, reason: 'invalid JSON: unexpected text after the end of the document' },
      { ok: true, text: '{"y":}', line: 7 },
      { ok: true, text: '  {"lead":1}', line: 8 },
      { ok: false, line: 9, reason: `not JSON: line starts with '"str"'` },
      { ok: false, line: 10, reason: "not JSON: line starts with '42'" },
      { ok: false, line: 11, reason: 'truncated JSON document: a new document started before it was closed' },
      // A document that begins while another is open goes through the scanner.
      { ok: true, text: '{"z":2}', line: 12 },
    ]);
  });

  test('invalid UTF-8 mid-file and a character split across chunks', () => {
    const input = Buffer.concat([Buffer.from('{"a":"é"}\n'), Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d, 0x0a]), Buffer.from('{"b":"€"}\n{"c":\n'), Buffer.from([0xff, 0x0a]), Buffer.from('1}\n')]);
    expect(expectSameAsScanner(input)).toEqual([
      { ok: true, text: '{"a":"é"}', line: 1, value: { a: 'é' } },
      { ok: false, line: 2, reason: 'invalid UTF-8' },
      { ok: true, text: '{"b":"€"}', line: 3, value: { b: '€' } },
      { ok: false, line: 4, reason: 'truncated JSON document: a new document started before it was closed' },
      { ok: false, line: 5, reason: 'invalid UTF-8' },
      { ok: false, line: 6, reason: "not JSON: line starts with '1}'" },
    ]);
  });

  test('size limit: lines just under, at and over maxBytes, and a document over it across lines', () => {
    const line = (n: number) => `{"x":"${'a'.repeat(n - 8)}"}`;
    const input = Buffer.from(`${line(199)}\n${line(200)}\n${line(201)}\r\n${line(400)}\n{"y":\n"${'b'.repeat(250)}"}\n{"ok":1}\n`);
    expect(expectSameAsScanner(input)).toEqual([
      { ok: true, text: line(199), line: 1, value: JSON.parse(line(199)) },
      { ok: false, line: 2, reason: 'document larger than the 200-byte limit' },
      { ok: false, line: 3, reason: 'document larger than the 200-byte limit (202 bytes on this line)' },
      { ok: false, line: 4, reason: 'document larger than the 200-byte limit (400 bytes on this line)' },
      { ok: false, line: 5, reason: 'truncated JSON document: a new document started before it was closed' },
      { ok: false, line: 6, reason: 'document larger than the 200-byte limit (253 bytes on this line)' },
      { ok: true, text: '{"ok":1}', line: 7, value: { ok: 1 } },
    ]);
  });

  test('depth limit: at the limit parsed, one deeper rejected, many brackets in strings or siblings still parsed', () => {
    const nest = (d: number) => '['.repeat(d) + ']'.repeat(d);
    const wide = `{"s":"${'{['.repeat(30)}","l":[${Array(30).fill('{"a":[{}]}').join(',')}]}`;
    const input = Buffer.from(`${nest(8)}\n${nest(9)}\n${wide}\n${nest(3000)}\n`);
    expect(expectSameAsScanner(input, { maxBytes: 1 << 20, maxDepth: 8 })).toEqual([
      { ok: true, text: nest(8), line: 1, value: JSON.parse(nest(8)) },
      { ok: false, line: 2, reason: 'JSON nested deeper than 8 levels' },
      { ok: true, text: wide, line: 3, value: JSON.parse(wide) },
      { ok: false, line: 4, reason: 'JSON nested deeper than 8 levels' },
    ]);
  });

  test('depth limit by the text, as the scanner counts it: a deep value a duplicate key drops, brackets in strings with escapes', () => {
    const nest = (d: number) => '['.repeat(d) + ']'.repeat(d);
    const dropped = `{"a":${nest(9)},"a":1}`;
    const escaped = `{"s":"\\\\","t":"\\"${'['.repeat(20)}","l":${nest(8)}}`;
    const input = Buffer.from(`${dropped}\n${escaped}\n`);
    expect(expectSameAsScanner(input, { maxBytes: 1 << 20, maxDepth: 8 })).toEqual([
      { ok: false, line: 1, reason: 'JSON nested deeper than 8 levels' },
      { ok: false, line: 2, reason: 'JSON nested deeper than 8 levels' },
    ]);
    expect(expectSameAsScanner(input, { maxBytes: 1 << 20, maxDepth: 9 })).toEqual([
      { ok: false, line: 1, reason: 'JSON nested deeper than 9 levels' },
      { ok: true, text: escaped, line: 2, value: JSON.parse(escaped) },
    ]);
  });

  test('a line longer than one read chunk', () => {
    const big = JSON.stringify({ kind: 'Event', items: Array.from({ length: 400 }, (_, i) => ({ i, s: 'x'.repeat(i % 50) })) });
    const input = Buffer.from(`${big}\n{"a":1}\n${big}`);
    const out = expectSameAsScanner(input, { maxBytes: 1 << 20, maxDepth: 512 });
    expect(out.map((d) => [d.line, d.ok && d.value !== undefined])).toEqual([[1, true], [2, true], [3, true]]);
  });
});

test('pushTo hands over the same documents as push, one at a time', () => {
  const input = Buffer.from('{"a":1}\n{"b":\n2}\nnope\n{"c":"€"}\n{"d":4}');
  const viaPush = new DocumentSplitter({ maxBytes: 1000, maxDepth: 8, parse: true });
  const expected = [...viaPush.push(input.subarray(0, 20)), ...viaPush.push(input.subarray(20)), ...viaPush.end()];
  const s = new DocumentSplitter({ maxBytes: 1000, maxDepth: 8, parse: true });
  const got: unknown[] = [];
  const sink = { push: (d: unknown) => got.push(d) };
  s.pushTo(input.subarray(0, 20), sink);
  expect(got).toHaveLength(2);
  s.pushTo(input.subarray(20), sink);
  expect([...got, ...s.end()]).toEqual(expected);
  expect(expected.map((d) => d.line)).toEqual([1, 2, 4, 5, 6]);
});

test('a splitter started mid-stream: numbered after startLine, no byte order mark looked for, idle only between documents', () => {
  const s = new DocumentSplitter({ maxBytes: 1024, maxDepth: 8, startLine: 10, midStream: true });
  expect(s.idle).toBe(true);
  expect(s.push(Buffer.from('\ufeff{"a":1}\n{\n'))).toEqual([{ ok: true, text: '\ufeff{"a":1}', line: 11 }]);
  expect([s.idle, s.lines]).toEqual([false, 12]);
  expect(s.push(Buffer.from('"b": 2\n}\n{"c"'))).toEqual([{ ok: true, text: '{\n"b": 2\n}', line: 12 }]);
  expect([s.idle, s.lines]).toEqual([false, 14]);
  expect(s.push(Buffer.from(':3}\n'))).toEqual([{ ok: true, text: '{"c":3}', line: 15 }]);
  expect([s.idle, s.lines]).toEqual([true, 15]);
  // At the start of the input the mark is dropped.
  expect(split('\ufeff{"a":1}\n')).toEqual([{ ok: true, text: '{"a":1}', line: 1 }]);
});
