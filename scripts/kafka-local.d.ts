/** Types for scripts/kafka-local.js (plain CommonJS, used by npm scripts and the jest global setup). */
export interface LocalKafka {
  /** Bootstrap address, `127.0.0.1:PORT`. */
  brokers: string;
  pid: number;
  /** Temp dir holding server.properties, data and logs; removed by stop(). */
  dir: string;
  /** Temp name of the class-data-sharing archive this broker writes at a clean exit, if any. */
  cdsDump?: string;
  /** The broker's log4j2 file log. */
  logFile: string;
  /** Kafka version of the resolved kafka_2.13 jar. */
  version: string;
  /** Milliseconds from call to a broker answering describeCluster (excludes Maven resolution). */
  startMs: number;
  /**
   * SIGTERM, SIGKILL after a bound, then remove the temp dir. Idempotent.
   * graceful=false: SIGKILL at once (throwaway test broker), unless it still has to
   * write the class-data-sharing archive at exit.
   */
  stop(opts?: { graceful?: boolean }): Promise<void>;
  /**
   * Stops the JVM (SIGTERM, i.e. a controlled shutdown; graceful=false: SIGKILL, a crash)
   * and starts it again on the same port and data dir after `downMs` (default 0); resolves
   * once it answers describeCluster again, with how long the start took. `pid` is updated.
   * `whileDown` runs once the JVM is gone, before the wait (tests: damage its data dir).
   */
  restart(opts?: { graceful?: boolean; downMs?: number; whileDown?: () => void | Promise<void> }): Promise<{ ms: number }>;
  /** With `security: true`: the secured listeners, their users and the generated PEM files. */
  security?: LocalKafkaSecurity;
}

export interface KafkaUser {
  username: string;
  password: string;
}

export interface LocalKafkaSecurity {
  /** Bootstrap addresses `127.0.0.1:PORT` of each secured listener. */
  listeners: {
    /** SASL_PLAINTEXT: PLAIN (users.plain), SCRAM-SHA-256 and SCRAM-SHA-512 (users.scram). */
    saslPlaintext: string;
    /** SSL with ssl.client.auth=required: tls.clientCertFile/clientKeyFile. */
    ssl: string;
    /** SASL_SSL, PLAIN only (users.plain and users.eventHubs), no client certificate. */
    saslSsl: string;
  };
  users: { plain: KafkaUser; scram: KafkaUser; eventHubs: KafkaUser };
  /** PEM files in <dir>/tls; the rogue ones are signed by a CA the broker does not trust. */
  tls: {
    caFile: string;
    clientCertFile: string;
    clientKeyFile: string;
    rogueCaFile: string;
    rogueClientCertFile: string;
    rogueClientKeyFile: string;
  };
}

export interface StartOptions {
  /** Survive the calling process (CLI). Default false: killed if the caller exits without stop(). */
  detached?: boolean;
  /** Readiness bound in ms (default 90000 or $KAFKA_LOCAL_START_TIMEOUT_MS). */
  timeoutMs?: number;
  /** C1-only JIT: faster start, lower peak throughput (short-lived test brokers). Default false. */
  quickJit?: boolean;
  /**
   * Also open SASL_PLAINTEXT (PLAIN, SCRAM-SHA-256/512), SSL (mTLS) and SASL_SSL (PLAIN)
   * listeners, with certificates made by openssl and SCRAM users made at format time.
   */
  security?: boolean;
}

export function startLocalKafka(opts?: StartOptions): Promise<LocalKafka>;
export function stopBroker(
  broker: { pid: number; dir: string; cdsDump?: string },
  opts?: { graceMs?: number; graceful?: boolean },
): Promise<void>;
/** Resolve deploy/kafka-local/lib with Maven unless it matches pom.xml. */
export function ensureLib(): void;
/** Create topics (`NAME` or `NAME:PARTITIONS`, replication 1) unless they exist; resolves to the names created. */
export function createTopics(brokers: string, specs: string[]): Promise<string[]>;
/** Topics (internal ones left out) with their partition counts, sorted by name. */
export function listTopics(brokers: string): Promise<Array<{ name: string; partitions: number }>>;
export const STATE_FILE: string;
export const SECURITY_USERS: LocalKafkaSecurity['users'];
