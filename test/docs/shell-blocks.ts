/**
 * Finds the shell examples of a markdown document (the conventions are in
 * docs.test.ts): fenced blocks tagged sh/bash/shell/console, and untagged
 * blocks whose first line starts with `$ `.
 */

export type BlockKind = 'script' | 'console';

/** One command of a console block and the output the doc shows for it. */
export interface ConsoleStep {
  command: string;
  expected: string;
}

export interface ShellBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  kind: BlockKind;
  body: string;
  /**
   * script blocks: the output block right after it, if any. An output block
   * with `<!-- docs-test: output of `CMD` -->` before it becomes a script
   * block of its own: CMD, expected to print it.
   */
  expected?: string;
  /** console blocks: each `$ ` command with its output. */
  steps?: ConsoleStep[];
  /** From a visible "Not run by the docs test: REASON." line right before the block. */
  skipReason?: string;
  /** `<!-- docs-test: kafka -->` right before the block: run by kafka-docs.test.ts with KAFKA_BROKERS set. */
  needsKafka?: boolean;
  /**
   * `<!-- docs-test: background, ready when URL answers -->`: a block that runs
   * until stopped (a server in the foreground) is run in the background, and
   * the test goes on once URL answers.
   */
  background?: { readyUrl: string };
}

interface Fence {
  lang: string;
  body: string;
  /** 0-based line index of the opening and closing fence. */
  open: number;
  close: number;
}

const SHELL_LANGS = new Set(['sh', 'bash', 'shell']);
/** The visible marker, alone on its line, optionally in *…* or _…_. */
const SKIP_LINE = /^[*_]?Not run by the docs test: (.+?)\.?[*_]?$/;
const KAFKA_LINE = /^<!--\s*docs-test:\s*kafka\s*-->$/;
const BACKGROUND_LINE = /^<!--\s*docs-test:\s*background, ready when (\S+) answers\s*-->$/;
/** Before an output block that is not right after its command: the command it shows the output of. */
const OUTPUT_OF_LINE = /^<!--\s*docs-test:\s*output of `([^`]+)`\s*-->$/;
const MARKERS = [SKIP_LINE, KAFKA_LINE, BACKGROUND_LINE, OUTPUT_OF_LINE];

function fences(lines: string[]): Fence[] {
  const out: Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    // Fences may be indented (inside a list item); the body loses that indentation.
    const open = /^( *)(`{3,})\s*([\w-]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, ticks, lang] = open;
    const close = lines.findIndex((l, j) => j > i && l.trim() === ticks);
    if (close < 0) throw new Error(`line ${i + 1}: unclosed code fence`);
    const body = lines.slice(i + 1, close).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l));
    out.push({ lang, body: body.join('\n') + '\n', open: i, close });
    i = close;
  }
  return out;
}

/** `$ cmd` lines (with `\` continuations) and the output lines that follow each. */
export function consoleSteps(body: string): ConsoleStep[] {
  const steps: ConsoleStep[] = [];
  const lines = body.replace(/\n$/, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('$ ')) throw new Error(`console block line "${lines[i]}" is neither a command nor output of one`);
    let command = lines[i].slice(2);
    while (command.endsWith('\\') && i + 1 < lines.length) command += '\n' + lines[++i];
    const output: string[] = [];
    while (i + 1 < lines.length && !lines[i + 1].startsWith('$ ')) output.push(lines[++i]);
    steps.push({ command, expected: output.length ? output.join('\n') + '\n' : '' });
  }
  return steps;
}

export function shellBlocks(file: string, markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const all = fences(lines);
  const blocks: ShellBlock[] = [];
  all.forEach((f, n) => {
    const isConsole = f.lang === 'console' || (f.lang === '' && f.body.startsWith('$ '));
    const isOutput = f.lang === 'text' || (f.lang === '' && !isConsole);
    const block: ShellBlock = { file, line: f.open + 1, kind: isConsole ? 'console' : 'script', body: f.body };

    // Markers: the lines right before the fence (blank lines between them allowed).
    let outputOf: string | undefined;
    for (let i = f.open - 1; i >= 0; i--) {
      const line = lines[i].trim();
      if (line === '') continue;
      if (!MARKERS.some((re) => re.test(line))) break;
      const skip = SKIP_LINE.exec(line);
      if (skip) block.skipReason = skip[1];
      if (KAFKA_LINE.test(line)) block.needsKafka = true;
      const background = BACKGROUND_LINE.exec(line);
      if (background) block.background = { readyUrl: background[1] };
      const output = OUTPUT_OF_LINE.exec(line);
      if (output) outputOf = output[1];
    }
    if (isOutput && outputOf !== undefined) {
      blocks.push({ ...block, body: outputOf + '\n', expected: f.body });
      return;
    }
    if (!isConsole && !SHELL_LANGS.has(f.lang)) return;

    if (isConsole) {
      block.steps = consoleSteps(f.body);
    } else {
      // An output block is a ```text or untagged block with only blank lines between.
      const next = all[n + 1];
      const between = next ? lines.slice(f.close + 1, next.open) : [];
      if (next && (next.lang === 'text' || (next.lang === '' && !next.body.startsWith('$ '))) && between.every((l) => l.trim() === '')) {
        block.expected = next.body;
      }
    }
    blocks.push(block);
  });
  return blocks;
}
