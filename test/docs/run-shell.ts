/**
 * Runs doc shell code from the repository root the way a reader's shell would:
 * bash, `npx kestrel` and `kestrel` are this checkout's bin/kestrel.js, and
 * node_modules/.bin is on PATH. stdout and stderr go to one file, in the order
 * written, as a terminal shows them.
 *
 * Each run gets its own process group (setsid), so a server a block starts
 * with `&` keeps running for the blocks after it; stopGroups() ends them.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');

/** Commands the reader has run before the examples (`npm ci` builds too): not run again. */
const ALREADY_DONE = /^(npm ci|npm install|npm run build)\s*(#.*)?$/;
/** Never run from a doc: they replace node_modules or run this very suite. Such a block needs a skip marker. */
const FORBIDDEN = /\bnpm (ci|install|i|test|t)\b/;

export interface ShellRun {
  status: number | null;
  output: string;
  timedOut: boolean;
}

export class DocShell {
  private readonly dir = mkdtempSync(join(tmpdir(), 'kestrel-docs-'));
  private readonly groups: number[] = [];
  private readonly env: NodeJS.ProcessEnv;
  private runs = 0;

  constructor(extraEnv: NodeJS.ProcessEnv = {}) {
    const realNpx = spawnSync('bash', ['-c', 'command -v npx'], { encoding: 'utf8' }).stdout.trim();
    const kestrel = `exec node ${JSON.stringify(join(ROOT, 'bin/kestrel.js'))} "$@"`;
    writeFileSync(join(this.dir, 'kestrel'), `#!/bin/sh\n${kestrel}\n`);
    writeFileSync(join(this.dir, 'npx'), `#!/bin/sh\nif [ "$1" = kestrel ]; then shift; ${kestrel}; fi\nexec ${JSON.stringify(realNpx)} "$@"\n`);
    chmodSync(join(this.dir, 'kestrel'), 0o755);
    chmodSync(join(this.dir, 'npx'), 0o755);
    this.env = { ...process.env, ...extraEnv, PATH: `${this.dir}:${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`, NO_COLOR: '1' };
  }

  /** Runs `script` in bash (`set -e` when `strict`), cwd = repository root. */
  run(script: string, opts: { strict: boolean; timeoutMs: number }): ShellRun {
    const body = script
      .split('\n')
      .map((l) => (ALREADY_DONE.test(l.trim()) ? `: ${l}` : l))
      .join('\n');
    const forbidden = body.split('\n').find((l) => !l.startsWith(': ') && FORBIDDEN.test(l));
    if (forbidden !== undefined) {
      return { status: null, output: `docs test: not running "${forbidden.trim()}" (it reinstalls node_modules or runs the test suite); mark the block as not run\n`, timedOut: false };
    }
    const outFile = join(this.dir, `out-${this.runs++}`);
    const fd = openSync(outFile, 'w');
    try {
      const r = spawnSync('setsid', ['bash', '-c', (opts.strict ? 'set -e\n' : '') + body], {
        cwd: ROOT,
        env: this.env,
        stdio: ['ignore', fd, fd],
        timeout: opts.timeoutMs,
        killSignal: 'SIGKILL',
      });
      if (r.pid) this.groups.push(r.pid);
      return { status: r.status, output: readFileSync(outFile, 'utf8'), timedOut: r.error !== undefined || r.signal === 'SIGKILL' };
    } finally {
      closeSync(fd);
    }
  }

  /** Ends every process the runs left behind (servers started with `&`). */
  stopGroups(): void {
    for (const pgid of this.groups.splice(0)) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  dispose(): void {
    this.stopGroups();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
