/**
 * Rule compiler: turns the collected definitions of one event source into
 * closures. Conditions are parsed once, macros compiled once (and only when a
 * rule of this source uses them), list names expanded at compile time, and
 * every field expression bound to a memoized slot. Nothing here touches an
 * event; the engine calls the closures.
 */
import type { FieldCatalog, FieldDef } from '../fields/types';
import type {
  BinaryCheckNode, ConditionNode, FieldExprNode, ListNode, RhsNode, ValueNode,
} from './ast';
import { LIST_OPERATORS } from './ast';
import type { ListDef, MacroDef, RuleCollection, RuleDef } from './collector';
import { errorAt, warningAt, type Diagnostic, type ErrorCode } from './diagnostics';
import { positionInScalar, type Position } from './location';
import { compileMembership, compilePathPrefix, compileValueTest, OperatorError, type ValueTest } from './operators';
import { parseTemplate, TemplateError, type TemplatePart } from './output-template';
import { parseCondition, ParseError } from './parser';
import type { Priority } from './priority';
import type { ConditionText, ExceptionSpec } from './reader';
import { EvalContext, SlotRegistry, type Extractor } from './slots';
import { toText } from './values';

export type Predicate = (ctx: EvalContext) => boolean;

export interface CompiledOutputField {
  key: string;
  slot: number;
}

export interface CompiledRule {
  name: string;
  desc: string;
  priority: Priority;
  source: string;
  /** Sorted and unique, as Falco prints them. */
  tags: string[];
  enabled: boolean;
  file: string;
  line: number;
  /** Load order among the compiled rules of this source. */
  order: number;
  predicate: Predicate;
  /** Output template split into text and field slots. */
  output: (string | CompiledOutputField)[];
  /** The parsed condition with macros expanded, for analysis (rule index). */
  ast: ConditionNode;
}

export interface CompiledSource {
  source: string;
  catalog: FieldCatalog;
  slots: SlotRegistry;
  rules: CompiledRule[];
  /** A list's items with nested lists expanded; undefined when no such list. */
  listItems(name: string): string[] | undefined;
}

/** Where a condition's text came from: one or more YAML scalars joined by spaces (appends). */
interface Unit {
  text: string;
  pieces: { start: number; cond: ConditionText }[];
}

class CompileError extends Error {
  syntax = false;

  constructor(
    message: string,
    readonly unit: Unit | undefined,
    readonly offset: number,
    readonly unknownField = false,
    readonly at?: Position,
    /** Falco's classification: most problems are in the condition; see ERROR_CODES. */
    readonly code: ErrorCode = 'LOAD_ERR_COMPILE_CONDITION',
  ) {
    super(message);
  }
}

function unitOf(parts: ConditionText[]): Unit {
  let text = '';
  const pieces: Unit['pieces'] = [];
  for (const cond of parts) {
    if (text) text += ' ';
    pieces.push({ start: text.length, cond });
    text += cond.text;
  }
  return { text, pieces };
}

function locate(unit: Unit, offset: number): { file: string; line: number; col: number } {
  let piece = unit.pieces[0];
  for (const p of unit.pieces) if (p.start <= offset) piece = p;
  const pos = positionInScalar(piece.cond.loc, piece.cond.text, offset - piece.start);
  return { file: piece.cond.loc.file, ...pos };
}

/** Parse every macro and rule condition of the collection (all sources), reporting syntax errors. */
export function checkSyntax(coll: RuleCollection): Diagnostic[] {
  const out: Diagnostic[] = [];
  const check = (parts: ConditionText[], what: string) => {
    const unit = unitOf(parts);
    try {
      parseCondition(unit.text);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      const at = locate(unit, e.offset);
      out.push(errorAt('LOAD_ERR_COMPILE_CONDITION', at.file, at, `${what}: ${e.message}`));
    }
  };
  for (const m of coll.macros.values()) check(m.condition, `macro '${m.name}'`);
  for (const r of coll.rules.values()) check(r.condition, `rule '${r.name}'`);
  return out;
}

export function compileSource(coll: RuleCollection, source: string, catalog: FieldCatalog): { compiled: CompiledSource; diagnostics: Diagnostic[] } {
  const c = new SourceCompiler(coll, source, catalog);
  return c.run();
}

class SourceCompiler {
  private readonly slots = new SlotRegistry();
  private readonly diagnostics: Diagnostic[] = [];
  private readonly macroAsts = new Map<string, { ast: ConditionNode; unit: Unit }>();
  private readonly macroPreds = new Map<string, Predicate>();
  private readonly inProgress: string[] = [];
  private readonly expandedLists = new Map<string, string[]>();

