/**
 * The audit webhook: an HTTP(S) server receiving what kube-apiserver's audit
 * webhook backend POSTs (an audit.k8s.io `EventList` per batch, or a single
 * `Event`), and on its own path AdmissionReview documents for the
 * `k8s_admission` source (kube-audit-rest lines pushed by a log shipper: one
 * JSON document, or JSON lines with Content-Type application/x-ndjson).
 *
 * Transport only: the body is split into validated documents by `splitBody`
 * (decode/eventlist.ts, injected by the caller) and handed to `deliver` as raw
 * bytes, one audit Event / AdmissionReview each. A request is answered 200
 * only after `deliver` resolved. Otherwise:
 *   401 missing/wrong bearer token, or untrusted client certificate
 *   404 unknown path   405 not POST   415 not application/json
 *   413 body over the limit (answered as soon as the limit is passed, chunked
 *       or not; the rest of the body is read and discarded up to a bound so
 *       the client sees the 413 instead of a reset)
 *   400 bad JSON or not an audit event / AdmissionReview, any document of the
 *       body (one-line reason): the sender's batch is accepted whole or not at all
 *   503 + Retry-After: delivery failed, or too many requests in progress
 *       (overall, or from this client address)
 *   `deliver` may throw an error with `status` (and `retryAfter` seconds) to
 *   choose the answer (e.g. 503 while a spool is full).
 * `Expect: 100-continue` is answered 100 only when the request passed every
 * check that does not need the body (path, method, auth, type, length, slot).
 * Request slots are taken after authentication, so unauthenticated senders
 * never hold one, and at most `maxConcurrentRequestsPerClient` per address.
 *
 * GET /healthz (alive), /readyz (ruleset version via `status`), /metrics
 * (via `metrics`) are served without authentication and never take a slot.
 * Log lines carry client-supplied values JSON-escaped (no raw newlines/bytes).
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { EventView } from '../fields/types';

export type WebhookSource = 'k8s_audit' | 'k8s_admission';

export interface WebhookRoute {
  path: string;
  source: WebhookSource;
  /** Static fields for alerts of events received on this path (cluster, environment, ...). */
  fields?: Record<string, string>;
}

/** What one accepted request hands on: the body's documents, already split and validated. */
export interface WebhookDelivery {
  route: WebhookRoute;
  /** One audit Event (EventList items, a lone Event) or one AdmissionReview, as JSON bytes each. */
  documents: Buffer[];
  /** Client address, for logs. */
  remote?: string;
}

/**
 * @deprecated the decoded form `kestrel serve`/`consume` build from a
 * WebhookDelivery until the service rewrite (forwarder.ts takes it).
 */
export interface WebhookBatch {
  route: WebhookRoute;
  events: EventView[];
  remote?: string;
}

export interface DeliverResult {
  alerts?: number;
}

/** Thrown by `deliver` to choose the answer (e.g. 503 with Retry-After while a spool is full). */
export class WebhookRefusal extends Error {
  constructor(readonly status: number, message: string, readonly retryAfter?: number) {
    super(message);
    this.name = 'WebhookRefusal';
  }
}

/** The body split into documents, or why not (decode/eventlist.ts's SplitResult). */
export type BodySplit = { ok: true; documents: Buffer[] } | { ok: false; reason: string };

export interface WebhookTls {
  cert: string | Buffer;
  key: string | Buffer;
  /** CA bundle that client certificates must chain to; set to require client certificates. */
  clientCa?: string | Buffer;
}

/** Default largest body: kube-apiserver's 400-event batches of RequestResponse events reach 18-40 MB. */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024;

