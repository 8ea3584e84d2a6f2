/**
 * Correlation rules from collected definitions to what the Correlator runs:
 * base rules resolved, group-by and output fields bound to the source's
 * field catalog, the output template split once. Errors are located at the
 * correlation item.
 */
import { catalogFor } from '../../fields';
import type { FieldCatalog, FieldDef } from '../../fields/types';
import type { CorrelationDef, RuleCollection } from '../../language/collector';
import type { CorrelationCondition, CorrelationType } from '../../language/correlation-item';
import { errorAt, type Diagnostic } from '../../language/diagnostics';
import { checkFieldArg } from '../../language/compiler';
import { parseTemplate, TemplateError } from '../../language/output-template';
import type { Priority } from '../../language/priority';

/** Values a correlation output can print besides the fields of the source. */
export const CORRELATION_FIELDS = ['correlation.count', 'correlation.values', 'correlation.first_time', 'correlation.last_time', 'correlation.rules'] as const;
export type CorrelationField = (typeof CORRELATION_FIELDS)[number];

export interface BoundField {
  /** As written (`ka.user.name`, `jevt.value[/sourceIPs/0]`): the output_fields key. */
  key: string;
  def: FieldDef;
  arg?: string;
}

export type OutputPart = string | { field: BoundField } | { correlation: CorrelationField };

export interface CompiledCorrelation {
  name: string;
  type: CorrelationType;
  /** Base rules, in the listed order (the order matters for temporal_ordered). */
  rules: string[];
  groupBy: BoundField[];
  /** value_count: the field whose distinct values are counted. */
  valueField?: BoundField;
  timespanMs: number;
  /** Threshold; temporal types have none (every listed rule must match). */
  condition?: CorrelationCondition;
  output: OutputPart[];
  /** Source fields the output prints (other than group-by fields), taken from the latest match. */
  outputFields: BoundField[];
  priority: Priority;
  tags: string[];
  source: string;
  desc: string;
  file: string;
  line: number;
}

/** Compile the enabled correlations; `compiledRules` maps each compiled base rule to its source. */
export function compileCorrelations(coll: RuleCollection, compiledRules: Map<string, string>): { correlations: CompiledCorrelation[]; diagnostics: Diagnostic[] } {
  const correlations: CompiledCorrelation[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const def of coll.correlations.values()) {
    try {
      const c = compileOne(def, coll, compiledRules);
      if (c && def.enabled) correlations.push(c);
    } catch (e) {
      if (!(e instanceof CorrelationError)) throw e;
      diagnostics.push(errorAt('LOAD_ERR_VALIDATE', def.file, def.pos, `correlation '${def.name}': ${e.message}`));
    }
  }
  return { correlations, diagnostics };
}

export class CorrelationError extends Error {}

function compileOne(def: CorrelationDef, coll: RuleCollection, compiledRules: Map<string, string>): CompiledCorrelation | undefined {
  if (def.rules.length === 0) throw new CorrelationError(`'rules' names no base rule`);
  const sources = new Set<string>();
  for (const r of def.rules) {
    const rule = coll.rules.get(r);
    if (!rule) throw new CorrelationError(`base rule '${r}' is not defined`);
    sources.add(rule.source);
  }
  if (sources.size > 1) throw new CorrelationError(`base rules are of different sources (${[...sources].join(', ')})`);
  const source = [...sources][0];
  const catalog = catalogFor(source);
  // Base rules of a source Kestrel does not evaluate: the correlation is skipped like them.
  if (!catalog) return undefined;
  for (const r of def.rules) {
    if (!compiledRules.has(r)) throw new CorrelationError(`base rule '${r}' did not compile`);
  }
  const temporal = def.type === 'temporal' || def.type === 'temporal_ordered';
  if (temporal) {
    if (def.condition) throw new CorrelationError(`a ${def.type} correlation takes no 'condition' (every listed rule must match)`);
    if (def.rules.length < 2) throw new CorrelationError(`a ${def.type} correlation needs at least two base rules`);
    if (new Set(def.rules).size !== def.rules.length) throw new CorrelationError(`'rules' lists a rule twice`);
  } else if (!def.condition) {
    throw new CorrelationError(`an ${def.type} correlation needs a 'condition' such as {gte: 10}`);
  }
  if (def.type === 'value_count' && !def.condition?.field) throw new CorrelationError(`a value_count correlation needs 'field' in its condition`);
  if (def.type !== 'value_count' && def.condition?.field) throw new CorrelationError(`only value_count takes a condition 'field'`);
  const groupBy = def.groupBy.map((f) => bindField(catalog, f));
  const valueField = def.condition?.field ? bindField(catalog, def.condition.field) : undefined;
  let parts;
  try {
    parts = parseTemplate(def.output, withCorrelationFields(catalog));
  } catch (e) {
    if (e instanceof TemplateError) throw new CorrelationError(e.message);
    throw e;
  }
  const outputFields: BoundField[] = [];
  const output: OutputPart[] = parts.map((p) => {
    if (typeof p === 'string') return p;
    if ((CORRELATION_FIELDS as readonly string[]).includes(p.name)) {
      if (p.arg !== undefined) throw new CorrelationError(`'${p.name}' takes no argument`);
      if (p.name === 'correlation.values' && def.type !== 'value_count') throw new CorrelationError(`'%correlation.values' is only known to value_count correlations`);
      return { correlation: p.name as CorrelationField };
    }
    const field = bindField(catalog, p.key);
    if (!groupBy.some((g) => g.key === field.key) && !outputFields.some((f) => f.key === field.key)) outputFields.push(field);
    return { field };
  });
  return {
    name: def.name, type: def.type, rules: def.rules, groupBy, valueField, timespanMs: def.timespanMs, condition: def.condition,
    output, outputFields, priority: def.priority, tags: [...new Set(def.tags)].sort(), source, desc: def.desc, file: def.file, line: def.pos.line,
  };
}

export function bindField(catalog: FieldCatalog, text: string): BoundField {
  const m = /^([A-Za-z_][A-Za-z0-9_.\-]*)(?:\[(.*)\])?$/.exec(text.trim());
  if (!m) throw new CorrelationError(`'${text}' is not a field name`);
  const def = catalog.get(m[1]);
  if (!def) throw new CorrelationError(`unknown field '${m[1]}' for source ${catalog.source}`);
  const argError = checkFieldArg(def, m[2]);
  if (argError) throw new CorrelationError(argError);
  return { key: m[2] === undefined ? def.name : `${def.name}[${m[2]}]`, def, arg: m[2] };
}

/** The source's catalog plus the correlation.* names, so output templates can name both. */
function withCorrelationFields(base: FieldCatalog): FieldCatalog {
  const extra: FieldDef[] = CORRELATION_FIELDS.map((name) => ({ name, type: 'string', isList: false, desc: 'correlation value', extract: () => [] }));
  const all = [...base.all(), ...extra];
  return { source: base.source, get: (n) => base.get(n) ?? extra.find((f) => f.name === n), all: () => all };
}
