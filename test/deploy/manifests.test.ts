/**
 * The deployment kit, validated without a cluster: every manifest and shipper
 * configuration parses, carries the fields it needs, and agrees with the
 * others (labels, ports, topics, names) and with the code (the ConfigMap's
 * kestrel.yaml goes through the real config loader, its rules through the
 * real rules loader).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseServiceConfig } from '../../src/config/load';
import type { KafkaInputConfig } from '../../src/config/types';
import { loadRuleset } from '../../src/engine/load';

const ROOT = resolve(__dirname, '../..');
const K8S = join(ROOT, 'deploy/k8s');
const SHIPPERS = join(ROOT, 'deploy/shippers');

type Obj = Record<string, any>;

function docs(path: string): Obj[] {
  const all = parseAllDocuments(readFileSync(path, 'utf8'));
  for (const d of all) expect(d.errors.map((e) => `${path}: ${e.message}`)).toEqual([]);
  return all.map((d) => d.toJS() as Obj).filter((d) => d !== null);
}

const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

/** Every Kubernetes object of deploy/k8s, by kind (one of each kind there, ConfigMaps aside). */
const k8s: Obj[] = yamlFiles(K8S).flatMap((f) => docs(join(K8S, f)).map((d) => ({ ...d, __file: f })));
const one = (kind: string): Obj => {
  const found = k8s.filter((d) => d.kind === kind);
  expect(found).toHaveLength(1);
  return found[0];
};
const configMap = (name: string): Obj => k8s.find((d) => d.kind === 'ConfigMap' && d.metadata.name === name)!;
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/k8s', () => {
  test('every document has apiVersion, kind and metadata.name; namespaced objects live in kestrel', () => {
    expect(k8s.map((d) => d.kind).sort()).toEqual([
      'ConfigMap', 'ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Kustomization', 'Namespace', 'PodDisruptionBudget', 'ScaledObject', 'Service',
      'ServiceAccount', 'ServiceMonitor',
    ]);
    for (const d of k8s) {
      expect([d.__file, typeof d.apiVersion, typeof d.kind]).toEqual([d.__file, 'string', 'string']);
      if (d.kind === 'Kustomization') continue;
      expect([d.__file, typeof d.metadata?.name]).toEqual([d.__file, 'string']);
      if (d.kind !== 'Namespace') expect([d.__file, d.metadata.namespace]).toEqual([d.__file, 'kestrel']);
    }
    expect(one('Namespace').metadata.name).toBe('kestrel');
  });

  test('the kustomization lists existing files, every manifest but the HPA alternative', () => {
    const kz = one('Kustomization');
    expect(kz.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    for (const r of kz.resources) expect([r, existsSync(join(K8S, r))]).toEqual([r, true]);
    expect([...kz.resources].sort()).toEqual(yamlFiles(K8S).filter((f) => f !== 'kustomization.yaml' && f !== 'hpa.yaml'));
    expect(kz.images).toEqual([{ name: 'kestrel', newName: 'kestrel', newTag: '0.1.0' }]);
  });

  const dep = () => one('Deployment');
  const container = () => dep().spec.template.spec.containers[0];

  test('Deployment: consumer command, image, metrics port, probes, resources', () => {
    const d = dep();
    expect(d.apiVersion).toBe('apps/v1');
    expect(d.spec.template.spec.containers).toHaveLength(1);
    const c = container();
    expect(c.image).toBe('kestrel:0.1.0');
    expect(c.args).toEqual(['consume', '-c', '/etc/kestrel/kestrel.yaml']);
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 9376, protocol: 'TCP' }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    for (const k of ['requests', 'limits']) {
      expect(typeof c.resources[k].cpu).toBe('string');
      expect(c.resources[k].memory).toMatch(/^\d+Mi$/);
    }
    expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
  });

  test('Deployment: non-root, read-only root filesystem, no privilege, no API token', () => {
    const pod = dep().spec.template.spec;
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container().securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe(one('ServiceAccount').metadata.name);
    expect(container().volumeMounts).toEqual([
      { name: 'config', mountPath: '/etc/kestrel', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
  });

  test('Deployment mounts the keys the ConfigMaps define', () => {
    const sources = dep().spec.template.spec.volumes.find((v: Obj) => v.name === 'config').projected.sources;
    expect(sources).toHaveLength(2);
    for (const s of sources) {
      const cm = configMap(s.configMap.name);
      for (const item of s.configMap.items) expect([cm.metadata.name, item.key, typeof cm.data[item.key]]).toEqual([cm.metadata.name, item.key, 'string']);
    }
    expect(sources.flatMap((s: Obj) => s.configMap.items.map((i: Obj) => i.path))).toEqual(['kestrel.yaml', 'rules/local_rules.yaml']);
  });

  const config = () => parseServiceConfig(configMap('kestrel-config').data['kestrel.yaml'], '/etc/kestrel', {});
  const kafkaInput = () => config().inputs[0] as KafkaInputConfig;

  test('the ConfigMap kestrel.yaml passes the real config loader with the intended values', () => {
    const c = config();
    expect(c.kafka).toEqual({ brokers: ['kafka-bootstrap.kafka.svc:9092'], clientId: 'kestrel', connectionTimeoutMs: 10000 });
    expect(c.inputs).toEqual([
      { type: 'kafka', name: 'kafka', topics: ['k8s-audit'], groupId: 'kestrel', fromBeginning: true, sessionTimeoutMs: 30000, format: 'auto', source: 'k8s_audit', fields: {} },
    ]);
    expect(c.rules).toEqual({ paths: ['/app/rules', '/etc/kestrel/rules'] });
    expect(c.engine).toMatchObject({ ruleMatching: 'first', minPriority: 'Debug', workers: 2 });
    expect(c.delivery.guarantee).toBe('at_least_once');
    expect(c.deadLetters).toEqual({ topic: 'k8s-audit-dlq' });
    expect(c.outputs).toMatchObject([{ type: 'kafka', topic: 'kestrel-alerts', key: 'rule', minPriority: 'Debug', format: 'json' }]);
    expect(c.outputs).toHaveLength(1);
    expect(c.metrics).toEqual({ host: '0.0.0.0', port: container().ports[0].containerPort });
    expect(c.shutdownTimeoutMs).toBeLessThan(dep().spec.template.spec.terminationGracePeriodSeconds * 1000);
    expect(c.engine.workers).toBeLessThanOrEqual(Number(container().resources.limits.cpu));
  });

  test('the local rules of the kestrel-rules ConfigMap load after the default rules', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'kestrel-deploy-test-'));
    try {
      const p = join(tmp, 'local_rules.yaml');
      writeFileSync(p, configMap('kestrel-rules').data['local_rules.yaml']);
      const { ruleset, diagnostics } = loadRuleset([join(ROOT, 'rules'), p]);
      expect(diagnostics).toEqual([]);
      expect(ruleset!.summary().rules).toHaveLength(61);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('Service and ServiceMonitor select the consumers and scrape the metrics port', () => {
    const svc = one('Service');
    const podLabels = dep().spec.template.metadata.labels;
    expect(matches(svc.spec.selector, podLabels)).toBe(true);
    expect(svc.spec.ports).toEqual([{ name: 'metrics', port: 9376, targetPort: 'metrics', protocol: 'TCP' }]);
    expect(svc.spec.publishNotReadyAddresses).toBe(true);
    const sm = one('ServiceMonitor');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(matches(sm.spec.selector.matchLabels, svc.metadata.labels)).toBe(true);
    expect(sm.spec.namespaceSelector.matchNames).toEqual([svc.metadata.namespace]);
    expect(sm.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }]);
  });

  test('PodDisruptionBudget selects exactly the Deployment pods', () => {
    const pdb = one('PodDisruptionBudget');
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.spec.selector.matchLabels).toEqual(dep().spec.selector.matchLabels);
    expect(pdb.spec.maxUnavailable).toBe(1);
  });

  test('ScaledObject scales the Deployment on the lag of the consumer group on the input topic', () => {
    const so = one('ScaledObject');
    const c = config();
    expect(so.apiVersion).toBe('keda.sh/v1alpha1');
    expect(so.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: dep().metadata.name });
    expect(so.spec.triggers).toHaveLength(1);
    const t = so.spec.triggers[0];
    expect(t.type).toBe('kafka');
    expect(t.metadata.bootstrapServers).toBe(c.kafka!.brokers.join(','));
    expect(t.metadata.consumerGroup).toBe(kafkaInput().groupId);
    expect(t.metadata.topic).toBe(kafkaInput().topics[0]);
    expect(t.metadata.offsetResetPolicy).toBe(kafkaInput().fromBeginning ? 'earliest' : 'latest');
    expect(Number(t.metadata.lagThreshold)).toBeGreaterThan(0);
    expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
    expect(so.spec.maxReplicaCount).toBeGreaterThan(so.spec.minReplicaCount);
  });

  test('the HPA alternative targets the same Deployment with the same bounds', () => {
    const hpa = one('HorizontalPodAutoscaler');
    const so = one('ScaledObject');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual(so.spec.scaleTargetRef);
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([so.spec.minReplicaCount, so.spec.maxReplicaCount]);
  });
});

