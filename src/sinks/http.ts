/**
 * HTTP sink: POSTs each alert, one per request, as Falco's JSON alert, which
 * is what Falco's http_output sends and what falcosidekick's `/` endpoint
 * decodes (types.FalcoPayload: output, priority, rule, time, output_fields,
 * source, tags, hostname; falcosidekick sets `uuid` itself and ignores other
 * top-level keys; it answers 400 unless priority, rule, time and a non-empty
 * output_fields are present — Kestrel's alerts always carry evt.time there).
 *
 * Faults: each request has a timeout; failures (network errors, timeouts,
 * 5xx, 408, 429) are retried with jittered exponential backoff (each wait
 * drawn between half and all of the current backoff, so a batch's alerts do
 * not retry in lockstep) through a circuit breaker (src/sinks/breaker.ts).
 * While the breaker is open, an alert does not sleep a blind backoff: it waits
 * for the breaker's next half-open probe (1 s after opening, growing for long
 * outages) and retries at once, so a recovered receiver gets the backlog
 * within about a probe interval.
 * `send` resolves only when every alert was accepted (2xx) and rejects after
 * `maxRetryMs`, so the caller keeps the events (answers 503 / does not commit)
 * and nothing is lost. At most `maxPending` alerts wait inside the sink;
 * beyond that `send` rejects at once with a `busy` error (backpressure).
 * Other 4xx answers are permanent (the receiver refuses the payload): `send`
 * rejects with the status and body.
 */
import http from 'node:http';
import https from 'node:https';
import type { Priority } from '../language/priority';
import { Breaker, isBreakerOpenError, type BreakerOptions, type BreakerState } from './breaker';
import type { AlertSink, OutgoingAlert } from './types';

export interface HttpSinkOptions {
  url: string;
  minPriority: Priority;
  name?: string;
  headers?: Record<string, string>;
  /** Per-request timeout. Default 5000. */
  timeoutMs?: number;
  /** Give up on an alert (reject `send`) after this long. Default 30000. */
  maxRetryMs?: number;
  /** First retry delay; doubles up to maxBackoffMs. Defaults 100 / 5000. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Alerts waiting in the sink (in flight + retrying) beyond which `send` rejects as busy. Default 10000. */
  maxPending?: number;
  /** Parallel requests. Default 4. */
  concurrency?: number;
  breaker?: Partial<BreakerOptions>;
  /** TLS: extra CA (PEM), client cert/key for mutual TLS, or skip verification (tests only). */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  insecureSkipVerify?: boolean;
}

export class HttpStatusError extends Error {
  constructor(readonly status: number, body: string) {
    super(`HTTP ${status}${body ? `: ${body.slice(0, 200).replace(/\s+/g, ' ').trim()}` : ''}`);
    this.name = 'HttpStatusError';
  }

