/**
 * Falco's "unused macro" and "unused list" warnings (LOAD_UNUSED_MACRO,
 * LOAD_UNUSED_LIST): a macro that no rule or macro refers to, a list that no
 * rule, macro, exception or other list refers to.
 *
 * References are counted from every rule, of every source and enabled or not,
 * and from every macro, used or not, as Falco does. Falco knows the syscall
 * source, so a macro that only syscall rules use is "used" for Falco; Kestrel
 * skips those rules but counts their references too, so that Falco's own rule
 * files do not warn here where they do not warn in Falco.
 */
import type { ConditionNode, RhsNode } from './ast';
import type { RuleCollection } from './collector';
import { warningAt, type Diagnostic } from './diagnostics';
import { parseCondition, ParseError } from './parser';
import type { ConditionText } from './reader';

export function unusedDefinitions(coll: RuleCollection): Diagnostic[] {
  const macros = new Set<string>();
  const values = new Set<string>();
  const visit = (parts: ConditionText[]) => {
    const ast = tryParse(parts.map((p) => p.text).join(' '));
    if (ast) collect(ast, macros, values);
  };
  for (const m of coll.macros.values()) visit(m.condition);
  for (const r of coll.rules.values()) {
    visit(r.condition);
    for (const ex of r.exceptions) collectStrings(ex.values, values);
  }
  for (const l of coll.lists.values()) for (const item of l.items) if (item !== l.name) values.add(item);

  const out: Diagnostic[] = [];
  for (const m of coll.macros.values()) {
    if (!macros.has(m.name)) out.push(warningAt('LOAD_UNUSED_MACRO', m.file, m.pos, `macro '${m.name}' is not referred to by any rule or macro`));
  }
  for (const l of coll.lists.values()) {
    if (!values.has(l.name)) out.push(warningAt('LOAD_UNUSED_LIST', l.file, l.pos, `list '${l.name}' is not referred to by any rule, macro or list`));
  }
  return out;
}

/** A condition that does not parse is reported elsewhere (checkSyntax); here it refers to nothing. */
function tryParse(text: string): ConditionNode | undefined {
  try {
    return parseCondition(text);
  } catch (e) {
    if (e instanceof ParseError) return undefined;
    throw e;
  }
}

function collect(node: ConditionNode, macros: Set<string>, values: Set<string>): void {
  switch (node.type) {
    case 'and':
    case 'or':
      for (const n of node.operands) collect(n, macros, values);
      return;
    case 'not':
      collect(node.operand, macros, values);
      return;
    case 'macro':
      macros.add(node.name);
      return;
    case 'binary':
      collectRhs(node.value, values);
      return;
    case 'unary':
      return;
  }
}

/** Any value may name a list: the compiler expands list names in value lists and after set operators. */
function collectRhs(rhs: RhsNode, values: Set<string>): void {
  if (rhs.type === 'value') values.add(rhs.value);
  else if (rhs.type === 'list') for (const item of rhs.items) values.add(item.value);
}

function collectStrings(v: unknown, out: Set<string>): void {
  if (typeof v === 'string') out.add(v);
  else if (Array.isArray(v)) for (const x of v) collectStrings(x, out);
}
