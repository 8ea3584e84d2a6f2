/**
 * Abstract syntax of a Falco condition. Every node carries the character
 * offsets [start, end) inside the condition text it came from, so that a
 * loader can turn an error on a node into FILE:LINE:COL.
 */
export interface Span {
  start: number;
  end: number;
}

/** A field reference, e.g. `ka.user.name`, `ka.uri.param[command]`, `jevt.value[/a~1b]`. */
export interface FieldNode {
  type: 'field';
  name: string;
  /** Text between the brackets, undefined when the field has none. */
  arg?: string;
  span: Span;
}

/** A transformer applied to a field or to another transformer: `tolower(ka.user.name)`. */
export interface TransformNode {
  type: 'transform';
  /** tolower | toupper | b64 | basename | len | ... (lower case, as written) */
  fn: string;
  args: FieldExprNode[];
  span: Span;
}

export type FieldExprNode = FieldNode | TransformNode;

/** A literal value: quoted ("a b", 'a b') or bare (create, /etc, 42). */
export interface ValueNode {
  type: 'value';
  value: string;
  quoted: boolean;
  span: Span;
}

/** `(a, "b c", some_list)`; a bare item may name a list, resolved by the compiler. */
export interface ListNode {
  type: 'list';
  items: ValueNode[];
  span: Span;
}

/** Right-hand side `val(field)` (or a transformer over it): compare with another field of the event. */
export interface FieldValueNode {
  type: 'fieldvalue';
  field: FieldExprNode;
  span: Span;
}

export type RhsNode = ValueNode | ListNode | FieldValueNode;

export interface AndNode {
  type: 'and';
  /** Two or more operands, in source order. */
  operands: ConditionNode[];
  span: Span;
}

export interface OrNode {
  type: 'or';
  operands: ConditionNode[];
  span: Span;
}

export interface NotNode {
  type: 'not';
  operand: ConditionNode;
  span: Span;
}

/** A bare identifier standing alone as a condition: a macro reference. */
export interface MacroRefNode {
  type: 'macro';
  name: string;
  span: Span;
}

/** `field exists` */
export interface UnaryCheckNode {
  type: 'unary';
  op: 'exists';
  field: FieldExprNode;
  span: Span;
}

/** `field OP value` */
export interface BinaryCheckNode {
  type: 'binary';
  /** One of BINARY_OPERATORS, lower-cased. */
  op: BinaryOperator;
  field: FieldExprNode;
  value: RhsNode;
  span: Span;
}

export type ConditionNode = AndNode | OrNode | NotNode | MacroRefNode | UnaryCheckNode | BinaryCheckNode;

export const BINARY_OPERATORS = [
  '=', '==', '!=', '<', '<=', '>', '>=',
  'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith',
  'in', 'intersects', 'pmatch', 'glob', 'iglob', 'regex',
] as const;
export type BinaryOperator = (typeof BINARY_OPERATORS)[number];

/** Operators whose right-hand side is a list `(a, b)` (a single value is also accepted). */
export const LIST_OPERATORS: ReadonlySet<string> = new Set(['in', 'intersects', 'pmatch']);

export const TRANSFORMERS = ['tolower', 'toupper', 'b64', 'basename', 'len'] as const;
