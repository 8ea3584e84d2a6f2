import type { LineCounter, Scalar } from 'yaml';

/** Where a YAML scalar sits in its file, enough to locate an offset inside its value. */
export interface ScalarLocation {
  file: string;
  /** Full text of the file. */
  text: string;
  lineCounter: LineCounter;
  /** Source range of the scalar token, [start, end). */
  start: number;
  end: number;
  /** How the scalar was written (PLAIN, QUOTE_DOUBLE, BLOCK_FOLDED, ...). */
  style: string;
}

export interface Position {
  line: number;
  col: number;
}

export function scalarLocation(file: string, text: string, lineCounter: LineCounter, node: Scalar): ScalarLocation {
  const [start, end] = node.range ?? [0, 0];
  return { file, text, lineCounter, start, end, style: String(node.type ?? 'PLAIN') };
}

export function positionAt(loc: { lineCounter: LineCounter }, offset: number): Position {
  const p = loc.lineCounter.linePos(offset);
  return { line: p.line, col: p.col };
}

/**
 * Map an offset inside a scalar's *value* to a position in the file.
 * Folding and indentation change whitespace but keep every other character
 * in order, so we align the two texts on their non-whitespace characters.
 */
export function positionInScalar(loc: ScalarLocation, value: string, offset: number): Position {
  let wanted = 0;
  for (let i = 0; i < Math.min(offset, value.length); i++) if (!isSpace(value.charCodeAt(i))) wanted++;
  let i = loc.start;
  if (loc.style === 'BLOCK_FOLDED' || loc.style === 'BLOCK_LITERAL') {
    const nl = loc.text.indexOf('\n', i);
    i = nl < 0 ? loc.end : nl + 1;
  } else if (loc.style === 'QUOTE_DOUBLE' || loc.style === 'QUOTE_SINGLE') {
    i += 1;
  }
  for (; i < loc.end; i++) {
    if (isSpace(loc.text.charCodeAt(i))) continue;
    if (wanted === 0) break;
    wanted--;
  }
  return positionAt(loc, Math.min(i, Math.max(loc.start, loc.end - 1)));
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}