export interface WebhookOptions {
  host?: string;
  /** Default 9765 (Falco's webhook port). 0 picks a free port. */
  port?: number;
  routes: WebhookRoute[];
  tls?: WebhookTls;
  /** Accepted bearer tokens (any of them); none: no token check. */
  tokens?: string[];
  /** Default 256 MiB (DEFAULT_MAX_BODY_BYTES). */
  maxBodyBytes?: number;
  /** Of a refused body, at most this much is read and discarded (so the client sees the answer) before the connection is closed. Default 8 MiB. */
  maxDiscardBytes?: number;
  /** Time allowed to receive a whole request. Default 30000. */
  requestTimeoutMs?: number;
  /** Time allowed to receive the headers. Default 10000. */
  headersTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** Requests being received or processed at once beyond which new ones get 503. Default 64. */
  maxConcurrentRequests?: number;
  /** The same, per client address. Default 16. */
  maxConcurrentRequestsPerClient?: number;
  /** Host name written into events (alerts' `hostname`). */
  hostname?: string;
  /** Splits and validates a body (decode/eventlist.ts splitWebhookBodyAsync with the limits). `lines`: JSON lines content type. */
  splitBody: (body: Buffer, source: WebhookSource, lines: boolean) => Promise<BodySplit>;
  /** Called with the documents of one request; the answer waits for it. */
  deliver: (delivery: WebhookDelivery) => Promise<DeliverResult | void>;
  /** /readyz body and readiness. */
  status?: () => { ready: boolean; [k: string]: unknown };
  /** /healthz: fails once the pipeline behind the webhook is dead. */
  health?: () => { ok: boolean; reasons: string[] };
  /** /metrics body (Prometheus text) and its content type. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /**
   * One line per notable event (refusals, delivery failures). The line is
   * safe to print (client values JSON-escaped); `fields` holds the same values
   * for a structured logger.
   */
  log?: (line: string, fields?: Record<string, unknown>) => void;
  /** Called once per answered request (metrics). */
  onResponse?: (path: string, status: number, events: number) => void;
}

/** Start-up warnings for a configuration that cannot work as intended. */
export function webhookWarnings(opts: Pick<WebhookOptions, 'tls' | 'tokens' | 'host'>): string[] {
  const out: string[] = [];
  const loopback = opts.host === '127.0.0.1' || opts.host === '::1' || opts.host === 'localhost';
  if (opts.tokens?.length && !opts.tls) {
    out.push(
      'webhook: a bearer token is required but the webhook serves plain HTTP: kube-apiserver (client-go) sends kubeconfig credentials only over TLS, ' +
        'so its requests arrive without the token and get 401; serve HTTPS (tls cert/key) or use a token only with other senders',
    );
  }
  if (!opts.tokens?.length && opts.tls?.clientCa === undefined && !loopback) {
    out.push(`webhook: no authentication (no bearer token, no client CA) on ${opts.host ?? '0.0.0.0'}: anyone who reaches the port can submit events`);
  }
  return out;
}

/** JSON text of a value with every character that could break a log line escaped (JSON leaves U+2028/9 and C1 controls raw). */
export function logSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const JSON_TYPES = new Set(['application/json']);
const LINES_TYPES = new Set(['application/x-ndjson', 'application/jsonl', 'application/json-lines']);

interface Refusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

export class WebhookServer {
  readonly server: http.Server | https.Server;
  private readonly routes: Map<string, WebhookRoute>;
  private readonly tokens: Buffer[];
  private inFlight = 0;
  private readonly perClient = new Map<string, number>();
  private readonly log: (line: string, fields?: Record<string, unknown>) => void;
  private readonly maxBody: number;

  constructor(private readonly opts: WebhookOptions) {
    this.routes = new Map(opts.routes.map((r) => [r.path, r]));
    this.tokens = (opts.tokens ?? []).map((t) => Buffer.from(t, 'utf8'));
    this.log = opts.log ?? (() => {});
    this.maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
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
    const handler = (expectContinue: boolean) => (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.handle(req, res, expectContinue).catch((e: Error) => {
        this.log(`kestrel: webhook: internal error: ${logSafeJson(e.message)}`, { error: e.message });
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
        handler(false),
      );
    } else {
      this.server = http.createServer(serverOpts, handler(false));
    }
    // With a listener, Node no longer answers `100 Continue` by itself: handle() does, once the request passed its checks.
    this.server.on('checkContinue', handler(true));
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
    if (status >= 400 && status !== 404 && status !== 405) {
      const fields = { status, reason: message, remote: req.socket.remoteAddress ?? '?', method: req.method, path };
      this.log(`kestrel: webhook: refused ${logSafeJson(fields)}`, fields);
    }
  }

  /**
   * Answer without (or before the end of) the body. The rest of the body is
   * read and discarded, up to `maxDiscardBytes`, before the connection is
   * closed: closing with unread data makes TCP send a reset, which can destroy
   * the answer before the client reads it. A client that announced
   * `Expect: 100-continue` sends no body: its connection just closes.
   */
  private refuse(req: http.IncomingMessage, res: http.ServerResponse, r: Refusal, expectContinue: boolean): void {
    if (expectContinue) {
      this.reply(req, res, r.status, r.message, { Connection: 'close', ...r.headers });
      return;
    }
    const bound = this.opts.maxDiscardBytes ?? 8 * 1024 * 1024;
    let discarded = 0;
    const socket = req.socket;
    const stop = () => {
      clearTimeout(timer);
      req.removeListener('data', onData);
    };
    const onData = (c: Buffer) => {
      discarded += c.length;
      if (discarded > bound) {
        stop();
        socket.destroy();
      }
    };
    // Bounded in time as well: a client may keep the body coming slowly.
    const timer = setTimeout(() => {
      stop();
      if (!req.complete) socket.destroy();
    }, 5000);
    timer.unref();
    req.removeAllListeners('data');
    req.on('data', onData);
    req.once('end', stop);
    req.once('close', stop);
    req.resume();
    this.reply(req, res, r.status, r.message, r.headers ?? {});
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, expectContinue: boolean): Promise<void> {
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
      return this.refuse(req, res, { status: 404, message: `no webhook at ${path}; POST to ${[...this.routes.keys()].join(' or ')}` }, expectContinue);
    }
    if (req.method !== 'POST') return this.refuse(req, res, { status: 405, message: `method ${req.method} not allowed; use POST`, headers: { Allow: 'POST' } }, expectContinue);
    const authError = this.authenticate(req);
    if (authError) return this.refuse(req, res, { status: 401, message: authError, headers: this.tokens.length ? { 'WWW-Authenticate': 'Bearer' } : {} }, expectContinue);
    const ctype = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const lines = LINES_TYPES.has(ctype);
    if (!JSON_TYPES.has(ctype) && !lines) {
      return this.refuse(req, res, { status: 415, message: `unsupported content type '${ctype || '(none)'}': send application/json${route.source === 'k8s_admission' ? ' or application/x-ndjson' : ''}` }, expectContinue);
    }
    const max = this.maxBody;
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > max) return this.refuse(req, res, { status: 413, message: `body of ${declared} bytes exceeds the ${max}-byte limit` }, expectContinue);

