/**
 * Kestrel's default rules (rules/), loaded through the real engine: the
 * tests written in the rule files (what `kestrel test -r rules/` runs), and
 * the properties the ruleset promises (coverage, tags, overrides, examples).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { formatTime } from '../../src/engine/alert';
import { loadRuleset } from '../../src/engine/load';
import type { Ruleset, RulesetOptions } from '../../src/engine/ruleset';
import { formatOutcome, runRuleTests } from '../../src/cli/test';
import { ADMIN, createPod, DANA, request, type AuditEvent } from './events';

const RULES_DIR = resolve(__dirname, '../../rules');
const EXAMPLES = resolve(__dirname, '../../examples/audit-events.jsonl');

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'kestrel-rules-test-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let fileNo = 0;
/** Load rules/ plus override files (YAML text), written to a temp folder. */
function load(overrides: string[] = [], options: RulesetOptions = { ruleMatching: 'all' }): Ruleset {
  const paths = [RULES_DIR];
  for (const text of overrides) {
    const p = join(tmp, `override-${++fileNo}.yaml`);
    writeFileSync(p, text);
    paths.push(p);
  }
  const { ruleset, diagnostics } = loadRuleset(paths, options);
  expect(diagnostics).toEqual([]);
  return ruleset!;
}

const fired = (rs: Ruleset, ev: AuditEvent): string[] => rs.evaluate({ obj: ev, source: 'k8s_audit' }).map((a) => a.rule).sort();

const ruleNames = () => load().compiledRules().map((r) => r.name);
const ALLOWLISTS = readFileSync(join(RULES_DIR, 'tests/enable-allowlists.yaml'), 'utf8');
const ALL_EVENTS = readFileSync(join(RULES_DIR, 'tests/enable-all-events.yaml'), 'utf8');
/** The rule tests of rules/, with their specs. */
const itemTests = () => load().itemTests();

describe('default rules load cleanly', () => {
  test('no diagnostics; 61 rules, all compiled for k8s_audit and enabled; 4 correlations', () => {
    const { ruleset, diagnostics } = loadRuleset([RULES_DIR]);
    expect(diagnostics).toEqual([]);
    const summary = ruleset!.summary().rules;
    expect(summary).toHaveLength(61);
    expect(summary.filter((r) => !r.compiled || !r.enabled || r.source !== 'k8s_audit')).toEqual([]);
    expect(summary.filter((r) => !r.alert).map((r) => r.name)).toEqual([
      'Secret read (correlation feed)', 'Request forbidden (correlation feed)', 'Pod created (correlation feed)',
      'Pod deleted (correlation feed)', 'Cluster-wide read (correlation feed)',
    ]);
    expect(ruleset!.correlations.map((c) => [c.name, c.type])).toEqual([
      ['Secret enumeration by one identity', 'value_count'],
      ['Burst of forbidden requests', 'event_count'],
      ["Pod created, exec'd into and deleted", 'temporal_ordered'],
      ['ClusterRoleBinding created, then cluster-wide reads', 'temporal_ordered'],
    ]);
  });

  test('every rule has a description, an output ending with the audit id, and a MITRE ATT&CK technique tag', () => {
    const items = readdirSync(RULES_DIR).filter((f) => f.endsWith('.yaml')).sort()
      .flatMap((f) => parseYaml(readFileSync(join(RULES_DIR, f), 'utf8')) as Record<string, unknown>[])
      .filter((i) => 'rule' in i);
    expect(items).toHaveLength(61);
    const problems: string[] = [];
    for (const r of items) {
      const name = r.rule as string;
      if (typeof r.desc !== 'string' || r.desc.trim().length < 30) problems.push(`${name}: desc`);
      if (typeof r.output !== 'string' || !/audit_id=%ka\.auditid\)\s*$/.test(r.output)) problems.push(`${name}: output`);
      const tags = r.tags as string[];
      if (!tags.includes('k8s')) problems.push(`${name}: k8s tag`);
      if (name !== 'Audit event' && !tags.some((t) => /^T\d{4}$/.test(t))) problems.push(`${name}: technique tag`);
    }
    expect(problems).toEqual([]);
  });
});

