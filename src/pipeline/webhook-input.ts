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
 */
import type { Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { WebhookInputConfig } from '../config/types';
import type { Metrics } from '../observability/metrics';
import { splitWebhookBodyAsync } from '../decode/eventlist';
import { WebhookRefusal, WebhookServer, webhookWarnings, type WebhookDelivery } from '../sources/webhook';
import type { Evaluator } from './evaluate';
import { DeliveryFailed, type OutputSet } from './outputs';

export interface WebhookInputDeps {
  evaluator: Evaluator;
  outputs: OutputSet;
  /** Forward mode's producer (idempotent, acks=all). */
  producer?: Producer;
  hostname: string;
  logger: Logger;
  metrics: Metrics;
  /** Largest document (event) accepted, as for every input. */
  maxEventBytes: number;
  /** /healthz, /readyz and /metrics on the webhook's own port. */
  health: () => { ok: boolean; reasons: string[] };
  readiness: () => { ready: boolean; [k: string]: unknown };
}

export class WebhookInput {
  private server: WebhookServer | undefined;
  private listening = false;
  port = 0;
  private readonly log: Logger;

  constructor(private readonly cfg: WebhookInputConfig, private readonly deps: WebhookInputDeps, private readonly tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer }) {
    this.log = deps.logger.child({ input: cfg.name });
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
      deliver: (d) => (c.forwardTopic ? this.forward(d, c.forwardTopic) : this.evaluate(d)),
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
    const started = Date.now();
    const path = batch.route.path;
    const out = await evaluator.run(evaluator.pool.nextWorker(), docs, {
      input: this.cfg.name, format: 'event', source: batch.route.source, fields: batch.route.fields, origin: () => ({ input: path }),
    });
    if (out.letters.length > 0) {
      const first = out.letters[0];
      const which = docs.length > 1 ? `document ${docs.findIndex((d) => d === first.value || d.equals(Buffer.from(first.value ?? []))) + 1} of ${docs.length}: ` : '';
      throw new WebhookRefusal(400, `${which}${first.reason}`);
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

  private async forward(batch: WebhookDelivery, topic: string): Promise<{ alerts: number }> {
    const docs = batch.documents;
    this.deps.metrics.received.inc({ input: this.cfg.name }, docs.length);
    if (docs.length === 0) return { alerts: 0 };
    await this.deps.producer!.send({
      topic,
      acks: -1,
      // Keyed by the event's id, so a retried request lands on the same partition.
      messages: docs.map((d) => ({ key: eventKey(d), value: d })),
    });
    return { alerts: 0 };
  }

  async close(): Promise<void> {
    this.listening = false;
    await this.server?.close();
  }
}

/** auditID (audit Event) or request.uid (AdmissionReview), found without parsing the whole document. */
function eventKey(doc: Buffer): string | null {
  const text = doc.toString('utf8', 0, Math.min(doc.length, 64 * 1024));
  const m = /"auditID"\s*:\s*"([^"\\]{1,128})"/.exec(text) ?? /"uid"\s*:\s*"([^"\\]{1,128})"/.exec(text);
  return m ? m[1] : null;
}
