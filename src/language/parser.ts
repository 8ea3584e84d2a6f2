/**
 * Hand-written recursive-descent parser for Falco conditions, following the
 * grammar accepted by libsinsp's filter parser:
 *
 *   Or      ::= And ('or' And)*
 *   And     ::= Not ('and' Not)*
 *   Not     ::= 'not' Not | Primary
 *   Primary ::= '(' Or ')' | MacroName | FieldExpr Check
 *   Check   ::= 'exists' | CmpOp Rhs
 *   FieldExpr ::= FieldName ('[' Arg ']')? | Transformer '(' FieldExpr ')'
 *
 * The parser works directly on the string (no token stream) because what a
 * token is depends on where it appears: `<` is an operator after a field but
 * a bare value after `=` (`evt.dir=<`), and a field argument may contain
 * characters that end a value.
 */
import {
  BinaryOperator,
  ConditionNode,
  FieldExprNode,
  FieldNode,
  FieldValueNode,
  ListNode,
  RhsNode,
  Span,
  TransformNode,
  TRANSFORMERS,
  ValueNode,
} from './ast';

export class ParseError extends Error {
  /** 0-based character offset in the condition text where the problem is. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.name = 'ParseError';
    this.offset = offset;
  }
}

export function parseCondition(text: string): ConditionNode {
  return new Parser(text).parse();
}

const NUMERIC_OPERATORS: ReadonlySet<string> = new Set(['<', '<=', '>', '>=']);
const LIST_OPERATORS: ReadonlySet<string> = new Set(['in', 'intersects', 'pmatch']);
/** Word operators that libsinsp only recognises when a blank follows them. */
const BLANK_AFTER_OPERATORS: ReadonlySet<string> = new Set([
  'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'glob', 'iglob', 'regex',
]);
const WORD_OPERATORS: ReadonlySet<string> = new Set(['exists', ...LIST_OPERATORS, ...BLANK_AFTER_OPERATORS]);
const TRANSFORMER_NAMES: ReadonlySet<string> = new Set<string>(TRANSFORMERS);
/** Transformers newer libsinsp knows but whose argument shapes (literals, lists) the AST cannot hold. */
const UNSUPPORTED_TRANSFORMERS: ReadonlySet<string> = new Set(['join']);

/** Guards against stack exhaustion on pathological input (libsinsp caps depth too). */
const MAX_DEPTH = 200;

const enum Ch {
  Backspace = 8, Tab = 9, LF = 10, VT = 11, FF = 12, CR = 13, Space = 32,
  DQuote = 34, SQuote = 39, LParen = 40, RParen = 41, Comma = 44, Dot = 46,
  Equals = 61, LBracket = 91, Backslash = 92, RBracket = 93, Underscore = 95,
}

// libsinsp's blanks are space, \t, \b, \r, \n; \f and \v are added since its
// value regexes already treat them as separators.
function isBlank(c: number): boolean {
  return c === Ch.Space || (c >= Ch.Backspace && c <= Ch.CR);
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isIdentChar(c: number): boolean {
  return isAlpha(c) || (c >= 48 && c <= 57) || c === Ch.Underscore;
}

function isQuote(c: number): boolean {
  return c === Ch.DQuote || c === Ch.SQuote;
}

/** Bare value characters: anything but blanks, parentheses, quotes, `=` and `,`. */
function isBareChar(c: number): boolean {
  return !isBlank(c) && c !== Ch.LParen && c !== Ch.RParen && c !== Ch.Comma && c !== Ch.Equals && !isQuote(c);
}

/** Bare field-argument characters: anything but blanks, brackets and quotes. */
function isArgChar(c: number): boolean {
  return !isBlank(c) && c !== Ch.LBracket && c !== Ch.RBracket && !isQuote(c);
}

function isIdentifier(s: string): boolean {
  if (s.length === 0 || !isAlpha(s.charCodeAt(0))) return false;
  for (let i = 1; i < s.length; i++) if (!isIdentChar(s.charCodeAt(i))) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** libsinsp numbers: `0x` hex, or `[+-]?[0-9]+.?[0-9]*` with an optional exponent whose sign is mandatory. */
function isNumber(s: string): boolean {
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return true;
  let i = 0;
  const n = s.length;
  if (s[i] === '+' || s[i] === '-') i++;
  const intStart = i;
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  if (i === intStart) return false;
  if (s[i] === '.') i++;
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  if (i < n && (s[i] === 'e' || s[i] === 'E')) {
    i++;
    if (s[i] !== '+' && s[i] !== '-') return false;
    i++;
    const expStart = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    if (i === expStart) return false;
  }
  return i === n;
}

interface Name {
  text: string;
  start: number;
  /** True when the name has at least one `.segment`, i.e. is a field name. */
  dotted: boolean;
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  parse(): ConditionNode {
    this.skipBlanks();
    if (this.atEnd()) throw new ParseError('empty condition', 0);
    const node = this.parseOr();
    this.skipBlanks();
    if (!this.atEnd()) throw this.unexpected();
    return node;
  }

  // Every parse* method starts by skipping blanks and returns with `pos` just
  // after the last character it consumed, so `this.pos` is a node's span end.

  private parseOr(): ConditionNode {
    this.skipBlanks();
    const start = this.pos;
    const operands = [this.parseAnd()];
    while (this.acceptKeyword('or')) {
      this.expectOperand('or');
      operands.push(this.parseAnd());
    }
    return operands.length === 1 ? operands[0] : { type: 'or', operands, span: this.spanFrom(start) };
  }

  private parseAnd(): ConditionNode {
    this.skipBlanks();
    const start = this.pos;
    const operands = [this.parseNot()];
    while (this.acceptKeyword('and')) {
      this.expectOperand('and');
      operands.push(this.parseNot());
    }
    return operands.length === 1 ? operands[0] : { type: 'and', operands, span: this.spanFrom(start) };
  }

  private parseNot(): ConditionNode {
    this.skipBlanks();
    const start = this.pos;
    if (!this.acceptKeyword('not')) return this.parsePrimary();
    this.enter(start);
    this.expectOperand('not');
    const operand = this.parseNot();
    this.depth--;
    return { type: 'not', operand, span: this.spanFrom(start) };
  }

  private parsePrimary(): ConditionNode {
    this.skipBlanks();
    const start = this.pos;
    if (this.atEnd()) throw this.unexpected();
    if (this.peek() === Ch.LParen) {
      this.enter(start);
      this.pos++;
      this.skipBlanks();
      if (this.atEnd()) throw new ParseError('unbalanced parenthesis', start);
      const inner = this.parseOr();
      this.expectClose(start);
      this.depth--;
      return inner;
    }
    const name = this.scanName();
    if (!name || (!name.dotted && (name.text === 'and' || name.text === 'or'))) {
      this.pos = start;
      throw this.unexpected();
    }
    if (!name.dotted && this.peek() === Ch.LParen) {
      if (name.text === 'val') {
        throw new ParseError('val() can only be used on the right-hand side of a comparison', start);
      }
      return this.parseCheck(this.parseTransform(name));
    }
    if (name.dotted) return this.parseCheck(this.finishField(name));
    return { type: 'macro', name: name.text, span: this.spanFrom(start) };
  }

  /** The operator and right-hand side following a field or transformer. */
  private parseCheck(field: FieldExprNode): ConditionNode {
    const start = field.span.start;
    this.skipBlanks();
    const op = this.scanOperator(field);
    if (op === 'exists') return { type: 'unary', op, field, span: this.spanFrom(start) };
    const value = this.parseRhs(op);
    return { type: 'binary', op, field, value, span: this.spanFrom(start) };
  }

  private scanOperator(field: FieldExprNode): 'exists' | BinaryOperator {
    const t = this.text;
    const p = this.pos;
    const c = t[p];
    const next = t[p + 1];
    if (c === '=') return this.take(next === '=' ? '==' : '=');
    if (c === '<' || c === '>') return this.take((next === '=' ? c + '=' : c) as BinaryOperator);
    if (c === '!') {
      if (next === '=') return this.take('!=');
      throw new ParseError("unknown operator '!'", p);
    }
    let end = p;
    while (end < t.length && isIdentChar(t.charCodeAt(end))) end++;
    const word = t.slice(p, end);
    if (word === '' || word === 'and' || word === 'or') {
      let shown = t.slice(field.span.start, field.span.end).replace(/\s+/g, ' ');
      if (shown.length > 40) shown = `${shown.slice(0, 37)}...`;
      throw new ParseError(`expected an operator after '${shown}'`, p);
    }
    if (!WORD_OPERATORS.has(word)) throw new ParseError(`unknown operator '${word}'`, p);
    this.pos = end;
    if (BLANK_AFTER_OPERATORS.has(word) && !this.atEnd() && !isBlank(this.peek())) {
      throw new ParseError(`expected a blank after operator '${word}'`, end);
    }
    return word as 'exists' | BinaryOperator;
  }

  private take<T extends string>(op: T): T {
    this.pos += op.length;
    return op;
  }

  private parseRhs(op: BinaryOperator): RhsNode {
    this.skipBlanks();
    const start = this.pos;
    if (this.atEnd()) throw new ParseError(`expected a value after operator '${op}'`, start);
    const c = this.peek();
    const isList = LIST_OPERATORS.has(op);
    const isNumeric = NUMERIC_OPERATORS.has(op);
    if (c === Ch.LParen) {
      if (isList) return this.parseList();
      throw new ParseError(`operator '${op}' does not take a list`, start);
    }
    if (isQuote(c)) {
      if (isList) throw new ParseError(`expected a list after operator '${op}'`, start);
      if (isNumeric) throw new ParseError(`expected a number after operator '${op}'`, start);
      return this.scanQuoted();
    }
    const bare = this.scanBare();
    if (bare === '') throw new ParseError(`expected a value after operator '${op}'`, start);
    if (this.peek() === Ch.LParen) return this.parseFieldValue(bare, start);
    // libsinsp: list operators take a bare identifier (a list name), numeric
    // operators a number; everything else takes any bare string.
    if (isList && !isIdentifier(bare)) throw new ParseError(`expected a list after operator '${op}'`, start);
    if (isNumeric && !isNumber(bare)) throw new ParseError(`expected a number after operator '${op}'`, start);
    return { type: 'value', value: bare, quoted: false, span: this.spanFrom(start) };
  }

  /** `val(field)` or `transformer(...)` on the right-hand side; `pos` is at '('. */
  private parseFieldValue(word: string, start: number): FieldValueNode {
    if (word === 'val') {
      const open = this.pos;
      this.pos++;
      this.skipBlanks();
      const name = this.scanName();
      if (!name || !name.dotted || this.peek() === Ch.LParen) {
        if (this.atEnd()) throw new ParseError('unbalanced parenthesis', open);
        throw new ParseError('expected a field inside val()', name ? name.start : this.pos);
      }
      const field = this.finishField(name);
      this.expectClose(open);
      return { type: 'fieldvalue', field, span: this.spanFrom(start) };
    }
    if (!isIdentifier(word)) throw this.unexpected();
    const field = this.parseTransform({ text: word, start, dotted: false });
    return { type: 'fieldvalue', field, span: field.span };
  }

  /** `(a, "b c", some_list)`; `pos` is at '('. */
  private parseList(): ListNode {
    const open = this.pos;
    this.pos++;
    const items: ValueNode[] = [];
    this.skipBlanks();
    if (this.peek() !== Ch.RParen) {
      for (;;) {
        this.skipBlanks();
        if (this.atEnd()) throw new ParseError('unbalanced parenthesis', open);
        items.push(this.parseListItem());
        this.skipBlanks();
        if (this.atEnd()) throw new ParseError('unbalanced parenthesis', open);
        if (this.peek() !== Ch.Comma) break;
        this.pos++;
        this.skipBlanks();
        if (this.peek() === Ch.RParen) throw new ParseError("expected a value after ','", this.pos);
      }
    }
    if (this.atEnd()) throw new ParseError('unbalanced parenthesis', open);
    if (this.peek() !== Ch.RParen) throw this.unexpected();
    this.pos++;
    return { type: 'list', items, span: this.spanFrom(open) };
  }

  private parseListItem(): ValueNode {
    const start = this.pos;
    if (isQuote(this.peek())) return this.scanQuoted();
    const bare = this.scanBare();
    if (bare === '') throw this.unexpected();
    return { type: 'value', value: bare, quoted: false, span: this.spanFrom(start) };
  }

  /** `fn(arg)` where arg is a field or another transformer; `pos` is at '('. */
  private parseTransform(fn: Name): TransformNode {
    if (UNSUPPORTED_TRANSFORMERS.has(fn.text)) {
      throw new ParseError(`transformer '${fn.text}' is not supported`, fn.start);
    }
    if (!TRANSFORMER_NAMES.has(fn.text)) throw new ParseError(`unknown transformer '${fn.text}'`, fn.start);
    this.enter(fn.start);
    const open = this.pos;
    this.pos++;
    this.skipBlanks();
    if (this.atEnd()) throw new ParseError('unbalanced parenthesis', open);
    const name = this.scanName();
    let arg: FieldExprNode;
    if (name && !name.dotted && this.peek() === Ch.LParen) {
      if (name.text === 'val') throw new ParseError('val() cannot be used inside a transformer', name.start);
      arg = this.parseTransform(name);
    } else if (name && name.dotted) {
      arg = this.finishField(name);
    } else {
      throw new ParseError(`expected a field inside ${fn.text}()`, name ? name.start : this.pos);
    }
    this.skipBlanks();
    if (this.peek() === Ch.Comma) throw new ParseError(`transformer '${fn.text}' takes a single argument`, this.pos);
    this.expectClose(open);
    this.depth--;
    return { type: 'transform', fn: fn.text, args: [arg], span: this.spanFrom(fn.start) };
  }

  /** Optional `[arg]` right after a field name (no blank allowed before '['). */
  private finishField(name: Name): FieldNode {
    if (this.peek() !== Ch.LBracket) return { type: 'field', name: name.text, span: this.spanFrom(name.start) };
    this.pos++;
    let arg: string;
    if (isQuote(this.peek())) {
      arg = this.scanQuoted().value;
    } else {
      const argStart = this.pos;
      while (!this.atEnd() && isArgChar(this.peek())) this.pos++;
      if (this.pos === argStart) throw new ParseError('expected a field argument', this.pos);
      arg = this.text.slice(argStart, this.pos);
    }
    if (this.peek() !== Ch.RBracket) throw new ParseError("expected ']'", this.pos);
    this.pos++;
    return { type: 'field', name: name.text, arg, span: this.spanFrom(name.start) };
  }

  // ---- lexical helpers ----

  /** `[a-zA-Z][a-zA-Z0-9_]*` followed by any number of `.segment`s of the same shape. */
  private scanName(): Name | undefined {
    const t = this.text;
    const start = this.pos;
    if (!isAlpha(t.charCodeAt(start))) return undefined;
    let p = start + 1;
    let dotted = false;
    for (;;) {
      while (p < t.length && isIdentChar(t.charCodeAt(p))) p++;
      if (t.charCodeAt(p) !== Ch.Dot || !isAlpha(t.charCodeAt(p + 1))) break;
      dotted = true;
      p += 2;
    }
    this.pos = p;
    return { text: t.slice(start, p), start, dotted };
  }

  private scanBare(): string {
    const start = this.pos;
    while (!this.atEnd() && isBareChar(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /**
   * A quoted string. Like libsinsp, the closing quote is the first quote char
   * not immediately preceded by a backslash (so `"a\\"` does not end there);
   * the contents are then unescaped.
   */
  private scanQuoted(): ValueNode {
    const t = this.text;
    const start = this.pos;
    const quote = t.charCodeAt(start);
    let p = start + 1;
    let escaped = false;
    for (; p < t.length; p++) {
      const c = t.charCodeAt(p);
      if (c === Ch.Backslash) escaped = true;
      else if (c === quote && t.charCodeAt(p - 1) !== Ch.Backslash) break;
    }
    if (p >= t.length) throw new ParseError('unterminated string', start);
    this.pos = p + 1;
    const text = escaped ? unescape(t, start + 1, p, quote) : t.slice(start + 1, p);
    return { type: 'value', value: text, quoted: true, span: { start, end: p + 1 } };
  }

  /** Consumes `word` if it is next (after blanks) as a whole word; otherwise leaves `pos` untouched. */
  private acceptKeyword(word: string): boolean {
    const save = this.pos;
    this.skipBlanks();
    const t = this.text;
    const end = this.pos + word.length;
    if (t.startsWith(word, this.pos) && !isIdentChar(t.charCodeAt(end)) && t.charCodeAt(end) !== Ch.Dot) {
      this.pos = end;
      return true;
    }
    this.pos = save;
    return false;
  }

  private expectOperand(after: string): void {
    this.skipBlanks();
    if (this.atEnd()) throw new ParseError(`expected a condition after '${after}'`, this.pos);
  }

  private expectClose(open: number): void {
    this.skipBlanks();
    if (this.atEnd()) throw new ParseError('unbalanced parenthesis', open);
    if (this.peek() !== Ch.RParen) throw this.unexpected();
    this.pos++;
  }

  private enter(offset: number): void {
    if (++this.depth > MAX_DEPTH) throw new ParseError('condition is nested too deeply', offset);
  }

  private skipBlanks(): void {
    while (this.pos < this.text.length && isBlank(this.text.charCodeAt(this.pos))) this.pos++;
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private peek(): number {
    return this.text.charCodeAt(this.pos);
  }

  private spanFrom(start: number): Span {
    return { start, end: this.pos };
  }

  /** `unexpected 'X'` for the token at `pos`. */
  private unexpected(): ParseError {
    const t = this.text;
    const p = this.pos;
    if (p >= t.length) return new ParseError('unexpected end of condition', p);
    const c = t.charCodeAt(p);
    let end = p + 1;
    if (c !== Ch.LParen && c !== Ch.RParen && c !== Ch.Comma && c !== Ch.LBracket && c !== Ch.RBracket) {
      while (end < t.length && end - p < 40) {
        const d = t.charCodeAt(end);
        if (isBlank(d) || d === Ch.LParen || d === Ch.RParen || d === Ch.Comma) break;
        end++;
      }
    }
    return new ParseError(`unexpected '${t.slice(p, end)}'`, p);
  }
}

/**
 * libsinsp's escape rules: \b \f \n \r \t, \\ and \/ ; \" only inside
 * "-quoted and \' only inside '-quoted strings. `\ ` (backslash space) yields
 * a single backslash, a leniency libsinsp keeps for old rules.
 */
function unescape(t: string, from: number, to: number, quote: number): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const c = t[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = t[++i];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case ' ':
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case '"':
      case "'":
        if (e.charCodeAt(0) !== quote) {
          const kind = quote === Ch.DQuote ? 'double' : 'single';
          throw new ParseError(`invalid escape sequence '\\${e}' in ${kind}-quoted string`, i - 1);
        }
        out += e;
        break;
      default:
        throw new ParseError(`unsupported escape sequence '\\${e}'`, i - 1);
    }
  }
  return out;
}
