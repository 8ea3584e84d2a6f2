/**
 * The validated configuration (see load.ts for the YAML keys and defaults).
 * Config sits above the stages it configures: it imports their option types.
 */
import type { RuleMatching } from '../engine/ruleset';
import type { ThrottleOptions } from '../engine/shaping';
import type { Priority } from '../language/priority';
import type { BreakerOptions } from '../sinks/breaker';
import type { FsyncPolicy } from '../sinks/file';
import type { IncludeEvent } from '../engine/alert-context';
import type { AlertFormat } from '../sinks/formats';
import type { AlertKey } from '../sinks/kafka';
import type { KafkaConnection, SaslMechanism, SslConfig } from '../sources/kafka';

export type { AlertFormat, IncludeEvent, KafkaConnection, SaslMechanism, SslConfig };

import type { PayloadFormat } from '../decode/envelope';

export type DeliveryMode = 'at_least_once' | 'exactly_once';
// ---------------------------------------------------------------------------
// The one service configuration (kestrel start -c kestrel.yaml). `serve` and
// `consume` build the same model from their flags and legacy files.
// ---------------------------------------------------------------------------

export type EventSource = 'k8s_audit' | 'k8s_admission';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface KafkaInputConfig {
  type: 'kafka';
  name: string;
  topics: string[];
  groupId: string;
  fromBeginning: boolean;
  sessionTimeoutMs: number;
  format: PayloadFormat;
  source: EventSource;
  /** Static fields for alerts of events read by this input. */
  fields: Record<string, string>;
  /** AKS diagnostic records: the categories read (default kube-audit and kube-audit-admin). */
  aksCategories?: string[];
  /** Fetch request sizing (absent: the defaults in KAFKA_FETCH_DEFAULTS). */
  fetch?: KafkaFetchConfig;
}

/** How much one fetch request asks the brokers for, and how long it waits for data. */
export interface KafkaFetchConfig {
  maxBytesPerPartition: number;
  maxBytes: number;
  maxWaitMs: number;
}

/**
 * 1 MiB per partition (kafkajs' default), 10 MiB per request, 200 ms wait. Since the Kafka input
 * takes record batches whole, a fetch response is released as soon as its batches are packed;
 * bigger fetches keep the workers busy (docs/kafka.md, "Tuning", has the measurements).
 */
export const KAFKA_FETCH_DEFAULTS: KafkaFetchConfig = { maxBytesPerPartition: 1 << 20, maxBytes: 10 << 20, maxWaitMs: 200 };

/**
 * Messages a worker holds from fetch until their alerts are delivered. A batch that finds the
 * budget full waits, and so does kafkajs' next fetch: 2,000 (about two fetched batches a
 * worker) left the workers idle half of the time in bench:kafka; 4,000 keeps them fed (8,000 did no better, for 20-50 MB more peak RSS).
 */
export const DEFAULT_MAX_IN_FLIGHT_MESSAGES = 4000;

/**
 * Bytes (message values) a worker holds from fetch until their alerts are delivered. 4 MiB is
 * what 4,000 ~1 KB messages take, two ~1 MiB fetches a worker: enough to keep it fed whatever
 * the message size. With ~2 KB messages it holds 2,000 instead of 4,000, for the same
 * events/s and 10-18 MB less peak RSS in bench:kafka (64 MiB before: never the bound).
 */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 4 << 20;

export interface WebhookPathConfig {
  path: string;
  source: EventSource;
  fields: Record<string, string>;
}

export interface WebhookInputConfig {
  type: 'webhook';
  name: string;
  host: string;
  port: number;
  /** kube-apiserver audit webhook and/or kube-audit-rest (k8s_admission) paths. */
  paths: WebhookPathConfig[];
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
  /** Accepted bearer tokens (read from token files at load time). */
  tokens: string[];
  maxBodyBytes: number;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  maxConcurrentRequests: number;
  /** The same, per client address. */
  maxConcurrentRequestsPerClient: number;
  /** Events (EventList items, JSON lines) accepted in one request; more is refused whole (400). */
  maxEventsPerRequest: number;
  /** Forward the events to this Kafka topic (acks=all before the 200) instead of evaluating them here. */
  forwardTopic?: string;
  /** Answer 200 once the request is on this disk spool (fsync'ed); outputs drain it in order. */
  spool?: { path: string; maxBytes: number; segmentBytes: number };
}

