/**
 * deploy/kestrel.reference.yaml documents the configuration: it loads, every
 * key the loader reads appears in it (with a comment), and nothing else does.
 * The loader's keys come from the loader itself (Section records every key it
 * reads, see recordKeys), not from a second list kept by hand.
 * The shipped configs (compose, Kubernetes) load too.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isMap, isPair, isScalar, isSeq, parseAllDocuments, parseDocument, type Node } from 'yaml';
import { genericKey, recordKeys, type KeyKind } from '../../src/config/fields';
import { loadServiceConfig, parseServiceConfig } from '../../src/config/load';
import { INPUT_TYPES, OUTPUT_TYPES } from '../../src/config/sections';

const ROOT = resolve(__dirname, '../..');
const REFERENCE = join(ROOT, 'deploy/kestrel.reference.yaml');

/** The reference with its token files pointing at real files (they are read at load time). */
function referenceText(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-ref-'));
  writeFileSync(join(dir, 'token'), 'tok-1\n');
  writeFileSync(join(dir, 'previous'), 'tok-0\n');
  return readFileSync(REFERENCE, 'utf8').replaceAll('/etc/kestrel/token/', `${dir}/`);
}

const loaded = recordKeys(() => parseServiceConfig(referenceText(), '/etc/kestrel', {}));

/** Every key path written in the reference (free-form maps not descended), with whether one of its lines has a comment. */
function referenceKeys(kinds: Map<string, KeyKind>): Map<string, boolean> {
  const text = readFileSync(REFERENCE, 'utf8');
  const lines = text.split('\n');
  const doc = parseDocument(text);
  const keys = new Map<string, boolean>();
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length - 1;
  const walk = (node: unknown, path: string) => {
    if (isSeq(node)) for (const item of node.items) walk(item, `${path}[]`);
    if (!isMap(node)) return;
    for (const pair of node.items) {
      if (!isPair(pair) || !isScalar(pair.key)) continue;
      const key = genericKey(path ? `${path}.${String(pair.key.value)}` : String(pair.key.value));
      const line = lineOf((pair.key as Node).range![0]);
      const commented = lines[line].includes('#') || /^\s*#/.test(lines[line - 1] ?? '');
      keys.set(key, (keys.get(key) ?? false) || commented);
      if (kinds.get(key) !== 'map') walk(pair.value, key);
    }
  };
  walk(doc.contents, '');
  return keys;
}

describe('deploy/kestrel.reference.yaml', () => {
  test('loads with the loader', () => {
    const c = loaded.value;
    expect(c.inputs.map((i) => [i.type, i.name])).toEqual([['kafka', 'audit-topics'], ['webhook', 'audit-webhook'], ['webhook', 'audit-forwarder'], ['file', 'replay']]);
    expect(c.outputs.map((o) => [o.type, o.name])).toEqual([['kafka', 'alerts-topic'], ['http', 'falcosidekick'], ['file', 'alerts-file'], ['stdout', 'stdout']]);
    expect(c.kafka?.brokers).toEqual(['kafka-0.kafka:9092', '[fd00::10]:9092']);
    expect(c.inputs[1]).toMatchObject({ tokens: ['tok-1', 'tok-0'] });
    expect(c.inputs[1]).not.toHaveProperty('forwardTopic');
    expect(c.rules.paths).toEqual(['/app/rules', '/etc/kestrel/rules.d']);
  });

  test('shows every input and output type', () => {
    const c = loaded.value;
    expect(new Set(c.inputs.map((i) => i.type))).toEqual(new Set(INPUT_TYPES));
    expect(new Set(c.outputs.map((o) => o.type))).toEqual(new Set(OUTPUT_TYPES));
  });

  test('every key the loader reads is in the reference, and every key of the reference is read', () => {
    const accepted = [...loaded.keys.keys()].sort();
    const written = [...referenceKeys(loaded.keys).keys()].sort();
    expect(accepted.length).toBe(124); // a new key: add it to the reference (with a comment) and count it here
    expect(written).toEqual(accepted);
  });

  test('every key has a comment (on its line or the line above) where it first appears', () => {
    const uncommented = [...referenceKeys(loaded.keys)].filter(([, commented]) => !commented).map(([k]) => k);
    expect(uncommented).toEqual([]);
  });
});

describe('shipped configs load with the loader', () => {
  test('deploy/compose/kestrel.example.yaml', () => {
    const c = loadServiceConfig(join(ROOT, 'deploy/compose/kestrel.example.yaml'), {});
    expect(c.inputs).toMatchObject([{ type: 'kafka', topics: ['k8s-audit'] }]);
    expect(c.outputs).toMatchObject([{ type: 'kafka', topic: 'kestrel-alerts' }]);
  });

  test('deploy/compose/kestrel.yaml', () => {
    const c = loadServiceConfig(join(ROOT, 'deploy/compose/kestrel.yaml'), {});
    expect(c.inputs).toMatchObject([{ type: 'kafka', topics: ['k8s-audit'] }]);
  });

  test('the kestrel.yaml of deploy/k8s/configmap.yaml', () => {
    const cm = parseAllDocuments(readFileSync(join(ROOT, 'deploy/k8s/configmap.yaml'), 'utf8')).map((d) => d.toJS()).find((d) => d?.metadata?.name === 'kestrel-config');
    const c = parseServiceConfig(cm.data['kestrel.yaml'], '/etc/kestrel', {});
    expect(c.inputs).toMatchObject([{ type: 'kafka', topics: ['k8s-audit'] }]);
  });

  test('deploy/webhook/kestrel-serve.yaml (a serve-era file)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-serve-'));
    writeFileSync(join(dir, 'token'), 'tok-1\n');
    const text = readFileSync(join(ROOT, 'deploy/webhook/kestrel-serve.yaml'), 'utf8').replace('/etc/kestrel/token/token', join(dir, 'token'));
    const c = parseServiceConfig(text, dir, {});
    expect(c.inputs).toMatchObject([{ type: 'webhook', port: 9765, tokens: ['tok-1'] }]);
    expect(c.outputs.map((o) => o.type)).toEqual(['stdout', 'file', 'http']);
  });
});