  constructor(private readonly coll: RuleCollection, private readonly source: string, private readonly catalog: FieldCatalog) {}

  run(): { compiled: CompiledSource; diagnostics: Diagnostic[] } {
    const rules: CompiledRule[] = [];
    for (const def of this.coll.rules.values()) {
      if (def.source !== this.source) continue;
      const rule = this.compileRule(def, rules.length);
      if (rule) rules.push(rule);
    }
    const listItems = (name: string) => (this.coll.lists.has(name) ? this.listItems(name) : undefined);
    return { compiled: { source: this.source, catalog: this.catalog, slots: this.slots, rules, listItems }, diagnostics: this.diagnostics };
  }

  private compileRule(def: RuleDef, order: number): CompiledRule | undefined {
    const unit = unitOf(def.condition);
    try {
      const ast = this.parse(unit);
      let predicate = this.compileNode(ast, unit);
      const exceptions = def.exceptions.map((ex) => this.compileException(ex)).filter((p): p is Predicate => p !== undefined);
      if (exceptions.length > 0) {
        const cond = predicate;
        predicate = (ctx) => {
          if (!cond(ctx)) return false;
          for (const ex of exceptions) if (ex(ctx)) return false;
          return true;
        };
      }
      const output = this.compileOutput(def);
      const tags = [...new Set(def.tags)].sort();
      return {
        name: def.name, desc: def.desc, priority: def.priority, source: def.source, tags, enabled: def.enabled,
        file: def.file, line: def.pos.line, order, predicate, output, ast: this.expandMacros(ast),
      };
    } catch (e) {
      if (!(e instanceof CompileError)) throw e;
      const at = e.at ?? def.pos;
      const where = e.unit ? locate(e.unit, e.offset) : { file: def.file, line: at.line, col: at.col };
      const inRule = e.unit && e.unit !== unit ? ` (in rule '${def.name}')` : '';
      // Syntax errors were already reported, once per condition, by checkSyntax.
      if (e.syntax) return undefined;
      if (e.unknownField && def.skipIfUnknownFilter) {
        this.diagnostics.push(warningAt('LOAD_UNKNOWN_FILTER', where.file, where, `rule '${def.name}' skipped (skip-if-unknown-filter): ${e.message}`));
        return undefined;
      }
      this.diagnostics.push(errorAt(e.code, where.file, where, `rule '${def.name}': ${e.message}${inRule}`));
      return undefined;
    }
  }

  private parse(unit: Unit): ConditionNode {
    try {
      return parseCondition(unit.text);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      const err = new CompileError(e.message, unit, e.offset);
      err.syntax = true;
      throw err;
    }
  }

  private compileNode(node: ConditionNode, unit: Unit): Predicate {
    switch (node.type) {
      case 'and': {
        const ps = node.operands.map((n) => this.compileNode(n, unit));
        if (ps.length === 2) {
          const [a, b] = ps;
          return (ctx) => a(ctx) && b(ctx);
        }
        return (ctx) => {
          for (const p of ps) if (!p(ctx)) return false;
          return true;
        };
      }
      case 'or': {
        const ps = node.operands.map((n) => this.compileNode(n, unit));
        if (ps.length === 2) {
          const [a, b] = ps;
          return (ctx) => a(ctx) || b(ctx);
        }
        return (ctx) => {
          for (const p of ps) if (p(ctx)) return true;
          return false;
        };
      }
      case 'not': {
        const p = this.compileNode(node.operand, unit);
        return (ctx) => !p(ctx);
      }
      case 'macro':
        return this.macro(node.name, unit, node.span.start);
      case 'unary': {
        const slot = this.fieldSlot(node.field, unit);
        return (ctx) => ctx.get(slot).length > 0;
      }
      case 'binary':
        return this.compileCheck(node, unit);
    }
  }

  /** A macro reference: compiled on first use, shared by every rule after that. */
  private macro(name: string, unit: Unit, offset: number): Predicate {
    const done = this.macroPreds.get(name);
    if (done) return done;
    const def = this.coll.macros.get(name);
    if (!def) throw new CompileError(`undefined macro '${name}'`, unit, offset, false, undefined, 'LOAD_ERR_VALIDATE');
    if (this.inProgress.includes(name)) {
      throw new CompileError(`macro cycle: ${[...this.inProgress.slice(this.inProgress.indexOf(name)), name].join(' -> ')}`, unit, offset, false, undefined, 'LOAD_ERR_VALIDATE');
    }
    this.inProgress.push(name);
    try {
      const { ast, unit: mUnit } = this.macroAst(def);
      // A late-bound wrapper lets a cycle be detected instead of recursing forever.
      const pred = this.compileNode(ast, mUnit);
      this.macroPreds.set(name, pred);
      return pred;
    } finally {
      this.inProgress.pop();
    }
  }

