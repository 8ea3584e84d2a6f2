/**
 * The one Kestrel service: any mix of inputs (Kafka topics, the audit
 * webhook, kube-audit-rest, a file or stdin) → rule workers → shaping → the
 * output set → acknowledgement, configured from one ServiceConfig. `kestrel
 * start`, `serve` and `consume` all run this.
 *
 * Supervision: a fatal error in any input, output or worker is logged once
 * with its cause, /healthz starts failing, and the process drains what it can
 * within `shutdown_timeout_ms` and exits non-zero so an orchestrator restarts
 * it. The first SIGTERM/SIGINT drains and exits 0; a second exits at once.
 */
import { readFileSync } from 'node:fs';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { InputConfig, ServiceConfig } from '../config/types';
import { RulesetHolder } from '../engine/holder';
import { AlertShaper } from '../engine/shaping';
import type { Diagnostic } from '../language/diagnostics';
import { createLogger } from '../observability/logger';
import { BREAKER_STATE_VALUE, Metrics } from '../observability/metrics';
import { startHttpServer, type Health, type HttpServer, type Readiness } from '../observability/server';
import { Breaker, type BreakerState } from '../sinks/breaker';
import { KafkaDeadLetters, type DeadLetter } from '../sinks/kafka';
import { RenewableProducer } from '../sinks/renewable-producer';
import { kafkaClient } from '../sources/kafka';
import { describeKafkaError } from '../sources/kafka-errors';
import { DEFAULT_CORRELATION } from '../config/sections';
import { CorrelationConsumer } from './correlation-consumer';
import { CorrelationStage } from './correlation-stage';
import { inputMessage } from './correlation-topic';
import { Evaluator } from './evaluate';
import { FileInput } from './file-input';
import { KafkaInput } from './kafka-input';
import { buildOutput, contextFor, OutputSetupError } from './output-factory';
import { OutputSet, type Output } from './outputs';
import { WorkerPool } from './pool';
import { kafkaPartitionProducers, reportingAssignments, Transactor } from './transactor';
import { SpoolOpenError, WebhookInput } from './webhook-input';

/** Why the service did not start: one line for the user and the exit code (0 stopped by a signal, 1 rules, 2 configuration/environment). */
export class StartupFailure extends Error {
  constructor(message: string, readonly code: 0 | 1 | 2, readonly diagnostics: Diagnostic[] = []) {
    super(message);
  }
}

export interface ServiceOptions {
  logger?: Logger;
  /** Extra outputs beside the configured ones (tests: a capturing output). */
  extraOutputs?: Output[];
  /** Called with the load diagnostics (errors and warnings) before anything starts. */
  onDiagnostics?: (d: Diagnostic[]) => void;
  /** Stop retrying an unreachable Kafka at start when this resolves (a signal). */
  abortStart?: Promise<unknown>;
  /** Called once everything started (tests reach the running service through it). */
  onStarted?: (svc: Service) => void;
}

type Input = KafkaInput | WebhookInput | FileInput;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const listenErrors = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

