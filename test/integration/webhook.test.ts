/**
 * `kestrel serve` driven by real HTTP(S) requests on 127.0.0.1: kube-apiserver
 * EventList batches, single events, kube-audit-rest AdmissionReviews, and every
 * refusal (401, 404, 405, 413, 415, 400, 503, 408).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { serveConfig, startServe, type ServeHandle } from '../../src/cli/serve';
import type { ServiceConfig, WebhookInputConfig } from '../../src/config/types';
import pino from 'pino';
import { alertText } from '../../src/engine/alert';
import { auditEvent, BATCH, CapturingSink, eventList, postJson, request, tempDir, writeRules } from '../sinks/helpers';

const TOKEN = 's3cret-token';

/** The serve preset (as `kestrel serve` builds it from flags), its only output the test's capturing sink. */
function config(over: Partial<WebhookInputConfig> = {}): ServiceConfig {
  const cfg = serveConfig(['--listen', '127.0.0.1:0', '-r', writeRules(), '--admission-path', '/k8s-admission', '--field', 'environment=prod', '--max-body-bytes', String(64 * 1024)]) as ServiceConfig;
  cfg.hostname = 'kestrel-test';
  cfg.outputs = [];
  const webhook = cfg.inputs[0] as WebhookInputConfig;
  webhook.paths[1].fields = { cluster: 'eu-1' };
  Object.assign(webhook, over);
  return cfg;
}

function admissionReview(uid: string | undefined, name: string): object {
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    requestReceivedTimestamp: '2026-11-02T10:00:00.000000Z',
    request: {
      ...(uid === undefined ? {} : { uid }),
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      name,
      namespace: 'shop',
      operation: 'CREATE',
      userInfo: { username: 'dana@example.com', groups: ['system:authenticated'] },
      object: { kind: 'Pod', apiVersion: 'v1', metadata: { name, namespace: 'shop' }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } },
      oldObject: null,
      dryRun: false,
    },
  };
}

/** A pino logger whose messages land in `lines`. */
function capture(lines: string[]) {
  return pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s).msg) });
}