  private macroAst(def: MacroDef): { ast: ConditionNode; unit: Unit } {
    let m = this.macroAsts.get(def.name);
    if (!m) {
      const unit = unitOf(def.condition);
      m = { ast: this.parse(unit), unit };
      this.macroAsts.set(def.name, m);
    }
    return m;
  }

  /** The condition with every macro reference replaced by the macro's own tree. */
  private expandMacros(node: ConditionNode, seen: string[] = []): ConditionNode {
    switch (node.type) {
      case 'and':
      case 'or':
        return { ...node, operands: node.operands.map((n) => this.expandMacros(n, seen)) };
      case 'not':
        return { ...node, operand: this.expandMacros(node.operand, seen) };
      case 'macro': {
        const def = this.coll.macros.get(node.name);
        if (!def || seen.includes(node.name)) return node;
        return this.expandMacros(this.macroAst(def).ast, [...seen, node.name]);
      }
      default:
        return node;
    }
  }

  private compileCheck(node: BinaryCheckNode, unit: Unit): Predicate {
    const slot = this.fieldSlot(node.field, unit);
    const info = this.slots.info[slot];
    const op = node.op === '==' ? '=' : node.op;
    try {
      if (node.value.type === 'fieldvalue') return this.compileFieldToField(op, slot, this.fieldSlot(node.value.field, unit), info.numeric);
      const values = this.rhsValues(node.value, LIST_OPERATORS.has(op));
      if (op === 'in' || op === 'intersects') {
        const test = compileMembership(values, info.numeric);
        if (op === 'in') {
          // On a list field `in` holds when every value is in the set.
          return (ctx) => {
            const vals = ctx.get(slot);
            if (vals.length === 0) return false;
            for (const v of vals) if (!test(v)) return false;
            return true;
          };
        }
        return (ctx) => {
          for (const v of ctx.get(slot)) if (test(v)) return true;
          return false;
        };
      }
      if (op === 'pmatch') {
        const m = compilePathPrefix(values);
        return (ctx) => {
          for (const v of ctx.get(slot)) if (m(toText(v))) return true;
          return false;
        };
      }
      if (node.value.type === 'list' && values.length !== 1) {
        throw new CompileError(`operator '${node.op}' takes a single value, not a list`, unit, node.value.span.start);
      }
      const test = compileValueTest(op, values[0], info.numeric);
      return anyValue(slot, test);
    } catch (e) {
      if (e instanceof OperatorError) throw new CompileError(e.message, unit, node.value.span.start);
      throw e;
    }
  }

  private compileFieldToField(op: string, slot: number, other: number, numeric: boolean): Predicate {
    if (op === 'in' || op === 'intersects') {
      return (ctx) => {
        const rhs = ctx.get(other);
        if (rhs.length === 0) return false;
        const test = compileMembership(rhs.map(toText), numeric);
        const vals = ctx.get(slot);
        return op === 'in' ? vals.length > 0 && vals.every(test) : vals.some(test);
      };
    }
    return (ctx) => {
      const rhs = ctx.get(other);
      if (rhs.length === 0) return false;
      let test: ValueTest;
      try {
        test = op === 'pmatch' ? ((m) => (v) => m(toText(v)))(compilePathPrefix([toText(rhs[0])])) : compileValueTest(op, toText(rhs[0]), numeric);
      } catch {
        return false;
      }
      for (const v of ctx.get(slot)) if (test(v)) return true;
      return false;
    };
  }

  /** Right-hand values as text, with list names expanded (inside parentheses, or alone for set operators). */
  private rhsValues(rhs: Exclude<RhsNode, { type: 'fieldvalue' }>, setOperator: boolean): string[] {
    if (rhs.type === 'value') return setOperator ? this.expandItem(rhs.value) : [rhs.value];
    const out: string[] = [];
    for (const item of (rhs as ListNode).items) out.push(...this.expandItem((item as ValueNode).value));
    return out;
  }

  private expandItem(item: string): string[] {
    return this.coll.lists.has(item) ? this.listItems(item) : [item];
  }

