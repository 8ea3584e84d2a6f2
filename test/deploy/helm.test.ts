/**
 * The Helm chart (deploy/helm/kestrel), linted and rendered by a real helm:
 * every values file under ci/ lints cleanly, and the chart rendered with the
 * settings of deploy/k8s gives the same objects as the kustomize manifests
 * (kinds, names, images, args, ports, env, probes, resources, volumes, and a
 * kestrel.yaml that the real config loader reads into the same configuration).
 * Skipped, with one line, when no helm binary is found; CI sets KESTREL_HELM.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseServiceConfig } from '../../src/config/load';
import { loadRuleset } from '../../src/engine/load';
import { findHelm, HELM_VAR } from '../support/helm';

type Obj = Record<string, any>;

const ROOT = resolve(__dirname, '../..');
const CHART = join(ROOT, 'deploy/helm/kestrel');
const K8S = join(ROOT, 'deploy/k8s');
const values = (name: string) => join(CHART, 'ci', name);
const VALUES_FILES = readdirSync(join(CHART, 'ci')).filter((f) => f.endsWith('.yaml')).sort();
/** Credentials as the kestrel-kafka Secret would put them in the environment. */
const SASL_ENV = { KESTREL_KAFKA_SASL_USERNAME: 'kestrel', KESTREL_KAFKA_SASL_PASSWORD: 's3cret' };

const helm = findHelm();

