/** Webhook bodies split into validated documents (src/decode/eventlist.ts). */
import { DEFAULT_SPLITTER_OPTIONS, DocumentSplitter } from '../../src/decode/documents';
import { DEFAULT_BODY_LIMITS, splitEventList, splitWebhookBody, splitWebhookBodyAsync, type BodyLimits } from '../../src/decode/eventlist';

const ev = (id: string, extra: Record<string, unknown> = {}) => ({ auditID: id, stage: 'ResponseComplete', verb: 'get', ...extra });
const list = (items: unknown[], extra: Record<string, unknown> = {}) => ({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items, ...extra });
const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const docs = (r: ReturnType<typeof splitEventList>) => (r.ok ? r.documents.map((d) => d.toString()) : r);
const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

describe('splitEventList', () => {
  test('an EventList gives each item as its own bytes, in order (kube-apiserver items have no kind)', () => {
    const body = buf(list([ev('a'), { kind: 'Event', apiVersion: 'audit.k8s.io/v1', ...ev('b') }, ev('c', { requestObject: { spec: { x: [1, '}]"\\'] } } })]));
    expect(docs(splitEventList(body))).toEqual([
      '{"auditID":"a","stage":"ResponseComplete","verb":"get"}',
      '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"b","stage":"ResponseComplete","verb":"get"}',
      '{"auditID":"c","stage":"ResponseComplete","verb":"get","requestObject":{"spec":{"x":[1,"}]\\"\\\\"]}}}',
    ]);
  });

  test('pretty-printed, items before kind, an empty list, a lone Event', () => {
    const pretty = `{\n  "items": [\n    ${JSON.stringify(ev('a'))} ,\n\t${JSON.stringify(ev('b'))}\n  ],\n  "kind": "EventList"\n}\n`;
    expect(docs(splitEventList(buf(pretty)))).toEqual([JSON.stringify(ev('a')), JSON.stringify(ev('b'))]);
    expect(docs(splitEventList(buf(list([]))))).toEqual([]);
    const lone = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', ...ev('x') };
    expect(docs(splitEventList(buf(`\n${JSON.stringify(lone)}\n`)))).toEqual([JSON.stringify(lone)]);
    expect(docs(splitEventList(buf(ev('kindless'))))).toEqual([JSON.stringify(ev('kindless'))]);
  });

  test('every item must be an audit Event, or the whole body is refused', () => {
    const cases: [unknown, string][] = [
      [list([ev('a'), { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'x' } }]), 'EventList item 1: not an audit event: kind "Pod" (expected "Event")'],
      [list([{}]), 'EventList item 0: not an audit event: no kind, and no auditID and stage'],
      [list([ev('a'), 3]), 'EventList item 1 is not an object'],
      [list([list([ev('a')])]), 'EventList item 0: not an audit event: kind "EventList" (expected "Event")'],
      [list([ev('a', { apiVersion: 'v1' })]), "EventList item 0: not an audit event: apiVersion 'v1' (expected audit.k8s.io/v1)"],
      [{ kind: 'EventList' }, 'EventList without an items array'],
      [{ kind: 'EventList', items: {} }, 'EventList without an items array'],
      [{ kind: 'Pod', apiVersion: 'v1' }, 'not an audit event: kind "Pod" (expected "Event" or "EventList")'],
      [{ kind: 'Pod', items: [ev('a')] }, 'not an audit event: kind "Pod" (expected "Event" or "EventList")'],
      [{ apiVersion: 'v1' }, 'not an audit event: kind missing (expected "Event" or "EventList")'],
      ['[1,2]', 'not an audit event: JSON array instead of an object'],
      ['', 'empty body'],
      [' \n ', 'empty body'],
    ];
    for (const [body, reason] of cases) expect([JSON.stringify(body).slice(0, 60), splitEventList(buf(body))]).toEqual([JSON.stringify(body).slice(0, 60), { ok: false, reason }]);
  });

  test('invalid JSON anywhere is refused with a located reason', () => {
    const cases: [string, string][] = [
      ['{"kind":"EventList","items":[', 'invalid JSON: input ended, expected a value'],
      ['{"kind":"EventList","items":[{"auditID":"a","stage":"s"}', "invalid JSON: input ended, expected ',' or ']'"],
      ['{"kind":"EventList","items":[{"auditID":"a","stage":"s"]}', "EventList item 0: invalid JSON: Expected ',' or '}' after property value in JSON at position 26"],
      ['{"items":[{"auditID":"a","stage":"s"]},"kind":"EventList"}', "invalid JSON at byte 37: expected ',' or ']', found '}'"],
      ['{"kind":"EventList","items":[{"auditID":"a","stage":"s"', 'invalid JSON: input ended before the value starting at byte 29 was closed'],
      ['{"kind":"EventList","items":[{"auditID":"a","stage":"s"}]} x', 'invalid JSON at byte 59: unexpected text after the end of the document'],
      ['{"kind":"EventList" "items":[]}', "invalid JSON at byte 20: expected ',' or '}', found '\"'"],
      ['{"kind":"EventList","items":[{"auditID":"a\n","stage":"s"}]}', 'EventList item 0: invalid JSON: Bad control character in string literal in JSON at position 13'],
      ['{"kind":"EventList","metadata":{"a":[}],"items":[]}', 'invalid JSON: Unexpected token \'}\', "{"a":[}]" is not valid JSON'],
      ['{"kind":"EventList","items":[],}', "invalid JSON at byte 31: expected a member name, found '}'"],
      ['not json', 'invalid JSON: Unexpected token \'o\', "not json" is not valid JSON'],
      ['{"kind":"EventList","items":["unclosed]}', 'invalid JSON: string starting at byte 29 is not closed'],
    ];
    for (const [body, reason] of cases) expect([body, splitEventList(buf(body))]).toEqual([body, { ok: false, reason }]);
    // inside an item, JSON.parse's own words (their wording varies across Node versions after the position)
    const r = splitEventList(buf('{"kind":"EventList","items":[{"auditID":"a","stage":"s",}]}'));
    expect(r.ok ? '' : r.reason).toMatch(/^EventList item 0: invalid JSON: Expected double-quoted property name in JSON at position 27\b/);
  });

  test('invalid UTF-8 and depth: the same limits and reasons as kestrel run', () => {
    const bad = Buffer.concat([buf('{"kind":"EventList","items":[{"auditID":"'), Buffer.from([0xc3, 0x28]), buf('","stage":"s"}]}')]);
    expect(splitEventList(bad)).toEqual({ ok: false, reason: 'invalid UTF-8' });
    // 512 levels counted from the body's outer object: accepted; 513: refused
    const at = (depth: number) => buf(`{"kind":"EventList","items":[{"auditID":"a","stage":"s","x":${nested(depth - 3)}}]}`);
    expect(splitEventList(at(512)).ok).toBe(true);
    expect(splitEventList(at(513))).toEqual({ ok: false, reason: 'JSON nested deeper than 512 levels' });
    const loneDeep = buf(`{"kind":"Event","auditID":"a","stage":"s","x":${nested(600)}}`);
    expect(splitEventList(loneDeep)).toEqual({ ok: false, reason: 'JSON nested deeper than 512 levels' });

    // kestrel run's splitter rejects the same documents with the same words
    const run = new DocumentSplitter(DEFAULT_SPLITTER_OPTIONS);
    const reasons = [...run.push(Buffer.concat([bad, buf('\n'), at(513), buf('\n'), at(512), buf('\n')])), ...run.end()].map((d) => (d.ok ? 'ok' : d.reason));
    expect(reasons).toEqual(['invalid UTF-8', 'JSON nested deeper than 512 levels', 'ok']);
  });

  test('limits: events per request, bytes per event', () => {
    const limits: BodyLimits = { ...DEFAULT_BODY_LIMITS, maxEvents: 3, maxEventBytes: 100 };
    expect(splitEventList(buf(list([ev('1'), ev('2'), ev('3')])), limits).ok).toBe(true);
    expect(splitEventList(buf(list([ev('1'), ev('2'), ev('3'), ev('4')])), limits)).toEqual({ ok: false, reason: 'more than 3 events in one request (limit)' });
    expect(splitEventList(buf(list([ev('1'), ev('2', { pad: 'x'.repeat(100) })])), limits)).toEqual({ ok: false, reason: 'EventList item 1: event larger than the 100-byte limit (164 bytes)' });
    expect(splitEventList(buf({ kind: 'Event', ...ev('2', { pad: 'x'.repeat(100) }) }), limits)).toEqual({ ok: false, reason: 'document larger than the 100-byte limit (179 bytes)' });
    expect(DEFAULT_BODY_LIMITS).toEqual({ maxEvents: 10_000, maxEventBytes: 16 * 1024 * 1024, maxDepth: 512 });
  });

  test('16 MiB of {} items is refused at once (item 0), and 16 MiB of tiny valid events at the event limit', () => {
    const empties = Buffer.from(`{"kind":"EventList","items":[${'{},'.repeat(5_593_000)}{}]}`);
    expect(empties.length).toBeGreaterThan(16 * 1024 * 1024);
    let t = Date.now();
    expect(splitEventList(empties)).toEqual({ ok: false, reason: 'EventList item 0: not an audit event: no kind, and no auditID and stage' });
    const emptiesMs = Date.now() - t;
    const tiny = `{"auditID":"a","stage":"s"}`;
    const many = Buffer.from(`{"kind":"EventList","items":[${`${tiny},`.repeat(600_000)}${tiny}]}`);
    t = Date.now();
    expect(splitEventList(many)).toEqual({ ok: false, reason: 'more than 10000 events in one request (limit)' });
    const manyMs = Date.now() - t;
    // generous bounds on a shared 2-core machine; the old webhook took 12.7 s for the first
    expect(emptiesMs).toBeLessThan(1000);
    expect(manyMs).toBeLessThan(1000);
  });

  test('a 20 MB batch of 400 large RequestResponse events is accepted, the event loop given back while it is checked', async () => {
    const big = ev('x', { requestObject: { data: 'y'.repeat(50_000) }, responseObject: { items: Array.from({ length: 100 }, (_, i) => ({ name: `n${i}`, v: 'z'.repeat(20) })) } });
    const body = buf(list(Array.from({ length: 400 }, (_, i) => ({ ...big, auditID: `e-${i}` }))));
    expect(body.length).toBeGreaterThan(20_000_000);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const r = await splitWebhookBodyAsync(body, 'k8s_audit', false, DEFAULT_BODY_LIMITS, 5);
    clearInterval(timer);
    expect(r.ok && r.documents.length).toBe(400);
    expect(r.ok && JSON.parse(r.documents[399].toString()).auditID).toBe('e-399');
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('splitWebhookBody: admission reviews and JSON lines', () => {
  const review = (uid?: string) => ({ kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1', request: { ...(uid ? { uid } : {}), operation: 'CREATE' } });

  test('one AdmissionReview, or one per line', () => {
    expect(docs(splitWebhookBody(buf(review('u1')), 'k8s_admission', false))).toEqual([JSON.stringify(review('u1'))]);
    const lines = `${JSON.stringify(review('u1'))}\n\n${JSON.stringify(review('u2'))}\n`;
    expect(docs(splitWebhookBody(buf(lines), 'k8s_admission', true))).toEqual([JSON.stringify(review('u1')), JSON.stringify(review('u2'))]);
    expect(splitWebhookBody(buf(`${JSON.stringify(review('u1'))}\n${JSON.stringify(review())}\n`), 'k8s_admission', true)).toEqual({ ok: false, reason: 'line 2: AdmissionReview request has no uid' });
    expect(splitWebhookBody(buf(list([ev('a')])), 'k8s_admission', false)).toEqual({ ok: false, reason: 'not an AdmissionReview: kind "EventList"' });
  });

  test('audit events as JSON lines, an EventList line split into its items; the event limit counts across lines', () => {
    const lines = `${JSON.stringify(ev('a'))}\n${JSON.stringify(list([ev('b'), ev('c')]))}\n`;
    expect(docs(splitWebhookBody(buf(lines), 'k8s_audit', true))).toEqual([ev('a'), ev('b'), ev('c')].map((e) => JSON.stringify(e)));
    expect(splitWebhookBody(buf(lines), 'k8s_audit', true, { ...DEFAULT_BODY_LIMITS, maxEvents: 2 })).toEqual({ ok: false, reason: 'more than 2 events in one request (limit)' });
    expect(splitWebhookBody(buf(`${JSON.stringify(ev('a'))}\n{"kind":"Pod"}\n`), 'k8s_audit', true)).toEqual({ ok: false, reason: 'line 2: not an audit event: kind "Pod" (expected "Event" or "EventList")' });
  });
});
