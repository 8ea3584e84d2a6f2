/**
 * The upstream k8s_audit rules (+ the k8saudit-gke overlay for GKE samples) run
 * on every managed sample decoded by the envelopes, with the exact alerts
 * expected: [recordIndex, rule, ka.user.name, ka.verb, ka.response.code,
 * ka.target.name] (null: the rule's output does not print the field, or it has
 * no value). rule_matching all, so every matching rule shows.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { decodePayload } from '../../src/decode/envelope';
import type { DecodedEvent } from '../../src/decode/events';
import { loadRuleset } from '../../src/engine/load';
import type { Ruleset } from '../../src/engine/ruleset';
import { describeWithShared, MANAGED, UPSTREAM, samplePayload } from './shared';

type Row = [number, string, unknown, unknown, unknown, unknown];

function load(paths: string[]): Ruleset {
  const { ruleset, diagnostics } = loadRuleset(paths, { ruleMatching: 'all', hostname: 'h' });
  if (!ruleset) throw new Error(diagnostics.map((d) => d.message).join('\n'));
  return ruleset;
}

function events(rel: string): DecodedEvent[] {
  const r = decodePayload(samplePayload(rel), { format: 'auto', source: 'k8s_audit', hostname: 'h', maxBytes: 1 << 20 });
  if (!r.ok) throw new Error(r.reason);
  return r.events;
}

function alerts(rs: Ruleset, evs: DecodedEvent[]): Row[] {
  const out: Row[] = [];
  for (const ev of evs) {
    for (const a of rs.evaluate(ev)) {
      const f = a.outputFields;
      out.push([ev.recordIndex ?? 0, a.rule, f['ka.user.name'], f['ka.verb'] ?? null, f['ka.response.code'] ?? null, f['ka.target.name'] ?? null]);
    }
  }
  return out;
}

describeWithShared(MANAGED)('upstream rules on the managed samples', () => {
  let base: Ruleset;
  let gke: Ruleset;

  beforeAll(() => {
    base = load([join(UPSTREAM, 'k8s_audit_rules.yaml')]);
    gke = load([join(UPSTREAM, 'k8s_audit_rules.yaml'), join(UPSTREAM, 'k8s_audit_rules_gke.yaml')]);
  });

  test('the GKE overlay (upstream-latest and the plugin folder copy) loads on top of the upstream rules', () => {
    for (const overlay of [join(UPSTREAM, 'k8s_audit_rules_gke.yaml'), join(MANAGED, 'k8saudit-gke/falcosecurity-plugins/rules/k8s_audit_rules_gke.yaml')]) {
      const { ruleset, diagnostics } = loadRuleset([join(UPSTREAM, 'k8s_audit_rules.yaml'), overlay], { ruleMatching: 'all' });
      expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(ruleset).toBeDefined();
    }
    // The plugin author's debug rules load too and see the converted events.
    const debug = load([join(UPSTREAM, 'k8s_audit_rules.yaml'), join(MANAGED, 'k8saudit-gke/falcosecurity-plugins/hack/rules.yaml')]);
    const hits = alerts(debug, events('k8saudit-gke/gke-labs-kube-agents/human_exec.json')).map((r) => r[1]);
    expect(hits).toEqual(['Attach/Exec Pod', 'GKE Pod Event', 'GKE Event']);
  });

  const cases: [string, 'base' | 'gke', Row[]][] = [
    ['gke-labs-kube-agents/delete_call.json', 'base', []],
    ['gke-labs-kube-agents/delete_call.json', 'gke', []],
    ['gke-labs-kube-agents/failed_aborted.json', 'base', []],
    ['gke-labs-kube-agents/failed_aborted.json', 'gke', []],
    ['gke-labs-kube-agents/human_denied.json', 'base', [
      [0,"Disallowed K8s User","engineer@example.com","create","403","crashloop-probe"],
    ]],
    ['gke-labs-kube-agents/human_denied.json', 'gke', [
      [0,"Disallowed K8s User","engineer@example.com","create","403","crashloop-probe"],
    ]],
    ['gke-labs-kube-agents/human_exec.json', 'base', [
      [0,"Attach/Exec Pod","engineer@example.com",null,null,"standalone-replay-7d9c8b6f5-xk2mq"],
    ]],
    ['gke-labs-kube-agents/human_exec.json', 'gke', [
      [0,"Attach/Exec Pod","engineer@example.com",null,null,"standalone-replay-7d9c8b6f5-xk2mq"],
    ]],
    ['gke-labs-kube-agents/human_patch.json', 'base', [
      [0,"Disallowed K8s User","engineer@example.com","patch","200","standalone-replay"],
    ]],
    ['gke-labs-kube-agents/human_patch.json', 'gke', [
      [0,"Disallowed K8s User","engineer@example.com","patch","200","standalone-replay"],
    ]],
    ['gke-labs-kube-agents/kubelet_bootstrap.json', 'base', [
      [0,"Disallowed K8s User","kubelet-nodepool-bootstrap","create","201","node-csr-hpM6hbesnl8Z0M7FGF_PN6R9fhRs7ySusYK9FwbSF_A"],
    ]],
    ['gke-labs-kube-agents/kubelet_bootstrap.json', 'gke', [
      [0,"Disallowed K8s User","kubelet-nodepool-bootstrap","create","201","node-csr-hpM6hbesnl8Z0M7FGF_PN6R9fhRs7ySusYK9FwbSF_A"],
    ]],
    ['gke-labs-kube-agents/serviceaccount.json', 'base', [
      [0,"Disallowed K8s User","service-000000000000@container-engine-robot.iam.gserviceaccount.com","update","200","gke-gateway-leader-election"],
    ]],
    ['gke-labs-kube-agents/serviceaccount.json', 'gke', []],
    ['gke-labs-kube-agents/system_success.json', 'base', []],
    ['gke-labs-kube-agents/system_success.json', 'gke', []],
    ['gke-labs-kube-agents/unauthenticated_bot.json', 'base', [
      [0,"Disallowed K8s User",null,"create","401",null],
    ]],
    ['gke-labs-kube-agents/unauthenticated_bot.json', 'gke', [
      [0,"Disallowed K8s User",null,"create","401",null],
    ]],
    ['khi/container_recorder_test_1_1.yaml', 'base', []],
    ['khi/container_recorder_test_1_1.yaml', 'gke', []],
    ['khi/container_recorder_test_1_2.yaml', 'base', []],
    ['khi/container_recorder_test_1_2.yaml', 'gke', []],
    ['khi/container_recorder_test_1_3.yaml', 'base', []],
    ['khi/container_recorder_test_1_3.yaml', 'gke', []],
    ['sysdiglabs-aks-audit-log/event.json', 'base', [
      [2,"Disallowed K8s User","aksService","create","409","coredns-custom"],
      [3,"Disallowed K8s User","aksService","get","200","aks-agentpool-35488936-vmss000002"],
      [9,"Disallowed K8s User","aksService","get","304",null],
      [10,"Disallowed K8s User","nodeclient","watch","200","container-azm-ms-agentconfig"],
      [12,"Disallowed K8s User","nodeclient","watch","200","aks-agentpool-35488936-vmss000001"],
      [14,"Disallowed K8s User","aksService","get","200","aks-cluster-admin-binding"],
      [15,"Disallowed K8s User","aksService","get","200","default"],
      [16,"Disallowed K8s User","aksService","get","200","managed-premium"],
      [17,"Disallowed K8s User","aksService","get","200","azurefile"],
      [18,"Disallowed K8s User","aksService","get","200","azurefile-premium"],
      [19,"Disallowed K8s User","aksService","get","200","coredns-autoscaler"],
      [20,"Disallowed K8s User","aksService","get","200","coredns"],
      [21,"Disallowed K8s User","aksService","get","200","coredns"],
    ]],
    ['sysdiglabs-aks-audit-log/sample_EventHubs_event.json', 'base', []],
    ['sysdiglabs-aks-audit-log/sample_KubeAuditLog_event.json', 'base', []],
  ];

  test.each(cases)('%s (%s rules)', (rel, which, expected) => {
    const dir = rel.startsWith('sysdiglabs') ? 'k8saudit-aks' : 'k8saudit-gke';
    expect(alerts(which === 'gke' ? gke : base, events(join(dir, rel)))).toEqual(expected);
  });

  test("the GKE overlay's only change on these samples: the container-engine-robot account is allowed", () => {
    const rel = 'k8saudit-gke/gke-labs-kube-agents/serviceaccount.json';
    expect(alerts(base, events(rel)).map((r) => r[1])).toEqual(['Disallowed K8s User']);
    expect(alerts(gke, events(rel))).toEqual([]);
  });

  /**
   * The plugin's view of the same LogEntry: Kestrel's event with the two documented
   * differences undone (invented 200/201/101 responseStatus; receiveTimestamp as
   * both timestamps). The same rules fire on every GKE sample; only printed values differ.
   */
  test('the same rules fire as with the k8saudit-gke plugin on every GKE sample', () => {
    const files = [
      'gke-labs-kube-agents/delete_call.json', 'gke-labs-kube-agents/failed_aborted.json', 'gke-labs-kube-agents/human_denied.json',
      'gke-labs-kube-agents/human_exec.json', 'gke-labs-kube-agents/human_patch.json', 'gke-labs-kube-agents/kubelet_bootstrap.json',
      'gke-labs-kube-agents/serviceaccount.json', 'gke-labs-kube-agents/system_success.json', 'gke-labs-kube-agents/unauthenticated_bot.json',
      'khi/container_recorder_test_1_1.yaml', 'khi/container_recorder_test_1_2.yaml', 'khi/container_recorder_test_1_3.yaml',
    ];
    const differing: string[] = [];
    for (const f of files) {
      const rel = join('k8saudit-gke', f);
      const entry = JSON.parse(samplePayload(rel).toString('utf8'));
      const ours = events(rel);
      const plugins = ours.map((ev) => {
        const streaming = ['exec', 'attach'].includes(ev.obj.objectRef?.subresource);
        const code = streaming ? 101 : ev.obj.verb === 'create' ? 201 : 200;
        const obj = { ...ev.obj, responseStatus: { metadata: {}, code }, requestReceivedTimestamp: entry.receiveTimestamp, stageTimestamp: entry.receiveTimestamp };
        return { ...ev, obj };
      });
      const names = (evs: DecodedEvent[]) => alerts(gke, evs).map((r) => r[1]);
      expect([f, names(ours)]).toEqual([f, names(plugins)]);
      if (JSON.stringify(alerts(gke, ours)) !== JSON.stringify(alerts(gke, plugins))) differing.push(f);
    }
    // Printed response codes differ where the plugin invents success.
    expect(differing).toEqual(['gke-labs-kube-agents/human_denied.json', 'gke-labs-kube-agents/unauthenticated_bot.json']);
  });

  test('kestrel.cluster is usable in conditions and outputs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-cluster-'));
    try {
      const file = join(dir, 'cluster.yaml');
      writeFileSync(
        file,
        [
          '- rule: Event from a named cluster',
          '  desc: test',
          '  condition: kestrel.cluster in (prod-1, KUBETEST, sample-cluster)',
          '  output: cluster=%kestrel.cluster user=%ka.user.name',
          '  priority: NOTICE',
          '  source: k8s_audit',
          '- rule: Event from an unknown cluster',
          '  desc: test',
          '  condition: not kestrel.cluster exists',
          '  output: cluster=%kestrel.cluster id=%ka.auditid',
          '  priority: NOTICE',
          '  source: k8s_audit',
          '',
        ].join('\n'),
      );
      const rs = load([file]);
      const one = (rel: string, i = 0) => rs.evaluate(events(rel)[i]).map((a) => [a.rule, a.message, a.outputFields['kestrel.cluster']]);
      expect(one('k8saudit-gke/gke-labs-kube-agents/human_exec.json')).toEqual([['Event from a named cluster', 'cluster=prod-1 user=engineer@example.com', 'prod-1']]);
      expect(one('k8saudit-aks/sysdiglabs-aks-audit-log/event.json', 2)).toEqual([['Event from a named cluster', 'cluster=KUBETEST user=aksService', 'KUBETEST']]);
      expect(one('k8saudit-aks/sysdiglabs-aks-audit-log/sample_KubeAuditLog_event.json')).toEqual([
        ['Event from an unknown cluster', 'cluster=<NA> id=71749feb-8e92-43e6-a72f-af6171f811ee', null],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