export interface FileInputConfig {
  type: 'file';
  name: string;
  /** A file path, or '-' for stdin. */
  path: string;
  format: PayloadFormat;
  source: EventSource;
  fields: Record<string, string>;
  aksCategories?: string[];
}

export type InputConfig = KafkaInputConfig | WebhookInputConfig | FileInputConfig;

/** Which alerts an output receives. */
export interface OutputSelection {
  minPriority: Priority;
  rules?: string[];
  excludeRules?: string[];
  tags?: string[];
  excludeTags?: string[];
}

interface OutputCommon extends OutputSelection {
  name: string;
  /** Payload: Falco's text line or JSON alert (default), OCSF Detection Finding, ECS document. */
  format: AlertFormat;
  /** How much of the audit event each alert carries (OCSF/ECS evidence, Falco JSON `audit` key). */
  includeEvent: IncludeEvent;
  /** Cap on the event text with includeEvent full. */
  includeEventMaxBytes: number;
  breaker: BreakerOptions;
}

export interface KafkaOutputConfig extends OutputCommon {
  type: 'kafka';
  topic: string;
  key: AlertKey;
}

export interface HttpOutputConfig extends OutputCommon {
  type: 'http';
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  maxRetryMs: number;
  maxPending: number;
  concurrency: number;
  caFile?: string;
  insecureSkipVerify: boolean;
}

export interface FileOutputConfig extends OutputCommon {
  type: 'file';
  path: string;
  /** Rotate before the file would pass this size (0: never). */
  maxBytes: number;
  keep: number;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
}

export interface StdoutOutputConfig extends OutputCommon {
  type: 'stdout';
}

export type OutputConfig = KafkaOutputConfig | HttpOutputConfig | FileOutputConfig | StdoutOutputConfig;

/**
 * Correlation rules and rollups in the service. `local`: one Correlator in
 * this process sees every event (file, webhook inputs; Kafka with one
 * consumer process). `kafka`: base-rule matches go through an internal topic
 * keyed by correlation group, and each process correlates the partitions of
 * it that it is assigned (docs/correlation.md).
 */
export interface CorrelationConfig {
  mode: 'local' | 'kafka';
  /** Out-of-order tolerance in event time. */
  toleranceMs: number;
  /** Cap on correlation groups held (per process in local mode, per internal partition in kafka mode). */
  maxGroups: number;
  /** kafka mode: the internal topic (undefined: `<group_id>-correlation` of the first kafka input); its consumer group has the same name. */
  topic?: string;
  /** kafka mode: an internal partition that received nothing for this long (wall clock) is taken as caught up: its waiting matches are applied. */
  idleMs: number;
}

export interface ServiceConfig {
  inputs: InputConfig[];
  /** Required when any input, output or the dead-letter topic uses Kafka. */
  kafka?: KafkaConnection;
  rules: { paths: string[]; watch?: { debounceMs: number } };
  engine: {
    ruleMatching: RuleMatching;
    minPriority: Priority;
    workers: number;
    maxInFlightMessages: number;
    maxInFlightBytes: number;
    /** Largest message / document accepted (bigger ones are dead letters). */
    maxEventBytes: number;
  };
  shaping: { fields: Record<string, string>; throttle?: ThrottleOptions };
  outputs: OutputConfig[];
  /** Undefined: undecodable messages are logged and counted only (warned at start). */
  deadLetters?: { topic: string };
  delivery: { guarantee: DeliveryMode; commitIntervalMs: number; transactionalId: string };
  /** Undefined: the defaults (local mode, DEFAULT_CORRELATION in sections.ts). */
  correlation?: CorrelationConfig;
  /** Undefined: no HTTP endpoint for /metrics, /healthz, /readyz. */
  metrics?: { host: string; port: number };
  log: { level: LogLevel };
  hostname: string;
  shutdownTimeoutMs: number;
}
