/**
 * The config reference (deploy/compose/kestrel.example.yaml, linked from the
 * README and docs/kafka.md) is checked against the loader: it loads, and every
 * key the loader accepts is shown in it (as a key or a commented-out key).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/load';

const ROOT = resolve(__dirname, '../..');
const EXAMPLE = join(ROOT, 'deploy/compose/kestrel.example.yaml');

function acceptedKeys(): string[] {
  const src = readFileSync(join(ROOT, 'src/config/load.ts'), 'utf8');
  const keys = new Set<string>();
  for (const m of src.matchAll(/\.allow\(([^)]*)\)/g)) for (const k of m[1].matchAll(/'([a-z_]+)'/g)) keys.add(k[1]);
  return [...keys].sort();
}

test('the example config loads', () => {
  const cfg = loadConfig(EXAMPLE, {});
  expect(cfg.kafka.inputTopics).toEqual(['k8s-audit']);
  expect(cfg.sinks.kafka?.topic).toBe('kestrel-alerts');
});

test('every key the loader accepts appears in the example config', () => {
  const text = readFileSync(EXAMPLE, 'utf8');
  const keys = acceptedKeys();
  expect(keys.length).toBe(55);
  const missing = keys.filter((k) => !new RegExp(`(^|[\\s{,#])${k}:`, 'm').test(text));
  expect(missing).toEqual([]);
});
