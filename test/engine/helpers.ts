import { alertText, type Alert } from '../../src/engine/alert';
import { Ruleset, type RulesetOptions } from '../../src/engine/ruleset';
import { formatDiagnostic } from '../../src/language/diagnostics';

/** Build a ruleset from inline YAML files; throws with the diagnostics if it does not load. */
export function ruleset(files: Record<string, string> | string, opts: RulesetOptions = {}): Ruleset {
  const list = typeof files === 'string' ? { 'rules.yaml': files } : files;
  const built = Ruleset.build(Object.entries(list).map(([path, text]) => ({ path, text })), opts);
  if (!built.ruleset) throw new Error(built.diagnostics.map(formatDiagnostic).join('\n'));
  return built.ruleset;
}

export function diagnostics(files: Record<string, string> | string): string[] {
  const list = typeof files === 'string' ? { 'rules.yaml': files } : files;
  return Ruleset.build(Object.entries(list).map(([path, text]) => ({ path, text }))).diagnostics.map(formatDiagnostic);
}

export function fire(rs: Ruleset, obj: object): string[] {
  return rs.evaluate({ obj, source: 'k8s_audit' }).map((a: Alert) => a.rule);
}

export function lines(rs: Ruleset, obj: object): string[] {
  return rs.evaluate({ obj, source: 'k8s_audit' }).map(alertText);
}

/** One rule named R with the given condition (and optional output). */
export function oneRule(condition: string, output = 'hit'): string {
  return `- rule: R\n  desc: d\n  condition: ${JSON.stringify(condition)}\n  output: ${JSON.stringify(output)}\n  priority: WARNING\n  source: k8s_audit\n`;
}

export const EVENT = {
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'RequestResponse',
  auditID: '0c9f7a4e-1d2b-4c3a-8f5e-6a7b8c9d0e1f',
  stage: 'ResponseComplete',
  requestURI: '/api/v1/namespaces/web/pods?fieldManager=kubectl-client-side-apply',
  verb: 'create',
  user: { username: 'ana@example.com', groups: ['devs', 'system:authenticated'] },
  sourceIPs: ['10.1.2.3'],
  userAgent: 'kubectl/v1.30.1',
  objectRef: { resource: 'pods', namespace: 'web', name: 'shop-1', apiVersion: 'v1' },
  responseStatus: { metadata: {}, code: 201 },
  requestObject: {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name: 'shop-1', namespace: 'web' },
    spec: {
      containers: [
        { name: 'app', image: 'registry.example.com/shop/app:1.4.2', securityContext: { privileged: false } },
        { name: 'sidecar', image: 'docker.io/envoyproxy/envoy:v1.30', securityContext: { privileged: true } },
      ],
      volumes: [{ name: 'logs', hostPath: { path: '/var/log' } }],
    },
  },
  requestReceivedTimestamp: '2026-03-04T05:06:07.100000Z',
  stageTimestamp: '2026-03-04T05:06:07.123456Z',
  annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
};
