/**
 * The audit webhook: an HTTP(S) server receiving what kube-apiserver's audit
 * webhook backend POSTs (an audit.k8s.io `EventList` per batch, or a single
 * `Event`), and on its own path AdmissionReview documents for the
 * `k8s_admission` source (kube-audit-rest lines pushed by a log shipper: one
 * JSON document, or JSON lines with Content-Type application/x-ndjson).
 *
 * A request is answered 200 only after `deliver` resolved for its events
 * (standalone: evaluated and alerts delivered to the sinks; forwarder: produced
 * to Kafka). Otherwise:
 *   401 missing/wrong bearer token, or untrusted client certificate
 *   404 unknown path   405 not POST   411 no body length (never: chunked is fine)
 *   413 body over the limit   415 not application/json   400 bad JSON or not
 *   an audit event / AdmissionReview (one-line reason)   503 delivery failed or
 *   the server is at its concurrency limit (Retry-After), so the sender retries.
 * The whole request is rejected when any document in it is bad: the sender's
 * batch is either fully accepted or not at all.
 *
 * GET /healthz (alive), /readyz (ruleset version via `status`), /metrics
 * (via `metrics`) are served without authentication.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { DocumentSplitter } from '../decode/documents';
import { decodeDocument } from '../decode/events';
import type { EventView } from '../fields/types';

export type WebhookSource = 'k8s_audit' | 'k8s_admission';

export interface WebhookRoute {
  path: string;
  source: WebhookSource;
  /** Static fields for alerts of events received on this path (cluster, environment, ...). */
  fields?: Record<string, string>;
}

export interface WebhookBatch {
  route: WebhookRoute;
  events: EventView[];
  /** Client address, for logs. */
  remote?: string;
}

export interface DeliverResult {
  alerts?: number;
}

export interface WebhookTls {
  cert: string | Buffer;
  key: string | Buffer;
  /** CA bundle that client certificates must chain to; set to require client certificates. */
  clientCa?: string | Buffer;
}

export interface WebhookOptions {
  host?: string;
  /** Default 9765 (Falco's webhook port). 0 picks a free port. */
  port?: number;
  routes: WebhookRoute[];
  tls?: WebhookTls;
  /** Accepted bearer tokens (any of them); none: no token check. */
  tokens?: string[];
  /** Default 16 MiB. */
  maxBodyBytes?: number;
  /** Time allowed to receive a whole request. Default 30000. */
  requestTimeoutMs?: number;
  /** Time allowed to receive the headers. Default 10000. */
  headersTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** Requests being processed at once beyond which new ones get 503. Default 64. */
  maxConcurrentRequests?: number;
  /** Host name written into events (alerts' `hostname`). */
  hostname?: string;
  /** Called with the decoded events of one request; the answer waits for it. */
  deliver: (batch: WebhookBatch) => Promise<DeliverResult | void>;
  /** /readyz body and readiness. */
  status?: () => { ready: boolean; [k: string]: unknown };
  /** /healthz: fails once the pipeline behind the webhook is dead. */
  health?: () => { ok: boolean; reasons: string[] };
  /** /metrics body (Prometheus text) and its content type. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** One line per notable event (rejections, delivery failures). */
  log?: (line: string) => void;
  /** Called once per answered request (metrics). */
  onResponse?: (path: string, status: number, events: number) => void;
}

const JSON_TYPES = new Set(['application/json']);
const LINES_TYPES = new Set(['application/x-ndjson', 'application/jsonl', 'application/json-lines']);