  get retryable(): boolean {
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

/** Rejection of `send` when the sink's bounded queue is full: retry later. */
export class SinkBusyError extends Error {
  readonly busy = true;
  constructor(name: string, pending: number) {
    super(`${name} sink busy: ${pending} alerts already waiting`);
    this.name = 'SinkBusyError';
  }
}

export interface HttpSinkStats {
  sent: number;
  failedAttempts: number;
  /** Alerts for which `send` rejected (they were handed back to the caller, not dropped). */
  givenUp: number;
  rejectedBusy: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** A retry wait for the current backoff: uniformly between half and all of it ("equal jitter"). */
export function retryDelayMs(backoffMs: number, random: () => number = Math.random): number {
  return backoffMs / 2 + random() * (backoffMs / 2);
}

export class HttpSink implements AlertSink {
  readonly name: string;
  readonly minPriority: Priority;
  readonly breaker: Breaker<[string], void>;
  readonly stats: HttpSinkStats = { sent: 0, failedAttempts: 0, givenUp: 0, rejectedBusy: 0 };
  private pending = 0;
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly url: URL;
  private readonly agent: http.Agent;
  private closed = false;

  constructor(private readonly opts: HttpSinkOptions) {
    this.name = opts.name ?? 'http';
    this.minPriority = opts.minPriority;
    this.url = new URL(opts.url);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') throw new Error(`http sink: unsupported URL ${opts.url}`);
    this.agent =
      this.url.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: !opts.insecureSkipVerify })
        : new http.Agent({ keepAlive: true });
    this.breaker = new Breaker(this.name, (body: string) => this.post(body), {
      timeoutMs: false, // the request has its own timeout, which aborts it
      errorThresholdPercentage: opts.breaker?.errorThresholdPercentage ?? 50,
      resetTimeoutMs: opts.breaker?.resetTimeoutMs ?? 1000,
      maxResetTimeoutMs: opts.breaker?.maxResetTimeoutMs ?? 30_000,
      volumeThreshold: opts.breaker?.volumeThreshold ?? 5,
    });
  }

  get state(): BreakerState {
    return this.breaker.state;
  }

  /** Alerts accepted by `send` and not yet delivered or given back. */
  get waiting(): number {
    return this.pending;
  }

  async send(alerts: OutgoingAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    if (this.closed) throw new Error(`${this.name} sink is closed`);
    const max = this.opts.maxPending ?? 10_000;
    if (this.pending > 0 && this.pending + alerts.length > max) {
      this.stats.rejectedBusy += alerts.length;
      throw new SinkBusyError(this.name, this.pending);
    }
    this.pending += alerts.length;
    try {
      const results = await Promise.allSettled(alerts.map((a) => this.deliver(a.json)));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length) {
        this.stats.givenUp += failed.length;
        const e = failed[0].reason as Error;
        throw new Error(`${this.name}: ${failed.length} of ${alerts.length} alert(s) not delivered: ${e.message}`);
      }
    } finally {
      this.pending -= alerts.length;
    }
  }

  /** One alert: retried with backoff until accepted or `maxRetryMs` passed. */
  private async deliver(body: string): Promise<void> {
    const deadline = Date.now() + (this.opts.maxRetryMs ?? 30_000);
    let backoff = this.opts.initialBackoffMs ?? 100;
    const maxBackoff = this.opts.maxBackoffMs ?? 5000;
    for (;;) {
      let err: Error;
      await this.acquire();
      try {
        await this.breaker.fire(body);
        this.stats.sent++;
        return;
      } catch (e) {
        err = e as Error;
      } finally {
        this.release();
      }
      if (err instanceof HttpStatusError && !err.retryable) throw err;
      this.stats.failedAttempts++;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) throw new Error(`gave up after retrying: ${err.message}`);
      if (isBreakerOpenError(err)) {
        // Wake at the breaker's probe (or once it closed), spread over a few ms.
        await Promise.race([this.breaker.whenUsable(), sleep(left)]);
        await sleep(Math.min(retryDelayMs(50), Math.max(0, deadline - Date.now())));
        continue;
      }
      await sleep(Math.min(retryDelayMs(backoff), left));
      backoff = Math.min(backoff * 2, maxBackoff);
    }
  }

  private acquire(): Promise<void> {
    if (this.active < (this.opts.concurrency ?? 4)) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((r) => this.waiters.push(() => r()));
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.active--;
  }

  private post(body: string): Promise<void> {
    const lib = this.url.protocol === 'https:' ? https : http;
    const timeout = this.opts.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const req = lib.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
            'User-Agent': 'kestrel',
            ...this.opts.headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size < 4096) chunks.push(c);
            size += c.length;
          });
          res.on('end', () => {
            clearTimeout(timer);
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else reject(new HttpStatusError(status, Buffer.concat(chunks).toString('utf8')));
          });
          res.on('error', (e) => {
            clearTimeout(timer);
            reject(e);
          });
        },
      );
      const timer = setTimeout(() => req.destroy(new Error(`timeout after ${timeout} ms`)), timeout);
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.breaker.shutdown();
    this.agent.destroy();
  }
}
