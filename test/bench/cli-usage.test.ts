/**
 * The benchmark commands answer --help with their usage and a mistyped option
 * with one line naming it plus the usage (exit 2), never a stack trace. Runs
 * the built scripts (npm test builds dist/ first).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const run = (script: string, args: string[]) => {
  const r = spawnSync(process.execPath, [resolve(ROOT, 'dist/bench', script), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

test.each([
  ['kafka.js', 'usage: npm run bench:kafka -- [--events N]'],
  ['engine.js', 'usage: npm run bench:engine -- [--events N]'],
  ['run.js', 'usage: npm run bench:run -- [--events N]'],
  ['profile-stages.js', 'usage: node dist/bench/profile-stages.js FILE.cpuprofile...'],
])('%s --help prints the usage and exits 0', (script, start) => {
  const r = run(script, ['--help']);
  expect([r.status, r.stdout.startsWith(start), r.stderr]).toEqual([0, true, '']);
});

test.each([
  ['kafka.js', ['--bogus'], "bench:kafka: Unknown option '--bogus'"],
  ['kafka.js', ['--events'], "bench:kafka: Option '--events <value>' argument missing"],
  ['engine.js', ['--bogus'], "bench:engine: Unknown option '--bogus'"],
  ['run.js', ['--bogus'], "bench:run: Unknown option '--bogus'"],
  ['profile-stages.js', ['/nonexistent.cpuprofile'], 'profile-stages: no such file: /nonexistent.cpuprofile'],
  ['profile-stages.js', [], 'profile-stages: no profile given'],
])('%s %j: one line naming the mistake, the usage, exit 2', (script, args, first) => {
  const r = run(script, args);
  const lines = r.stderr.trimEnd().split('\n');
  expect([r.status, lines[0], lines[1].startsWith('usage: '), r.stderr.includes('    at ')]).toEqual([2, first, true, false]);
});
