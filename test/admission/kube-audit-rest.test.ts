/**
 * The k8s_admission source on the real kube-audit-rest log with the
 * k8sadmission plugin's rules: every line decodes and evaluates cleanly, and
 * (correctly) raises no alert — every request in it is made by a `system:`
 * user on selfsubjectaccessreviews, events, endpoints or endpointslices, which
 * no rule covers. Lines crafted from a real one make specific rules fire.
 */
import { readFileSync } from 'node:fs';
import { alertText, type Alert } from '../../src/engine/alert';
import { loadRuleset } from '../../src/engine/load';
import { Ruleset } from '../../src/engine/ruleset';
import { decodeDocument } from '../../src/decode/events';
import { formatDiagnostic } from '../../src/language/diagnostics';
import { conformancePath, describeWithConformance } from '../support/conformance-data';

const RULES = conformancePath('admission/k8s_admission_rules.yaml');
const LOG = conformancePath('admission/kube-audit-rest.log');
let lines: string[] | undefined;
/** The log's non-empty lines, read on first use (only by suites that have the data). */
function logLines(): string[] {
  lines ??= readFileSync(LOG, 'utf8').split('\n').filter((l) => l.trim() !== '');
  return lines;
}

function load(ruleMatching: 'first' | 'all'): Ruleset {
  const { ruleset, diagnostics } = loadRuleset([RULES], { ruleMatching, hostname: 'kestrel-test' });
  expect(diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)).toEqual([]);
  return ruleset!;
}

/** Decode one line and evaluate it (evt.num set, as every Kestrel input does). */
function evaluate(rs: Ruleset, text: string, num = 1): Alert[] {
  const d = decodeDocument(text, 'k8s_admission', 'kestrel-test');
  if (!d.ok) throw new Error(`rejected: ${d.reason}`);
  return d.events.flatMap((ev) => rs.evaluate({ ...ev, num }));
}

describeWithConformance('the real kube-audit-rest log', () => {
  test('loads without errors; the rule without a source (syscall) is skipped', () => {
    const { diagnostics } = loadRuleset([RULES]);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(diagnostics.map(formatDiagnostic)).toContain(`${RULES}:775:1: warning LOAD_UNKNOWN_SOURCE: 1 rule(s) of source 'syscall' skipped: Kestrel evaluates k8s_audit and k8s_admission events only`);
    expect(load('all').compiledRules().filter((r) => r.source === 'k8s_admission')).toHaveLength(35);
  });

  test('every one of the 59 lines decodes and evaluates without error, raising no alert', () => {
    expect(logLines()).toHaveLength(59);
    for (const matching of ['first', 'all'] as const) {
      const rs = load(matching);
      const alerts = logLines().flatMap((line, i) => evaluate(rs, line, i + 1));
      expect(alerts).toEqual([]);
    }
  });

  test('kar.* fields read the real lines as the plugin does', () => {
    const trace = Ruleset.build([
      {
        path: 'trace.yaml',
        text: `- rule: Trace
  desc: every admission request
  condition: kar.uid exists
  output: uid=%kar.uid user=%kar.user.name groups=%kar.user.groups verb=%kar.verb res=%kar.target.resource sub=%kar.target.subresource name=%kar.target.name ns=%kar.target.namespace ts=%kar.timestamp
  priority: DEBUG
  source: k8s_admission
`,
      },
    ]).ruleset!;
    const msg = (n: number) => evaluate(trace, logLines()[n - 1], n).map((a) => a.message);
    expect(msg(1)).toEqual(['uid=c94a1255-9639-44ba-a716-f88a8cb4d145 user=system:admin groups=(system:masters,system:authenticated) verb=CREATE res=selfsubjectaccessreviews sub=<NA> name=<NA> ns=<NA> ts=<NA>']);
    expect(msg(2)).toEqual(['uid=df417f78-c769-4c84-94f6-e6d9800d0e88 user=system:node:lima-rancher-desktop groups=(system:nodes,system:authenticated) verb=CREATE res=events sub=<NA> name=coredns-b96499967-n2ztx.172c6de6336af9d2 ns=kube-system ts=<NA>']);
    const last = msg(59)[0];
    expect(last).toMatch(/^uid=\S+ user=system:serviceaccount:kube-system:endpointslice-controller groups=\(.*\) verb=UPDATE res=endpointslices sub=<NA> name=kube-dns-krkht ns=kube-system ts=<NA>$/);
    const users = new Set(logLines().map((l) => JSON.parse(l).request.userInfo.username as string));
    expect([...users].every((u) => u.startsWith('system:'))).toBe(true);
  });
});

