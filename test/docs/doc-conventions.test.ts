/** The parsing and matching rules of the docs test (docs.test.ts), on small made-up documents. */
import { elisionPattern, normalise } from './expected-output';
import { DocShell } from './run-shell';
import { shellBlocks } from './shell-blocks';

const DOC = [
  '```sh',
  'echo hi',
  '```',
  '',
  '```text',
  'hi',
  '```',
  '',
  '_Not run by the docs test: needs a Kubernetes cluster._',
  '',
  '```sh',
  'kubectl get pods',
  '```',
  '',
  '<!-- docs-test: background, ready when http://127.0.0.1:9765/healthz answers -->',
  '```sh',
  'npx kestrel serve',
  '```',
  '',
  '```console',
  '$ A=1; echo $A \\',
  '    two',
  '1 two',
  '$ true',
  '```',
  '',
  '```',
  'not shell: no prompt',
  '```',
  '',
  '- in a list:',
  '',
  '  ```sh',
  '  echo listed',
  '  ```',
  '',
  'Output of the first command:',
  '',
  '<!-- docs-test: output of `echo hi` -->',
  '```',
  'hi',
  '```',
].join('\n');

test('script blocks, their output blocks, markers and console steps are found', () => {
  const blocks = shellBlocks('x.md', DOC);
  expect(blocks.map((b) => [b.line, b.kind, b.expected, b.skipReason, b.background?.readyUrl])).toEqual([
    [1, 'script', 'hi\n', undefined, undefined],
    [11, 'script', undefined, 'needs a Kubernetes cluster', undefined],
    [16, 'script', undefined, undefined, 'http://127.0.0.1:9765/healthz'],
    [20, 'console', undefined, undefined, undefined],
    [33, 'script', undefined, undefined, undefined],
    [40, 'script', 'hi\n', undefined, undefined],
  ]);
  expect(blocks[5].body).toBe('echo hi\n');
  expect(blocks[4].body).toBe('echo listed\n');
  expect(blocks[3].steps).toEqual([
    { command: 'A=1; echo $A \\\n    two', expected: '1 two\n' },
    { command: 'true', expected: '' },
  ]);
});

test('`...` elides whole lines on a line of its own and text inside a line, nothing else', () => {
  const p = elisionPattern('first (...)\n...\nlast\n')!;
  expect(p.test('first (a b c)\nx\ny\nlast\n')).toBe(true);
  expect(p.test('first (a b c)\nlast\n')).toBe(true);
  expect(p.test('first (a\nb)\nlast\n')).toBe(false);
  expect(p.test('first (a)\nlast\nmore\n')).toBe(false);
  expect(elisionPattern('no elision\n')).toBeUndefined();
});

test('normalise replaces only temp folders and hostnames', () => {
  expect(normalise('{"hostname":"vm","rule":"r"} /tmp/tmp.AbC123xyz/x 12 ms')).toBe('{"hostname":"HOST","rule":"r"} /tmp/tmp.XXXXXXXXXX/x 12 ms');
});

test('npm ci alone on a line is taken as done; npm ci or npm test inside a command is refused, not run', () => {
  const shell = new DocShell();
  try {
    expect(shell.run('npm ci\necho ran', { strict: true, timeoutMs: 10_000 })).toEqual({ status: 0, output: 'ran\n', timedOut: false });
    const refused = shell.run('npm ci && npm test', { strict: true, timeoutMs: 10_000 });
    expect(refused).toEqual({ status: null, output: 'docs test: not running "npm ci && npm test" (it reinstalls node_modules or runs the test suite); mark the block as not run\n', timedOut: false });
  } finally {
    shell.dispose();
  }
});