export class WebhookServer {
  readonly server: http.Server | https.Server;
  private readonly routes: Map<string, WebhookRoute>;
  private readonly tokens: Buffer[];
  private inFlight = 0;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: WebhookOptions) {
    this.routes = new Map(opts.routes.map((r) => [r.path, r]));
    this.tokens = (opts.tokens ?? []).map((t) => Buffer.from(t, 'utf8'));
    this.log = opts.log ?? (() => {});
    const requestTimeout = opts.requestTimeoutMs ?? 30_000;
    const headersTimeout = Math.min(opts.headersTimeoutMs ?? 10_000, requestTimeout);
    const serverOpts: http.ServerOptions = {
      requestTimeout,
      headersTimeout,
      keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5000,
      // How often Node checks the two timeouts above (default 30 s: too coarse against slowloris).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
      maxHeaderSize: 16 * 1024,
    };
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.handle(req, res).catch((e: Error) => {
        this.log(`kestrel: webhook: internal error: ${e.message}`);
        if (!res.headersSent) this.reply(req, res, 500, 'internal error');
      });
    };
    if (opts.tls) {
      this.server = https.createServer(
        {
          ...serverOpts,
          cert: opts.tls.cert,
          key: opts.tls.key,
          ca: opts.tls.clientCa,
          requestCert: opts.tls.clientCa !== undefined,
          // Verified per request below, so an untrusted client gets a 401 with a reason instead of a reset.
          rejectUnauthorized: false,
        },
        handler,
      );
    } else {
      this.server = http.createServer(serverOpts, handler);
    }
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      // Timeouts (slowloris), malformed requests, TLS failures: answer if possible, never crash.
      // A response already started on this socket cannot be replaced: just close it.
      if (!socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
        socket.destroy();
        return;
      }
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const reason = status === 408 ? 'request timeout' : status === 431 ? 'headers too large' : 'malformed HTTP request';
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length + 1}\r\n\r\n${reason}\n`);
    });
  }

  /** Start listening; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 9765, this.opts.host ?? '0.0.0.0', () => {
        this.server.off('error', reject);
        resolve((this.server.address() as { port: number }).port);
      });
    });
  }

  /** Stop accepting connections; waits for requests in progress (idle keep-alive sockets are closed). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private reply(req: http.IncomingMessage, res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}, events = 0): void {
    const path = (req.url ?? '').split('?')[0];
    const body = status === 200 ? message : `${message.replace(/[\r\n]+/g, ' ')}\n`;
    res.writeHead(status, { 'Content-Type': status === 200 ? 'application/json' : 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(body);
    this.opts.onResponse?.(path, status, events);
    if (status >= 400 && status !== 404 && status !== 405) this.log(`kestrel: webhook: ${req.socket.remoteAddress ?? '?'} ${req.method} ${path}: ${status} ${message}`);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const route = this.routes.get(path);
    if (!route) {
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (path === '/healthz') {
          const h = this.opts.health?.() ?? { ok: true, reasons: [] };
          return this.reply(req, res, h.ok ? 200 : 503, `${JSON.stringify(h.ok ? { status: 'ok' } : { status: 'failed', reasons: h.reasons })}\n`);
        }
        if (path === '/readyz') {
          const st = this.opts.status?.() ?? { ready: true };
          return this.reply(req, res, st.ready ? 200 : 503, `${JSON.stringify(st)}\n`);
        }
        if (path === '/metrics' && this.opts.metrics) {
          const m = await this.opts.metrics();
          res.writeHead(200, { 'Content-Type': m.contentType });
          res.end(m.body);
          return;
        }
      }
      req.resume();
      return this.reply(req, res, 404, `no webhook at ${path}; POST to ${[...this.routes.keys()].join(' or ')}`);
    }
    if (req.method !== 'POST') {
      req.resume();
      return this.reply(req, res, 405, `method ${req.method} not allowed; use POST`, { Allow: 'POST' });
    }
    const authError = this.authenticate(req);
    if (authError) {
      req.resume();
      return this.reply(req, res, 401, authError, this.tokens.length ? { 'WWW-Authenticate': 'Bearer' } : {});
    }
    const ctype = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const lines = LINES_TYPES.has(ctype);
    if (!JSON_TYPES.has(ctype) && !lines) {
      req.resume();
      return this.reply(req, res, 415, `unsupported content type '${ctype || '(none)'}': send application/json${route.source === 'k8s_admission' ? ' or application/x-ndjson' : ''}`);
    }
    const max = this.opts.maxBodyBytes ?? 16 * 1024 * 1024;
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > max) {
      // Answer without reading the body; close the connection shortly after (bounded by requestTimeout anyway).
      res.setHeader('Connection', 'close');
      res.on('finish', () => setTimeout(() => req.socket.destroy(), 1000).unref());
      return this.reply(req, res, 413, `body of ${declared} bytes exceeds the ${max}-byte limit`);
    }
    if (this.inFlight >= (this.opts.maxConcurrentRequests ?? 64)) {
      req.resume();
      return this.reply(req, res, 503, 'too many requests in progress; retry later', { 'Retry-After': '1' });
    }
    this.inFlight++;
    try {
      const body = await readBody(req, max);
      if (body === 'too-large') {
        res.setHeader('Connection', 'close');
        return this.reply(req, res, 413, `body exceeds the ${max}-byte limit`);
      }
      if (body === 'aborted') return;
      if (body.length === 0) return this.reply(req, res, 400, 'empty body');
      const decoded = this.decode(body, route, lines);
      if (!decoded.ok) return this.reply(req, res, 400, decoded.reason);
      let result: DeliverResult | void;
      try {
        result = await this.opts.deliver({ route, events: decoded.events, remote: req.socket.remoteAddress });
      } catch (e) {
        const refused = e as { status?: number; retryAfter?: number };
        if (refused.status === 400) return this.reply(req, res, 400, (e as Error).message);
        if (refused.status === 503) return this.reply(req, res, 503, (e as Error).message, { 'Retry-After': String(refused.retryAfter ?? 5) }, decoded.events.length);
        const busy = (e as { busy?: boolean }).busy === true;
        return this.reply(req, res, 503, `${busy ? 'busy' : 'delivery failed'}: ${(e as Error).message}`, { 'Retry-After': busy ? '1' : '5' }, decoded.events.length);
      }
      return this.reply(req, res, 200, `${JSON.stringify({ events: decoded.events.length, alerts: result?.alerts ?? 0 })}\n`, {}, decoded.events.length);
    } finally {
      this.inFlight--;
    }
  }

  private authenticate(req: http.IncomingMessage): string | undefined {
    if (this.opts.tls?.clientCa !== undefined) {
      const sock = req.socket as TLSSocket;
      if (!sock.authorized) {
        const cert = sock.getPeerCertificate?.();
        const none = !cert || Object.keys(cert).length === 0;
        return none ? 'client certificate required' : `client certificate not trusted: ${String(sock.authorizationError ?? 'unknown')}`;
      }
    }
    if (this.tokens.length) {
      const h = req.headers.authorization;
      if (!h) return 'missing bearer token';
      const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
      if (!m) return 'Authorization header is not a bearer token';
      const got = Buffer.from(m[1], 'utf8');
      if (!this.tokens.some((t) => t.length === got.length && timingSafeEqual(t, got))) return 'invalid bearer token';
    }
    return undefined;
  }

  private decode(body: Buffer, route: WebhookRoute, lines: boolean): { ok: true; events: EventView[] } | { ok: false; reason: string } {
    const host = this.opts.hostname;
    if (!lines) {
      const r = decodeDocument(body.toString('utf8'), route.source, host);
      return r;
    }
    const splitter = new DocumentSplitter({ maxBytes: this.opts.maxBodyBytes ?? 16 * 1024 * 1024, maxDepth: 512 });
    const events: EventView[] = [];
    for (const doc of [...splitter.push(body), ...splitter.end()]) {
      if (!doc.ok) return { ok: false, reason: `line ${doc.line}: ${doc.reason}` };
      const r = decodeDocument(doc.text, route.source, host);
      if (!r.ok) return { ok: false, reason: `line ${doc.line}: ${r.reason}` };
      events.push(...r.events);
    }
    return { ok: true, events };
  }
}

/** Read a request body up to `max` bytes; beyond it keep draining (bounded) so the 413 reaches the client. */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (over) {
        if (size > max * 4 + 1024 * 1024) req.destroy();
        return;
      }
      if (size > max) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', () => resolve('aborted'));
    req.on('close', () => {
      if (!req.complete) resolve('aborted');
    });
  });
}