function run(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(helm!, args, { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** `helm template kestrel` in namespace kestrel with these values files; the objects rendered. */
function render(...valueFiles: string[]): Obj[] {
  const r = run(['template', 'kestrel', CHART, '--namespace', 'kestrel', ...valueFiles.flatMap((f) => ['-f', f])]);
  expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
  return parseAllDocuments(r.out).map((d) => d.toJS() as Obj).filter((d) => d !== null);
}

function kustomizeObjects(files: string[]): Obj[] {
  return files.flatMap((f) => parseAllDocuments(readFileSync(join(K8S, f), 'utf8')).map((d) => d.toJS() as Obj)).filter((d) => d !== null);
}
/** What `kubectl apply -k deploy/k8s` creates, less the Namespace (helm installs into an existing one). */
const kustomize = () => kustomizeObjects(parseYaml(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')).resources).filter((d) => d.kind !== 'Namespace');

const find = (objs: Obj[], kind: string, name?: string): Obj => {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect([kind, name, found.length]).toEqual([kind, name, 1]);
  return found[0];
};
const kindsAndNames = (objs: Obj[]) => objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
const container = (objs: Obj[]) => find(objs, 'Deployment').spec.template.spec.containers[0];
/** Probes with the scheme Kubernetes defaults to written out. */
const probes = (c: Obj) => Object.fromEntries(['startupProbe', 'livenessProbe', 'readinessProbe'].map((p) => [p, { ...c[p], httpGet: { scheme: 'HTTP', ...c[p].httpGet } }]));
/** Env entries with secretKeyRef.optional dropped (kustomize's Secret is optional, the chart's required when enabled). */
const env = (c: Obj) => c.env.map((e: Obj) => (e.valueFrom ? { ...e, valueFrom: { secretKeyRef: { ...e.valueFrom.secretKeyRef, optional: undefined } } } : e));
const selectsPods = (objs: Obj[], selector: Obj) => {
  const labels = find(objs, 'Deployment').spec.template.metadata.labels;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
};

if (helm === undefined) {
  // One line, as the conformance-data skip: say what is missing and how to point at it.
  process.stderr.write(`no helm binary found (set ${HELM_VAR}, put helm on PATH, or run .ci/run once): skipping the Helm chart tests\n`);
}
const describeWithHelm = helm === undefined ? describe.skip : describe;

describeWithHelm('helm chart deploy/helm/kestrel', () => {
  test('helm lint --strict passes with the defaults and with every values file under ci/', () => {
    expect(VALUES_FILES).toEqual(['hpa-values.yaml', 'kustomize-values.yaml', 'tls-sasl-values.yaml', 'webhook-values.yaml']);
    for (const f of [undefined, ...VALUES_FILES]) {
      const r = run(['lint', '--strict', CHART, ...(f ? ['-f', values(f)] : [])]);
      expect([f, r.code, r.out.trim().split('\n').pop()]).toEqual([f, 0, '1 chart(s) linted, 0 chart(s) failed']);
    }
  });

  describe('with the settings of deploy/k8s (ci/kustomize-values.yaml)', () => {
    // Rendered in beforeAll: describe bodies run even when the suite is skipped.
    let chart: Obj[] = [];
    let k8s: Obj[] = [];
    beforeAll(() => {
      chart = render(values('kustomize-values.yaml'));
      k8s = kustomize();
    });

    test('the same kinds and names, all in namespace kestrel', () => {
      expect(kindsAndNames(chart)).toEqual(kindsAndNames(k8s));
      expect(kindsAndNames(chart)).toEqual([
        'ConfigMap/kestrel-config', 'ConfigMap/kestrel-rules', 'Deployment/kestrel', 'PodDisruptionBudget/kestrel', 'ScaledObject/kestrel',
        'Service/kestrel-metrics', 'ServiceAccount/kestrel', 'ServiceMonitor/kestrel',
      ]);
      for (const o of chart) expect([o.kind, o.metadata.namespace]).toEqual([o.kind, 'kestrel']);
    });

    test('the same container: image, args, ports, env, probes, resources, security context, mounts', () => {
      const [c, k] = [container(chart), container(k8s)];
      const kz = parseYaml(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')).images[0];
      expect(c.image).toBe(`${kz.newName}:${kz.newTag}`);
      expect(c.image).toBe('kestrel:0.1.0');
      for (const key of ['name', 'imagePullPolicy', 'args', 'ports', 'resources', 'securityContext', 'volumeMounts']) {
        expect([key, c[key]]).toEqual([key, k[key]]);
      }
      expect(env(c)).toEqual(env(k));
      expect(probes(c)).toEqual(probes(k));
    });

    test('the same pod spec around it and the same volumes', () => {
      const [p, k] = [find(chart, 'Deployment').spec, find(k8s, 'Deployment').spec];
      for (const key of ['serviceAccountName', 'automountServiceAccountToken', 'terminationGracePeriodSeconds', 'securityContext', 'volumes']) {
        expect([key, p.template.spec[key]]).toEqual([key, k.template.spec[key]]);
      }
      expect([p.strategy, p.revisionHistoryLimit]).toEqual([k.strategy, k.revisionHistoryLimit]);
      // KEDA owns the replica count: the chart leaves it out so that upgrades do not reset it.
      expect([p.replicas, k.replicas]).toEqual([undefined, 2]);
    });

    test('kestrel.yaml loads into the same configuration; the same local rules', () => {
      const text = (objs: Obj[]) => find(objs, 'ConfigMap', 'kestrel-config').data['kestrel.yaml'];
      // The same keys and values, but for SASL: kustomize turns it on when its optional
      // Secret exists (the environment variables), the chart says it (kafka.sasl.enabled).
      const doc = parseYaml(text(chart));
      expect(doc.kafka.sasl).toEqual({ mechanism: 'plain' });
      delete doc.kafka.sasl;
      expect(doc).toEqual(parseYaml(text(k8s)));
      expect(parseServiceConfig(text(chart), '/etc/kestrel', SASL_ENV)).toEqual(parseServiceConfig(text(k8s), '/etc/kestrel', SASL_ENV));
      expect(find(chart, 'ConfigMap', 'kestrel-rules').data).toEqual(find(k8s, 'ConfigMap', 'kestrel-rules').data);
    });

    test('the same Service, ServiceMonitor, PodDisruptionBudget and ScaledObject; every selector picks the pods', () => {
      const svc = (objs: Obj[]) => find(objs, 'Service').spec;
      expect({ ...svc(chart), selector: undefined }).toEqual({ ...svc(k8s), selector: undefined });
      expect(find(chart, 'ServiceMonitor').spec.endpoints).toEqual(find(k8s, 'ServiceMonitor').spec.endpoints);
      expect(find(chart, 'ServiceMonitor').spec.namespaceSelector).toEqual(find(k8s, 'ServiceMonitor').spec.namespaceSelector);
      expect(find(chart, 'PodDisruptionBudget').spec.maxUnavailable).toBe(find(k8s, 'PodDisruptionBudget').spec.maxUnavailable);
      expect(find(chart, 'ScaledObject').spec).toEqual(find(k8s, 'ScaledObject').spec);
      for (const sel of [svc(chart).selector, find(chart, 'ServiceMonitor').spec.selector.matchLabels, find(chart, 'PodDisruptionBudget').spec.selector.matchLabels, find(chart, 'Deployment').spec.selector.matchLabels]) {
        expect([sel, selectsPods(chart, sel)]).toEqual([sel, true]);
      }
      // The ServiceMonitor finds the Service by its labels.
      expect(selectsPods([{ kind: 'Deployment', spec: { template: { metadata: { labels: find(chart, 'Service').metadata.labels } } } }], find(chart, 'ServiceMonitor').spec.selector.matchLabels)).toBe(true);
    });
  });

  test('ci/hpa-values.yaml: the HPA of deploy/k8s/hpa.yaml instead of the ScaledObject', () => {
    const chart = render(values('hpa-values.yaml'));
    expect(chart.map((o) => o.kind)).not.toContain('ScaledObject');
    expect(chart.map((o) => o.kind)).not.toContain('ServiceMonitor');
    expect(find(chart, 'HorizontalPodAutoscaler').spec).toEqual(find(kustomizeObjects(['hpa.yaml']), 'HorizontalPodAutoscaler').spec);
    expect(find(chart, 'Deployment').spec.replicas).toBeUndefined();
    // Defaults alone: a fixed replica count, no autoscaler.
    const plain = render();
    expect(find(plain, 'Deployment').spec.replicas).toBe(2);
    expect(plain.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
  });

  test('ci/tls-sasl-values.yaml: TLS files and SCRAM credentials from Secrets, two topics, local rules only', () => {
    const chart = render(values('tls-sasl-values.yaml'));
    const cfg = parseServiceConfig(find(chart, 'ConfigMap', 'kestrel-config').data['kestrel.yaml'], '/etc/kestrel', SASL_ENV);
    expect(cfg.kafka).toMatchObject({
      brokers: ['b-1.kafka.example.internal:9096', 'b-2.kafka.example.internal:9096'],
      ssl: { caFile: '/etc/kestrel/kafka-tls/ca.crt', certFile: '/etc/kestrel/kafka-tls/tls.crt', keyFile: '/etc/kestrel/kafka-tls/tls.key', rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-512', username: 'kestrel', password: 's3cret' },
    });
    expect(cfg.inputs).toMatchObject([{ type: 'kafka', topics: ['k8s-audit-eu', 'k8s-audit-us'], groupId: 'kestrel-prod', fromBeginning: false }]);
    expect([cfg.rules.paths, cfg.deadLetters, cfg.outputs.map((o) => [o.type, o.type === 'kafka' ? o.topic : ''])]).toEqual([['/etc/kestrel/rules'], undefined, [['kafka', 'security-alerts']]]);
    const c = container(chart);
    expect(c.env.slice(0, 2)).toEqual([
      { name: 'KESTREL_KAFKA_SASL_USERNAME', valueFrom: { secretKeyRef: { name: 'kafka-scram', key: 'user' } } },
      { name: 'KESTREL_KAFKA_SASL_PASSWORD', valueFrom: { secretKeyRef: { name: 'kafka-scram', key: 'pass' } } },
    ]);
    expect(c.resources).toEqual({ requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } });
    const sources = find(chart, 'Deployment').spec.template.spec.volumes[0].projected.sources;
    expect(sources.slice(1)).toEqual([
      { configMap: { name: 'kestrel-rules', items: [{ key: 'site_rules.yaml', path: 'rules/site_rules.yaml' }] } },
      { secret: { name: 'kafka-client-tls', items: ['ca.crt', 'tls.crt', 'tls.key'].map((k) => ({ key: k, path: `kafka-tls/${k}` })) } },
    ]);
    const triggers = find(chart, 'ScaledObject').spec.triggers;
    expect(triggers.map((t: Obj) => [t.metadata.topic, t.metadata.bootstrapServers, t.metadata.offsetResetPolicy, t.authenticationRef])).toEqual([
      ['k8s-audit-eu', 'b-1.kafka.example.internal:9096,b-2.kafka.example.internal:9096', 'latest', { name: 'kafka-scram-auth' }],
      ['k8s-audit-us', 'b-1.kafka.example.internal:9096,b-2.kafka.example.internal:9096', 'latest', { name: 'kafka-scram-auth' }],
    ]);
    expect(find(chart, 'ScaledObject').spec.maxReplicaCount).toBe(6);
    // The local rules file loads with the real rules loader.
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-helm-'));
    writeFileSync(join(dir, 'site_rules.yaml'), find(chart, 'ConfigMap', 'kestrel-rules').data['site_rules.yaml']);
    const { ruleset, diagnostics } = loadRuleset([join(dir, 'site_rules.yaml')]);
    expect(diagnostics).toEqual([]);
    expect(ruleset!.compiledRules().map((r) => r.name)).toEqual(['Secret read by a human']);
  });

  test('ci/webhook-values.yaml: the audit webhook over TLS with a token, metrics and probes on their own port', () => {
    const chart = render(values('webhook-values.yaml'));
    expect(kindsAndNames(chart)).toEqual([
      'ConfigMap/kestrel-config', 'ConfigMap/kestrel-rules', 'Deployment/kestrel', 'HorizontalPodAutoscaler/kestrel', 'PodDisruptionBudget/kestrel',
      'Service/kestrel-webhook', 'ServiceAccount/kestrel', 'ServiceMonitor/kestrel',
    ]);
    const c = container(chart);
    expect([c.args, c.ports, c.env]).toEqual([
      ['start', '-c', '/etc/kestrel/kestrel.yaml'],
      [{ name: 'webhook', containerPort: 9765, protocol: 'TCP' }, { name: 'metrics', containerPort: 9376, protocol: 'TCP' }],
      [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=512' }],
    ]);
    expect(Object.values(probes(c)).map((p: Obj) => p.httpGet)).toEqual([
      { path: '/healthz', port: 'metrics', scheme: 'HTTP' }, { path: '/healthz', port: 'metrics', scheme: 'HTTP' }, { path: '/readyz', port: 'metrics', scheme: 'HTTP' },
    ]);
    expect(find(chart, 'Service').spec.ports).toEqual([
      { name: 'webhook', port: 443, targetPort: 'webhook', protocol: 'TCP' }, { name: 'metrics', port: 9376, targetPort: 'metrics', protocol: 'TCP' },
    ]);
    expect(find(chart, 'ServiceMonitor').spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics' });
    // The rendered kestrel.yaml through the real config loader, with the mounted files laid out in a temporary /etc/kestrel.
    const etc = mkdtempSync(join(tmpdir(), 'kestrel-helm-etc-'));
    for (const d of ['tls', 'token', 'rules']) mkdirSync(join(etc, d));
    writeFileSync(join(etc, 'token/token'), 'webhook-token\n');
    const text = find(chart, 'ConfigMap', 'kestrel-config').data['kestrel.yaml'].replaceAll('/etc/kestrel', etc).replace('/app/rules', join(ROOT, 'rules'));
    const cfg = parseServiceConfig(text, etc, {});
    const input = cfg.inputs[0];
    if (input.type !== 'webhook') throw new Error(`expected a webhook input, got ${input.type}`);
    expect([input.host, input.port, input.tokens, input.maxBodyBytes]).toEqual(['0.0.0.0', 9765, ['webhook-token'], 268435456]);
    expect(input.tls).toMatchObject({ certFile: join(etc, 'tls/tls.crt'), keyFile: join(etc, 'tls/tls.key') });
    expect(input.paths).toEqual([
      { path: '/k8s-audit', source: 'k8s_audit', fields: { cluster: 'prod-eu-1' } },
      { path: '/k8s-admission', source: 'k8s_admission', fields: { cluster: 'prod-eu-1', feed: 'kube-audit-rest' } },
    ]);
    expect(cfg.outputs.map((o) => [o.type, o.type === 'http' ? o.url : o.format])).toEqual([['stdout', 'json'], ['http', 'http://falcosidekick.falco.svc:2801/']]);
    expect([cfg.shaping.fields, cfg.metrics?.port]).toEqual([{ environment: 'production' }, 9376]);
    const sources = find(chart, 'Deployment').spec.template.spec.volumes[0].projected.sources;
    expect(sources.slice(2)).toEqual([
      { secret: { name: 'kestrel-webhook-tls', items: [{ key: 'tls.crt', path: 'tls/tls.crt' }, { key: 'tls.key', path: 'tls/tls.key' }] } },
      { secret: { name: 'kestrel-webhook-token', items: [{ key: 'token', path: 'token/token' }] } },
    ]);
  });

  test('mistakes in the values fail the render with a message', () => {
    const bad = (set: string[]) => run(['template', 'kestrel', CHART, ...set.flatMap((s) => ['--set', s])]);
    expect(bad(['mode=stream']).err).toContain('mode must be consume or webhook, not "stream"');
    expect(bad(['autoscaling.keda.enabled=true', 'autoscaling.hpa.enabled=true']).err).toContain('enable autoscaling.keda or autoscaling.hpa, not both');
    expect(bad(['mode=webhook', 'autoscaling.keda.enabled=true']).err).toContain('autoscaling.keda scales on Kafka consumer lag: consume mode only');
    expect(bad(['rules.defaults=false', 'rules.local=null']).err).toContain('rules: enable rules.defaults or give rules.local');
    for (const set of [['mode=stream'], ['autoscaling.keda.enabled=true', 'autoscaling.hpa.enabled=true']]) expect(bad(set).code).toBe(1);
  });
});
