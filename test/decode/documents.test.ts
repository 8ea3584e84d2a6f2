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
