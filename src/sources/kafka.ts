/** The kafkajs client for `kestrel consume`: brokers, TLS, SASL, and kafkajs logs routed to pino. */
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaConfig } from '../config/types';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function kafkaJsConfig(cfg: KafkaConfig, logger?: Logger): KafkaJsConfig {
  const out: KafkaJsConfig = {
    clientId: cfg.clientId,
    brokers: cfg.brokers,
    connectionTimeout: cfg.connectionTimeoutMs,
    // Startup and reconnects: kafkajs retries with exponential backoff; consume.ts retries beyond that.
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 8 },
  };
  if (cfg.ssl) {
    const read = (p?: string) => (p ? readFileSync(p, 'utf8') : undefined);
    out.ssl = { rejectUnauthorized: cfg.ssl.rejectUnauthorized, ca: cfg.ssl.caFile ? [read(cfg.ssl.caFile)!] : undefined, cert: read(cfg.ssl.certFile), key: read(cfg.ssl.keyFile) };
  }
  if (cfg.sasl) out.sasl = { mechanism: cfg.sasl.mechanism, username: cfg.sasl.username, password: cfg.sasl.password } as SASLOptions;
  if (logger) {
    const kl = logger.child({ component: 'kafkajs' });
    out.logLevel = logLevel.WARN;
    out.logCreator = () => ({ level, log }) => {
      const { message, ...extra } = log;
      kl[LEVELS[level] ?? 'info']({ ...extra, namespace: undefined }, message);
    };
  } else out.logLevel = logLevel.NOTHING;
  return out;
}

export function kafkaClient(cfg: KafkaConfig, logger?: Logger): Kafka {
  return new Kafka(kafkaJsConfig(cfg, logger));
}