describe('the rule tests in rules/ (kestrel test -r rules/)', () => {
  test('all 178 tests pass: 170 of rules, 8 of correlations', () => {
    const report = runRuleTests([RULES_DIR]);
    expect(report.diagnostics).toEqual([]);
    expect(report.outcomes.filter((o) => o.status !== 'pass').map(formatOutcome)).toEqual([]);
    expect(report.outcomes.filter((o) => o.kind === 'rule')).toHaveLength(170);
    expect(report.outcomes.filter((o) => o.kind === 'correlation')).toHaveLength(8);
  });
});

describe('coverage', () => {
  test('every rule and correlation has at least one fires and one does_not_fire test', () => {
    const tests = new Map(itemTests().map((i) => [i.name, i.tests]));
    const missing: string[] = [];
    for (const name of [...ruleNames(), ...load().correlations.map((c) => c.name)]) {
      if (!tests.get(name)?.some((t) => t.expect === 'fires')) missing.push(`${name}: no fires test`);
      if (!tests.get(name)?.some((t) => t.expect === 'does_not_fire')) missing.push(`${name}: no does_not_fire test`);
    }
    expect(missing).toEqual([]);
  });
});

describe('all-events rule', () => {
  const events = () => itemTests().flatMap((i) => i.tests.map((t) => t.event as AuditEvent)).filter((e) => e !== undefined);

  test('is off by default', () => {
    const rs = load();
    expect(events().length).toBeGreaterThan(150);
    expect(events().filter((e) => fired(rs, e).includes('Audit event'))).toEqual([]);
  });

  test('turns on for every event when its macro is redefined in a second file', () => {
    const rs = load([ALL_EVENTS]);
    expect(events().filter((e) => !fired(rs, e).includes('Audit event'))).toEqual([]);
  });
  test('turns on with override: {condition: replace} too', () => {
    const rs = load([`
- macro: kestrel_all_events
  condition: (kestrel_always_true)
  override:
    condition: replace
`]);
    const ev = request({ verb: 'get', resource: 'pods', namespace: 'shop', name: 'cart-7d9f' });
    expect(fired(rs, ev)).toEqual(['Audit event']);
    const [alert] = rs.evaluate({ obj: ev, source: 'k8s_audit' });
    expect(alert.priority).toBe('Debug');
    expect(alert.message).toBe(
      'Audit event (stage=ResponseComplete verb=get uri=/api/v1/namespaces/shop/pods/cart-7d9f code=200 decision=allow resource=pods ' +
        `subresource=<NA> name=cart-7d9f ns=shop user=dana@example.com source_ip=10.0.12.7 user_agent=kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46 audit_id=${ev.auditID})`,
    );
  });
});

