/** Alerts of the default rules' test events, and validators of the published alert schemas (docs/schemas/). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { alertJson, type Alert } from '../../src/engine/alert';
import { alertContext, type IncludeEvent } from '../../src/engine/alert-context';
import { loadRuleset } from '../../src/engine/load';
import type { Ruleset } from '../../src/engine/ruleset';
import type { EventView } from '../../src/fields/types';
import type { FormattableAlert } from '../../src/sinks/formats';
import { CASES, OVERRIDES, type OverrideName } from '../rules/cases';

export const SCHEMA_DIR = resolve(__dirname, '../../docs/schemas');
const RULES_DIR = resolve(__dirname, '../../rules');

export type SchemaName = 'falco-alert' | 'ocsf-detection-finding' | 'ecs-alert' | 'audit-context';

/** One Ajv instance with every schema of docs/schemas (they refer to each other). */
export function validators(): Record<SchemaName, ValidateFunction> {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
  addFormats(ajv);
  for (const n of ['audit-context', 'falco-alert', 'ocsf-detection-finding', 'ecs-alert'] as const) {
    ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, `${n}.schema.json`), 'utf8')));
  }
  const get = (n: SchemaName) => ajv.getSchema(`${n}.schema.json`)!;
  return { 'falco-alert': get('falco-alert'), 'ocsf-detection-finding': get('ocsf-detection-finding'), 'ecs-alert': get('ecs-alert'), 'audit-context': get('audit-context') };
}

/** Ajv errors as short lines, for readable failures. */
export function errorsOf(v: ValidateFunction): string[] {
  return (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim());
}

export function rulesetWith(overrides: string[] = [], hostname = 'kestrel-test'): Ruleset {
  const tmp = mkdtempSync(join(tmpdir(), 'kestrel-formats-test-'));
  try {
    const paths = [RULES_DIR];
    overrides.forEach((text, i) => {
      const p = join(tmp, `override-${i}.yaml`);
      writeFileSync(p, text);
      paths.push(p);
    });
    const { ruleset, diagnostics } = loadRuleset(paths, { ruleMatching: 'all', hostname });
    expect(diagnostics).toEqual([]);
    return ruleset!;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** What the worker attaches: the alert, its Falco JSON and the event context. */
export function outgoing(alert: Alert, view: EventView, include: IncludeEvent = 'full', maxEventBytes = 1 << 20): FormattableAlert {
  return { alert, json: alertJson(alert), context: alertContext(view, view.source, include, maxEventBytes) };
}

export interface CaseAlert {
  name: string;
  view: EventView;
  alert: Alert;
}

/** Every alert the default rules raise for the events of test/rules/cases.ts (rule_matching all). */
export function caseAlerts(): CaseAlert[] {
  const rulesets = new Map<string, Ruleset>();
  const out: CaseAlert[] = [];
  for (const c of CASES) {
    const key: OverrideName | 'default' = c.overrides ?? 'default';
    let rs = rulesets.get(key);
    if (!rs) {
      rs = rulesetWith(c.overrides ? [OVERRIDES[c.overrides]] : []);
      rulesets.set(key, rs);
    }
    const view: EventView = { obj: c.event, source: 'k8s_audit' };
    for (const alert of rs.evaluate(view)) out.push({ name: `${c.rule} ${c.positive ? '+' : '-'} ${c.name}: ${alert.rule}`, view, alert });
  }
  return out;
}