describe('deploy/Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  const from = lines.filter((l) => l.startsWith('FROM '));

  test('two stages: node:24 (LTS) build with npm ci and the build, slim runtime with production dependencies', () => {
    expect(from).toEqual(['FROM node:24-bookworm AS build', 'FROM node:24-bookworm-slim AS runtime']);
    const build = lines.slice(lines.indexOf(from[0]), lines.indexOf(from[1]));
    const runtime = lines.slice(lines.indexOf(from[1]));
    expect(build.some((l) => /^RUN npm ci\b/.test(l))).toBe(true);
    expect(build).toContain('RUN npm run build');
    expect(runtime.some((l) => /^RUN npm ci --omit=dev\b/.test(l))).toBe(true);
    expect(runtime).toContain('COPY --from=build /src/dist/src ./dist/src');
    expect(runtime).toEqual(expect.arrayContaining(['COPY bin ./bin', 'COPY rules ./rules']));
  });

  test('runs as the same non-root uid as the Deployment, with a healthcheck and the kestrel entrypoint', () => {
    const user = lines.filter((l) => l.startsWith('USER '));
    expect(user).toEqual(['USER 1000:1000']);
    const dep = k8s.find((d) => d.kind === 'Deployment')!;
    expect(dep.spec.template.spec.securityContext.runAsUser).toBe(1000);
    expect(text).toMatch(/^HEALTHCHECK .*\\\n\s+CMD \["node", "-e", ".*\/healthz.*"\]$/m);
    expect(lines).toContain('EXPOSE 9376');
    expect(lines).toContain('ENTRYPOINT ["node", "bin/kestrel.js"]');
    expect(lines).toContain('CMD ["consume", "-c", "/etc/kestrel/kestrel.yaml"]');
  });

  test('.dockerignore keeps the build inputs and drops the rest', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['.git', '**/node_modules', 'dist', 'test']));
    for (const needed of ['src', 'bench', 'bin', 'rules', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      expect([needed, ignored.includes(needed)]).toEqual([needed, false]);
      expect([needed, existsSync(join(ROOT, needed))]).toEqual([needed, true]);
    }
  });
});

