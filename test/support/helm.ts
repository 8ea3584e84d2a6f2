/**
 * The helm binary for the chart tests: $KESTREL_HELM (CI builds a pinned one
 * and sets it; a missing file there is an error), else `helm` on PATH, else a
 * binary CI left in .ci/cache/. Undefined when none is found.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const HELM_VAR = 'KESTREL_HELM';

export function findHelm(): string | undefined {
  const fromEnv = process.env[HELM_VAR];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!existsSync(fromEnv)) throw new Error(`${HELM_VAR}=${fromEnv}: no such file`);
    return fromEnv;
  }
  if (spawnSync('helm', ['version', '--short']).status === 0) return 'helm';
  const cache = resolve(__dirname, '../../.ci/cache');
  const built = existsSync(cache) ? readdirSync(cache).filter((d) => d.startsWith('helm-')).sort().reverse() : [];
  return built.map((d) => join(cache, d, 'helm')).find((p) => existsSync(p));
}