describe('kestrel serve over HTTP', () => {
  let h: ServeHandle;
  const sink = new CapturingSink();
  const logs: string[] = [];
  const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };

  beforeAll(async () => {
    h = await startServe(config({ tokens: [TOKEN] }), { sinks: [{ sink }], logger: capture(logs) });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    sink.received.length = 0;
    sink.failWith = undefined;
  });

  test('an EventList batch from kube-apiserver: 200 after its alerts reached the sink', async () => {
    const r = await postJson(h.port, BATCH, auth);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ events: 3, alerts: 2 });
    expect(sink.received.map((a) => alertText(a.alert))).toEqual([
      '09:15:04.936123000: Notice Exec into pod (user=dana@example.com pod=cart-7d9f ns=shop)',
      '09:15:06.500000000: Warning Secret read (user=eve@example.com secret=db-password)',
    ]);
    const first = JSON.parse(sink.received[0].json);
    expect(first).toEqual({
      hostname: 'kestrel-test',
      output: '09:15:04.936123000: Notice Exec into pod (user=dana@example.com pod=cart-7d9f ns=shop)',
      output_fields: {
        environment: 'prod',
        'evt.time': 1793610904936123000,
        'ka.target.name': 'cart-7d9f',
        'ka.target.namespace': 'shop',
        'ka.user.name': 'dana@example.com',
      },
      priority: 'Notice',
      rule: 'Exec into pod',
      source: 'k8s_audit',
      tags: ['exec', 'k8s'],
      time: '2026-11-02T09:15:04.936123000Z',
    });
    expect(sink.received[0].origin).toEqual({ input: 'webhook' });
  });

  test('a single audit Event is accepted too', async () => {
    const r = await postJson(h.port, auditEvent({ id: 's-1', verb: 'get', resource: 'secrets', name: 'api-key', ts: '2026-11-02T09:20:00Z' }), auth);
    expect([r.status, r.body]).toEqual([200, '{"events":1,"alerts":1}\n']);
    expect(sink.received.map((a) => a.alert.message)).toEqual(['Secret read (user=dana@example.com secret=api-key)']);
  });

  test('an empty EventList is answered 200 with nothing to do', async () => {
    const r = await postJson(h.port, eventList([]), auth);
    expect([r.status, r.body]).toEqual([200, '{"events":0,"alerts":0}\n']);
  });

  test('401 without a token, with a wrong one, or with another scheme; nothing evaluated', async () => {
    const none = await postJson(h.port, BATCH);
    expect([none.status, none.body, none.headers['www-authenticate']]).toEqual([401, 'missing bearer token\n', 'Bearer']);
    const wrong = await postJson(h.port, BATCH, { headers: { Authorization: 'Bearer s3cret-tokeN' } });
    expect([wrong.status, wrong.body]).toEqual([401, 'invalid bearer token\n']);
    const basic = await postJson(h.port, BATCH, { headers: { Authorization: 'Basic YTpi' } });
    expect([basic.status, basic.body]).toEqual([401, 'Authorization header is not a bearer token\n']);
    expect(sink.received).toEqual([]);
  });

  test('413 when Content-Length is over the limit, answered before the body is sent', async () => {
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: h.port, method: 'POST', path: '/k8s-audit', agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': 10_000_000, ...auth.headers } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          resolve({ status: res.statusCode!, body });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(r).toEqual({ status: 413, body: 'body of 10000000 bytes exceeds the 65536-byte limit\n' });
  });

  test('413 for a chunked body that grows over the limit', async () => {
    const big = JSON.stringify(eventList(Array.from({ length: 400 }, (_, i) => auditEvent({ id: `b-${i}`, verb: 'get', resource: 'secrets', name: 'x' }))));
    expect(big.length).toBeGreaterThan(64 * 1024);
    const r = await request(h.port, { body: big, headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', ...auth.headers } });
    expect([r.status, r.body]).toEqual([413, 'body exceeds the 65536-byte limit\n']);
    expect(sink.received).toEqual([]);
  });

  test('415 for other content types', async () => {
    const plain = await request(h.port, { body: JSON.stringify(BATCH), headers: { 'Content-Type': 'text/plain', ...auth.headers } });
    expect([plain.status, plain.body]).toEqual([415, "unsupported content type 'text/plain': send application/json\n"]);
    const none = await request(h.port, { body: JSON.stringify(BATCH), headers: auth.headers });
    expect([none.status, none.body]).toEqual([415, "unsupported content type '(none)': send application/json\n"]);
    const withCharset = await postJson(h.port, BATCH, { headers: { ...auth.headers, 'Content-Type': 'application/json; charset=utf-8' } });
    expect(withCharset.status).toBe(200);
  });

  test('400 with a one-line reason for bad JSON and for documents that are not audit events', async () => {
    const send = (body: string) => request(h.port, { body, headers: { 'Content-Type': 'application/json', ...auth.headers } });
    const cases: [string, string][] = [
      ['', 'empty body'],
      ['{"kind":"EventList","items":[', 'invalid JSON: input ended, expected a value'],
      ['not json', 'invalid JSON: Unexpected token \'o\', "not json" is not valid JSON'],
      ['{"kind":"Pod","apiVersion":"v1"}', 'not an audit event: kind "Pod" (expected "Event" or "EventList")'],
      ['[1,2]', 'not an audit event: JSON array instead of an object'],
      ['{"kind":"EventList","items":[{"kind":"Event"},3]}', 'EventList item 1 is not an object'],
      ['{"kind":"EventList"}', 'EventList without an items array'],
      ['{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1x","auditID":"x","stage":"ResponseComplete"}', 'ok'],
    ];
    for (const [body, reason] of cases) {
      const r = await send(body);
      if (reason === 'ok') expect(r.status).toBe(200);
      else expect([r.status, r.body]).toEqual([400, `${reason}\n`]);
    }
    expect(logs).toContain('kestrel: webhook: refused {"status":400,"reason":"EventList item 1 is not an object","remote":"127.0.0.1","method":"POST","path":"/k8s-audit"}');
  });

  test('an EventList with one non-event item: 400 and none of its events evaluated', async () => {
    const mixed = eventList([
      auditEvent({ id: 'm-1', verb: 'get', resource: 'secrets', name: 'would-alert' }),
      { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'x' } },
    ]);
    const r = await postJson(h.port, mixed, auth);
    expect([r.status, r.body]).toEqual([400, 'EventList item 1: not an audit event: kind "Pod" (expected "Event")\n']);
    expect(sink.received).toEqual([]);
  });

  test('405 for other methods, 404 for other paths', async () => {
    const get = await request(h.port, { method: 'GET', ...auth });
    expect([get.status, get.body, get.headers.allow]).toEqual([405, 'method GET not allowed; use POST\n', 'POST']);
    const put = await request(h.port, { method: 'PUT', body: '{}', headers: { 'Content-Type': 'application/json', ...auth.headers } });
    expect(put.status).toBe(405);
    const other = await postJson(h.port, BATCH, { ...auth, path: '/audit' });
    expect([other.status, other.body]).toEqual([404, 'no webhook at /audit; POST to /k8s-audit or /k8s-admission\n']);
  });

  test('kube-audit-rest AdmissionReviews on the admission path, with its static fields', async () => {
    const r = await postJson(h.port, admissionReview('u-1', 'web-1'), { ...auth, path: '/k8s-admission' });
    expect([r.status, r.body]).toEqual([200, '{"events":1,"alerts":1}\n']);
    const a = JSON.parse(sink.received[0].json);
    expect(a.output).toBe('10:00:00.000000000: Warning Pod admitted (user=dana@example.com pod=web-1 ns=shop)');
    expect(a.source).toBe('k8s_admission');
    expect(a.output_fields).toEqual({
      cluster: 'eu-1',
      environment: 'prod',
      'evt.time': 1793613600000000000,
      'kar.target.name': 'web-1',
      'kar.target.namespace': 'shop',
      'kar.user.name': 'dana@example.com',
    });
  });

  test('JSON lines (application/x-ndjson) of AdmissionReviews; a line without request.uid rejects the request', async () => {
    const lines = [admissionReview('u-2', 'web-2'), admissionReview('u-3', 'web-3')].map((d) => JSON.stringify(d)).join('\n') + '\n';
    const ok = await request(h.port, { path: '/k8s-admission', body: lines, headers: { 'Content-Type': 'application/x-ndjson', ...auth.headers } });
    expect([ok.status, ok.body]).toEqual([200, '{"events":2,"alerts":2}\n']);
    expect(sink.received.map((a) => a.alert.outputFields['kar.target.name'])).toEqual(['web-2', 'web-3']);

    sink.received.length = 0;
    const bad = `${JSON.stringify(admissionReview('u-4', 'web-4'))}\n${JSON.stringify(admissionReview(undefined, 'web-5'))}\n`;
    const r = await request(h.port, { path: '/k8s-admission', body: bad, headers: { 'Content-Type': 'application/x-ndjson', ...auth.headers } });
    expect([r.status, r.body]).toEqual([400, 'line 2: AdmissionReview request has no uid\n']);
    const single = await postJson(h.port, admissionReview(undefined, 'web-6'), { ...auth, path: '/k8s-admission' });
    expect([single.status, single.body]).toEqual([400, 'AdmissionReview request has no uid\n']);
    expect(sink.received).toEqual([]);
  });

  test('an audit Event posted to the admission path is refused', async () => {
    const r = await postJson(h.port, BATCH, { ...auth, path: '/k8s-admission' });
    expect([r.status, r.body]).toEqual([400, 'not an AdmissionReview: kind "EventList"\n']);
  });

  test('/healthz, /readyz with the ruleset hash, /metrics', async () => {
    const ready = await request(h.port, { method: 'GET', path: '/readyz' });
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ ready: true, reasons: [], ruleset: h.holder.hash });
    expect(h.holder.hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await request(h.port, { method: 'GET', path: '/healthz' })).status).toBe(200);
    const m = await request(h.port, { method: 'GET', path: '/metrics' });
    expect(m.body).toContain('kestrel_webhook_requests_total{path="/k8s-audit",code="401"} 3');
    expect(m.body).not.toContain('kestrel_rules_reloads_total{');
    expect(m.body).toContain(`kestrel_ruleset_info{hash="${h.holder.hash}"} 1`);
  });

  test('503 with Retry-After and the real cause when an output fails; /readyz says which breaker is open', async () => {
    sink.failWith = new Error('disk full');
    const r = await postJson(h.port, BATCH, auth);
    expect([r.status, r.body, r.headers['retry-after']]).toEqual([503, 'output capture: disk full\n', '5']);
    const ready = await request(h.port, { method: 'GET', path: '/readyz' });
    expect([ready.status, JSON.parse(ready.body)]).toEqual([503, { ready: false, reasons: ['output capture: breaker open'], ruleset: h.holder.hash }]);
    expect((await request(h.port, { method: 'GET', path: '/healthz' })).status).toBe(200);
  });
});