describe('deploy/shippers', () => {
  const AUDIT_LOG = '/var/log/kubernetes/audit/audit.log';

  test('Fluent Bit tails the audit log and ships it to k8s-audit, gzip or uncompressed', () => {
    const [fb] = docs(join(SHIPPERS, 'fluent-bit.yaml'));
    const [input] = fb.pipeline.inputs;
    expect(input).toMatchObject({ name: 'tail', path: AUDIT_LOG, skip_long_lines: 'on' });
    expect(typeof input.db).toBe('string');
    const [output] = fb.pipeline.outputs;
    expect(output).toMatchObject({ name: 'kafka', match: input.tag, topics: 'k8s-audit', format: 'json' });
    expect(['gzip', 'none']).toContain(output['rdkafka.compression.codec']);
    expect(output.retry_limit).toBe(false);
  });

  test('Vector tails the audit log and ships each line unchanged to k8s-audit, gzip or uncompressed', () => {
    const [v] = docs(join(SHIPPERS, 'vector.yaml'));
    const sources = Object.entries(v.sources as Obj);
    expect(sources).toHaveLength(1);
    const [sourceName, source] = sources[0];
    expect(source).toMatchObject({ type: 'file', include: [AUDIT_LOG] });
    const [sink] = Object.values(v.sinks as Obj);
    expect(sink).toMatchObject({ type: 'kafka', inputs: [sourceName], topic: 'k8s-audit', encoding: { codec: 'text' } });
    expect(['gzip', 'none']).toContain(sink.compression);
    expect(sink.acknowledgements).toEqual({ enabled: true });
  });

  test('the Fluent Bit DaemonSet reads the audit log folder with the generated config', () => {
    const objs = docs(join(SHIPPERS, 'fluent-bit-daemonset.yaml'));
    for (const d of objs) expect([typeof d.apiVersion, typeof d.kind, typeof d.metadata.name]).toEqual(['string', 'string', 'string']);
    const ds = objs.find((d) => d.kind === 'DaemonSet')!;
    const pod = ds.spec.template.spec;
    const c = pod.containers[0];
    expect(matches(ds.spec.selector.matchLabels, ds.spec.template.metadata.labels)).toBe(true);
    expect(c.image).toMatch(/^cr\.fluentbit\.io\/fluent\/fluent-bit:\d+\.\d+\.\d+$/);
    const [kz] = docs(join(SHIPPERS, 'kustomization.yaml'));
    expect(kz.resources).toEqual(['fluent-bit-daemonset.yaml']);
    expect(kz.configMapGenerator).toEqual([{ name: 'fluent-bit-kube-audit', namespace: ds.metadata.namespace, files: ['fluent-bit.yaml'] }]);
    const configVolume = pod.volumes.find((v: Obj) => v.configMap);
    expect(configVolume.configMap.name).toBe('fluent-bit-kube-audit');
    const configMount = c.volumeMounts.find((m: Obj) => m.name === configVolume.name);
    expect(c.args).toEqual(['-c', `${configMount.mountPath}/fluent-bit.yaml`]);
    const logVolume = pod.volumes.find((v: Obj) => v.hostPath?.path === '/var/log/kubernetes/audit');
    expect(c.volumeMounts.find((m: Obj) => m.name === logVolume.name)).toEqual({ name: logVolume.name, mountPath: '/var/log/kubernetes/audit', readOnly: true });
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c.resources.limits.memory).toBeDefined();
  });
});

