/** Kestrel as a library: load Falco rules, evaluate audit events, format alerts. */
export { Ruleset, type RulesetOptions, type RuleMatching, type RulesFile } from './engine/ruleset';
export { loadRuleset, readRuleFiles, resolveRulePaths } from './engine/load';
export { RulesetHolder } from './engine/holder';
export { alertJson, alertText, type Alert } from './engine/alert';
export { decodeDocument } from './decode/events';
export { DocumentSplitter } from './decode/documents';
export { catalogFor, KNOWN_SOURCES } from './fields';
export type { EventView, FieldDef, FieldValue } from './fields/types';
export { formatDiagnostic, type Diagnostic } from './language/diagnostics';
export { parseCondition, ParseError } from './language/parser';
export { VERSION, ENGINE_VERSION } from './version';
