/**
 * The default rules' test events as a list of cases, read from the `tests:`
 * written in rules/*.yaml (the source of truth since `kestrel test`). Kept
 * for suites that want every test event of the default rules (test/formats).
 * Only tests with an inline `event` are cases; `events_file` tests (the
 * correlations' sequences) are not.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadRuleset } from '../../src/engine/load';
import type { AuditEvent } from './events';

const RULES_DIR = resolve(__dirname, '../../rules');

/** Override files the tests load with `with_rules:`, by the name suites use. */
const OVERRIDE_FILES = { allowlists: 'tests/enable-allowlists.yaml', allEvents: 'tests/enable-all-events.yaml' } as const;

export const OVERRIDES: Record<keyof typeof OVERRIDE_FILES, string> = {
  allowlists: readFileSync(join(RULES_DIR, OVERRIDE_FILES.allowlists), 'utf8'),
  allEvents: readFileSync(join(RULES_DIR, OVERRIDE_FILES.allEvents), 'utf8'),
};

export type OverrideName = keyof typeof OVERRIDES;

export interface Case {
  /** The test's name (or `test N`). */
  name: string;
  rule: string;
  /** expect: fires */
  positive: boolean;
  event: AuditEvent;
  overrides?: OverrideName;
}

function readCases(): Case[] {
  const { ruleset, diagnostics } = loadRuleset([RULES_DIR]);
  if (!ruleset) throw new Error(`rules/ does not load: ${JSON.stringify(diagnostics)}`);
  const byFile = new Map<string, OverrideName>(Object.entries(OVERRIDE_FILES).map(([k, f]) => [f, k as OverrideName]));
  const cases: Case[] = [];
  for (const item of ruleset.itemTests()) {
    if (item.kind !== 'rule') continue;
    for (const t of item.tests) {
      if (t.event === undefined) continue;
      const extra = t.withRules ?? [];
      if (extra.length > 1 || (extra.length === 1 && !byFile.has(extra[0]))) throw new Error(`${item.name} test ${t.index}: with_rules ${extra.join(', ')} has no override name`);
      cases.push({ name: t.name ?? `test ${t.index}`, rule: item.name, positive: t.expect === 'fires', event: t.event as AuditEvent, overrides: extra.length ? byFile.get(extra[0]) : undefined });
    }
  }
  return cases;
}

export const CASES: Case[] = readCases();
