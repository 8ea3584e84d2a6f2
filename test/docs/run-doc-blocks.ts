/**
 * The jest side of the docs test, shared by docs.test.ts (every example) and
 * test/integration/docs-kafka.test.ts (the examples that need a broker): one describe per
 * document, one test per example, run in document order in one DocShell.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { elisionPattern, normalise } from './expected-output';
import { DocShell, ROOT } from './run-shell';
import { shellBlocks, type ShellBlock } from './shell-blocks';

export const SHARED = join(ROOT, '../shared/conformance');
const BLOCK_TIMEOUT_MS = 30_000;
const STEP_MARK = '@@docs-test-step@@';

export const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
export const BLOCKS = DOCS.flatMap((doc) => shellBlocks(doc, readFileSync(join(ROOT, doc), 'utf8')));

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
  if (block.background) {
    const url = JSON.stringify(block.background.readyUrl);
    const script = `(\n${block.body}) &\nfor i in $(seq 100); do curl -sf ${url} > /dev/null && exit 0; sleep 0.2; done\necho "docs test: ${url.slice(1, -1)} did not answer in 20 s" >&2; exit 1`;
    const r = shell.run(script, { strict: false, timeoutMs: BLOCK_TIMEOUT_MS });
    expect({ where, status: r.status, output: r.status === 0 ? '' : r.output }).toEqual({ where, status: 0, output: '' });
    return;
  }
  const r = shell.run(block.body, { strict: true, timeoutMs: BLOCK_TIMEOUT_MS });
  expect({ where, timedOut: r.timedOut }).toEqual({ where, timedOut: false });
  if (block.expected !== undefined) expectOutput(r.output, block.expected, where);
  else expect({ where, status: r.status, output: r.status === 0 ? '' : r.output }).toEqual({ where, status: 0, output: '' });
}

/** One describe per document that has blocks passing `select`; `env` is added to the shells' environment. */
export function describeDocBlocks(select: (b: ShellBlock) => boolean, env: () => NodeJS.ProcessEnv = () => ({})): void {
  const docs = DOCS.filter((doc) => BLOCKS.some((b) => b.file === doc && select(b)));
  for (const doc of docs) describe(doc, () => {
    let shell: DocShell;
    beforeAll(() => {
      shell = new DocShell(env());
    });
    afterAll(() => shell.dispose());
    for (const block of BLOCKS.filter((b) => b.file === doc && select(b))) {
      const what = block.background ? 'starts and answers' : block.kind === 'console' || block.expected !== undefined ? 'prints the documented output' : 'exits 0';
      const name = `line ${block.line}: ${what}`;
      (needsAbsentShared(block) ? test.skip : test)(name, () => runBlock(shell, block), BLOCK_TIMEOUT_MS + 10_000);
    }
  });
}
