/**
 * Kestrel replaces some kafkajs modules when its Kafka client module loads
 * (src/sources/kafka.ts). Jest's module registry bypasses Node's cache, so the
 * tests that check a replacement took effect run in a fresh Node process.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** Runs `script` in a new Node process at the project root, after Kestrel's built Kafka client module loaded; returns the JSON it printed. */
export function inKafkaClientProcess(script: string): unknown {
  const r = spawnSync(process.execPath, ['-e', `require('./dist/src/sources/kafka.js');\n${script}`], { cwd: ROOT, encoding: 'utf8' });
  if (r.stderr !== '' || r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
