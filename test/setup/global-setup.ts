/**
 * Jest globalSetup: provides one Kafka broker for the whole run and exposes it to
 * the tests as process.env.KAFKA_BROKERS (inherited by the workers, which are
 * spawned after this runs).
 *
 *  1. KAFKA_BROKERS already set: use that cluster, start nothing.
 *  2. No integration test selected (see kafka-selection.ts): start nothing.
 *  3. A Docker engine answers `docker info`: testcontainers' Kafka
 *     (KAFKA_TEST_IMAGE, default confluentinc/cp-kafka:8.0.0, i.e. Kafka 4.0).
 *  4. Otherwise the local JVM broker of scripts/kafka-local.js (Maven-resolved
 *     Apache Kafka 4.x, KRaft single node).
 *
 * KAFKA_TEST_PROVIDER=local|testcontainers forces 3 or 4.
 * globalTeardown (global-teardown.ts) stops whatever was started here.
 */
import { execFile } from 'child_process';
import { integrationTestsSelected, type GlobalConfigLike, type ProjectConfigLike } from './kafka-selection';
import { KAFKA_HANDLE, type KafkaHandle } from './kafka-handle';

const DEFAULT_IMAGE = 'confluentinc/cp-kafka:8.0.0';

function say(msg: string): void {
  process.stderr.write(`[kafka] ${msg}\n`);
}

function dockerEngineAnswers(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5000 }, (err, stdout) => {
      resolve(!err && stdout.trim().length > 0);
    });
  });
}

async function startTestcontainers(): Promise<KafkaHandle> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const image = process.env.KAFKA_TEST_IMAGE || DEFAULT_IMAGE;
  const started = Date.now();
  const container = await new KafkaContainer(image)
    // cp-kafka defaults transaction.state.log.replication.factor to 3: one broker here.
    .withEnvironment({
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'true',
    })
    .start();
  const brokers = `${container.getHost()}:${container.getMappedPort(9093)}`;
  say(`testcontainers ${image} at ${brokers} (started in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return {
    provider: 'testcontainers',
    brokers,
    stop: async () => {
      await container.stop();
    },
  };
}

async function startLocal(): Promise<KafkaHandle> {
  // Plain CommonJS script shared with `npm run kafka:start` (typed by scripts/kafka-local.d.ts).
  const { startLocalKafka } = await import('../../scripts/kafka-local');
  // A throwaway broker: C1-only JIT starts it faster, and nothing in it needs a clean shutdown.
  const k = await startLocalKafka({ quickJit: true });
  say(`local Apache Kafka ${k.version} at ${k.brokers} (started in ${(k.startMs / 1000).toFixed(1)} s, log ${k.logFile})`);
  return { provider: 'local', brokers: k.brokers, stop: () => k.stop({ graceful: false }) };
}

export default async function globalSetup(globalConfig: GlobalConfigLike, projectConfig: ProjectConfigLike): Promise<void> {
  if (process.env.KAFKA_BROKERS) {
    say(`using KAFKA_BROKERS=${process.env.KAFKA_BROKERS}`);
    return;
  }
  if (!integrationTestsSelected(globalConfig, projectConfig)) return;

  const forced = process.env.KAFKA_TEST_PROVIDER;
  const useDocker = forced ? forced === 'testcontainers' : await dockerEngineAnswers();
  const handle = useDocker ? await startTestcontainers() : await startLocal();

  (globalThis as Record<symbol, unknown>)[KAFKA_HANDLE] = handle;
  process.env.KAFKA_BROKERS = handle.brokers;
}
