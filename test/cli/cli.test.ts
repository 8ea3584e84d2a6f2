import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { conformanceDir, testWithConformance } from '../support/conformance-data';

const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin/kestrel.js');
const SHARED = conformanceDir();

function kestrel(args: string[], input?: string | Buffer) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, input, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

const tmp = mkdtempSync(join(tmpdir(), 'kestrel-cli-'));
const EXAMPLES = readFileSync(join(ROOT, 'examples/audit-events.jsonl'), 'utf8').trimEnd().split('\n');

describe('kestrel run', () => {
  test('bad documents are reported with their line and the events around them still alert', () => {
    const big = `{"kind":"Event","x":"${'a'.repeat(50 * 1024 * 1024)}"}`;
    const deep = '['.repeat(10000) + ']'.repeat(10000);
    const input = Buffer.concat([
      Buffer.from(`${EXAMPLES[1]}\nnot json at all\n{"kind": 0}\n`),
      Buffer.from([0x7b, 0xc3, 0x28, 0x7d, 0x0a]),
      Buffer.from(`${big}\n${deep}\n{"kind":"Event","apiVersion":"audit.k8s.io/v1"\n${EXAMPLES[2]}\n`),
    ]);
    const file = join(tmp, 'mixed.jsonl');
    writeFileSync(file, input);
    const r = kestrel(['run', '-i', file]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      '09:15:04.936123000: Notice Interactive session in pod (pod=cart-7d9f ns=shop subresource=exec container=cart command=sh uri=/api/v1/namespaces/shop/pods/cart-7d9f/exec?command=sh&container=cart&stdin=true&stdout=true&tty=true user=dana@example.com source_ip=10.0.12.7 user_agent=kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46 audit_id=5e4c1a2b-0000-4000-8000-000000000002)',
      '09:15:07.404123000: Warning Privileged pod created (pod=debug-node ns=shop images=(docker.io/library/busybox:1.36) init_images=<NA> user=dana@example.com source_ip=10.0.12.7 user_agent=kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46 audit_id=5e4c1a2b-0000-4000-8000-000000000003)',
    ]);
    expect(r.stderr).toBe([
      `kestrel: ${file}:2: rejected: not JSON: line starts with 'not json at all'`,
      `kestrel: ${file}:3: rejected: not an audit event: kind 0 (expected "Event" or "EventList")`,
      `kestrel: ${file}:4: rejected: invalid UTF-8`,
      `kestrel: ${file}:5: rejected: document larger than the 16777216-byte limit (52428823 bytes on this line)`,
      `kestrel: ${file}:6: rejected: JSON nested deeper than 512 levels`,
      `kestrel: ${file}:7: rejected: truncated JSON document: a new document started before it was closed`,
      'kestrel: 2 events read, 6 rejected, 2 alerts',
      'alerts by rule:',
      '  1\tInteractive session in pod',
      '  1\tPrivileged pod created',
      'alerts by priority:',
      '  1\tWarning',
      '  1\tNotice',
      '',
    ].join('\n'));
  });

  test('stdin, EventList, --json and --rule-matching all', () => {
    const list = JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [JSON.parse(EXAMPLES[4])] });
    const r = kestrel(['run', '--json', '--rule-matching', 'all'], `${list}\n`);
    expect(r.code).toBe(0);
    const alerts = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(alerts.map((a) => [a.rule, a.priority, a.source, a.time])).toEqual([
      ['ConfigMap holds credentials', 'Warning', 'k8s_audit', '2026-11-02T09:15:12.340123000Z'],
      ['ConfigMap created', 'Informational', 'k8s_audit', '2026-11-02T09:15:12.340123000Z'],
    ]);
    expect(Object.keys(alerts[0])).toEqual(['hostname', 'output', 'output_fields', 'priority', 'rule', 'source', 'tags', 'time']);
    expect(alerts[0].output_fields).toEqual({
      'evt.time': 1793610912340123000,
      'jevt.value[/sourceIPs/0]': '10.0.12.7',
      'ka.auditid': '5e4c1a2b-0000-4000-8000-000000000005',
      'ka.target.name': 'billing-env',
      'ka.target.namespace': 'shop',
      'ka.user.name': 'dana@example.com',
      'ka.useragent': 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46',
      'ka.verb': 'create',
    });
    expect(alerts[0].output).toBe('09:15:12.340123000: Warning ConfigMap holds credentials (configmap=billing-env ns=shop verb=create user=dana@example.com source_ip=10.0.12.7 user_agent=kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46 audit_id=5e4c1a2b-0000-4000-8000-000000000005)');
  });

  test('usage errors are one line and exit 2', () => {
    expect(kestrel(['run', '--rule-matching', 'some'])).toEqual({ code: 2, stdout: '', stderr: "kestrel: --rule-matching must be 'first' or 'all', not 'some'\n" });
    expect(kestrel(['frobnicate'])).toEqual({ code: 2, stdout: '', stderr: "kestrel: unknown command 'frobnicate' (try: run, check, test, rules, fields, start, serve, consume; kestrel help)\n" });
    expect(kestrel(['run', '--bogus'])).toEqual({ code: 2, stdout: '', stderr: "kestrel: Unknown option '--bogus' (kestrel help run)\n" });
    expect(kestrel(['check', '--json'])).toEqual({ code: 2, stdout: '', stderr: "kestrel: Unknown option '--json' (kestrel help check)\n" });
  });
});

