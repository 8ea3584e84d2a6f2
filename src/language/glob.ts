/**
 * Shell-style wildcard matching (`*`, `?`, `[abc]`, `[!a-z]`) over a whole
 * string, as fnmatch without flags. The classic two-pointer algorithm: it
 * remembers only the last `*`, so it runs in O(n·m), never exponentially.
 */
export type GlobMatcher = (s: string) => boolean;

type Token = { kind: 'star' } | { kind: 'any' } | { kind: 'lit'; ch: string } | { kind: 'set'; negate: boolean; test: (c: string) => boolean };

export function compileGlob(pattern: string, caseInsensitive = false): GlobMatcher {
  const pat = caseInsensitive ? pattern.toLowerCase() : pattern;
  const tokens = tokenize(pat);
  return (input: string) => matchTokens(tokens, caseInsensitive ? input.toLowerCase() : input);
}

function tokenize(p: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '*') {
      if (out[out.length - 1]?.kind !== 'star') out.push({ kind: 'star' });
    } else if (c === '?') out.push({ kind: 'any' });
    else if (c === '[') {
      const close = p.indexOf(']', i + 2);
      if (close < 0) {
        out.push({ kind: 'lit', ch: c });
        continue;
      }
      let body = p.slice(i + 1, close);
      const negate = body[0] === '!' || body[0] === '^';
      if (negate) body = body.slice(1);
      const ranges: [string, string][] = [];
      for (let j = 0; j < body.length; j++) {
        if (body[j + 1] === '-' && j + 2 < body.length) {
          ranges.push([body[j], body[j + 2]]);
          j += 2;
        } else ranges.push([body[j], body[j]]);
      }
      out.push({ kind: 'set', negate, test: (ch) => ranges.some(([a, b]) => ch >= a && ch <= b) });
      i = close;
    } else if (c === '\\' && i + 1 < p.length) {
      out.push({ kind: 'lit', ch: p[++i] });
    } else out.push({ kind: 'lit', ch: c });
  }
  return out;
}

function matchOne(t: Token, ch: string): boolean {
  switch (t.kind) {
    case 'any':
      return true;
    case 'lit':
      return t.ch === ch;
    case 'set':
      return t.test(ch) !== t.negate;
    default:
      return false;
  }
}

function matchTokens(tokens: Token[], s: string): boolean {
  let ti = 0;
  let si = 0;
  let starTi = -1;
  let starSi = 0;
  while (si < s.length) {
    const t = tokens[ti];
    if (t && t.kind !== 'star' && matchOne(t, s[si])) {
      ti++;
      si++;
    } else if (t && t.kind === 'star') {
      starTi = ti++;
      starSi = si;
    } else if (starTi >= 0) {
      ti = starTi + 1;
      si = ++starSi;
    } else return false;
  }
  while (tokens[ti]?.kind === 'star') ti++;
  return ti === tokens.length;
}
