/** Jest globalTeardown: stops the broker that global-setup.ts started, if any. */
import { KAFKA_HANDLE, type KafkaHandle } from './kafka-handle';

export default async function globalTeardown(): Promise<void> {
  const store = globalThis as Record<symbol, unknown>;
  const handle = store[KAFKA_HANDLE] as KafkaHandle | undefined;
  if (!handle) return;
  delete store[KAFKA_HANDLE];
  try {
    await handle.stop();
  } finally {
    // Only unset what setup set, so a --watch rerun starts a fresh broker.
    if (process.env.KAFKA_BROKERS === handle.brokers) delete process.env.KAFKA_BROKERS;
  }
}
