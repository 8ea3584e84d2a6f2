/**
 * A webhook input: kube-apiserver's audit webhook and kube-audit-rest posts
 * go through the same path as every other input (rule workers, shaping,
 * outputs), and a request is answered 200 only after every output took its
 * alerts. In forward mode the documents are produced to a Kafka topic
 * (acks=all) instead, and the consumer group evaluates them.
 *
 * A request whose documents do not all decode is refused whole (400) and none
 * of its alerts is delivered: the sender's batch is accepted entirely or not
 * at all. Delivery that cannot finish within the request's budget (an output
 * down) answers 503 with Retry-After, so the sender retries in time.
 *
 * With a spool, a request is answered 200 once it is fsync'ed to disk; a drain
 * loop evaluates and delivers the spooled requests in order, retrying as long
 * as an output is down (like a Kafka input), and acknowledges them in the
 * spool only once delivered. A full spool answers 503 with Retry-After.
 */
import type { ProducerHandle } from '../sinks/renewable-producer';
import type { Logger } from 'pino';
import type { WebhookInputConfig } from '../config/types';
import type { Metrics } from '../observability/metrics';
import { splitWebhookBodyAsync } from '../decode/eventlist';
import { WebhookRefusal, WebhookServer, webhookWarnings, type WebhookDelivery } from '../sources/webhook';
import type { Evaluator } from './evaluate';
import { Aborted, DeliveryFailed, type OutputSet } from './outputs';
import { Spool, SpoolFull } from './spool';

export interface WebhookInputDeps {
  evaluator: Evaluator;
  outputs: OutputSet;
  /** Forward mode's producer (idempotent, acks=all, renewable). */
  producer?: ProducerHandle;
  hostname: string;
  logger: Logger;
  metrics: Metrics;
  /** Largest document (event) accepted, as for every input. */
  maxEventBytes: number;
  /** /healthz, /readyz and /metrics on the webhook's own port. */
  health: () => { ok: boolean; reasons: string[] };
  readiness: () => { ready: boolean; [k: string]: unknown };
}

/** The spool folder cannot be opened (permissions, a file in the way): a configuration problem. */
export class SpoolOpenError extends Error {
  constructor(readonly path: string, cause: NodeJS.ErrnoException) {
    super(`cannot open the spool ${path}: ${cause.code ?? cause.message}`);
  }
}

export class WebhookInput {
  private server: WebhookServer | undefined;
  private listening = false;
  port = 0;
  private readonly log: Logger;
  private spool: Spool | undefined;
  private draining: Promise<void> = Promise.resolve();
  private closing = false;
  /** Resolves with the cause when the spool's drain loop cannot go on. */
  readonly failed: Promise<Error>;
  private fail!: (e: Error) => void;

