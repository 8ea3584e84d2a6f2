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
 *    document's last block has run; a block with
 *    `<!-- docs-test: background, ready when URL answers -->` right before it
 *    (a server in the foreground) runs in the background, and the next block
 *    runs once URL answers. The lines `npm ci`, `npm install` and
 *    `npm run build` are taken as done, not run.
 *  - A script block followed by a ```text or untagged block (blank lines
 *    between at most) must print exactly that, stdout and stderr together as a
 *    terminal shows them. Without one it must exit 0 (it runs under `set -e`).
 *    An output block further away has `<!-- docs-test: output of `CMD` -->`
 *    right before it: CMD is run and must print it.
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
 *  - A block that needs Kafka has `<!-- docs-test: kafka -->` right before it:
 *    test/integration/docs-kafka.test.ts runs it (the integration project has
 *    the broker; this file does not), and the doc's commands take the
 *    broker's address from $KAFKA_BROKERS.
 */
import { BLOCKS, describeDocBlocks } from './run-doc-blocks';

test('the docs have shell examples, and every one not run says why', () => {
  expect(BLOCKS.length).toBeGreaterThanOrEqual(25);
  for (const b of BLOCKS.filter((x) => x.skipReason !== undefined)) {
    const where = `${b.file}:${b.line}`;
    expect({ where, reason: b.skipReason }).toEqual({ where, reason: expect.stringMatching(/^\S.{9,}/) });
  }
});

test('docs/rules.md shows rule tests, correlations and cost with runnable examples', () => {
  const rules = BLOCKS.filter((b) => b.file === 'docs/rules.md' && b.skipReason === undefined);
  expect(rules.length).toBeGreaterThanOrEqual(10);
  expect(rules.filter((b) => b.expected !== undefined).length).toBeGreaterThanOrEqual(6);
});

describeDocBlocks((b) => b.skipReason === undefined && !b.needsKafka);