describe('tuning through lists', () => {
  const privileged = createPod('debug-node', 'shop', { containers: [{ image: 'docker.io/library/busybox:1.36', securityContext: { privileged: true } }] });

  test('appending an image repository to kestrel_privileged_images suppresses the alert', () => {
    expect(fired(load(), privileged)).toEqual(['Privileged pod created']);
    expect(fired(load([`
- list: kestrel_privileged_images
  items: [docker.io/library/busybox]
  append: true
`]), privileged)).toEqual([]);
  });

  test('appending to kestrel_node_agent_images reaches every per-rule image list', () => {
    const pod = createPod('agent', 'shop', {
      hostPID: true, hostNetwork: true, hostPaths: ['/var/run/containerd/containerd.sock'],
      containers: [{ image: 'ghcr.io/example/node-agent:2.1', securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } } }],
    });
    expect(fired(load(), pod)).toEqual([
      'Pod adds dangerous capabilities', 'Pod mounts sensitive host path', 'Pod shares host PID namespace', 'Pod uses host network', 'Privileged pod created',
    ]);
    expect(fired(load([`
- list: kestrel_node_agent_images
  items: [ghcr.io/example/node-agent]
  override:
    items: append
`]), pod)).toEqual([]);
  });

  test('appending a user to kestrel_allowed_users suppresses the user alert', () => {
    const ev = request({ verb: 'list', resource: 'pods', namespace: 'shop', user: DANA });
    expect(fired(load([ALLOWLISTS]), ev)).toEqual(['Request by user outside allowed set']);
    expect(fired(load([ALLOWLISTS, `
- list: kestrel_allowed_users
  items: [dana@example.com]
  append: true
`]), ev)).toEqual([]);
  });

  test('appending a group to kestrel_allowed_user_groups suppresses the user alert', () => {
    const ev = request({ verb: 'list', resource: 'pods', namespace: 'shop', user: DANA });
    expect(fired(load([ALLOWLISTS, `
- list: kestrel_allowed_user_groups
  items: [ops]
  append: true
`]), ev)).toEqual([]);
  });

  test('appending to kestrel_allowed_images suppresses the image alert', () => {
    const ev = createPod('web', 'shop', { containers: [{ image: 'docker.io/library/nginx:1.27' }] }, { user: ADMIN });
    expect(fired(load([ALLOWLISTS]), ev)).toEqual(['Pod image outside allowed set']);
    expect(fired(load([ALLOWLISTS, `
- list: kestrel_allowed_images
  items: [docker.io/library/nginx]
  append: true
`]), ev)).toEqual([]);
  });

  test('an exception silences one service account for one rule', () => {
    const ev = request({ verb: 'get', resource: 'secrets', namespace: 'shop', name: 'db-credentials', user: { username: 'oncall@example.com' } });
    const rules = load([`
- rule: Secret read by user
  exceptions:
    - name: oncall_reads_shop
      fields: [ka.user.name, ka.target.namespace]
      values:
        - [oncall@example.com, shop]
  override:
    exceptions: append
`]);
    expect(fired(rules, ev)).toEqual([]);
    expect(fired(rules, { ...ev, objectRef: { resource: 'secrets', namespace: 'billing', name: 'db', apiVersion: 'v1' } })).toEqual(['Secret read by user']);
  });
});

describe('examples/audit-events.jsonl', () => {
  const events = readFileSync(EXAMPLES, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as AuditEvent);

  test('rule_matching first (the default): one alert per suspicious event, nothing on the benign read', () => {
    const rs = load([], {});
    expect(events.map((e) => rs.evaluate({ obj: e, source: 'k8s_audit' }).map((a) => `${a.priority} ${a.rule}`))).toEqual([
      [],
      ['Notice Interactive session in pod'],
      ['Warning Privileged pod created'],
      ['Error Cluster-admin granted through binding'],
      ['Warning ConfigMap holds credentials'],
      ['Critical Unauthenticated request allowed'],
      ['Informational ConfigMap created'],
    ]);
  });

  test('rule_matching all', () => {
    const rs = load();
    expect(events.map((e) => fired(rs, e))).toEqual([
      [],
      ['Interactive session in pod'],
      ['Pod shares host PID namespace', 'Privileged pod created'],
      ['Cluster-admin granted through binding', 'ClusterRoleBinding created'],
      ['ConfigMap created', 'ConfigMap holds credentials'],
      ['Request by user outside allowed set', 'Unauthenticated request allowed'],
      ['ConfigMap created'],
    ]);
  });
});

describe('documentation', () => {
  test('docs/rules.md names every rule and correlation', () => {
    const doc = readFileSync(resolve(__dirname, '../../docs/rules.md'), 'utf8');
    expect([...ruleNames(), ...load().correlations.map((c) => c.name)].filter((n) => !doc.includes(n))).toEqual([]);
  });

  test('docs/quickstart.md quotes the exact alerts of the examples', () => {
    const doc = readFileSync(resolve(__dirname, '../../docs/quickstart.md'), 'utf8');
    const quoted = doc.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d{9}: /.test(l));
    const rs = load([], {});
    const events = readFileSync(EXAMPLES, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as AuditEvent);
    const actual = events.flatMap((e) => rs.evaluate({ obj: e, source: 'k8s_audit' })).map((a) => `${formatTime(a.timeNs)}: ${a.priority} ${a.message}`);
    expect(quoted).toEqual(actual);
  });
});
