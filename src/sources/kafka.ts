/**
 * The one kafkajs client factory (inputs, outputs, dead letters, forwarding):
 * brokers, TLS, SASL, and kafkajs's own log lines routed through pino.
 */
import { readFileSync } from 'node:fs';
// Before kafkajs loads: its read_committed filter, its produce record encoder and batch
// checksum and (for the Kafka inputs' topics) its Fetch response decoder are replaced (see each module).
import './kafka-read-committed';
import './kafka-record-encoder';
import './kafka-crc32c';
import './kafka-record-batches';
import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import { registerCodecs } from './kafka-codecs';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface SslConfig {
  /** PEM file paths (resolved against the config file's folder). */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  rejectUnauthorized: boolean;
}

/** One Kafka connection shared by every Kafka input, output and the dead-letter topic. */
export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  ssl?: SslConfig;
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  connectionTimeoutMs: number;
  /** How often client metadata is refreshed (Event Hubs closes idle connections after 240 s). */
  metadataMaxAgeMs?: number;
}

/** kafkajs lines that are noise for Kestrel's users (its own choices, not their problems). */
const SILENCED = [/switched default partitioner/i, /Limiting retries for the idempotent producer/i];

export function kafkaJsConfig(cfg: KafkaConnection, logger?: Logger): KafkaJsConfig {
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
      if (SILENCED.some((r) => r.test(String(message)))) return;
      kl[LEVELS[level] ?? 'info']({ ...extra, namespace: undefined }, message);
    };
  } else out.logLevel = logLevel.NOTHING;
  return out;
}

export function kafkaClient(cfg: KafkaConnection, logger?: Logger): Kafka {
  registerCodecs();
  return new Kafka(kafkaJsConfig(cfg, logger));
}
