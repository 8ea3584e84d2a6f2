/**
 * docs/rules.md stays runnable: every ```sh block runs in bash from the
 * repository root (`npx kestrel` is the built CLI, bin/kestrel.js; run
 * `npm run build` first). A block followed by a ```text block must print
 * exactly that on stdout; any other block must exit 0.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const DOC = readFileSync(join(ROOT, 'docs/rules.md'), 'utf8');

interface Example {
  line: number;
  script: string;
  expected?: string;
}

function examples(): Example[] {
  const out: Example[] = [];
  const re = /```(\w*)\n([\s\S]*?)```/g;
  const blocks: { lang: string; body: string; line: number; end: number; start: number }[] = [];
  for (let m; (m = re.exec(DOC)); ) blocks.push({ lang: m[1], body: m[2], start: m.index, end: m.index + m[0].length, line: DOC.slice(0, m.index).split('\n').length });
  blocks.forEach((b, i) => {
    if (b.lang !== 'sh') return;
    const next = blocks[i + 1];
    const adjacent = next && next.lang === 'text' && DOC.slice(b.end, next.start).trim() === '';
    out.push({ line: b.line, script: b.body, expected: adjacent ? next.body : undefined });
  });
  return out;
}

test('docs/rules.md has runnable examples of rule tests, correlations and cost', () => {
  const all = examples();
  expect(all.length).toBeGreaterThanOrEqual(10);
  expect(all.filter((e) => e.expected !== undefined).length).toBeGreaterThanOrEqual(6);
});

describe.each(examples().map((e) => [`docs/rules.md:${e.line}`, e] as const))('%s', (_, e) => {
  test(e.expected === undefined ? 'exits 0' : 'prints the documented output', () => {
    const script = `kestrel() { node ${JSON.stringify(join(ROOT, 'bin/kestrel.js'))} "$@"; }\n${e.script.replace(/npx kestrel/g, 'kestrel')}`;
    const r = spawnSync('bash', ['-c', script], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
    if (e.expected === undefined) {
      expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
    } else {
      expect(r.stdout).toBe(e.expected);
    }
  });
});