describe('request timeouts (slowloris)', () => {
  let h: ServeHandle;
  beforeAll(async () => {
    const cfg = config({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    h = await startServe(cfg, { sinks: [{ sink: new CapturingSink() }], });
  });
  afterAll(() => h.close());

  /** Open a socket, send `parts` one by one every 100 ms, return what the server said and when it closed. */
  function trickle(parts: string[]): Promise<{ text: string; ms: number }> {
    return new Promise((resolve) => {
      const started = Date.now();
      const s = net.connect(h.port, '127.0.0.1');
      let text = '';
      let i = 0;
      const timer = setInterval(() => {
        if (i < parts.length && !s.destroyed) s.write(parts[i++]);
      }, 100);
      s.on('data', (d) => (text += d.toString()));
      s.on('error', () => {});
      s.on('close', () => {
        clearInterval(timer);
        resolve({ text, ms: Date.now() - started });
      });
    });
  }

  test('headers sent too slowly: 408 and the connection closed', async () => {
    const parts = ['POST /k8s-audit HTTP/1.1\r\n', ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: a\r\n`)];
    const r = await trickle(parts);
    expect(r.text.startsWith('HTTP/1.1 408')).toBe(true);
    expect(r.ms).toBeLessThan(2500);
  });

  test('a body sent too slowly: 408 and the connection closed', async () => {
    const body = JSON.stringify(BATCH);
    const head = `POST /k8s-audit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const r = await trickle([head, ...body.match(/.{1,20}/g)!]);
    expect(r.text.startsWith('HTTP/1.1 408')).toBe(true);
    expect(r.ms).toBeLessThan(2500);
  });
});

const haveOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

(haveOpenssl ? describe : describe.skip)('kestrel serve over HTTPS with client certificates', () => {
  let h: ServeHandle;
  const sink = new CapturingSink();
  const dir = tempDir('kestrel-tls-');
  const f = (n: string) => join(dir, n);
  const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  function ca(name: string): void {
    ossl('req', '-x509', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.crt`), '-days', '1', '-subj', `/CN=${name}`);
  }
  function leaf(name: string, caName: string, ext: string): void {
    ossl('req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${name}`);
    writeFileSync(f(`${name}.ext`), ext);
    ossl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${caName}.crt`), '-CAkey', f(`${caName}.key`), '-CAcreateserial', '-out', f(`${name}.crt`), '-days', '1', '-extfile', f(`${name}.ext`));
  }
  const pem = (n: string) => readFileSync(f(n));

  beforeAll(async () => {
    ca('ca');
    ca('rogue-ca');
    leaf('localhost', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    leaf('kube-apiserver', 'ca', 'extendedKeyUsage=clientAuth\n');
    leaf('intruder', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
    const cfg = config({ tls: { certFile: f('localhost.crt'), keyFile: f('localhost.key'), clientCaFile: f('ca.crt') } });
    h = await startServe(cfg, { sinks: [{ sink }], });
  });
  afterAll(() => h?.close());

  test('a client certificate signed by the configured CA is accepted', async () => {
    const r = await postJson(h.port, BATCH, { tls: { ca: pem('ca.crt'), cert: pem('kube-apiserver.crt'), key: pem('kube-apiserver.key') } });
    expect([r.status, r.body]).toEqual([200, '{"events":3,"alerts":2}\n']);
    expect(sink.received.map((a) => a.alert.rule)).toEqual(['Exec into pod', 'Secret read']);
  });

  test('401 without a client certificate', async () => {
    const r = await postJson(h.port, BATCH, { tls: { ca: pem('ca.crt') } });
    expect([r.status, r.body]).toEqual([401, 'client certificate required\n']);
  });

  test('401 for a client certificate from another CA', async () => {
    const r = await postJson(h.port, BATCH, { tls: { ca: pem('ca.crt'), cert: pem('intruder.crt'), key: pem('intruder.key') } });
    expect([r.status, r.body]).toEqual([401, 'client certificate not trusted: UNABLE_TO_VERIFY_LEAF_SIGNATURE\n']);
  });
});
