/**
 * Docs that run: every shell example in README.md and docs/*.md is executed
 * here, or the doc says, visibly, why not.
 *
 * Conventions (also in docs/README.md):
 *  - A shell example is a fenced block tagged `sh`, `bash` or `shell` (a
 *    script), or `console` / untagged whose lines start with `$ ` (commands
 *    with their output).
 *  - Each runs in bash with cwd = the repository root; `npx kestrel` and
 *    `kestrel` are this checkout's bin/kestrel.js (run `npm run build` first);
 *    node_modules/.bin is on PATH. The blocks of one document run in order, in
 *    separate shells; a server started with `&` keeps running until the
 *    document's last block has run. The lines `npm ci`, `npm install` and
 *    `npm run build` are taken as done, not run.
 *  - A script block followed by a ```text or untagged block (blank lines
 *    between at most) must print exactly that, stdout and stderr together as a
 *    terminal shows them. Without one it must exit 0 (it runs under `set -e`).
 *  - In a console block each `$ ` command (with `\` continuation lines) must
 *    print the lines below it (a last line without a newline counts as a line).
 *    The commands of a block share one shell (variables carry over).
 *  - Output may elide with `...` (a line of its own: any lines; inside a line:
 *    any text); expected-output.ts lists the few normalisations (temp folders,
 *    hostnames).
 *  - A block that cannot run here has, as the last line before it, the visible
 *    sentence `_Not run by the docs test: REASON._` (e.g. needs a Kubernetes
 *    cluster, needs a Kafka broker, runs the whole test suite).
 *  - A block that reads ../shared/conformance (Falco's data, outside the
 *    repository) is skipped, with one line naming the folder, when it is absent.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { elisionPattern, normalise } from './expected-output';
import { DocShell, ROOT } from './run-shell';
import { shellBlocks, type ShellBlock } from './shell-blocks';

const SHARED = join(ROOT, '../shared/conformance');
const BLOCK_TIMEOUT_MS = 30_000;
const STEP_MARK = '@@docs-test-step@@';

const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const BLOCKS = DOCS.flatMap((doc) => shellBlocks(doc, readFileSync(join(ROOT, doc), 'utf8')));

let sharedSkipSaid = false;
function needsAbsentShared(block: ShellBlock): boolean {
  if (!block.body.includes('../shared') || existsSync(SHARED)) return false;
  if (!sharedSkipSaid) process.stderr.write(`skipping the doc examples that read ${SHARED}: the folder is absent\n`);
  sharedSkipSaid = true;
  return true;
}

function expectOutput(actual: string, expected: string, where: string): void {
  const a = normalise(actual);
  const e = normalise(expected);
  const pattern = elisionPattern(e);
  if (pattern) expect({ where, output: a }).toEqual({ where, output: expect.stringMatching(pattern) });
  else expect({ where, output: a }).toEqual({ where, output: e });
}

function runBlock(shell: DocShell, block: ShellBlock): void {
  const where = `${block.file}:${block.line}`;
  if (block.kind === 'console') {
    const steps = block.steps ?? [];
    const script = steps.map((s) => `printf '%s\\n' '${STEP_MARK}'\n${s.command}`).join('\n');
    const r = shell.run(script, { strict: false, timeoutMs: BLOCK_TIMEOUT_MS });
    expect({ where, timedOut: r.timedOut }).toEqual({ where, timedOut: false });
    // A last line without a newline (curl's JSON answer) shows on a terminal as a line.
    const outputs = r.output.split(`${STEP_MARK}\n`).slice(1).map((o) => (o === '' || o.endsWith('\n') ? o : o + '\n'));
    steps.forEach((s, i) => expectOutput(outputs[i] ?? '', s.expected, `${where} $ ${s.command}`));
    return;
  }
  const r = shell.run(block.body, { strict: true, timeoutMs: BLOCK_TIMEOUT_MS });
  expect({ where, timedOut: r.timedOut }).toEqual({ where, timedOut: false });
  if (block.expected !== undefined) expectOutput(r.output, block.expected, where);
  else expect({ where, status: r.status, output: r.status === 0 ? '' : r.output }).toEqual({ where, status: 0, output: '' });
}

test('the docs have shell examples, and every one not run says why', () => {
  expect(BLOCKS.length).toBeGreaterThanOrEqual(25);
  for (const b of BLOCKS.filter((x) => x.skipReason !== undefined)) {
    expect({ where: `${b.file}:${b.line}`, reason: b.skipReason }).toEqual({ where: `${b.file}:${b.line}`, reason: expect.stringMatching(/^\S.{9,}/) });
  }
});

describe.each(DOCS)('%s', (doc) => {
  const blocks = BLOCKS.filter((b) => b.file === doc && b.skipReason === undefined);
  let shell: DocShell;
  beforeAll(() => {
    shell = new DocShell();
  });
  afterAll(() => shell.dispose());

  if (blocks.length === 0) {
    test('has no shell example to run', () => {
      expect(BLOCKS.filter((b) => b.file === doc && b.skipReason === undefined)).toEqual([]);
    });
  }
  for (const block of blocks) {
    const name = `line ${block.line}: ${block.kind === 'console' || block.expected !== undefined ? 'prints the documented output' : 'exits 0'}`;
    (needsAbsentShared(block) ? test.skip : test)(name, () => runBlock(shell, block), BLOCK_TIMEOUT_MS + 10_000);
  }
});