  /** A list's items with nested list names replaced by their items (cycles cut). */
  private listItems(name: string, seen: string[] = []): string[] {
    const cached = this.expandedLists.get(name);
    if (cached) return cached;
    const def = this.coll.lists.get(name) as ListDef;
    const out: string[] = [];
    for (const item of def.items) {
      if (this.coll.lists.has(item) && item !== name && !seen.includes(item)) out.push(...this.listItems(item, [...seen, name]));
      else out.push(item);
    }
    if (seen.length === 0) this.expandedLists.set(name, out);
    return out;
  }

  private fieldSlot(node: FieldExprNode, unit: Unit | undefined, at = 0): number {
    if (node.type === 'transform') {
      if (node.args.length !== 1) throw new CompileError(`transformer '${node.fn}' takes one argument`, unit, node.span.start);
      const inner = this.fieldSlot(node.args[0], unit);
      const innerInfo = this.slots.info[inner];
      const fn = TRANSFORMS[node.fn];
      if (!fn) throw new CompileError(`unknown transformer '${node.fn}'`, unit, node.span.start);
      return this.slots.slot(`${node.fn}(${innerInfo.key})`, () => ({
        extract: (ctx) => fn(ctx.get(inner), innerInfo.isList),
        info: { def: innerInfo.def, numeric: node.fn === 'len' ? true : innerInfo.numeric, isList: node.fn === 'len' ? false : innerInfo.isList },
      }));
    }
    const offset = unit ? node.span.start : at;
    const def = this.catalog.get(node.name);
    if (!def) throw new CompileError(`unknown field '${node.name}' for source ${this.source}`, unit, offset, true);
    const argError = checkFieldArg(def, node.arg);
    if (argError) throw new CompileError(argError, unit, offset);
    const key = node.arg === undefined ? def.name : `${def.name}[${node.arg}]`;
    const arg = node.arg;
    return this.slots.slot(key, () => ({
      extract: ((ctx) => def.extract(ctx.view, arg)) as Extractor,
      info: { def, numeric: isIntegerType(def), isList: def.isList && !(def.arg?.kind === 'index' && arg !== undefined) },
    }));
  }