describe('kestrel check', () => {
  testWithConformance('valid rules: Ok and exit 0', () => {
    const r = kestrel(['check', '-r', join(SHARED, 'upstream-latest/k8s_audit_rules.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Ok: \d+ rules \(\d+ compiled for k8s_audit, 0 of other sources skipped\)\n$/);
  });

  test('every problem as FILE:LINE:COL: message, exit 1', () => {
    const file = join(tmp, 'broken.yaml');
    writeFileSync(file, [
      '- macro: loop_a', '  condition: loop_b',
      '- macro: loop_b', '  condition: loop_a',
      '- rule: Unknown field', '  desc: d', '  condition: ka.verb = create and ka.bogus = 1', '  output: o', '  priority: WARNING', '  source: k8s_audit',
      '- rule: Cycle', '  desc: d', '  condition: loop_a', '  output: o', '  priority: WARNING', '  source: k8s_audit',
      '- rule: Bad regex', '  desc: d', '  condition: ka.verb regex "a(b"', '  output: o', '  priority: WARNING', '  source: k8s_audit',
      '- rule: Bad op', '  desc: d', '  condition: ka.verb like x', '  output: o', '  priority: WARNING', '  source: k8s_audit',
      '- rule: No macro', '  desc: d', '  condition: ka.verb = get and not_defined', '  output: o', '  priority: WARNING', '  source: k8s_audit',
      '',
    ].join('\n'));
    const r = kestrel(['check', '-r', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe([
      `${file}:25:22: error LOAD_ERR_COMPILE_CONDITION: rule 'Bad op': unknown operator 'like'`,
      `${file}:7:35: error LOAD_ERR_COMPILE_CONDITION: rule 'Unknown field': unknown field 'ka.bogus' for source k8s_audit`,
      `${file}:4:14: error LOAD_ERR_VALIDATE: rule 'Cycle': macro cycle: loop_a -> loop_b -> loop_a (in rule 'Cycle')`,
      `${file}:19:28: error LOAD_ERR_COMPILE_CONDITION: rule 'Bad regex': invalid regular expression 'a(b': error parsing regexp: missing closing ): \`a(b\``,
      `${file}:31:32: error LOAD_ERR_VALIDATE: rule 'No macro': undefined macro 'not_defined'`,
      'kestrel: 5 error(s), 0 warning(s) in rules',
      '',
    ].join('\n'));
  });

  test('YAML syntax errors and too-new engine versions', () => {
    const file = join(tmp, 'syntax.yaml');
    writeFileSync(file, '- required_engine_version: 9999\n- rule: x\n  condition: [\n');
    const r = kestrel(['check', '-r', file]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:1: error LOAD_ERR_YAML_PARSE: YAML syntax error: `));
  });
});

describe('kestrel rules and fields', () => {
  testWithConformance('rules lists source, priority, enabled and status; other sources are skipped', () => {
    const r = kestrel(['rules', '-r', join(SHARED, 'falco-legacy/rules/falco_rules.yaml'), '-r', join(SHARED, 'falco-legacy/rules/k8s_audit_rules.yaml')]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^RULE\s+SOURCE\s+PRIORITY\s+ENABLED\s+STATUS$/);
    expect(rows.find((l) => l.startsWith('Create Privileged Pod '))).toMatch(/^Create Privileged Pod\s+k8s_audit\s+Warning\s+true\s+compiled$/);
    expect(rows.filter((l) => /\ssyscall\s/.test(l)).every((l) => l.endsWith('skipped (source not evaluated)'))).toBe(true);
  });

  test('fields prints name, type, argument and description', () => {
    const r = kestrel(['fields', '--source', 'k8s_audit']);
    expect(r.code).toBe(0);
    const row = (name: string) => r.stdout.split('\n').find((l) => l.startsWith(`${name} `))!.split(/\s{2,}/);
    expect(row('ka.uri.param').slice(0, 3)).toEqual(['ka.uri.param', 'string', 'required key']);
    expect(row('ka.req.pod.containers.image').slice(0, 3)).toEqual(['ka.req.pod.containers.image', 'list(string)', 'optional index']);
    expect(row('jevt.value').slice(0, 3)).toEqual(['jevt.value', 'string', 'required pointer']);
    expect(kestrel(['fields', '--source', 'nope'])).toEqual({ code: 2, stdout: '', stderr: "kestrel: unknown source 'nope' (known: k8s_audit, k8s_admission)\n" });
  });
});
