/**
 * The data flows one way, and so do the imports: a folder never imports from
 * a folder of a later stage. Base libraries (language/, fields/,
 * observability/) come first; then sources/ (transport only) → decode/ →
 * engine/ → sinks/ → config/ (the model of the stages' options) → pipeline/
 * (wires the stages) → cli/.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(__dirname, '../../src');
const ORDER = [['language', 'fields', 'observability', 'version.ts'], ['sources'], ['decode'], ['engine'], ['sinks'], ['config'], ['pipeline'], ['cli'], ['conformance', 'index.ts']];

function layerOf(file: string): number {
  const top = relative(SRC, file).split('/')[0];
  const i = ORDER.findIndex((names) => names.includes(top));
  if (i < 0) throw new Error(`src/${top} has no place in the layer order: add it to ORDER`);
  return i;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports (static, type-only and dynamic) of a source file, resolved to src paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.[^']+)'/g)].map((m) => m[1]);
  return specs.map((s) => resolve(dirname(file), s));
}

test('no folder imports from a later stage', () => {
  const violations: string[] = [];
  for (const f of files(SRC)) {
    const from = layerOf(f);
    for (const target of importsOf(f)) {
      if (!target.startsWith(SRC)) continue;
      const path = existsSync(`${target}.ts`) ? `${target}.ts` : join(target, 'index.ts');
      if (layerOf(path) > from) violations.push(`${relative(SRC, f)} imports ${relative(SRC, target)}`);
    }
  }
  expect(violations).toEqual([]);
});

test('the checker sees a violation', () => {
  expect(layerOf(join(SRC, 'cli/main.ts'))).toBeGreaterThan(layerOf(join(SRC, 'sinks/http.ts')));
  expect(importsOf(join(SRC, 'cli/main.ts')).some((p) => p.endsWith('cli/run'))).toBe(true);
});
