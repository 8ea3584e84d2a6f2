import { decodePayload, type PayloadFormat } from '../../src/decode/envelope';


const EVENT = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: 'a-1', stage: 'ResponseComplete', verb: 'get', requestURI: '/api/v1/pods', user: { username: 'dana' } };
const EVENT2 = { ...EVENT, auditID: 'a-2', verb: 'list' };
const text = JSON.stringify(EVENT);

function decode(payload: string | Buffer, format: PayloadFormat = 'auto', maxBytes = 1 << 20) {
  return decodePayload(typeof payload === 'string' ? Buffer.from(payload) : payload, { format, source: 'k8s_audit', hostname: 'h', maxBytes });
}

function events(payload: string | Buffer, format: PayloadFormat = 'auto') {
  const r = decode(payload, format);
  if (!r.ok) throw new Error(r.reason);
  return r.events;
}

describe('payload envelopes', () => {
  test('bare Event keeps its text as raw, exactly like kestrel run', () => {
    expect(events(text)).toEqual([{ obj: EVENT, source: 'k8s_audit', raw: text, hostname: 'h' }]);
  });

  test('EventList: one view per item', () => {
    expect(events(JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [EVENT, EVENT2] })).map((e) => e.obj)).toEqual([EVENT, EVENT2]);
  });

  test('several events, one per line (with CRLF and blank lines)', () => {
    const r = events(`${text}\r\n\n${JSON.stringify(EVENT2)}\n`);
    expect(r.map((e) => e.obj)).toEqual([EVENT, EVENT2]);
    expect(r[0].raw).toBe(text);
  });

  test('Fluent Bit: event as a JSON string in log', () => {
    const r = events(JSON.stringify({ date: 1700000000.5, log: text + '\n', kubernetes: { pod_name: 'kube-apiserver' } }));
    expect(r).toEqual([{ obj: EVENT, source: 'k8s_audit', raw: text + '\n', hostname: 'h' }]);
  });

  test('Fluent Bit: event keys merged beside time/kubernetes are projected to the Event keys', () => {
    expect(events(JSON.stringify({ time: '2026-01-01T00:00:00Z', kubernetes: { host: 'n1' }, stream: 'stdout', ...EVENT }))).toEqual([{ obj: EVENT, source: 'k8s_audit', hostname: 'h' }]);
  });

  test('Vector: message holding the event as a string or an object, or the event with extra keys', () => {
    expect(events(JSON.stringify({ message: text, source_type: 'file', timestamp: 't' })).map((e) => e.obj)).toEqual([EVENT]);
    expect(events(JSON.stringify({ message: EVENT, host: 'n1' })).map((e) => e.obj)).toEqual([EVENT]);
    expect(events(JSON.stringify({ ...EVENT, source_type: 'kafka', host: 'n1' }), 'vector').map((e) => e.obj)).toEqual([EVENT]);
  });

  test('pinned formats', () => {
    expect(events(text, 'event').map((e) => e.obj)).toEqual([EVENT]);
    expect(events(`${text}\n${text}`, 'lines')).toHaveLength(2);
    expect(events(JSON.stringify({ log: text }), 'fluentbit').map((e) => e.obj)).toEqual([EVENT]);
  });

  test.each<[string | Buffer, PayloadFormat, string]>([
    ['not json', 'auto', 'invalid JSON: Unexpected token \'o\', "not json" is not valid JSON'],
    ['', 'auto', 'empty message'],
    ['  \n ', 'auto', 'empty message'],
    [Buffer.from([0x7b, 0xff, 0x7d]), 'auto', 'invalid UTF-8'],
    ['[1,2]', 'auto', 'not an audit event: JSON array instead of an object'],
    ['{"kind":"Pod","apiVersion":"v1"}', 'auto', 'not an audit event: kind "Pod" (expected "Event" or "EventList")'],
    ['{"kind":"Event","apiVersion":"v1","auditID":"x","stage":"y"}', 'auto', "not an audit event: apiVersion 'v1' (expected audit.k8s.io/v1)"],
    [`${text}\nnope`, 'auto', 'line 2: invalid JSON: Unexpected token \'o\', "nope" is not valid JSON'],
    [`${text}\n{"kind":"Pod"}`, 'lines', 'line 2: not an audit event: kind "Pod" (expected "Event" or "EventList")'],
    ['{"log":"oops"}', 'auto', 'Fluent Bit record: log: invalid JSON: Unexpected token \'o\', "oops" is not valid JSON'],
    ['{"message":"{\\"kind\\":\\"Node\\"}"}', 'auto', 'Vector event: message: not an audit event: kind "Node" (expected "Event" or "EventList")'],
    ['{"date":1}', 'fluentbit', 'Fluent Bit record without a log string or audit event keys'],
    ['{"date":1}', 'vector', 'Vector event without a message or audit event keys'],
    [text, 'eventlist', 'not an EventList (input.format is eventlist)'],
    ['{"kind":"EventList","items":[]}', 'event', 'an EventList, not an Event (input.format is event)'],
  ])('rejects %p (%s) with: %s', (payload, format, reason) => {
    expect(decode(payload, format)).toEqual({ ok: false, reason });
  });

  test('UTF-8: an event that encodes U+FFFD itself is valid; every kind of invalid sequence in one is rejected', () => {
    const withFffd = JSON.stringify({ ...EVENT, requestURI: '/api/v1/x?q=\uFFFD' });
    expect(events(withFffd, 'auto').map((e) => (e.obj as { requestURI: string }).requestURI)).toEqual(['/api/v1/x?q=\uFFFD']);
    const at = Buffer.from(withFffd).indexOf(Buffer.from('\uFFFD'));
    const bad = {
      'lone continuation byte': [0x80],
      'overlong slash': [0xc0, 0xaf],
      'overlong NUL, 3 bytes': [0xe0, 0x80, 0x80],
      'UTF-16 surrogate': [0xed, 0xa0, 0x80],
      'beyond U+10FFFF': [0xf4, 0x90, 0x80, 0x80],
      'truncated 3-byte sequence': [0xe2, 0x82],
      'byte 0xFE': [0xfe],
    };
    const reasons = Object.entries(bad).map(([name, seq]) => {
      const b = Buffer.concat([Buffer.from(withFffd).subarray(0, at), Buffer.from(seq), Buffer.from(withFffd).subarray(at + 3)]);
      return [name, decode(b, 'auto')];
    });
    expect(reasons).toEqual(Object.keys(bad).map((name) => [name, { ok: false, reason: 'invalid UTF-8' }]));
  });

  test('larger than max_message_bytes', () => {
    expect(decode(text, 'auto', 10)).toEqual({ ok: false, reason: `message larger than the 10-byte limit (${Buffer.byteLength(text)} bytes)` });
  });
});
