import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../../src/pipeline/worker-script';

// Workers started from TypeScript sources transpile each file into a cache shared by every
// thread of the process. Threads that miss the cache together must not trip over each
// other's temporary files (they share process.pid; CI once failed on exactly that).
const dir = mkdtempSync(join(tmpdir(), 'kestrel-worker-script-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('workers started together from sources all load, with a cold transpile cache', async () => {
  const modules = 30;
  for (let i = 0; i < modules; i++) {
    const next = i + 1 < modules ? `import { value as next } from './m${i + 1}';` : 'const next = 0;';
    writeFileSync(join(dir, `m${i}.ts`), `${next}\nexport const value: number = next + ${i};\n`);
  }
  writeFileSync(join(dir, 'entry.ts'), `import { parentPort } from 'node:worker_threads';\nimport { value } from './m0';\nparentPort!.postMessage(value);\n`);
  const entry = workerEntry(join(dir, 'entry'));
  expect(entry.eval).toBe(true);

  for (let round = 0; round < 3; round++) {
    const cache = mkdtempSync(join(dir, `tmp${round}-`));
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(entry.script, { eval: true, env: { ...process.env, TMPDIR: cache }, stderr: true });
          w.once('message', (v: number) => { resolve(v); void w.terminate(); });
          w.once('error', reject);
        })),
    );
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : String(r.reason)))).toEqual(Array(8).fill((modules * (modules - 1)) / 2));
    // One cache file per module and the entry, no temporary file left behind.
    expect(readdirSync(join(cache, 'kestrel-ts-worker-cache')).filter((f) => !f.endsWith('.js')).length).toBe(0);
    expect(readdirSync(join(cache, 'kestrel-ts-worker-cache')).length).toBe(modules + 1);
  }
}, 60_000);
