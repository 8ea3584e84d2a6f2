/**
 * How a doc's output block is compared with what a command printed.
 *
 * Exact, except for two explicit allowances:
 *  - `...` in the doc: a line that is only `...` stands for any number of
 *    lines (none included); `...` inside a line stands for any text on that
 *    line. Docs use it to elide long or machine-dependent output.
 *  - normalise(): the few things that cannot be stable between runs are
 *    replaced on both sides before comparing (the list is below;
 *    keep it short, and prefer `...` in the doc).
 */

const NORMALISERS: [RegExp, string][] = [
  // Temporary folders made by `mktemp -d` in a doc block.
  [/\/tmp\/tmp\.[A-Za-z0-9]{6,}/g, '/tmp/tmp.XXXXXXXXXX'],
  // The machine's name in Falco JSON alerts.
  [/"hostname":"[^"]*"/g, '"hostname":"HOST"'],
];

/** Applied to both the doc's text and the actual output. */
export function normalise(text: string): string {
  return NORMALISERS.reduce((t, [re, to]) => t.replace(re, to), text);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A regular expression for `expected` with its `...` elisions, or undefined when it has none. */
export function elisionPattern(expected: string): RegExp | undefined {
  if (!expected.includes('...')) return undefined;
  const lines = expected.replace(/\n$/, '').split('\n');
  const body = lines
    .map((line) => (line === '...' ? '(?:[^\\n]*\\n)*?' : line.split('...').map(escape).join('[^\\n]*?') + '\\n'))
    .join('');
  return new RegExp(`^${body}$`);
}