  constructor(private readonly cfg: WebhookInputConfig, private readonly deps: WebhookInputDeps, private readonly tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer }) {
    this.log = deps.logger.child({ input: cfg.name });
    this.failed = new Promise((r) => (this.fail = r));
  }

  get name(): string {
    return this.cfg.name;
  }

  notReady(): string[] {
    return this.listening ? [] : [`input ${this.cfg.name}: not listening`];
  }

  async start(): Promise<number> {
    const c = this.cfg;
    const m = this.deps.metrics;
    if (c.spool) {
      try {
        this.spool = await Spool.open({ dir: c.spool.path, maxBytes: c.spool.maxBytes, segmentBytes: c.spool.segmentBytes });
      } catch (e) {
        throw new SpoolOpenError(c.spool.path, e as NodeJS.ErrnoException);
      }
      this.updateSpoolMetrics();
      this.draining = this.drain(this.spool);
    }
    this.server = new WebhookServer({
      host: c.host,
      port: c.port,
      routes: c.paths.map((p) => ({ path: p.path, source: p.source, fields: Object.keys(p.fields).length ? p.fields : undefined })),
      tls: this.tls,
      tokens: c.tokens,
      maxBodyBytes: c.maxBodyBytes,
      requestTimeoutMs: c.requestTimeoutMs,
      headersTimeoutMs: c.headersTimeoutMs,
      maxConcurrentRequests: c.maxConcurrentRequests,
      maxConcurrentRequestsPerClient: c.maxConcurrentRequestsPerClient,
      hostname: this.deps.hostname,
      // Bodies are split and validated item by item (decode/eventlist.ts), never parsed as one document.
      splitBody: (body, source, lines) => splitWebhookBodyAsync(body, source, lines, { maxEvents: c.maxEventsPerRequest, maxEventBytes: this.deps.maxEventBytes, maxDepth: 512 }),
      deliver: (d) => (c.forwardTopic ? this.forward(d, c.forwardTopic) : this.spool ? this.enqueue(this.spool, d) : this.evaluate(d)),
      status: () => this.deps.readiness(),
      health: () => this.deps.health(),
      metrics: async () => ({ contentType: m.registry.contentType, body: await m.registry.metrics() }),
      log: (line: string, fields?: Record<string, unknown>) => this.log.warn(fields ?? {}, line),
      onResponse: (path: string, status: number) => {
        // Label only known paths: arbitrary request paths must not grow the metric without bound.
        const known = c.paths.some((p) => p.path === path) || path === '/healthz' || path === '/readyz' || path === '/metrics';
        m.webhookRequests.inc({ path: known ? path : 'other', code: String(status) });
      },
    });
    for (const w of webhookWarnings({ tls: this.tls, tokens: c.tokens, host: c.host })) this.log.warn(w);
    this.port = await this.server.listen();
    this.listening = true;
    this.log.info({ port: this.port, paths: c.paths.map((p) => `${p.path} (${p.source})`), tls: !!this.tls, forward_topic: c.forwardTopic }, 'webhook listening');
    return this.port;
  }

  private async evaluate(batch: WebhookDelivery): Promise<{ alerts: number }> {
    const docs = batch.documents;
    const { evaluator, outputs, metrics } = this.deps;
    metrics.received.inc({ input: this.cfg.name }, docs.length);
    if (docs.length === 0) return { alerts: 0 };
    // An output known to be down: refuse before evaluating, so the sender's retry is evaluated
    // afresh and throttling windows are not spent on alerts that were never delivered.
    const down = outputs.notClosed().find((b) => b.state === 'open');
    if (down) throw new WebhookRefusal(503, `output ${down.name}: unavailable (breaker open)`, 5);
    const started = Date.now();
    const name = this.cfg.name;
    const out = await evaluator.run(evaluator.pool.nextWorker(), docs, {
      input: name, format: 'event', source: batch.route.source, fields: batch.route.fields, origin: () => ({ input: name }),
    });
    if (out.letters.length > 0) {
      const count = docs.length > 1 ? `${out.letters.length} of ${docs.length} documents refused: ` : '';
      throw new WebhookRefusal(400, `${count}${out.letters[0].reason}`);
    }
    // Answer well before the sender gives up (kube-apiserver waits 30 s): half the request budget.
    const deadline = started + Math.max(1_000, Math.floor(this.cfg.requestTimeoutMs / 2));
    try {
      await outputs.deliver({ alerts: out.alerts, letters: [] }, { deadline });
    } catch (e) {
      if (e instanceof DeliveryFailed) throw new WebhookRefusal(503, e.message, 5);
      throw e;
    }
    return { alerts: out.alerts.length };
  }

  /** Spool the request (fsync'ed): the 200 means it is durable, not yet delivered. */
  private async enqueue(spool: Spool, batch: WebhookDelivery): Promise<{ alerts: number }> {
    this.deps.metrics.received.inc({ input: this.cfg.name }, batch.documents.length);
    try {
      await spool.append(batch.route.path, batch.documents);
    } catch (e) {
      if (e instanceof SpoolFull) throw new WebhookRefusal(503, e.message, 5);
      throw e;
    }
    this.updateSpoolMetrics();
    return { alerts: 0 };
  }

  /** Deliver spooled requests in order; each is acknowledged in the spool once every output took its alerts. */
  private async drain(spool: Spool): Promise<void> {
    const { evaluator, outputs } = this.deps;
    const name = this.cfg.name;
    try {
      for (let entry = await spool.next(); entry; entry = await spool.next()) {
        const route = this.cfg.paths.find((p) => p.path === entry!.route) ?? this.cfg.paths[0];
        const out = await evaluator.run(evaluator.pool.nextWorker(), entry.documents, {
          input: name, format: 'event', source: route.source, fields: Object.keys(route.fields).length ? route.fields : undefined, origin: () => ({ input: name }),
        });
        // The sender already has its 200: anything undecodable goes to the dead letters.
        await outputs.deliver(out);
        spool.ack(entry);
        this.updateSpoolMetrics();
      }
    } catch (e) {
      if (e instanceof Aborted || this.closing) return;
      this.fail(new Error(`spool drain: ${(e as Error).message}`));
    }
  }

  private updateSpoolMetrics(): void {
    if (!this.spool) return;
    const d = this.spool.depth();
    const input = this.cfg.name;
    this.deps.metrics.spoolBytes.set({ input }, d.bytes);
    this.deps.metrics.spoolRequests.set({ input }, d.entries);
    this.deps.metrics.spoolOldest.set({ input }, d.oldestAgeMs / 1000);
  }

  private async forward(batch: WebhookDelivery, topic: string): Promise<{ alerts: number }> {
    const docs = batch.documents;
    this.deps.metrics.received.inc({ input: this.cfg.name }, docs.length);
    if (docs.length === 0) return { alerts: 0 };
    await this.deps.producer!.send({
      topic,
      acks: -1,
      // Keyed by the event's id, so a retried request lands on the same partition.
      messages: docs.map((d) => ({ key: eventKey(d), value: d })),
    }, this.cfg.name);
    return { alerts: 0 };
  }

  /** Stop taking requests; with a spool, finish the request being delivered (the rest waits on disk). */
  async close(): Promise<void> {
    this.listening = false;
    this.closing = true;
    await this.server?.close();
    await this.spool?.close();
    await this.draining;
  }
}

/** auditID (audit Event) or request.uid (AdmissionReview), found without parsing the whole document. */
function eventKey(doc: Buffer): string | null {
  const text = doc.toString('utf8', 0, Math.min(doc.length, 64 * 1024));
  const m = /"auditID"\s*:\s*"([^"\\]{1,128})"/.exec(text) ?? /"uid"\s*:\s*"([^"\\]{1,128})"/.exec(text);
  return m ? m[1] : null;
}
