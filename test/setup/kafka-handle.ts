/** What globalSetup hands to globalTeardown (both run in jest's parent process). */
export interface KafkaHandle {
  provider: 'local' | 'testcontainers';
  brokers: string;
  stop(): Promise<void>;
}

export const KAFKA_HANDLE = Symbol.for('kestrel.test.kafka');
