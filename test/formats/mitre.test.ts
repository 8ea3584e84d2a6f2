/** MITRE ATT&CK from Falco tags: tactic tags, technique tags, and how they pair. */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { attacksFromTags, isMitreTag } from '../../src/sinks/formats/mitre';

const PE = { uid: 'TA0004', name: 'Privilege Escalation' };
const PERSIST = { uid: 'TA0003', name: 'Persistence' };
const DE = { uid: 'TA0005', name: 'Defense Evasion' };

test('a technique pairs with each tagged tactic it belongs to', () => {
  expect(attacksFromTags(['k8s', 'rbac', 'mitre_privilege_escalation', 'mitre_persistence', 'T1098'])).toEqual([
    { tactic: PE, technique: { uid: 'T1098', name: 'Account Manipulation' } },
    { tactic: PERSIST, technique: { uid: 'T1098', name: 'Account Manipulation' } },
  ]);
});

test('a tactic no tagged technique belongs to stands alone, and so does such a technique', () => {
  expect(attacksFromTags(['mitre_persistence', 'mitre_defense_evasion', 'T1610'])).toEqual([
    { tactic: DE, technique: { uid: 'T1610', name: 'Deploy Container' } },
    { tactic: PERSIST },
  ]);
  expect(attacksFromTags(['mitre_persistence', 'T1578'])).toEqual([
    { technique: { uid: 'T1578', name: 'Modify Cloud Compute Infrastructure' } },
    { tactic: PERSIST },
  ]);
});

test('unknown techniques keep their id without a name; sub-techniques are kept', () => {
  expect(attacksFromTags(['mitre_credential_access', 'T1552.007'])).toEqual([
    { tactic: { uid: 'TA0006', name: 'Credential Access' }, technique: { uid: 'T1552', name: 'Unsecured Credentials' }, sub_technique: { uid: 'T1552.007' } },
  ]);
  expect(attacksFromTags(['T9999'])).toEqual([{ technique: { uid: 'T9999' } }]);
});

test('no MITRE tags, no attacks; other tags are not MITRE', () => {
  expect(attacksFromTags(['k8s', 'audit_trail', 'T16', 'mitre'])).toEqual([]);
  expect(['k8s', 'rbac', 'T1611', 'mitre_impact', 'MITRE_IMPACT', 'T1552.007'].map(isMitreTag)).toEqual([false, false, true, true, true, true]);
});

// Three rules tag a technique only with a tactic ATT&CK does not list it under; their technique
// and tactic are reported apart (as the mapping promises) rather than paired wrongly.
test("every technique of Kestrel's rules has a name; all but three pair with one of their rule's tactics", () => {
  const dir = resolve(__dirname, '../../rules');
  const rules = readdirSync(dir).filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseYaml(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>[])
    .filter((i) => 'rule' in i && Array.isArray(i.tags));
  const problems: string[] = [];
  for (const r of rules) {
    const attacks = attacksFromTags(r.tags as string[]);
    for (const x of attacks) if (x.technique && !x.technique.name) problems.push(`${r.rule}: ${x.technique.uid} has no name`);
    const techniques = (r.tags as string[]).filter((t) => /^T\d{4}/.test(t));
    for (const t of techniques) if (!attacks.some((x) => x.technique?.uid === t && x.tactic)) problems.push(`${r.rule}: ${t} pairs with no tactic`);
  }
  expect(problems).toEqual([
    'Privileged pod created: T1610 pairs with no tactic',
    'Role grants pod exec: T1098 pairs with no tactic',
    'CustomResourceDefinition created: T1578 pairs with no tactic',
  ]);
});