function readPem(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new StartupFailure(`config: ${key}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 2);
  }
}

/** A listen/open failure as a user error naming the config key. */
function startError(e: unknown, key: string, what: string): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code && (listenErrors.has(code) || code === 'ENOENT' || code === 'EISDIR')) throw new StartupFailure(`config: ${key}: ${what}: ${code}`, 2);
  throw e;
}

export class Service {
  readonly logger: Logger;
  readonly metrics = new Metrics();
  readonly failed: Promise<Error>;
  private fail!: (e: Error) => void;
  private failure: Error | undefined;
  private stopping = false;
  private started = false;
  private kafka: Kafka | undefined;
  private readonly producers: RenewableProducer[] = [];
  private pool: WorkerPool | undefined;
  private evaluator: Evaluator | undefined;
  /** Correlation mode kafka: the stage that consumes the internal topic, and its transactions (exactly_once). */
  private correlationConsumer: CorrelationConsumer | undefined;
  private correlationTxn: { transactor: Transactor; producers: ReturnType<typeof kafkaPartitionProducers> } | undefined;
  private outputs: OutputSet | undefined;
  private transactor: Transactor | undefined;
  private txProducers: ReturnType<typeof kafkaPartitionProducers> | undefined;
  private readonly inputs: Input[] = [];
  private http: HttpServer | undefined;
  private holder!: RulesetHolder;
  private stopWatch: (() => void) | undefined;
  private readonly breakers = new Map<string, BreakerState>();
  /** Ports the webhook inputs and the metrics endpoint listen on (port 0 in the config picks one). */
  readonly ports: { inputs: Record<string, number>; metrics?: number } = { inputs: {} };

  private constructor(readonly cfg: ServiceConfig, private readonly opts: ServiceOptions) {
    this.logger = opts.logger ?? createLogger(cfg.log.level);
    this.failed = new Promise((r) => (this.fail = r));
  }

  /** Build and start everything; throws StartupFailure for what the user must fix. */
  static async start(cfg: ServiceConfig, opts: ServiceOptions = {}): Promise<Service> {
    const svc = new Service(cfg, opts);
    try {
      await svc.startAll();
    } catch (e) {
      await svc.stop(Math.min(5_000, cfg.shutdownTimeoutMs)).catch(() => {});
      if (e instanceof OutputSetupError) throw new StartupFailure(e.message, 2);
      throw e;
    }
    opts.onStarted?.(svc);
    return svc;
  }

  /** A fatal error anywhere: logged once with its cause; the first one wins. */
  private fatal(component: string, e: Error): void {
    if (this.failure || this.stopping) return;
    this.failure = new Error(`${component}: ${e.message}`);
    this.metrics.healthy.set(0);
    this.logger.fatal({ component, err: e.message }, 'pipeline failed; stopping');
    this.fail(this.failure);
  }

  get rulesetHash(): string {
    return this.holder.hash;
  }

  health(): Health {
    return this.failure ? { ok: false, reasons: [this.failure.message] } : { ok: true, reasons: [] };
  }

  readiness(): Readiness {
    const reasons: string[] = [];
    if (this.failure) reasons.push(`failed: ${this.failure.message}`);
    if (this.stopping) reasons.push('shutting down');
    else if (!this.started) reasons.push('starting');
    for (const i of this.inputs) reasons.push(...i.notReady());
    for (const [name, state] of this.breakers) if (state !== 'closed') reasons.push(`output ${name}: breaker ${state}`);
    return { ready: reasons.length === 0, reasons, ruleset: this.holder?.hash };
  }

  /** Re-read the rules; a set that compiles is handed to every worker, a failure keeps the running one. */
  async reload(): Promise<{ ok: boolean; changed: boolean; hash: string; errors: string[] }> {
    const r = this.holder.reload();
    return r.ok && r.changed ? { ...r, ...(await this.applying) } : r;
  }

  /** The last hand-over of a swapped ruleset to the workers. */
  private applying: Promise<{ ok: boolean; errors: string[] }> = Promise.resolve({ ok: true, errors: [] });

  private async applyRules(): Promise<{ ok: boolean; errors: string[] }> {
    const res = await this.pool!.updateRules(this.holder.currentFiles);
    for (const f of res.failures) this.logger.error({ err: f }, 'rule worker kept its previous rules');
    return this.recordReload({ ok: res.ok, errors: res.failures });
  }

  private recordReload<T extends { ok: boolean; errors: string[] }>(r: T): T {
    this.metrics.ruleReloads.inc({ result: r.ok ? 'ok' : 'failed' });
    this.metrics.rulesetInfo.reset();
    this.metrics.rulesetInfo.set({ hash: this.holder.hash }, 1);
    this.logger[r.ok ? 'info' : 'error']({ ok: r.ok, ruleset: this.holder.hash.slice(0, 12), errors: r.errors }, 'rules reload');
    return r;
  }

  private async startAll(): Promise<void> {
    const cfg = this.cfg;
    const m = this.metrics;
    m.healthy.set(1);

    // Rules: read and validated once here; workers build from these files.
    const loaded = RulesetHolder.load(cfg.rules.paths, { ruleMatching: cfg.engine.ruleMatching, minPriority: cfg.engine.minPriority, hostname: cfg.hostname }, (line) => this.logger.info(line.replace(/^kestrel: /, '')));
    this.opts.onDiagnostics?.(loaded.diagnostics);
    if (!loaded.holder) throw new StartupFailure(`rules did not load (${loaded.diagnostics.filter((d) => d.severity === 'error').length} error(s))`, 1, loaded.diagnostics);
    this.holder = loaded.holder;
    m.rulesetInfo.set({ hash: this.holder.hash }, 1);

    // Bound first: a busy port is found before anything else starts, and /readyz answers during startup.
    if (cfg.metrics) {
      try {
        this.http = await startHttpServer(cfg.metrics.host, cfg.metrics.port, m.registry, () => this.readiness(), () => this.health());
      } catch (e) {
        startError(e, 'metrics.port', `cannot listen on ${cfg.metrics.host}:${cfg.metrics.port}`);
      }
      this.ports.metrics = this.http.port;
      this.logger.info({ port: this.http.port }, 'serving /metrics, /healthz, /readyz');
    }
    const kafkaUsed = cfg.inputs.some((i) => i.type === 'kafka' || (i.type === 'webhook' && i.forwardTopic)) || cfg.outputs.some((o) => o.type === 'kafka') || cfg.deadLetters !== undefined;
    if (kafkaUsed) {
      if (!cfg.kafka) throw new StartupFailure('config: kafka: a Kafka input, output or dead_letters topic needs the kafka connection', 2);
      this.kafka = kafkaClient(cfg.kafka, this.logger);
      await this.checkTopics();
    }

    this.pool = await WorkerPool.start(
      cfg.engine.workers,
      { files: this.holder.currentFiles, ruleMatching: cfg.engine.ruleMatching, minPriority: cfg.engine.minPriority, hostname: cfg.hostname, maxEventBytes: cfg.engine.maxEventBytes, context: contextFor(cfg.outputs, 65_536) },
      { messages: cfg.engine.maxInFlightMessages, bytes: cfg.engine.maxInFlightBytes },
    );
    this.pool.onFatal = (e) => this.fatal('rule workers', e);
    // Every reload (SIGHUP, file watch) is counted; a swap is handed to every worker first.
    this.holder.onSwap(() => void (this.applying = this.applyRules()));
    this.holder.onUnswapped((r) => this.recordReload(r));

    const shaper = new AlertShaper({ staticFields: Object.keys(cfg.shaping.fields).length ? cfg.shaping.fields : undefined, throttle: cfg.shaping.throttle });
    shaper.onSuppressed = (a) => m.suppressed.inc({ rule: a.rule });
    const evaluator = new Evaluator(this.pool, shaper, m, Object.keys(cfg.shaping.fields).length > 0 || cfg.shaping.throttle !== undefined);
    this.evaluator = evaluator;
    // Correlation rules and rollups (always there: a reload may bring the first ones).
    const stage = new CorrelationStage(this.holder.current, cfg.correlation ?? DEFAULT_CORRELATION, m, this.logger);
    evaluator.correlation = stage;
    this.holder.onSwap((rs) => stage.swap(rs));

    await this.buildOutputs();
    const outputs = this.outputs!;
    if (this.correlationTopic) await this.startCorrelationStage(this.correlationTopic, evaluator);

    for (const ic of cfg.inputs) this.inputs.push(this.makeInput(ic, evaluator, outputs));
    for (const input of this.inputs) await this.startInput(input);

    if (cfg.rules.watch) this.stopWatch = this.holder.watch(cfg.rules.watch.debounceMs);
    if (!cfg.deadLetters && cfg.inputs.some((i) => i.type === 'kafka')) this.logger.warn('no dead_letters topic configured: undecodable messages are only logged and counted');
    this.started = true;
    this.logger.info({ inputs: this.inputs.map((i) => i.name), outputs: outputs.outputs.map((o) => o.name), workers: cfg.engine.workers, ruleset: this.holder.hash.slice(0, 12), guarantee: cfg.delivery.guarantee }, 'kestrel started');
  }

  /** Every topic the pipeline reads or writes must exist (Kestrel never creates topics). Unreachable brokers are retried. */
  private async checkTopics(): Promise<void> {
    const cfg = this.cfg;
    const needed: [string, string][] = [];
    for (const i of cfg.inputs) {
      if (i.type === 'kafka') for (const t of i.topics) needed.push([`inputs.${i.name}.topics`, t]);
      if (i.type === 'webhook' && i.forwardTopic) needed.push([`inputs.${i.name}.forward_topic`, i.forwardTopic]);
    }
    for (const o of cfg.outputs) if (o.type === 'kafka') needed.push([`outputs.${o.name}.topic`, o.topic]);
    if (cfg.deadLetters) needed.push(['dead_letters.topic', cfg.deadLetters.topic]);
    if (this.correlationTopic) needed.push(['correlation.topic', this.correlationTopic]);
    let existing: Set<string> | undefined;
    for (let attempt = 0; !existing; attempt++) {
      // One quick attempt per round: this loop retries (and says so at once), not kafkajs's long backoff.
      const admin = this.kafka!.admin({ retry: { retries: 0 } });
      try {
        await admin.connect();
        existing = new Set(await admin.listTopics());
      } catch (e) {
        const wait = Math.min(30_000, 1_000 * 2 ** Math.min(attempt, 5));
        this.logger.warn({ brokers: cfg.kafka!.brokers, err: describeKafkaError(e), retry_in_ms: wait }, 'cannot reach the Kafka brokers; retrying');
        const aborted = await Promise.race([sleep(wait).then(() => false), (this.opts.abortStart ?? new Promise(() => {})).then(() => true)]);
        if (aborted) throw new StartupFailure('stopped while waiting for the Kafka brokers', 0);
      } finally {
        await admin.disconnect().catch(() => {});
      }
    }
    const missing = needed.filter(([, t]) => !existing!.has(t));
    if (missing.length > 0) throw new StartupFailure(`topic${missing.length > 1 ? 's' : ''} not found on the brokers: ${missing.map(([k, t]) => `'${t}' (${k})`).join(', ')}; create ${missing.length > 1 ? 'them' : 'it'} first`, 2);
  }

  /** The outputs' idempotent producer, renewed when the brokers lose its state (renewable-producer.ts). */
  private async producer(opts: Parameters<Kafka['producer']>[0]): Promise<RenewableProducer> {
    const make = () => this.kafka!.producer({ allowAutoTopicCreation: false, metadataMaxAge: this.cfg.kafka?.metadataMaxAgeMs, ...opts });
    const p = new RenewableProducer(make, (n) => {
      this.metrics.producerRenewals.inc({ output: n.sender });
      this.logger.warn({ output: n.sender, err: n.cause, type: n.type, renewals: n.renewals }, 'Kafka producer lost its idempotence state on the brokers; replaced by a new producer, the send is retried');
    });
    await p.connect();
    this.producers.push(p);
    return p;
  }

  private async buildOutputs(): Promise<void> {
    const cfg = this.cfg;
    const eos = cfg.delivery.guarantee === 'exactly_once';
    const kafkaOutputs = cfg.outputs.filter((o) => o.type === 'kafka');
    const needsPlain = (!eos && (kafkaOutputs.length > 0 || cfg.deadLetters)) || cfg.inputs.some((i) => i.type === 'webhook' && i.forwardTopic);
    const plain = needsPlain ? await this.producer({ idempotent: true, maxInFlightRequests: 1 }) : undefined;
    const built: Output[] = [];
    for (const o of cfg.outputs) if (!(eos && o.type === 'kafka')) built.push(buildOutput(o, plain));
    built.push(...(this.opts.extraOutputs ?? []));
    let dlq: Breaker<[DeadLetter[]], void> | undefined;
    if (cfg.deadLetters && !eos) {
      const letters = new KafkaDeadLetters(plain!, cfg.deadLetters.topic);
      dlq = new Breaker('dead_letters', (l: DeadLetter[]) => letters.send(l), cfg.outputs[0]?.breaker ?? { timeoutMs: 30_000, errorThresholdPercentage: 50, resetTimeoutMs: 5_000, volumeThreshold: 1 });
    }
    this.outputs = new OutputSet(built, dlq, this.logger, this.metrics);
    for (const o of built) this.watch(o.name, o.breaker as Breaker<never[], unknown>);
    if (dlq) this.watch('dead_letters', dlq);
    if (eos) {
      const out = kafkaOutputs[0];
      if (!out || kafkaOutputs.length > 1 || cfg.inputs.some((i) => i.type !== 'kafka')) throw new StartupFailure('config: delivery.guarantee: exactly_once needs exactly one kafka output and only kafka inputs', 2);
      const groupId = (cfg.inputs[0] as Extract<InputConfig, { type: 'kafka' }>).groupId;
      // One transactional producer per input partition, made on first use (transactor.ts).
      this.txProducers = kafkaPartitionProducers(this.kafka!, groupId, { transactionTimeout: 60_000 });
      // The default id names the host (config/sections.ts), but a partition's next owner must use the same
      // transactional id to fence the previous one: the default prefix is the group's, the same on every member.
      const prefix = cfg.delivery.transactionalId;
      this.transactor = new Transactor({ groupId, prefix, output: out, dlqTopic: cfg.deadLetters?.topic, outputs: this.outputs, metrics: this.metrics, breaker: out.breaker, producers: this.txProducers, logger: this.logger, correlationTopic: this.correlationTopic });
      this.watch(out.name, this.transactor.breaker);
    }
  }

  /** Correlation mode kafka: the internal topic (default `<group_id>-correlation` of the first kafka input). */
  private get correlationTopic(): string | undefined {
    const c = this.cfg.correlation;
    if (c?.mode !== 'kafka') return undefined;
    return c.topic ?? `${this.firstKafkaInput.groupId}-correlation`;
  }

  /** Correlation mode kafka names its topic and group after it (the config check makes sure there is one). */
  private get firstKafkaInput(): Extract<InputConfig, { type: 'kafka' }> {
    return this.cfg.inputs.find((i): i is Extract<InputConfig, { type: 'kafka' }> => i.type === 'kafka')!;
  }

  /**
   * Correlation mode kafka: the jobs' prepared matches go to the internal
   * topic with their alerts (at_least_once: the output set sends them before
   * the input commits; exactly_once: inside the input partition's
   * transaction), and a second consumer group correlates that topic.
   */
  private async startCorrelationStage(topic: string, evaluator: Evaluator): Promise<void> {
    const cfg = this.cfg;
    const outputs = this.outputs!;
    const plain = await this.producer({ idempotent: true, maxInFlightRequests: 1 });
    if (!this.transactor) outputs.correlationSink = async (records) => void (await plain.send({ topic, acks: -1, messages: records.map((r) => inputMessage(r.input, r.origin)) }));
    let kafka = this.kafka!;
    let transactor: Transactor | undefined;
    if (cfg.delivery.guarantee === 'exactly_once') {
      const out = cfg.outputs.find((o): o is Extract<typeof o, { type: 'kafka' }> => o.type === 'kafka')!;
      const producers = kafkaPartitionProducers(this.kafka!, topic, { transactionTimeout: 60_000 });
      transactor = new Transactor({ groupId: topic, prefix: cfg.delivery.transactionalId, output: out, dlqTopic: undefined, outputs, metrics: this.metrics, breaker: out.breaker, producers, logger: this.logger });
      this.correlationTxn = { transactor, producers };
      kafka = reportingAssignments(this.kafka!, (a) => transactor!.assigned([topic], a));
    }
    this.correlationConsumer = new CorrelationConsumer({
      kafka, topic, groupId: topic, cfg: cfg.correlation!, ruleset: () => this.holder.current, evaluator, outputs, transactor, producer: plain,
      sessionTimeoutMs: this.firstKafkaInput.sessionTimeoutMs, metrics: this.metrics, logger: this.logger,
    });
    await this.correlationConsumer.start();
    const consumer = this.correlationConsumer;
    this.holder.onSwap((rs) => consumer.swap(rs));
    void this.correlationConsumer.failed.then((e) => this.fatal('correlation stage', e));
  }

  /** Breaker state → metric, log, readiness, and the pause of every Kafka partition while any is open. */
  private watch(name: string, b: { onState: (n: string, s: BreakerState) => void }): void {
    this.breakers.set(name, 'closed');
    this.metrics.breaker.set({ output: name }, 0);
    b.onState = (_n, s) => {
      this.breakers.set(name, s);
      this.metrics.breaker.set({ output: name }, BREAKER_STATE_VALUE[s]);
      this.logger.warn({ output: name, state: s }, `output breaker ${s}`);
      const anyOpen = [...this.breakers.values()].some((v) => v !== 'closed');
      for (const i of this.inputs) if (i instanceof KafkaInput) i.setBreakersOpen(anyOpen);
    };
  }

  /** exactly_once: the input's consumer reports its assignments, so revoked partitions' producers close. */
  private transactorKafka(topics: string[]): Kafka {
    const t = this.transactor;
    return t ? reportingAssignments(this.kafka!, (a) => t.assigned(topics, a)) : this.kafka!;
  }

  private makeInput(ic: InputConfig, evaluator: Evaluator, outputs: OutputSet): Input {
    const base = { evaluator, outputs, logger: this.logger, metrics: this.metrics };
    switch (ic.type) {
      case 'kafka':
        return new KafkaInput(ic, { ...base, kafka: this.transactorKafka(ic.topics), transactor: this.transactor, commitIntervalMs: this.cfg.delivery.commitIntervalMs, metadataMaxAgeMs: this.cfg.kafka?.metadataMaxAgeMs });
      case 'webhook': {
        const key = `inputs.${ic.name}.tls`;
        const tls = ic.tls ? { cert: readPem(ic.tls.certFile, `${key}.cert_file`), key: readPem(ic.tls.keyFile, `${key}.key_file`), clientCa: ic.tls.clientCaFile ? readPem(ic.tls.clientCaFile, `${key}.client_ca_file`) : undefined } : undefined;
        const forward = ic.forwardTopic ? this.producers[0] : undefined;
        return new WebhookInput(ic, { ...base, producer: forward, hostname: this.cfg.hostname, maxEventBytes: this.cfg.engine.maxEventBytes, health: () => this.health(), readiness: () => ({ ...this.readiness() }) }, tls);
      }
      case 'file':
        return new FileInput(ic, { ...base, maxEventBytes: this.cfg.engine.maxEventBytes });
    }
  }

  private async startInput(input: Input): Promise<void> {
    const ic = this.cfg.inputs.find((i) => i.name === input.name)!;
    if (input instanceof KafkaInput) {
      await input.start();
      void input.failed.then((e) => this.fatal(`input ${input.name}`, e));
    } else if (input instanceof WebhookInput) {
      const w = ic as Extract<InputConfig, { type: 'webhook' }>;
      try {
        this.ports.inputs[input.name] = await input.start();
      } catch (e) {
        if (e instanceof SpoolOpenError) throw new StartupFailure(`config: inputs.${input.name}.spool.path: ${e.message}`, 2);
        startError(e, `inputs.${input.name}.port`, `cannot listen on ${w.host}:${w.port}`);
      }
      void input.failed.then((e) => this.fatal(`input ${input.name}`, e));
    } else {
      try {
        await input.start();
      } catch (e) {
        startError(e, `inputs.${input.name}.path`, `cannot read ${(ic as { path: string }).path}`);
      }
      input.finished.catch((e: Error) => this.fatal(`input ${input.name}`, e));
    }
  }

  /**
   * After the inputs drained: the alerts of open correlation windows and
   * rollups go out (kestrel run does the same at the end of its input). In
   * exactly_once the Kafka output is written only inside the input's
   * transactions, so these reach the other outputs only.
   */
  private async flushCorrelation(): Promise<void> {
    const alerts = this.evaluator?.flushCorrelation() ?? [];
    if (alerts.length === 0 || !this.outputs) return;
    if (this.transactor) this.logger.warn({ alerts: alerts.length }, 'exactly_once: correlation and rollup alerts flushed at shutdown go to the outputs other than Kafka');
    await this.outputs.deliver({ alerts, letters: [] });
  }

  /** Resolves when every input is finite (files) and finished: the service has nothing more to do. */
  get inputsFinished(): Promise<void> {
    const files = this.inputs.filter((i): i is FileInput => i instanceof FileInput);
    if (files.length === 0 || files.length !== this.inputs.length) return new Promise(() => {});
    return Promise.allSettled(files.map((f) => f.finished)).then(() => undefined);
  }

  /**
   * Stop taking input, deliver what is in flight, commit, close. Whatever is
   * still undelivered at the deadline is abandoned unacknowledged (a Kafka
   * input re-reads it; a webhook sender retries). Returns whether it drained.
   */
  async stop(deadlineMs = this.cfg.shutdownTimeoutMs): Promise<boolean> {
    if (this.stopping) return false;
    this.stopping = true;
    const deadline = Date.now() + deadlineMs;
    const left = () => Math.max(0, deadline - Date.now());
    const within = <T>(p: Promise<T>, ms: number) => Promise.race([p.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    this.stopWatch?.();
    for (const i of this.inputs) {
      if (i instanceof KafkaInput) i.quiesce();
      if (i instanceof FileInput) i.stop();
    }
    const pending = async () => {
      // Webhook close waits for requests in progress; Kafka jobs and file runs are awaited here.
      await Promise.all(this.inputs.map((i) => (i instanceof WebhookInput ? i.close() : i instanceof FileInput ? i.finished.catch(() => {}) : Promise.allSettled(i.inFlight))));
      for (const i of this.inputs) if (i instanceof KafkaInput) while (i.inFlight.length > 0) await Promise.allSettled(i.inFlight);
      await this.transactor?.idle();
    };
    let drained = await within(pending(), left() * 0.8);
    // The correlation stage drains after the inputs: their last matches were written to its topic.
    if (this.correlationConsumer) await this.correlationConsumer.stop(Date.now() + left() * 0.5);
    if (drained) drained = await within(this.flushCorrelation(), left() * 0.5);
    if (!drained) {
      this.logger.error('shutdown timeout: undelivered work is left unacknowledged (Kafka re-reads it; webhook senders retry)');
      if (this.outputs) this.outputs.aborted = true;
    }
    for (const i of this.inputs) if (i instanceof KafkaInput) drained = (await i.stop(Date.now() + left())) && drained;
    await within(this.outputs?.close() ?? Promise.resolve(), left());
    await Promise.allSettled(this.producers.map((p) => within(p.disconnect(), left())));
    await within(Promise.all([this.transactor?.close(), this.txProducers?.close(), this.correlationTxn?.transactor.close(), this.correlationTxn?.producers.close()]), left());
    await this.pool?.close();
    await this.http?.close();
    if (this.started) this.logger.info({ drained }, 'stopped');
    return drained;
  }
}