describe('deploy/audit-policy.yaml', () => {
  const [policy] = docs(join(ROOT, 'deploy/audit-policy.yaml'));

  interface Req {
    user?: string;
    groups?: string[];
    verb: string;
    group?: string;
    resource?: string;
    url?: string;
  }

  /** The level kube-apiserver picks: the first matching rule's. */
  function level(r: Req): string {
    for (const rule of policy.rules as Obj[]) {
      if (rule.users && !rule.users.includes(r.user)) continue;
      if (rule.userGroups && !(r.groups ?? []).some((g) => rule.userGroups.includes(g))) continue;
      if (rule.verbs && !rule.verbs.includes(r.verb)) continue;
      if (rule.resources) {
        if (r.resource === undefined) continue;
        if (!rule.resources.some((g: Obj) => (g.group ?? '') === (r.group ?? '') && (!g.resources || g.resources.includes(r.resource)))) continue;
      }
      if (rule.nonResourceURLs) {
        if (r.url === undefined) continue;
        if (!rule.nonResourceURLs.some((u: string) => (u.endsWith('*') ? r.url!.startsWith(u.slice(0, -1)) : r.url === u))) continue;
      }
      return rule.level;
    }
    return 'None';
  }

  test('is an audit.k8s.io/v1 Policy that keeps ResponseStarted and ends with a Metadata catch-all', () => {
    expect([policy.apiVersion, policy.kind]).toEqual(['audit.k8s.io/v1', 'Policy']);
    expect(policy.omitStages).toEqual(['RequestReceived']);
    expect(policy.rules[policy.rules.length - 1]).toEqual({ level: 'Metadata' });
  });

  test.each([
    ['secret read', { verb: 'get', resource: 'secrets' }, 'Metadata'],
    ['secret written', { verb: 'create', resource: 'secrets' }, 'Metadata'],
    ['token request', { verb: 'create', resource: 'serviceaccounts/token' }, 'Metadata'],
    ['pod created', { verb: 'create', resource: 'pods' }, 'RequestResponse'],
    ['ephemeral container', { verb: 'patch', resource: 'pods/ephemeralcontainers' }, 'RequestResponse'],
    ['pod exec', { verb: 'create', resource: 'pods/exec' }, 'Metadata'],
    ['pod read', { verb: 'get', resource: 'pods' }, 'Metadata'],
    ['configmap written', { verb: 'update', resource: 'configmaps' }, 'Request'],
    ['service created', { verb: 'create', resource: 'services' }, 'Request'],
    ['cluster role binding', { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' }, 'RequestResponse'],
    ['webhook configuration', { verb: 'patch', group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations' }, 'Request'],
    ['CSR approval', { verb: 'update', group: 'certificates.k8s.io', resource: 'certificatesigningrequests/approval' }, 'Request'],
    ['ingress written', { verb: 'update', group: 'networking.k8s.io', resource: 'ingresses' }, 'Request'],
    ['nodes/proxy', { verb: 'get', resource: 'nodes/proxy' }, 'Metadata'],
    ['node registered', { user: 'system:node:n1', groups: ['system:nodes'], verb: 'create', resource: 'nodes' }, 'Metadata'],
    ['namespace created', { verb: 'create', resource: 'namespaces' }, 'Metadata'],
    ['deployment deleted', { verb: 'delete', group: 'apps', resource: 'deployments' }, 'Metadata'],
    ['node heartbeat', { user: 'system:node:n1', groups: ['system:nodes'], verb: 'patch', resource: 'nodes/status' }, 'None'],
    ['lease renewal', { verb: 'update', group: 'coordination.k8s.io', resource: 'leases' }, 'None'],
    ['event', { verb: 'create', resource: 'events' }, 'None'],
    ['health check', { verb: 'get', url: '/readyz' }, 'None'],
    ['metrics scrape', { verb: 'get', url: '/metrics' }, 'Metadata'],
  ].map(([name, req, want]) => [name, want, req]) as [string, string, Req][])('%s -> %s', (_, want, req) => {
    expect(level(req)).toBe(want);
  });
});