  /**
   * An exception is a disjunction of value tuples; the rule fires only when
   * none of its exceptions matches. Built as a tree and compiled like a condition.
   */
  private compileException(ex: ExceptionSpec): Predicate | undefined {
    const fail = (msg: string): never => {
      throw new CompileError(`exception '${ex.name}': ${msg}`, undefined, 0, false, ex.pos, 'LOAD_ERR_VALIDATE');
    };
    try {
      if (ex.fields === undefined) fail('has no fields');
      const single = typeof ex.fields === 'string';
      const fields = single ? [ex.fields as string] : (ex.fields as string[]);
      let comps: string[];
      if (ex.comps === undefined) comps = fields.map(() => (single ? 'in' : '='));
      else if (single) comps = [typeof ex.comps === 'string' ? ex.comps : (ex.comps as string[])[0]];
      else {
        if (typeof ex.comps === 'string') fail('comps must be a list when fields is a list');
        comps = ex.comps as string[];
        if (comps.length !== fields.length) fail(`has ${fields.length} fields but ${comps.length} comps`);
      }
      const VALID = new Set(['=', '==', '!=', '<', '<=', '>', '>=', 'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'in', 'intersects', 'pmatch', 'glob', 'iglob', 'regex']);
      for (const c of comps) if (!VALID.has(c)) fail(`unknown comparison operator '${c}'`);
      const slots = fields.map((f) => this.fieldSlot(parseFieldName(f, fail), undefined));
      const values = ex.values ?? [];
      if (values.length === 0) return undefined;
      const tuples: Predicate[] = [];
      for (const tuple of values) {
        const row = single ? [tuple] : Array.isArray(tuple) ? tuple : fail(`value ${JSON.stringify(tuple)} must be a list of ${fields.length} values`);
        if (row.length !== fields.length) fail(`value ${JSON.stringify(tuple)} has ${row.length} items for ${fields.length} fields`);
        const checks = row.map((v: unknown, i: number) => this.exceptionCheck(slots[i], comps[i], v, single, fail));
        tuples.push((ctx) => checks.every((p: Predicate) => p(ctx)));
      }
      return (ctx) => tuples.some((p) => p(ctx));
    } catch (e) {
      if (e instanceof CompileError && e.unit === undefined && !e.message.startsWith('exception')) {
        throw new CompileError(`exception '${ex.name}': ${e.message}`, undefined, 0, e.unknownField, ex.pos, 'LOAD_ERR_VALIDATE');
      }
      throw e;
    }
  }

  private exceptionCheck(slot: number, comp: string, value: unknown, single: boolean, fail: (m: string) => never): Predicate {
    const info = this.slots.info[slot];
    const isSet = LIST_OPERATORS.has(comp);
    let values: string[];
    if (Array.isArray(value)) {
      if (!isSet) fail(`comparison '${comp}' takes a single value, got a list`);
      values = value.flatMap((v) => this.expandItem(String(v)));
    } else if (single && isSet) {
      values = this.expandItem(String(value));
    } else {
      values = isSet ? this.expandItem(String(value)) : [String(value)];
    }
    try {
      if (!isSet) {
        if (values.length !== 1) fail(`comparison '${comp}' takes a single value`);
        return anyValue(slot, compileValueTest(comp === '==' ? '=' : comp, values[0], info.numeric));
      }
      if (comp === 'pmatch') {
        const m = compilePathPrefix(values);
        return (ctx) => ctx.get(slot).some((v) => m(toText(v)));
      }
      const test = compileMembership(values, info.numeric);
      if (comp === 'in') return (ctx) => { const v = ctx.get(slot); return v.length > 0 && v.every(test); };
      return (ctx) => ctx.get(slot).some(test);
    } catch (e) {
      if (e instanceof OperatorError) fail(e.message);
      throw e;
    }
  }

  private compileOutput(def: RuleDef): (string | CompiledOutputField)[] {
    let parts: TemplatePart[];
    try {
      parts = parseTemplate(def.output, this.catalog);
    } catch (e) {
      if (e instanceof TemplateError) throw new CompileError(e.message, undefined, 0, true, undefined, 'LOAD_ERR_COMPILE_OUTPUT');
      throw e;
    }
    return parts.map((p) => {
      if (typeof p === 'string') return p;
      try {
        const slot = this.fieldSlot({ type: 'field', name: p.name, arg: p.arg, span: { start: 0, end: 0 } }, undefined);
        return { key: p.key, slot };
      } catch (e) {
        if (e instanceof CompileError) throw new CompileError(e.message, undefined, 0, e.unknownField, undefined, 'LOAD_ERR_COMPILE_OUTPUT');
        throw e;
      }
    });
  }
}

function anyValue(slot: number, test: ValueTest): Predicate {
  return (ctx) => {
    const vals = ctx.get(slot);
    for (let i = 0; i < vals.length; i++) if (test(vals[i])) return true;
    return false;
  };
}

/** `ka.uri.param[command]` as written in an exception's `fields`. */
function parseFieldName(text: string, fail: (m: string) => never): FieldExprNode {
  const m = /^([A-Za-z_][A-Za-z0-9_.\-]*)(?:\[(.*)\])?$/.exec(text.trim());
  if (!m) fail(`'${text}' is not a field name`);
  return { type: 'field', name: m![1], arg: m![2], span: { start: 0, end: 0 } };
}

export function checkFieldArg(def: FieldDef, arg: string | undefined): string | undefined {
  if (arg === undefined) return def.arg?.required ? `field '${def.name}' requires an argument, e.g. ${def.name}[${def.arg.kind === 'index' ? '0' : def.arg.kind === 'pointer' ? '/path' : 'name'}]` : undefined;
  if (!def.arg) return `field '${def.name}' does not take an argument`;
  if (def.arg.kind === 'index' && !/^\d+$/.test(arg)) return `field '${def.name}' takes a numeric index, not '${arg}'`;
  if (def.arg.kind === 'pointer' && arg !== '' && !arg.startsWith('/')) return `field '${def.name}' takes a JSON pointer starting with '/', not '${arg}'`;
  return def.checkArg?.(arg);
}

function isIntegerType(def: FieldDef): boolean {
  return def.type === 'uint64' || def.type === 'int64' || def.type === 'reltime' || def.type === 'abstime';
}

type Transform = (vals: import('../fields/types').FieldValue[], isList: boolean) => import('../fields/types').FieldValue[];

const TRANSFORMS: Record<string, Transform> = {
  tolower: (vals) => vals.map((v) => toText(v).toLowerCase()),
  toupper: (vals) => vals.map((v) => toText(v).toUpperCase()),
  b64: (vals) => vals.map((v) => Buffer.from(toText(v), 'base64').toString('utf8')),
  basename: (vals) => vals.map((v) => {
    const t = toText(v);
    return t.slice(t.lastIndexOf('/') + 1);
  }),
  len: (vals, isList) => (isList ? [vals.length] : vals.map((v) => toText(v).length)),
};

export { EvalContext };
