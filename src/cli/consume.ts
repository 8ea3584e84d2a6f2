/**
 * `kestrel consume -c kestrel.yaml`: run the Kafka pipeline until SIGTERM/SIGINT.
 * Exit codes: 0 clean stop, 1 rules/topics/runtime failure, 2 bad config or usage.
 */
import { parseArgs } from 'node:util';
import type { Admin } from 'kafkajs';
import { ConfigError, loadConfig } from '../config/load';
import type { KestrelConfig } from '../config/types';
import { RulesetHolder } from '../engine/holder';
import { createLogger } from '../observability/logger';
import { Metrics } from '../observability/metrics';
import { startHttpServer, type HttpServer } from '../observability/server';
import { Pipeline, StartupError } from '../pipeline/consumer';
import { startForwarder, type Forwarder } from '../sources/forwarder';
import { kafkaClient } from '../sources/kafka';
import { WebhookServer } from '../sources/webhook';
import { DEFAULT_BODY_LIMITS, splitWebhookBodyAsync } from '../decode/eventlist';
import { decodeDelivery } from './serve';
import { printDiagnostics } from './common';

export const CONSUME_HELP = `Usage: kestrel consume -c FILE

  -c, --config   kestrel.yaml (see docs/kafka.md); environment variables
                 KESTREL_KAFKA_BROKERS, KESTREL_KAFKA_GROUP, KESTREL_INPUT_TOPICS,
                 KESTREL_OUTPUT_TOPIC, KESTREL_KAFKA_SASL_USERNAME/PASSWORD and
                 KESTREL_METRICS_PORT override it.
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function consumeMain(argv: string[], err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, allowPositionals: false, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    err.write(`kestrel: ${(e as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(CONSUME_HELP);
    return 0;
  }
  if (!values.config) {
    err.write(`kestrel: consume needs -c FILE\n${CONSUME_HELP}`);
    return 2;
  }
  let cfg: KestrelConfig;
  try {
    cfg = loadConfig(values.config);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err.write(`kestrel: ${e.message}\n`);
    return 2;
  }
  return consumeCommand(cfg, err);
}

export async function consumeCommand(cfg: KestrelConfig, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  // Fail fast on rule errors, with the same diagnostics as `kestrel check`.
  const { holder, diagnostics } = RulesetHolder.load(cfg.rules.paths, { ruleMatching: cfg.rules.ruleMatching, minPriority: cfg.rules.minPriority }, (l) => err.write(`${l}\n`));
  printDiagnostics(diagnostics.filter((d) => d.severity === 'error'), err);
  if (!holder) return 1;

  const logger = createLogger(cfg.logLevel);
  const metrics = new Metrics();
  const kafka = kafkaClient(cfg.kafka, logger);
  let pipeline = new Pipeline(cfg, kafka, logger, metrics);
  let http: HttpServer | undefined;
  if (cfg.metrics) {
    http = await startHttpServer(cfg.metrics.host, cfg.metrics.port, metrics.registry, () => ({ ...pipeline.readiness(), ruleset: holder.hash }));
    logger.info({ port: http.port }, 'serving /metrics, /healthz, /readyz');
  }

  let stopRequested: string | undefined;
  let wake: () => void = () => {};
  const stopSignal = new Promise<void>((r) => (wake = r));
  const onSignal = (sig: string) => {
    if (stopRequested) {
      logger.warn({ signal: sig }, 'second signal: exiting now');
      process.exit(1);
    }
    stopRequested = sig;
    wake();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  // SIGHUP: reload the rules; a broken ruleset is rejected (errors logged) and the old one keeps running.
  holder.onSwap(() => pipeline.updateRules(holder.currentFiles));
  process.on('SIGHUP', () => {
    const r = holder.reload();
    metrics.ruleReloads.inc({ result: r.ok ? 'ok' : 'failed' });
    logger.info({ ok: r.ok, changed: r.changed, ruleset: r.hash.slice(0, 12), errors: r.errors }, 'rules reload');
  });

  let code = 0;
  let admin: Admin | undefined;
  let webhook: { server: WebhookServer; forwarder: Forwarder } | undefined;
  try {
    // Brokers unreachable at start: retry with backoff, /readyz stays false, no crash loop.
    for (let attempt = 0; !stopRequested; attempt++) {
      admin = kafka.admin();
      try {
        await admin.connect();
        await pipeline.start(admin);
        logger.info({ brokers: cfg.kafka.brokers, group: cfg.kafka.groupId, topics: cfg.kafka.inputTopics, workers: cfg.workers.count, mode: cfg.delivery.mode }, 'consuming');
        break;
      } catch (e) {
        if (e instanceof StartupError) throw e;
        await admin.disconnect().catch(() => {});
        // Start over from a clean pipeline (workers, producers) on the next attempt.
        await pipeline.stop(1_000).catch(() => {});
        pipeline = new Pipeline(cfg, kafka, logger, metrics);
        const wait = Math.min(30_000, 1_000 * 2 ** Math.min(attempt, 5));
        logger.warn({ brokers: cfg.kafka.brokers, err: (e as Error).message, retry_in_ms: wait }, 'cannot start consuming; retrying');
        await Promise.race([sleep(wait), stopSignal]);
      }
    }
    await admin?.disconnect().catch(() => {});
    if (cfg.webhook && !stopRequested) webhook = await startWebhook(cfg, kafka, logger);
    const failure = await Promise.race([stopSignal.then(() => undefined), pipeline.failed]);
    if (failure) {
      logger.fatal({ err: failure.message }, 'pipeline failed; stopping');
      code = 1;
    } else logger.info({ signal: stopRequested }, 'stopping: draining in-flight work');
  } catch (e) {
    if (!(e instanceof StartupError)) throw e;
    logger.fatal(e.message);
    err.write(`kestrel: ${e.message}\n`);
    code = 1;
  }
  // Stop taking webhook requests first: what was accepted is already on the input topic.
  if (webhook) {
    await webhook.server.close().catch(() => {});
    await webhook.forwarder.close().catch(() => {});
  }
  const clean = await pipeline.stop(cfg.shutdownTimeoutMs);
  logger.info({ clean }, 'stopped');
  await http?.close();
  return code;
}

/**
 * The webhook input beside Kafka: kube-apiserver posts audit batches, they are
 * produced to an input topic (acks = all) before the answer, and the consumer
 * group evaluates them like everything else on that topic.
 */
async function startWebhook(cfg: KestrelConfig, kafka: ReturnType<typeof kafkaClient>, logger: ReturnType<typeof createLogger>) {
  const w = cfg.webhook!;
  const forwarder = await startForwarder(kafka, w.topic);
  const server = new WebhookServer({
    host: w.host, port: w.port, routes: [{ path: w.path, source: cfg.rules.source }], tokens: w.tokens, maxBodyBytes: w.maxBodyBytes,
    hostname: cfg.hostname, deliver: (d) => forwarder.deliver(decodeDelivery(d, cfg.hostname)), log: (line) => logger.warn(line),
    splitBody: (body, source, lines) => splitWebhookBodyAsync(body, source, lines, DEFAULT_BODY_LIMITS),
  });
  const port = await server.listen();
  logger.info({ port, path: w.path, topic: w.topic }, 'audit webhook accepting events');
  return { server, forwarder };
}
