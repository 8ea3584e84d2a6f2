/** The validated `kestrel consume` configuration (see load.ts for the YAML keys and defaults). */
import type { RuleMatching } from '../engine/ruleset';
import type { Priority } from '../language/priority';

import type { PayloadFormat } from '../decode/envelope';

export type DeliveryMode = 'at_least_once' | 'exactly_once';
export type AlertKey = 'rule' | 'priority' | 'source' | 'none';
export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface SslConfig {
  /** PEM file paths, resolved against the config file's folder. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  rejectUnauthorized: boolean;
}

export interface KafkaConfig {
  brokers: string[];
  clientId: string;
  groupId: string;
  inputTopics: string[];
  /** Where a group without committed offsets starts. */
  fromBeginning: boolean;
  ssl?: SslConfig;
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  connectionTimeoutMs: number;
  sessionTimeoutMs: number;
}

export interface KafkaSinkConfig {
  topic: string;
  key: AlertKey;
  minPriority: Priority;
}

export interface StreamSinkConfig {
  minPriority: Priority;
  format: 'json' | 'text';
}

export interface KestrelConfig {
  kafka: KafkaConfig;
  rules: { paths: string[]; ruleMatching: RuleMatching; minPriority: Priority; source: 'k8s_audit' | 'k8s_admission' };
  input: { format: PayloadFormat; maxMessageBytes: number };
  workers: { count: number; maxInFlightMessages: number; maxInFlightBytes: number };
  delivery: { mode: DeliveryMode; commitIntervalMs: number; transactionalId: string };
  /** Undefined: undecodable messages are logged and counted only (a warning at start says so). */
  dlq?: { topic: string };
  sinks: { kafka?: KafkaSinkConfig; stdout?: StreamSinkConfig; file?: StreamSinkConfig & { path: string } };
  breaker: { timeoutMs: number; errorThresholdPercentage: number; resetTimeoutMs: number; volumeThreshold: number };
  /** Undefined: no HTTP server. Port 0 picks a free port (tests). */
  metrics?: { host: string; port: number };
  /** Undefined: no webhook. Otherwise an audit webhook whose events are produced to `topic` (a consumed input topic). */
  webhook?: { host: string; port: number; path: string; tokens: string[]; maxBodyBytes: number; topic: string };
  shutdownTimeoutMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  hostname: string;
}
