/** Shared by the webhook, sink and reload tests: a capturing sink, HTTP helpers, rules and events. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertJson, type Alert } from '../../src/engine/alert';
import type { Priority } from '../../src/language/priority';
import type { AlertSink, OutgoingAlert } from '../../src/sinks/types';

export class CapturingSink implements AlertSink {
  readonly name = 'capture';
  readonly received: OutgoingAlert[] = [];
  /** When set, `send` rejects with it. */
  failWith?: Error;
  constructor(readonly minPriority: Priority = 'Debug') {}
  async send(alerts: OutgoingAlert[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.received.push(...alerts);
  }
  async close(): Promise<void> {}
}

export function tempDir(prefix = 'kestrel-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export const TEST_RULES = `
- rule: Exec into pod
  desc: exec
  condition: ka.verb=create and ka.target.subresource=exec
  output: Exec into pod (user=%ka.user.name pod=%ka.target.name ns=%ka.target.namespace)
  priority: NOTICE
  source: k8s_audit
  tags: [k8s, exec]

- rule: Secret read
  desc: secret
  condition: ka.verb=get and ka.target.resource=secrets
  output: Secret read (user=%ka.user.name secret=%ka.target.name)
  priority: WARNING
  source: k8s_audit
  tags: [k8s, secrets]

- rule: Pod admitted
  desc: admission
  condition: kar.verb=CREATE and kar.target.resource=pods
  output: Pod admitted (user=%kar.user.name pod=%kar.target.name ns=%kar.target.namespace)
  priority: WARNING
  source: k8s_admission
  tags: [k8s]
`;

/** A folder holding rules.yaml with `text`; returns the file path. */
export function writeRules(text = TEST_RULES, dir = tempDir()): string {
  const path = join(dir, 'rules.yaml');
  writeFileSync(path, text);
  return path;
}

export function auditEvent(over: { id: string; verb: string; resource: string; name: string; ns?: string; sub?: string; user?: string; ts?: string }): object {
  const ev: Record<string, unknown> = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: over.id,
    stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/${over.ns ?? 'shop'}/${over.resource}/${over.name}${over.sub ? `/${over.sub}` : ''}`,
    verb: over.verb,
    user: { username: over.user ?? 'dana@example.com', groups: ['system:authenticated'] },
    sourceIPs: ['10.0.0.7'],
    userAgent: 'kubectl/v1.31.2',
    objectRef: { resource: over.resource, namespace: over.ns ?? 'shop', name: over.name, apiVersion: 'v1', ...(over.sub ? { subresource: over.sub } : {}) },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: over.ts ?? '2026-11-02T09:15:04.900000Z',
    stageTimestamp: over.ts ?? '2026-11-02T09:15:04.936123Z',
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
  };
  return ev;
}

/** What kube-apiserver's webhook backend POSTs: one EventList per batch. */
export function eventList(items: object[]): object {
  return { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items };
}

/** A batch of three events: one exec (alert), one secret get (alert), one pod list (no alert). */
export const BATCH = eventList([
  auditEvent({ id: 'a-1', verb: 'create', resource: 'pods', name: 'cart-7d9f', sub: 'exec', ts: '2026-11-02T09:15:04.936123Z' }),
  auditEvent({ id: 'a-2', verb: 'list', resource: 'pods', name: '', ts: '2026-11-02T09:15:05.000000Z' }),
  auditEvent({ id: 'a-3', verb: 'get', resource: 'secrets', name: 'db-password', user: 'eve@example.com', ts: '2026-11-02T09:15:06.5Z' }),
]);

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  /** https: CA to trust, client cert/key. */
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
}

export function request(port: number, o: RequestOptions = {}): Promise<Reply> {
  const lib = o.tls ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      {
        host: '127.0.0.1',
        port,
        method: o.method ?? 'POST',
        path: o.path ?? '/k8s-audit',
        headers: { ...(o.body !== undefined && !o.headers?.['Transfer-Encoding'] ? { 'Content-Length': Buffer.byteLength(o.body) } : {}), ...o.headers },
        agent: false,
        ...(o.tls ? { ca: o.tls.ca, cert: o.tls.cert, key: o.tls.key, servername: 'localhost' } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

export const postJson = (port: number, value: unknown, extra: RequestOptions = {}) =>
  request(port, { ...extra, body: JSON.stringify(value), headers: { 'Content-Type': 'application/json', ...extra.headers } });

/** A local HTTP server recording requests; `respond` decides the status (default 200). */
export async function recordingServer(respond: (n: number, body: string) => number | 'hang' = () => 200): Promise<{
  port: number;
  bodies: string[];
  requests: { headers: http.IncomingHttpHeaders; body: string; method?: string; url?: string }[];
  close(): Promise<void>;
}> {
  const requests: { headers: http.IncomingHttpHeaders; body: string; method?: string; url?: string }[] = [];
  const bodies: string[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const status = respond(++n, body);
      if (status === 'hang') return;
      requests.push({ headers: req.headers, body, method: req.method, url: req.url });
      if (status >= 200 && status < 300) bodies.push(body);
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(status >= 300 ? 'Please send a valid request body' : '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    bodies,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A synthetic alert number `i` (time 2026-11-02T09:15:00Z + i seconds). */
export function makeAlert(i: number, over: Partial<Alert> = {}): OutgoingAlert {
  const alert: Alert = {
    timeNs: 1793610900000000000n + BigInt(i) * 1_000_000_000n,
    rule: `Rule ${i}`,
    priority: 'Warning',
    source: 'k8s_audit',
    tags: ['k8s'],
    hostname: 'kestrel-test',
    message: `alert number ${i} (user=dana@example.com)`,
    outputFields: { 'ka.user.name': 'dana@example.com' },
    ...over,
  };
  return { alert, json: alertJson(alert) };
}