    // A slot, only for an authenticated request, bounded overall and per client address.
    const client = req.socket.remoteAddress ?? '?';
    const mine = this.perClient.get(client) ?? 0;
    if (this.inFlight >= (this.opts.maxConcurrentRequests ?? 64)) {
      return this.refuse(req, res, { status: 503, message: 'too many requests in progress; retry later', headers: { 'Retry-After': '1' } }, expectContinue);
    }
    if (mine >= (this.opts.maxConcurrentRequestsPerClient ?? 16)) {
      return this.refuse(req, res, { status: 503, message: `too many requests in progress from ${client}; retry later`, headers: { 'Retry-After': '1' } }, expectContinue);
    }
    this.inFlight++;
    this.perClient.set(client, mine + 1);
    try {
      if (expectContinue) res.writeContinue();
      const body = await readBody(req, max);
      if (body === 'too-large') return this.refuse(req, res, { status: 413, message: `body exceeds the ${max}-byte limit` }, false);
      if (body === 'aborted') return;
      if (body.length === 0) return this.reply(req, res, 400, 'empty body');
      const split = await this.opts.splitBody(body, route.source, lines);
      if (!split.ok) return this.reply(req, res, 400, split.reason);
      const n = split.documents.length;
      let result: DeliverResult | void;
      try {
        result = await this.opts.deliver({ route, documents: split.documents, remote: client });
      } catch (e) {
        const { status, retryAfter, busy } = e as { status?: unknown; retryAfter?: unknown; busy?: unknown };
        if (typeof status === 'number' && status >= 400 && status <= 599) {
          const ra = typeof retryAfter === 'number' ? { 'Retry-After': String(Math.max(0, Math.ceil(retryAfter))) } : status === 503 || status === 429 ? { 'Retry-After': '5' } : undefined;
          return this.reply(req, res, status, (e as Error).message, ra, n);
        }
        return this.reply(req, res, 503, `${busy === true ? 'busy' : 'delivery failed'}: ${(e as Error).message}`, { 'Retry-After': busy === true ? '1' : '5' }, n);
      }
      return this.reply(req, res, 200, `${JSON.stringify({ events: n, alerts: result?.alerts ?? 0 })}\n`, {}, n);
    } finally {
      this.inFlight--;
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left > 0) this.perClient.set(client, left);
      else this.perClient.delete(client);
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
}

/**
 * Read a request body up to `max` bytes. Resolves 'too-large' as soon as the
 * limit is passed (chunked bodies included), without waiting for the rest:
 * the caller answers 413 at once and discards what still comes.
 */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeListener('data', onData);
        chunks.length = 0;
        resolve('too-large');
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(size > max ? 'too-large' : Buffer.concat(chunks, size)));
    req.on('error', () => resolve('aborted'));
    req.on('close', () => {
      if (!req.complete) resolve('aborted');
    });
  });
}
