/**
 * Where a rule worker thread starts. Built code runs dist/src/pipeline/worker.js
 * next to this file. When this module itself runs from TypeScript sources
 * (jest with ts-jest), the worker runs from the sources too, never from a
 * possibly stale dist/: it gets a require hook that transpiles each .ts file
 * with the TypeScript compiler (a dev dependency), cached on disk by content.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface WorkerEntry {
  /** A script path, or code to evaluate (`eval: true`). */
  script: string;
  eval: boolean;
}

const TS_HOOK = (entry: string) => `
const fs = require('node:fs'), path = require('node:path'), os = require('node:os'), crypto = require('node:crypto');
const ts = require('typescript');
const cache = path.join(os.tmpdir(), 'kestrel-ts-worker-cache');
fs.mkdirSync(cache, { recursive: true });
require.extensions['.ts'] = (module, file) => {
  const src = fs.readFileSync(file, 'utf8');
  const key = path.join(cache, crypto.createHash('sha1').update(file + '\\0' + src).digest('hex') + '.js');
  let out;
  try { out = fs.readFileSync(key, 'utf8'); } catch {
    out = ts.transpileModule(src, { fileName: file, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, resolveJsonModule: true } }).outputText;
    // Worker threads share process.pid: the temporary name needs the thread and a random part too.
    const tmp = key + '.' + process.pid + '.' + require('node:worker_threads').threadId + '.' + crypto.randomBytes(4).toString('hex');
    fs.writeFileSync(tmp, out);
    fs.renameSync(tmp, key);
  }
  module._compile(out, file);
};
require(${JSON.stringify(entry)});
`;

/** `base`: the worker module's path without its extension (default: the rule worker, pipeline/worker). */
export function workerEntry(base: string = join(__dirname, 'worker')): WorkerEntry {
  if (__filename.endsWith('.ts')) return { script: TS_HOOK(`${base}.ts`), eval: true };
  return { script: `${base}.js`, eval: false };
}

/** Whether the worker's code is there (a build that skipped the worker, a broken install). */
export function workerEntryExists(e: WorkerEntry): boolean {
  return e.eval || existsSync(e.script);
}