describeWithConformance('admission lines crafted from a real one', () => {
  const base = JSON.parse(logLines()[1]);
  const rs = load('all');
  const craft = (request: Record<string, unknown>, top: Record<string, unknown> = {}) => {
    const d = JSON.parse(JSON.stringify(base));
    Object.assign(d.request, request);
    for (const [k, v] of Object.entries(request)) if (v === undefined) delete d.request[k];
    return JSON.stringify({ ...d, ...top });
  };
  const fired = (text: string) => evaluate(rs, text, 7).map((a) => [a.rule, a.priority, a.message]);
  const alice = { username: 'alice@example.com', groups: ['system:authenticated'] };

  test('exec into a pod by a user outside the allowed list', () => {
    const line = craft(
      {
        uid: 'u-exec', kind: { group: '', version: 'v1', kind: 'PodExecOptions' }, resource: { group: '', version: 'v1', resource: 'pods' },
        subResource: 'exec', name: 'web-1', namespace: 'shop', operation: 'CONNECT', userInfo: alice,
        object: { kind: 'PodExecOptions', apiVersion: 'v1', stdin: true, tty: true, container: 'web', command: ['sh', '-c', 'id'] },
      },
      { requestReceivedTimestamp: '2026-11-02T10:00:00.000000Z' },
    );
    const alerts = evaluate(rs, line, 7);
    expect(alerts.map(alertText)).toEqual([
      '10:00:00.000000000: Warning K8s Operation performed by user not in allowed list of users (uid=u-exec user=alice@example.com target=web-1/pods verb=CONNECT  )',
      // The rule writes `command=kar.req.exec.command` without '%': literal text, as in Falco.
      '10:00:00.000000000: Notice Exec to pod (user=alice@example.com pod=web-1 resource=pods ns=shop action=exec command=kar.req.exec.command)',
    ]);
    expect(alerts[1].source).toBe('k8s_admission');
    expect(alerts[1].tags).toEqual(['k8s']);
    // Falco's default rule_matching (first): only the first rule in file order.
    expect(evaluate(load('first'), line, 7).map((a) => a.rule)).toEqual(['Disallowed K8s User']);
  });

  test('a privileged hostPID pod in kube-system by kubernetes-admin', () => {
    const line = craft({
      uid: 'u-pod', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' },
      name: 'debugger', namespace: 'kube-system', operation: 'CREATE', userInfo: { username: 'kubernetes-admin', groups: ['system:masters'] },
      object: { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'debugger', namespace: 'kube-system' }, spec: { hostPID: true, containers: [{ name: 'd', image: 'docker.io/library/busybox:1.36', securityContext: { privileged: true } }] } },
    });
    expect(fired(line)).toEqual([
      ['Create Disallowed Pod', 'Warning', 'Pod started with container not in allowed list (user=kubernetes-admin pod=debugger ns=kube-system images=(docker.io/library/busybox:1.36))'],
      ['Create Privileged Pod', 'Warning', 'Pod started with privileged container (user=kubernetes-admin pod=debugger resource=pods ns=kube-system images=(docker.io/library/busybox:1.36))'],
      ['Create HostPid Pod', 'Warning', 'Pod started using host pid namespace (user=kubernetes-admin pod=debugger resource=pods ns=kube-system images=(docker.io/library/busybox:1.36))'],
      ['Pod Created in Kube Namespace', 'Warning', 'Pod created in kube namespace (user=kubernetes-admin pod=debugger resource=pods ns=kube-system images=(docker.io/library/busybox:1.36))'],
    ]);
  });

  test('a ClusterRoleBinding to cluster-admin', () => {
    const line = craft({
      uid: 'u-crb', kind: { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding' },
      resource: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings' }, name: 'alice-admin', namespace: undefined,
      operation: 'CREATE', userInfo: alice,
      object: {
        kind: 'ClusterRoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name: 'alice-admin' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'User', name: 'alice@example.com', apiGroup: 'rbac.authorization.k8s.io' }],
      },
    });
    const subject = '({"kind":"User","name":"alice@example.com","apiGroup":"rbac.authorization.k8s.io"})';
    expect(fired(line)).toEqual([
      ['Disallowed K8s User', 'Warning', 'K8s Operation performed by user not in allowed list of users (uid=u-crb user=alice@example.com target=alice-admin/clusterrolebindings verb=CREATE  )'],
      ['Attach to cluster-admin Role', 'Warning', `Cluster Role Binding to cluster-admin role (user=alice@example.com subject=${subject})`],
      // `%kar.req.binding.rolekar.req.configmap.data` in the rule: the longest field name, then literal text (Falco's parsing).
      ['K8s Role/Clusterrolebinding Created', 'Informational', `K8s Cluster Role Binding Created (user=alice@example.com binding=alice-admin resource=clusterrolebindings subjects=${subject} role=cluster-adminkar.req.configmap.data)`],
    ]);
  });

  test('configmap credentials: kar.req.configmap.data reads binaryData, as the plugin does', () => {
    const cm = (operation: string, object: Record<string, unknown>) =>
      craft({
        uid: `u-cm-${operation}`, kind: { group: '', version: 'v1', kind: 'ConfigMap' }, resource: { group: '', version: 'v1', resource: 'configmaps' },
        name: 'app-config', namespace: 'shop', operation, userInfo: { username: 'system:serviceaccount:ci:deployer', groups: [] },
        object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'app-config' }, ...object },
      });
    expect(fired(cm('CREATE', { data: { password: 'hunter2' } }))).toEqual([]);
    expect(fired(cm('UPDATE', { binaryData: { aws_access_key_id: 'QUtJQQ==' } }))).toEqual([
      ['Create/Modify Configmap With Private Credentials', 'Warning', 'K8s configmap with private credential (user=system:serviceaccount:ci:deployer verb=UPDATE resource=configmaps configmap=app-config config={"aws_access_key_id":"QUtJQQ=="})'],
    ]);
  });

  test('a namespace outside the allowed list', () => {
    const line = craft({
      uid: 'u-ns', kind: { group: '', version: 'v1', kind: 'Namespace' }, resource: { group: '', version: 'v1', resource: 'namespaces' },
      name: 'crypto', namespace: undefined, operation: 'CREATE', userInfo: alice, object: { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'crypto' } },
    });
    expect(fired(line).map((f) => f[0])).toEqual(['Disallowed K8s User', 'Create Disallowed Namespace', 'K8s Namespace Created']);
    expect(fired(line)[2][2]).toBe('K8s Namespace Created (user=alice@example.com namespace=crypto resource=namespaceskar.req.configmap.data)');
  });

  test('a real line without request.uid is rejected with a reason', () => {
    const d = JSON.parse(logLines()[0]);
    delete d.request.uid;
    expect(decodeDocument(JSON.stringify(d), 'k8s_admission')).toEqual({ ok: false, reason: 'AdmissionReview request has no uid' });
  });
});
