/**
 * docs/kafka.md's manual walkthrough ("By hand, with kcat ..."), run as written
 * against a real local broker: the first terminal's block in its own process
 * group (it ends with the foreground `kestrel consume`), the second terminal's
 * block once the topics exist (its stdout must be the output block the doc
 * shows), Ctrl-C (SIGINT to the first terminal's process group), then the stop
 * block. Needs kcat and jq: skipped with one line when either is missing,
 * except in CI (CI set), where .ci/run installs them and a missing one fails.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const DOC = readFileSync(join(ROOT, 'docs/kafka.md'), 'utf8');

/** The first fenced block of `lang` after the text `marker`. */
function blockAfter(marker: string, lang: string): string {
  const from = DOC.indexOf(marker);
  if (from < 0) throw new Error(`docs/kafka.md has no '${marker}'`);
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(DOC.slice(from));
  if (!m) throw new Error(`no \`\`\`${lang} block after '${marker}' in docs/kafka.md`);
  return m[1];
}

const missing = ['kcat', 'jq'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
if (missing.length > 0 && process.env.CI) throw new Error(`${missing.join(' and ')} not installed (.ci/run installs them with apt-get)`);
if (missing.length > 0) process.stderr.write(`${missing.join(' and ')} not found (apt-get install kcat jq): skipping the docs/kafka.md walkthrough\n`);
const testWithTools = missing.length > 0 ? test.skip : test;

/** A reader's shell: no broker address inherited from the test run. */
const env = { ...process.env, KESTREL_KAFKA_BROKERS: '' };
const sh = (script: string, timeout = 60_000) => spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: ROOT, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'], env });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

testWithTools('the kcat walkthrough of docs/kafka.md runs as written and prints what the doc shows', async () => {
  const first = blockAfter('In a first terminal', 'sh');
  const second = blockAfter('In a second terminal', 'sh');
  const expected = blockAfter('`kcat -C` waits for the six alerts', '');
  const stop = blockAfter('Then stop the consumer with Ctrl-C', 'sh');
  expect(first.trimEnd().split('\n').pop()).toBe('npx kestrel consume -c examples/kestrel.local.yaml');

  const terminal1 = spawn('bash', ['-euo', 'pipefail', '-c', first], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let log1 = '';
  terminal1.stdout.on('data', (d) => (log1 += d));
  terminal1.stderr.on('data', (d) => (log1 += d));
  const ended = new Promise<void>((r) => terminal1.once('exit', () => r()));
  try {
    // The second terminal starts once the first one has made the topics.
    const deadline = Date.now() + 60_000;
    while (!/^kestrel-alerts\t1$/m.test(sh('npm run -s kafka:topics -- list').stdout)) {
      if (terminal1.exitCode !== null) throw new Error(`the first terminal's block ended early:\n${log1}`);
      if (Date.now() > deadline) throw new Error(`no kestrel-alerts topic after 60 s:\n${log1}`);
      await sleep(250);
    }
    const r = sh(second);
    expect({ code: r.status, stdout: r.stdout }).toEqual({ code: 0, stdout: expected });
    expect(r.stderr).toMatch(/^\[kafka-local\] running: pid \d+, dir \S+, Kafka [\d.]+\n$/);
  } finally {
    // Ctrl-C: SIGINT to the first terminal's foreground process group (bash, npx, kestrel).
    if (terminal1.exitCode === null) process.kill(-terminal1.pid!, 'SIGINT');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ended, new Promise((r) => (timer = setTimeout(r, 20_000)))]);
    clearTimeout(timer);
    try {
      process.kill(-terminal1.pid!, 'SIGKILL');
    } catch {
      /* the group is gone, as it should be */
    }
    const s = sh(stop);
    expect([s.status, s.stderr]).toEqual([0, expect.stringMatching(/^\[kafka-local\] stopped \(pid \d+\), removed /)]);
  }
  // The group is empty: kestrel left with the shell (no process outlived Ctrl-C).
  expect(() => process.kill(-terminal1.pid!, 0)).toThrow();
}, 120_000);
