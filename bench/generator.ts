/**
 * Seeded, realistic kube-apiserver audit log generator (audit.k8s.io/v1 `Event`).
 *
 * The stream imitates an EKS-like cluster: kubelets, the controller manager and
 * its per-controller service accounts, the scheduler, the apiserver loopback
 * client, kube-system add-ons, Argo CD and a handful of humans using kubectl.
 * Three classes of documents are produced (shares per emitted document):
 *
 *   read        get/list/watch by system identities, Metadata level, emitted as a
 *               RequestReceived + ResponseComplete pair sharing the auditID (the
 *               ResponseComplete follows a few documents later, interleaved).
 *   write       create/update/patch/delete by controllers, kubelets and humans,
 *               mostly RequestResponse level with full request/response bodies
 *               (pods, deployments with managedFields, ...), ResponseComplete only.
 *   suspicious  what Falco's k8s_audit rules look for: privileged / hostNetwork /
 *               hostPID pods, sensitive hostPath mounts, pods/exec and pods/attach,
 *               cluster-admin bindings, wildcard ClusterRoles, AWS keys in
 *               ConfigMaps, anonymous requests, NodePort services, human-created
 *               kube-system pods, human token requests, human secret reads.
 *               Normal traffic is built so that it carries none of these markers.
 *
 * Determinism: everything comes from one 32-bit PRNG (mulberry32) seeded by the
 * constructor; no Math.random, no wall clock. Same seed -> byte-identical stream.
 *
 * Objects returned by `next()` share deeply frozen sub-objects (templates, node
 * objects, identities) with later events: treat them as read-only.
 */

/* ================================================================ tunables */

export type EventClass = 'read' | 'write' | 'suspicious';

/** Target share of emitted documents per class (a two-stage request counts as two documents). */
export const CLASS_SHARES: Readonly<Record<EventClass, number>> = Object.freeze({
  read: 0.75,
  write: 0.2,
  suspicious: 0.05,
});

/** Relative weights of the request scenarios inside each class. */
export const READ_SCENARIOS: Readonly<Record<string, number>> = Object.freeze({
  kubelet: 30,
  'kube-controller-manager': 14,
  'kube-scheduler': 9,
  'kube-system-serviceaccount': 32,
  'apiserver-loopback': 12,
  discovery: 3,
});

export const WRITE_SCENARIOS: Readonly<Record<string, number>> = Object.freeze({
  'scheduler-bind': 8,
  'replicaset-create-pod': 8,
  'replicaset-delete-pod': 4,
  'deployment-status': 6,
  'kubelet-pod-status': 11,
  'kubelet-node-lease': 13,
  'leader-election-lease': 8,
  'kubelet-node-status': 4,
  'kubelet-token-request': 3,
  'create-event': 11,
  'endpoints-update': 6,
  'hpa-scale': 2,
  'clusterrole-aggregation': 1,
  'argocd-sync': 4,
  'human-deployment': 4,
  'human-configmap': 3,
  'human-secret': 2,
  'human-service': 2,
  'human-rbac': 3,
  'human-delete': 2,
});

export const SUSPICIOUS_SCENARIOS: Readonly<Record<string, number>> = Object.freeze({
  'privileged-pod': 1,
  'host-network-pod': 1,
  'host-pid-pod': 1,
  'sensitive-hostpath-mount': 1,
  'pod-exec': 1.5,
  'pod-attach': 0.5,
  'cluster-admin-binding': 1,
  'wildcard-clusterrole': 1,
  'configmap-aws-credentials': 1,
  'anonymous-request': 1.5,
  'nodeport-service': 1,
  'kube-system-pod-by-human': 1,
  'serviceaccount-token-by-human': 1,
  'secret-read-by-user': 1.5,
});

/** Suspicious scenarios emitted as two documents (ResponseStarted + ResponseComplete). */
const TWO_DOC_SUSPICIOUS: ReadonlySet<string> = new Set(['pod-exec', 'pod-attach']);

/** First timestamp of the stream. */
export const START_TIME = '2026-01-01T00:00:00Z';
/** Upper bound on one serialized event (asserted by the tests). */
export const MAX_EVENT_BYTES = 20 * 1024;

/** Gap between consecutive documents is uniform in [1, MAX_GAP_US] µs (~1300 events/s). */
const MAX_GAP_US = 1500;
/** The ResponseComplete of a two-document request is emitted 1..PAIR_DELAY_MAX documents later. */
const PAIR_DELAY_MAX = 8;
/** Share of reads answered 404. */
const READ_NOT_FOUND_RATE = 0.03;
/** Share of controller updates answered 409 Conflict. */
const WRITE_CONFLICT_RATE = 0.02;
/** Share of human writes done with `kubectl --as=...`. */
const IMPERSONATION_RATE = 0.08;
/** A workload's pod template is trimmed (env vars dropped) until its JSON fits this budget. */
const TEMPLATE_BUDGET_BYTES = 2400;

const K8S_VERSION = 'v1.30.2';
const K8S_COMMIT = '3968350';
const AWS_ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const SA_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

/* ================================================================ types */

export type AuditLevel = 'Metadata' | 'Request' | 'RequestResponse';
export type AuditStage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete';

export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface ObjectReference {
  resource?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiGroup?: string;
  apiVersion?: string;
  resourceVersion?: string;
  subresource?: string;
}

export interface ResponseStatus {
  metadata: Record<string, unknown>;
  status?: string;
  message?: string;
  reason?: string;
  details?: Record<string, unknown>;
  code: number;
}

/** audit.k8s.io/v1 Event. */
export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: AuditLevel;
  auditID: string;
  stage: AuditStage;
  requestURI: string;
  verb: string;
  user: UserInfo;
  impersonatedUser?: UserInfo;
  sourceIPs: string[];
  userAgent: string;
  objectRef?: ObjectReference;
  responseStatus?: ResponseStatus;
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

/** One generated document with the ground truth of how it was generated. */
export interface GeneratedEvent {
  event: AuditEvent;
  cls: EventClass;
  scenario: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = Record<string, any>;

/* ================================================================ PRNG */

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'; // k8s.io/apimachinery/pkg/util/rand
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
function hex8(x: number): string {
  return HEX_BYTE[x >>> 24] + HEX_BYTE[(x >>> 16) & 255] + HEX_BYTE[(x >>> 8) & 255] + HEX_BYTE[x & 255];
}

/** mulberry32: tiny, fast, good enough for synthetic data. Seed is taken modulo 2^32. */
export class Prng {
  private s: number;

  constructor(seed: number) {
    // Scramble the seed (murmur3 finalizer) so that nearby seeds give unrelated streams.
    let h = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    this.s = (h ^ (h >>> 16)) >>> 0;
  }

  uint32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }

  hex(len: number): string {
    let s = '';
    while (s.length < len) s += hex8(this.uint32());
    return s.length === len ? s : s.slice(0, len);
  }

  chars(alphabet: string, len: number): string {
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }

  /** k8s-style random name suffix (generateName). */
  suffix(len = 5): string {
    return this.chars(NAME_ALPHABET, len);
  }

  /** RFC 4122 version-4 shaped UUID. */
  uuid(): string {
    const a = this.uint32();
    const b = this.uint32();
    const c = this.uint32();
    const d = this.uint32();
    const hb = hex8(b);
    const hc = hex8(((c & 0x3fffffff) | 0x80000000) >>> 0);
    return `${hex8(a)}-${hb.slice(0, 4)}-4${hb.slice(5, 8)}-${hc.slice(0, 4)}-${hc.slice(4, 8)}${hex8(d)}`;
  }

  /** A random subset of `a` of size n (order of `a` kept). */
  subset<T>(a: readonly T[], n: number): T[] {
    const idx = a.map((_, i) => i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    return idx
      .slice(0, Math.min(n, a.length))
      .sort((x, y) => x - y)
      .map((i) => a[i]);
  }
}

class Weighted<T> {
  private readonly items: T[] = [];
  private readonly cum: number[] = [];
  private total = 0;

  constructor(entries: ReadonlyArray<readonly [T, number]>) {
    for (const [item, w] of entries) {
      if (w <= 0) continue;
      this.total += w;
      this.items.push(item);
      this.cum.push(this.total);
    }
  }

  pick(rng: Prng): T {
    const x = rng.float() * this.total;
    for (let i = 0; i < this.cum.length; i++) if (x < this.cum[i]) return this.items[i];
    return this.items[this.items.length - 1];
  }
}

function weightedOf(table: Readonly<Record<string, number>>): Weighted<string> {
  return new Weighted(Object.entries(table));
}

/* ================================================================ helpers */

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

const START_US = Date.parse(START_TIME) * 1000;

let tsCacheSec = -1;
let tsCachePrefix = '';
/** RFC 3339 with microseconds, e.g. 2026-01-01T00:00:01.234567Z. */
function fmtMicro(us: number): string {
  const sec = Math.floor(us / 1e6);
  if (sec !== tsCacheSec) {
    tsCacheSec = sec;
    tsCachePrefix = new Date(sec * 1000).toISOString().slice(0, 19);
  }
  return `${tsCachePrefix}.${(1e6 + us - sec * 1e6).toString().slice(1)}Z`;
}

const secCache = new Map<number, string>();
/** RFC 3339 seconds precision (metav1.Time), e.g. 2026-01-01T00:00:01Z. */
function fmtSec(us: number): string {
  const sec = Math.floor(us / 1e6);
  let s = secCache.get(sec);
  if (s === undefined) {
    if (secCache.size >= 8192) secCache.clear();
    s = new Date(sec * 1000).toISOString().slice(0, 19) + 'Z';
    secCache.set(sec, s);
  }
  return s;
}

function userAgent(component: string, suffix = ''): string {
  return `${component}/${K8S_VERSION} (linux/amd64) kubernetes/${K8S_COMMIT}${suffix}`;
}

function watchQuery(rng: Prng, rv: number, extra = ''): string {
  const secs = rng.range(300, 599);
  return `?allowWatchBookmarks=true${extra}&resourceVersion=${rv}&timeout=${Math.floor(secs / 60)}m${secs % 60}s&timeoutSeconds=${secs}&watch=true`;
}

interface ResDef {
  resource: string;
  group: string;
  version: string;
  namespaced: boolean;
  kind: string;
}

function rd(resource: string, group: string, version: string, namespaced: boolean, kind: string): ResDef {
  return { resource, group, version, namespaced, kind };
}

const RES = {
  pods: rd('pods', '', 'v1', true, 'Pod'),
  nodes: rd('nodes', '', 'v1', false, 'Node'),
  namespaces: rd('namespaces', '', 'v1', false, 'Namespace'),
  services: rd('services', '', 'v1', true, 'Service'),
  endpoints: rd('endpoints', '', 'v1', true, 'Endpoints'),
  configmaps: rd('configmaps', '', 'v1', true, 'ConfigMap'),
  secrets: rd('secrets', '', 'v1', true, 'Secret'),
  serviceaccounts: rd('serviceaccounts', '', 'v1', true, 'ServiceAccount'),
  events: rd('events', '', 'v1', true, 'Event'),
  pvcs: rd('persistentvolumeclaims', '', 'v1', true, 'PersistentVolumeClaim'),
  pvs: rd('persistentvolumes', '', 'v1', false, 'PersistentVolume'),
  resourcequotas: rd('resourcequotas', '', 'v1', true, 'ResourceQuota'),
  limitranges: rd('limitranges', '', 'v1', true, 'LimitRange'),
  deployments: rd('deployments', 'apps', 'v1', true, 'Deployment'),
  replicasets: rd('replicasets', 'apps', 'v1', true, 'ReplicaSet'),
  daemonsets: rd('daemonsets', 'apps', 'v1', true, 'DaemonSet'),
  statefulsets: rd('statefulsets', 'apps', 'v1', true, 'StatefulSet'),
  controllerrevisions: rd('controllerrevisions', 'apps', 'v1', true, 'ControllerRevision'),
  jobs: rd('jobs', 'batch', 'v1', true, 'Job'),
  cronjobs: rd('cronjobs', 'batch', 'v1', true, 'CronJob'),
  leases: rd('leases', 'coordination.k8s.io', 'v1', true, 'Lease'),
  endpointslices: rd('endpointslices', 'discovery.k8s.io', 'v1', true, 'EndpointSlice'),
  eventsV1: rd('events', 'events.k8s.io', 'v1', true, 'Event'),
  roles: rd('roles', 'rbac.authorization.k8s.io', 'v1', true, 'Role'),
  rolebindings: rd('rolebindings', 'rbac.authorization.k8s.io', 'v1', true, 'RoleBinding'),
  clusterroles: rd('clusterroles', 'rbac.authorization.k8s.io', 'v1', false, 'ClusterRole'),
  clusterrolebindings: rd('clusterrolebindings', 'rbac.authorization.k8s.io', 'v1', false, 'ClusterRoleBinding'),
  hpas: rd('horizontalpodautoscalers', 'autoscaling', 'v2', true, 'HorizontalPodAutoscaler'),
  pdbs: rd('poddisruptionbudgets', 'policy', 'v1', true, 'PodDisruptionBudget'),
  csinodes: rd('csinodes', 'storage.k8s.io', 'v1', false, 'CSINode'),
  csidrivers: rd('csidrivers', 'storage.k8s.io', 'v1', false, 'CSIDriver'),
  storageclasses: rd('storageclasses', 'storage.k8s.io', 'v1', false, 'StorageClass'),
  volumeattachments: rd('volumeattachments', 'storage.k8s.io', 'v1', false, 'VolumeAttachment'),
  csistoragecapacities: rd('csistoragecapacities', 'storage.k8s.io', 'v1', true, 'CSIStorageCapacity'),
  ingresses: rd('ingresses', 'networking.k8s.io', 'v1', true, 'Ingress'),
  networkpolicies: rd('networkpolicies', 'networking.k8s.io', 'v1', true, 'NetworkPolicy'),
  ingressclasses: rd('ingressclasses', 'networking.k8s.io', 'v1', false, 'IngressClass'),
  priorityclasses: rd('priorityclasses', 'scheduling.k8s.io', 'v1', false, 'PriorityClass'),
  runtimeclasses: rd('runtimeclasses', 'node.k8s.io', 'v1', false, 'RuntimeClass'),
  flowschemas: rd('flowschemas', 'flowcontrol.apiserver.k8s.io', 'v1', false, 'FlowSchema'),
  prioritylevels: rd('prioritylevelconfigurations', 'flowcontrol.apiserver.k8s.io', 'v1', false, 'PriorityLevelConfiguration'),
  mutatingwebhooks: rd('mutatingwebhookconfigurations', 'admissionregistration.k8s.io', 'v1', false, 'MutatingWebhookConfiguration'),
  validatingwebhooks: rd('validatingwebhookconfigurations', 'admissionregistration.k8s.io', 'v1', false, 'ValidatingWebhookConfiguration'),
  crds: rd('customresourcedefinitions', 'apiextensions.k8s.io', 'v1', false, 'CustomResourceDefinition'),
  apiservices: rd('apiservices', 'apiregistration.k8s.io', 'v1', false, 'APIService'),
  csrs: rd('certificatesigningrequests', 'certificates.k8s.io', 'v1', false, 'CertificateSigningRequest'),
  podmetrics: rd('pods', 'metrics.k8s.io', 'v1beta1', true, 'PodMetrics'),
  eniconfigs: rd('eniconfigs', 'crd.k8s.amazonaws.com', 'v1alpha1', false, 'ENIConfig'),
} as const;

function resPath(r: ResDef, ns?: string, name?: string, sub?: string): string {
  let p = r.group ? `/apis/${r.group}/${r.version}` : '/api/v1';
  if (ns !== undefined && r.namespaced) p += `/namespaces/${ns}`;
  p += `/${r.resource}`;
  if (name !== undefined) p += `/${name}`;
  if (sub !== undefined) p += `/${sub}`;
  return p;
}

function objRef(r: ResDef, ns?: string, name?: string, sub?: string): ObjectReference {
  const o: ObjectReference = { resource: r.resource };
  if (ns !== undefined && r.namespaced) o.namespace = ns;
  if (name !== undefined) o.name = name;
  if (r.group) o.apiGroup = r.group;
  o.apiVersion = r.version;
  if (sub !== undefined) o.subresource = sub;
  return o;
}

function ok(code = 200): ResponseStatus {
  return { metadata: {}, code };
}

function failure(code: number, reason: string, message: string, details?: Record<string, unknown>): ResponseStatus {
  return details ? { metadata: {}, status: 'Failure', message, reason, details, code } : { metadata: {}, status: 'Failure', message, reason, code };
}

function statusObject(st: ResponseStatus): J {
  const o: J = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: st.status ?? 'Success' };
  if (st.message) o.message = st.message;
  if (st.reason) o.reason = st.reason;
  if (st.details) o.details = st.details;
  o.code = st.code;
  return o;
}

/* -------------------------------------------------------- managedFields (FieldsV1) */

function listKey(el: J): string | undefined {
  if (typeof el.containerPort === 'number') return `k:{"containerPort":${el.containerPort},"protocol":"${el.protocol ?? 'TCP'}"}`;
  if (typeof el.port === 'number' && typeof el.protocol === 'string') return `k:{"port":${el.port},"protocol":"${el.protocol}"}`;
  if (typeof el.mountPath === 'string') return `k:{"mountPath":${JSON.stringify(el.mountPath)}}`;
  if (typeof el.name === 'string') return `k:{"name":${JSON.stringify(el.name)}}`;
  if (typeof el.type === 'string') return `k:{"type":${JSON.stringify(el.type)}}`;
  if (typeof el.uid === 'string') return `k:{"uid":${JSON.stringify(el.uid)}}`;
  if (typeof el.ip === 'string') return `k:{"ip":${JSON.stringify(el.ip)}}`;
  return undefined;
}

/** metadata fields owned by the apiserver, never part of a manager's field set. */
const FV_META_SKIP = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'generation']);

/** Structured-merge-diff FieldsV1 set for the fields present in `obj`. */
function fieldsV1(obj: J, depth = 0, parent = ''): J {
  const out: J = depth >= 2 ? { '.': {} } : {};
  for (const k of Object.keys(obj)) {
    if (depth === 0 && (k === 'kind' || k === 'apiVersion')) continue;
    if (depth === 1 && parent === 'metadata' && FV_META_SKIP.has(k)) continue;
    const v = obj[k];
    if (v === null || v === undefined) continue;
    const fk = `f:${k}`;
    if (Array.isArray(v)) {
      const keyed = v.length > 0 && typeof v[0] === 'object' && v[0] !== null && listKey(v[0]) !== undefined;
      if (!keyed) {
        out[fk] = {};
        continue;
      }
      const m: J = {};
      for (const el of v) {
        const lk = listKey(el);
        if (lk !== undefined) m[lk] = fieldsV1(el, 2);
      }
      out[fk] = m;
    } else if (typeof v === 'object') {
      out[fk] = Object.keys(v).length > 0 ? fieldsV1(v, depth + 1, k) : {};
    } else {
      out[fk] = {};
    }
  }
  return out;
}

function managedEntry(manager: string, operation: 'Update' | 'Apply', apiVersion: string, time: string, fv: J, subresource?: string): J {
  const e: J = { manager, operation, apiVersion, time, fieldsType: 'FieldsV1', fieldsV1: fv };
  if (subresource) e.subresource = subresource;
  return e;
}

/* ================================================================ world data */

interface Actor {
  user: UserInfo;
  sourceIPs: string[];
  userAgent: string;
  /** authorization.k8s.io/reason for an allowed request. */
  reason: string;
}

interface HumanDef {
  name: string;
  group: string;
  kubectl: string;
  ip: string;
  ssoRole: string;
  admin: boolean;
}

const HUMANS: readonly HumanDef[] = [
  { name: 'admin@example.com', group: 'platform-admins', kubectl: 'kubectl/v1.30.1 (darwin/arm64) kubernetes/9ab0d3b', ip: '203.0.113.10', ssoRole: 'AdministratorAccess', admin: true },
  { name: 'alice@example.com', group: 'team-payments', kubectl: 'kubectl/v1.30.2 (darwin/arm64) kubernetes/3968350', ip: '203.0.113.24', ssoRole: 'PowerUserAccess', admin: false },
  { name: 'bob@example.com', group: 'team-checkout', kubectl: 'kubectl/v1.29.4 (linux/amd64) kubernetes/55fc8c1', ip: '203.0.113.57', ssoRole: 'PowerUserAccess', admin: false },
  { name: 'carol@example.com', group: 'sre', kubectl: 'kubectl/v1.30.1 (linux/amd64) kubernetes/9ab0d3b', ip: '198.51.100.33', ssoRole: 'AdministratorAccess', admin: true },
  { name: 'dave@example.com', group: 'team-data', kubectl: 'kubectl/v1.28.9 (windows/amd64) kubernetes/587f5fe', ip: '198.51.100.71', ssoRole: 'ReadOnlyAccess', admin: false },
];

interface WorkloadDef {
  ns: string;
  app: string;
  image: string;
  port: number;
  replicas: number;
  /** Extra container (sidecar) image, if any. */
  sidecar?: string;
  /** Workload runs in a namespace humans do not create pods in (kube-system add-ons). */
  system?: boolean;
  team: string;
}

const WORKLOAD_DEFS: readonly WorkloadDef[] = [
  { ns: 'payments', app: 'payments-api', image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/payments/api:v2.14.3', port: 8080, replicas: 4, sidecar: 'envoyproxy/envoy:v1.30.2', team: 'team-payments' },
  { ns: 'payments', app: 'payments-worker', image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/payments/worker:v2.14.3', port: 8081, replicas: 3, team: 'team-payments' },
  { ns: 'payments', app: 'ledger', image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/payments/ledger:v1.8.0', port: 8080, replicas: 2, team: 'team-payments' },
  { ns: 'checkout', app: 'checkout-web', image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/checkout-web:2026.01.02-7f3a9c1', port: 3000, replicas: 6, sidecar: 'envoyproxy/envoy:v1.30.2', team: 'team-checkout' },
  { ns: 'checkout', app: 'cart-service', image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/cart:1.22.0', port: 8080, replicas: 3, team: 'team-checkout' },
  { ns: 'checkout', app: 'recommendations', image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/recommendations:0.9.4', port: 5000, replicas: 2, team: 'team-checkout' },
  { ns: 'frontend', app: 'storefront', image: 'nginx:1.27.2-alpine', port: 8080, replicas: 4, team: 'team-checkout' },
  { ns: 'data', app: 'redis', image: 'redis:7.2.5-alpine', port: 6379, replicas: 1, sidecar: 'oliver006/redis_exporter:v1.62.0', team: 'team-data' },
  { ns: 'data', app: 'kafka-connect', image: 'confluentinc/cp-kafka-connect:7.6.1', port: 8083, replicas: 2, team: 'team-data' },
  { ns: 'data', app: 'etl-scheduler', image: 'apache/airflow:2.9.2', port: 8080, replicas: 1, team: 'team-data' },
  { ns: 'monitoring', app: 'prometheus-server', image: 'quay.io/prometheus/prometheus:v2.53.1', port: 9090, replicas: 2, sidecar: 'ghcr.io/prometheus-operator/prometheus-config-reloader:v0.75.1', team: 'sre' },
  { ns: 'monitoring', app: 'grafana', image: 'grafana/grafana:11.1.0', port: 3000, replicas: 1, team: 'sre' },
  { ns: 'monitoring', app: 'kube-state-metrics', image: 'registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.12.0', port: 8080, replicas: 1, team: 'sre' },
  { ns: 'ingress-nginx', app: 'ingress-nginx-controller', image: 'registry.k8s.io/ingress-nginx/controller:v1.10.1', port: 80, replicas: 3, team: 'sre' },
  { ns: 'cert-manager', app: 'cert-manager', image: 'quay.io/jetstack/cert-manager-controller:v1.15.1', port: 9402, replicas: 1, team: 'sre' },
  { ns: 'argocd', app: 'argocd-server', image: 'quay.io/argoproj/argocd:v2.11.4', port: 8080, replicas: 2, team: 'sre' },
  { ns: 'argocd', app: 'argocd-repo-server', image: 'quay.io/argoproj/argocd:v2.11.4', port: 8081, replicas: 2, team: 'sre' },
  { ns: 'default', app: 'hello-web', image: 'ghcr.io/example/hello-web:1.4.2', port: 8080, replicas: 2, team: 'sre' },
  { ns: 'kube-system', app: 'coredns', image: '602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/coredns:v1.11.1-eksbuild.9', port: 53, replicas: 2, system: true, team: 'sre' },
  { ns: 'kube-system', app: 'metrics-server', image: 'registry.k8s.io/metrics-server/metrics-server:v0.7.1', port: 10250, replicas: 1, system: true, team: 'sre' },
];

const NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'payments', 'checkout', 'frontend', 'data', 'monitoring', 'ingress-nginx', 'cert-manager', 'argocd', 'logging'];

/** kube-system service accounts of the controller manager (--use-service-account-credentials). */
const KCM_CONTROLLERS: ReadonlyArray<readonly [string, readonly ResDef[]]> = [
  ['generic-garbage-collector', [RES.pods, RES.replicasets, RES.deployments, RES.configmaps, RES.secrets, RES.serviceaccounts, RES.roles, RES.rolebindings, RES.leases, RES.endpointslices, RES.controllerrevisions, RES.jobs]],
  ['replicaset-controller', [RES.replicasets, RES.pods]],
  ['deployment-controller', [RES.deployments, RES.replicasets, RES.pods]],
  ['endpointslice-controller', [RES.endpointslices, RES.services, RES.pods, RES.nodes]],
  ['endpoint-controller', [RES.endpoints, RES.services, RES.pods]],
  ['namespace-controller', [RES.namespaces, RES.configmaps, RES.serviceaccounts, RES.resourcequotas, RES.limitranges]],
  ['resourcequota-controller', [RES.resourcequotas, RES.pods, RES.services, RES.pvcs]],
  ['horizontal-pod-autoscaler', [RES.hpas, RES.deployments, RES.podmetrics, RES.pods]],
  ['daemon-set-controller', [RES.daemonsets, RES.controllerrevisions, RES.pods, RES.nodes]],
  ['job-controller', [RES.jobs, RES.pods]],
  ['cronjob-controller', [RES.cronjobs, RES.jobs]],
  ['statefulset-controller', [RES.statefulsets, RES.controllerrevisions, RES.pvcs]],
  ['pvc-protection-controller', [RES.pvcs, RES.pods]],
  ['node-controller', [RES.nodes, RES.pods, RES.leases]],
  ['disruption-controller', [RES.pdbs, RES.pods, RES.deployments]],
  ['root-ca-cert-publisher', [RES.configmaps, RES.namespaces]],
  ['service-account-controller', [RES.serviceaccounts, RES.namespaces]],
  ['ttl-after-finished-controller', [RES.jobs]],
];

interface AddonSa {
  name: string;
  ua: string;
  resources: readonly ResDef[];
}

const ADDON_SAS: readonly AddonSa[] = [
  { name: 'coredns', ua: 'coredns/v1.11.1 (linux/amd64) kubernetes/$Format', resources: [RES.endpointslices, RES.services, RES.namespaces] },
  { name: 'kube-proxy', ua: userAgent('kube-proxy'), resources: [RES.services, RES.endpointslices, RES.nodes] },
  { name: 'metrics-server', ua: 'metrics-server/v0.7.1 (linux/amd64) kubernetes/$Format', resources: [RES.nodes, RES.pods, RES.configmaps] },
  { name: 'aws-node', ua: 'aws-vpc-cni/v1.18.2 (linux/amd64) kubernetes/$Format', resources: [RES.nodes, RES.pods, RES.namespaces, RES.eniconfigs] },
  { name: 'ebs-csi-controller-sa', ua: 'csi-provisioner/v4.0.1 (linux/amd64) kubernetes/$Format', resources: [RES.pvs, RES.pvcs, RES.storageclasses, RES.volumeattachments, RES.csinodes] },
  { name: 'cluster-autoscaler', ua: 'cluster-autoscaler/v1.30.1 (linux/amd64) kubernetes/$Format', resources: [RES.pods, RES.nodes, RES.pdbs, RES.statefulsets, RES.replicasets, RES.daemonsets, RES.jobs, RES.pvcs, RES.csinodes, RES.storageclasses] },
];

const KCM_INFORMERS: readonly ResDef[] = [
  RES.pods, RES.nodes, RES.services, RES.endpoints, RES.configmaps, RES.secrets, RES.deployments, RES.replicasets, RES.daemonsets,
  RES.statefulsets, RES.jobs, RES.cronjobs, RES.serviceaccounts, RES.namespaces, RES.pvs, RES.pvcs, RES.leases, RES.endpointslices,
  RES.pdbs, RES.hpas, RES.csinodes, RES.resourcequotas, RES.limitranges, RES.roles, RES.rolebindings, RES.clusterroles,
  RES.clusterrolebindings, RES.csrs, RES.controllerrevisions, RES.ingresses, RES.priorityclasses, RES.volumeattachments,
];

const SCHEDULER_INFORMERS: readonly ResDef[] = [
  RES.pods, RES.nodes, RES.pvcs, RES.pvs, RES.csinodes, RES.csidrivers, RES.csistoragecapacities, RES.storageclasses, RES.pdbs,
  RES.replicasets, RES.statefulsets, RES.services, RES.namespaces,
];

const APISERVER_INFORMERS: readonly ResDef[] = [
  RES.flowschemas, RES.prioritylevels, RES.clusterroles, RES.clusterrolebindings, RES.roles, RES.rolebindings, RES.priorityclasses,
  RES.mutatingwebhooks, RES.validatingwebhooks, RES.crds, RES.apiservices, RES.serviceaccounts, RES.namespaces, RES.services,
  RES.endpoints, RES.endpointslices, RES.nodes, RES.ingressclasses, RES.runtimeclasses, RES.limitranges, RES.resourcequotas,
];

const DISCOVERY_PATHS = ['/api', '/apis', '/api/v1', '/apis/apps/v1', '/version', '/openapi/v2?timeout=32s', '/apis/discovery.k8s.io/v1', '/openapi/v3?timeout=32s', '/apis/metrics.k8s.io/v1beta1'];

const DEBUG_IMAGES = ['busybox:1.36', 'alpine:3.20', 'ubuntu:22.04', 'nicolaka/netshoot:v0.13', 'docker.io/library/debian:bookworm-slim', 'ghcr.io/kinvolk/kubectl-debug:0.1.2'];
const SENSITIVE_HOST_PATHS: ReadonlyArray<readonly [string, string]> = [
  ['/etc', 'Directory'],
  ['/var/run/docker.sock', 'Socket'],
  ['/run/containerd/containerd.sock', 'Socket'],
  ['/proc', 'Directory'],
  ['/', 'Directory'],
  ['/root', 'Directory'],
  ['/var/lib/kubelet', 'Directory'],
  ['/etc/kubernetes', 'DirectoryOrCreate'],
];
const EXTERNAL_IPS = ['185.220.101.47', '45.155.205.233', '91.240.118.172', '194.26.29.113', '162.142.125.10', '167.94.138.35'];
const ANON_UAS = ['curl/8.5.0', 'python-requests/2.31.0', 'Go-http-client/1.1', 'Mozilla/5.0 zgrab/0.x', 'kube-hunter/0.6.8'];

/* -------------------------------------------------------------- env vars */

type EnvMaker = (app: string, ns: string, container: string) => J;

const ENV_POOL: readonly EnvMaker[] = [
  () => ({ name: 'LOG_LEVEL', value: 'info' }),
  () => ({ name: 'LOG_FORMAT', value: 'json' }),
  () => ({ name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }),
  () => ({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } }),
  () => ({ name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } }),
  (_a, _n, c) => ({ name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { containerName: c, resource: 'limits.cpu', divisor: '1' } } }),
  () => ({ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://otel-collector.monitoring.svc.cluster.local:4317' }),
  (a) => ({ name: 'OTEL_SERVICE_NAME', value: a }),
  (a, n) => ({ name: 'DATABASE_HOST', value: `${a}-db.${n}.svc.cluster.local` }),
  () => ({ name: 'DATABASE_PORT', value: '5432' }),
  (a) => ({ name: 'DATABASE_DSN', valueFrom: { secretKeyRef: { name: `${a}-db`, key: 'dsn' } } }),
  () => ({ name: 'REDIS_URL', value: 'redis://redis.data.svc.cluster.local:6379/0' }),
  () => ({ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=75.0 -XX:+UseG1GC -Dfile.encoding=UTF-8' }),
  () => ({ name: 'SPRING_PROFILES_ACTIVE', value: 'production,eks' }),
  () => ({ name: 'FEATURE_FLAGS', value: 'new-checkout,async-payments,edge-cache' }),
  () => ({ name: 'KAFKA_BOOTSTRAP_SERVERS', value: 'kafka-0.kafka-headless.data.svc.cluster.local:9092,kafka-1.kafka-headless.data.svc.cluster.local:9092' }),
  () => ({ name: 'HTTP_CLIENT_TIMEOUT', value: '30s' }),
  () => ({ name: 'TZ', value: 'UTC' }),
  () => ({ name: 'AWS_REGION', value: REGION }),
  () => ({ name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' }),
  (a) => ({ name: 'AWS_ROLE_ARN', value: `arn:aws:iam::${AWS_ACCOUNT}:role/eks-${a}-irsa` }),
  () => ({ name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' }),
  (a) => ({ name: 'SENTRY_DSN', valueFrom: { secretKeyRef: { name: `${a}-sentry`, key: 'dsn', optional: true } } }),
  () => ({ name: 'METRICS_ADDR', value: ':9102' }),
];

/* ================================================================ world model */

interface NodeInfo {
  name: string;
  ip: string;
  zone: string;
  instanceId: string;
  uid: string;
  leaseUid: string;
  actor: Actor;
  /** Frozen Node object (status conditions are replaced per event). */
  object: J;
  /** FieldsV1 of the kubelet's metadata/spec entry. */
  metaFv: J;
}

interface PodInfo {
  name: string;
  uid: string;
  ip: string;
  node: NodeInfo;
  w: Workload;
  kubeApiAccess: string;
  startedUs: number;
  /** FieldsV1 of the kubelet status entry (built lazily). */
  statusFv?: J;
}

interface Workload {
  def: WorkloadDef;
  uid: string;
  rsHash: string;
  rsName: string;
  rsUid: string;
  revision: number;
  generation: number;
  labels: J;
  /** Frozen pod template (metadata + spec). */
  template: J;
  templateFv: J;
  /** FieldsV1 of the controller-manager entry of this workload's pods (built lazily). */
  podFv?: J;
  imageIDs: string[];
  pods: PodInfo[];
  saName: string;
  configMap: string;
}

interface Req {
  level: AuditLevel;
  auditID: string;
  requestURI: string;
  verb: string;
  user: UserInfo;
  impersonatedUser?: UserInfo;
  sourceIPs: string[];
  userAgent: string;
  objectRef?: ObjectReference;
  responseStatus: ResponseStatus;
  requestObject?: unknown;
  responseObject?: unknown;
  annotations: Record<string, string>;
}

interface Planned {
  req: Req;
  /** Stages to emit, in order; the first is emitted now, the rest later. */
  stages: AuditStage[];
  latencyUs: number;
}

interface Pending {
  due: number;
  req: Req;
  stage: AuditStage;
  rrUs: number;
  cls: EventClass;
  scenario: string;
}

export const CLASS_ORDER: readonly EventClass[] = ['read', 'write', 'suspicious'];

/* ================================================================ generator */

export class AuditEventGenerator {
  private readonly rng: Prng;
  private clockUs = START_US;
  private emitted = 0;
  private rv: number;
  private readonly pending: Pending[] = [];

  private readonly classPick: Weighted<EventClass>;
  private readonly readPick = weightedOf(READ_SCENARIOS);
  private readonly writePick = weightedOf(WRITE_SCENARIOS);
  private readonly suspPick = weightedOf(SUSPICIOUS_SCENARIOS);

  private readonly nodes: NodeInfo[] = [];
  private readonly workloads: Workload[] = [];
  private readonly appWorkloads: Workload[];
  private readonly pods: PodInfo[] = [];
  private readonly humans: { def: HumanDef; actor: Actor }[] = [];
  private readonly kcm: Actor;
  private readonly scheduler: Actor;
  private readonly apiserver: Actor;
  private readonly kcmSa = new Map<string, Actor>();
  private readonly addonSa = new Map<string, Actor>();
  private readonly argocd: Actor;
  private readonly cpIp: string;
  private readonly apiserverLease: string;
  private readonly leaderIds: Record<string, string>;
  /** Stable uids of the leader-election leases and of the aggregated admin/edit/view ClusterRoles. */
  private readonly leaseUids: Record<string, string>;

  constructor(seed: number) {
    this.rng = new Prng(seed);
    const rng = this.rng;
    this.rv = 48_000_000 + rng.int(2_000_000);

    // Class weights per *request*: reads emit two documents, exec/attach two, the rest one.
    const suspTotal = Object.values(SUSPICIOUS_SCENARIOS).reduce((a, b) => a + b, 0);
    const suspDocs =
      Object.entries(SUSPICIOUS_SCENARIOS).reduce((a, [k, w]) => a + w * (TWO_DOC_SUSPICIOUS.has(k) ? 2 : 1), 0) / suspTotal;
    this.classPick = new Weighted<EventClass>([
      ['read', CLASS_SHARES.read / 2],
      ['write', CLASS_SHARES.write],
      ['suspicious', CLASS_SHARES.suspicious / suspDocs],
    ]);

    this.cpIp = `172.16.${rng.range(32, 63)}.${rng.range(2, 250)}`;
    this.apiserverLease = `apiserver-${rng.chars('abcdefghijklmnopqrstuvwxyz234567', 26)}`;
    this.leaderIds = {
      'kube-controller-manager': `ip-172-16-${rng.range(32, 63)}-${rng.range(2, 250)}.${REGION}.compute.internal_${rng.uuid()}`,
      'kube-scheduler': `ip-172-16-${rng.range(32, 63)}-${rng.range(2, 250)}.${REGION}.compute.internal_${rng.uuid()}`,
      'cloud-controller-manager': `ip-172-16-${rng.range(32, 63)}-${rng.range(2, 250)}.${REGION}.compute.internal_${rng.uuid()}`,
    };
    this.leaseUids = {
      'kube-controller-manager': rng.uuid(),
      'kube-scheduler': rng.uuid(),
      'cloud-controller-manager': rng.uuid(),
      admin: rng.uuid(),
      edit: rng.uuid(),
      view: rng.uuid(),
    };

    // ---- control plane identities
    this.kcm = this.freezeActor({
      user: { username: 'system:kube-controller-manager', groups: ['system:authenticated'] },
      sourceIPs: [this.cpIp],
      userAgent: userAgent('kube-controller-manager', '/leader-election'),
      reason: 'RBAC: allowed by ClusterRoleBinding "system:kube-controller-manager" of ClusterRole "system:kube-controller-manager" to User "system:kube-controller-manager"',
    });
    this.scheduler = this.freezeActor({
      user: { username: 'system:kube-scheduler', groups: ['system:authenticated'] },
      sourceIPs: [this.cpIp],
      userAgent: userAgent('kube-scheduler', '/scheduler'),
      reason: 'RBAC: allowed by ClusterRoleBinding "system:kube-scheduler" of ClusterRole "system:kube-scheduler" to User "system:kube-scheduler"',
    });
    this.apiserver = this.freezeActor({
      user: { username: 'system:apiserver', uid: rng.uuid(), groups: ['system:authenticated', 'system:masters'] },
      sourceIPs: ['::1'],
      userAgent: userAgent('kube-apiserver'),
      reason: '',
    });
    for (const [name] of KCM_CONTROLLERS.concat([['clusterrole-aggregation-controller', []]])) {
      this.kcmSa.set(
        name,
        this.freezeActor({
          user: {
            username: `system:serviceaccount:kube-system:${name}`,
            uid: rng.uuid(),
            groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
            extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${rng.uuid()}`] },
          },
          sourceIPs: [this.cpIp],
          userAgent: userAgent('kube-controller-manager', `/system:serviceaccount:kube-system:${name}`),
          reason: `RBAC: allowed by ClusterRoleBinding "system:controller:${name}" of ClusterRole "system:controller:${name}" to ServiceAccount "${name}/kube-system"`,
        }),
      );
    }

    // ---- nodes
    const zones = ['a', 'b', 'c'];
    const types = ['m6i.xlarge', 'm6i.2xlarge', 'c6i.2xlarge', 'r6i.xlarge'];
    const usedIps = new Set<string>();
    for (let i = 0; i < 12; i++) {
      let a = 0;
      let b = 0;
      do {
        a = 16 + 16 * (i % 3) + rng.int(16);
        b = rng.range(2, 254);
      } while (usedIps.has(`${a}.${b}`));
      usedIps.add(`${a}.${b}`);
      const ip = `10.0.${a}.${b}`;
      const name = `ip-10-0-${a}-${b}.${REGION}.compute.internal`;
      const zone = `${REGION}${zones[i % 3]}`;
      const instanceId = `i-0${rng.hex(16)}`;
      const uid = rng.uuid();
      const actor = this.freezeActor({
        user: {
          username: `system:node:${name}`,
          uid: `aws-iam-authenticator:${AWS_ACCOUNT}:AROA${rng.chars(UPPER_ALNUM, 17)}`,
          groups: ['system:bootstrappers', 'system:nodes', 'system:authenticated'],
          extra: {
            accessKeyId: [`ASIA${rng.chars(UPPER_ALNUM, 16)}`],
            arn: [`arn:aws:sts::${AWS_ACCOUNT}:assumed-role/eks-node-group-general/${instanceId}`],
            canonicalArn: [`arn:aws:iam::${AWS_ACCOUNT}:role/eks-node-group-general`],
            principalId: [`AROA${rng.chars(UPPER_ALNUM, 17)}`],
            sessionName: [instanceId],
          },
        },
        sourceIPs: [ip],
        userAgent: userAgent('kubelet'),
        reason: '',
      });
      const node: NodeInfo = { name, ip, zone, instanceId, uid, leaseUid: rng.uuid(), actor, object: {}, metaFv: {} };
      const o = deepFreeze(this.buildNode(node, types[rng.int(types.length)]));
      node.object = o;
      node.metaFv = deepFreeze(fieldsV1({ metadata: { annotations: o.metadata.annotations, labels: o.metadata.labels }, spec: o.spec }));
      this.nodes.push(node);
    }

    // ---- workloads and their running pods
    for (const def of WORKLOAD_DEFS) this.workloads.push(this.buildWorkload(def));
    this.appWorkloads = this.workloads.filter((w) => !w.def.system);

    // ---- add-on service accounts (pod-bound tokens)
    for (const sa of ADDON_SAS) {
      const node = rng.pick(this.nodes);
      const podName = `${sa.name.replace(/-sa$/, '')}-${rng.suffix(10)}-${rng.suffix(5)}`;
      this.addonSa.set(
        sa.name,
        this.freezeActor({
          user: {
            username: `system:serviceaccount:kube-system:${sa.name}`,
            uid: rng.uuid(),
            groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
            extra: {
              'authentication.kubernetes.io/credential-id': [`JTI=${rng.uuid()}`],
              'authentication.kubernetes.io/node-name': [node.name],
              'authentication.kubernetes.io/node-uid': [node.uid],
              'authentication.kubernetes.io/pod-name': [podName],
              'authentication.kubernetes.io/pod-uid': [rng.uuid()],
            },
          },
          sourceIPs: [`10.0.${rng.range(16, 63)}.${rng.range(2, 254)}`],
          userAgent: sa.ua,
          reason: `RBAC: allowed by ClusterRoleBinding "system:${sa.name}" of ClusterRole "system:${sa.name}" to ServiceAccount "${sa.name}/kube-system"`,
        }),
      );
    }
    {
      const node = rng.pick(this.nodes);
      this.argocd = this.freezeActor({
        user: {
          username: 'system:serviceaccount:argocd:argocd-application-controller',
          uid: rng.uuid(),
          groups: ['system:serviceaccounts', 'system:serviceaccounts:argocd', 'system:authenticated'],
          extra: {
            'authentication.kubernetes.io/credential-id': [`JTI=${rng.uuid()}`],
            'authentication.kubernetes.io/node-name': [node.name],
            'authentication.kubernetes.io/node-uid': [node.uid],
            'authentication.kubernetes.io/pod-name': ['argocd-application-controller-0'],
            'authentication.kubernetes.io/pod-uid': [rng.uuid()],
          },
        },
        sourceIPs: [`10.0.${rng.range(16, 63)}.${rng.range(2, 254)}`],
        userAgent: 'argocd-application-controller/v2.11.4 (linux/amd64) kubernetes/$Format',
        reason: 'RBAC: allowed by ClusterRoleBinding "argocd-application-controller" of ClusterRole "argocd-application-controller" to ServiceAccount "argocd-application-controller/argocd"',
      });
    }

    // ---- humans (EKS access via IAM Identity Center roles)
    for (const def of HUMANS) {
      const roleId = `AROA${rng.chars(UPPER_ALNUM, 17)}`;
      const role = `AWSReservedSSO_${def.ssoRole}_${rng.hex(16)}`;
      this.humans.push({
        def,
        actor: this.freezeActor({
          user: {
            username: def.name,
            uid: `aws-iam-authenticator:${AWS_ACCOUNT}:${roleId}`,
            groups: [def.group, 'system:authenticated'],
            extra: {
              accessKeyId: [`ASIA${rng.chars(UPPER_ALNUM, 16)}`],
              arn: [`arn:aws:sts::${AWS_ACCOUNT}:assumed-role/${role}/${def.name}`],
              canonicalArn: [`arn:aws:iam::${AWS_ACCOUNT}:role/${role}`],
              principalId: [`${roleId}:${def.name}`],
              sessionName: [def.name],
            },
          },
          sourceIPs: [def.ip],
          userAgent: def.kubectl,
          reason: def.admin
            ? `RBAC: allowed by ClusterRoleBinding "${def.group}" of ClusterRole "cluster-admin" to Group "${def.group}"`
            : `RBAC: allowed by ClusterRoleBinding "${def.group}-edit" of ClusterRole "edit" to Group "${def.group}"`,
        }),
      });
    }
  }

  /* ------------------------------------------------------------ public API */

  /** Next audit event. */
  next(): AuditEvent {
    return this.nextTagged().event;
  }

  /** Next audit event with its class and scenario (ground truth for tests and benchmarks). */
  nextTagged(): GeneratedEvent {
    this.clockUs += 1 + this.rng.int(MAX_GAP_US);
    const idx = this.emitted++;
    for (let i = 0; i < this.pending.length; i++) {
      const p = this.pending[i];
      if (p.due <= idx) {
        this.pending.splice(i, 1);
        return { event: this.render(p.req, p.stage, p.rrUs, this.clockUs), cls: p.cls, scenario: p.scenario };
      }
    }
    const cls = this.classPick.pick(this.rng);
    let scenario: string;
    let plan: Planned;
    if (cls === 'read') {
      scenario = this.readPick.pick(this.rng);
      plan = this.planRead(scenario);
    } else if (cls === 'write') {
      scenario = this.writePick.pick(this.rng);
      plan = this.planWrite(scenario);
    } else {
      scenario = this.suspPick.pick(this.rng);
      plan = this.planSuspicious(scenario);
    }
    const first = plan.stages[0];
    const rrUs = first === 'RequestReceived' ? this.clockUs : Math.max(START_US, this.clockUs - plan.latencyUs);
    let due = idx;
    for (let s = 1; s < plan.stages.length; s++) {
      due += 1 + this.rng.int(PAIR_DELAY_MAX);
      this.pending.push({ due, req: plan.req, stage: plan.stages[s], rrUs, cls, scenario });
    }
    return { event: this.render(plan.req, first, rrUs, this.clockUs), cls, scenario };
  }

  /** Number of documents emitted so far. */
  get count(): number {
    return this.emitted;
  }

  /* ------------------------------------------------------------ rendering */

  private render(r: Req, stage: AuditStage, rrUs: number, stageUs: number): AuditEvent {
    const e: J = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: r.level,
      auditID: r.auditID,
      stage,
      requestURI: r.requestURI,
      verb: r.verb,
      user: r.user,
    };
    if (r.impersonatedUser) e.impersonatedUser = r.impersonatedUser;
    e.sourceIPs = r.sourceIPs;
    e.userAgent = r.userAgent;
    if (r.objectRef) e.objectRef = r.objectRef;
    const received = stage === 'RequestReceived';
    if (!received) e.responseStatus = r.responseStatus;
    if (!received && r.requestObject !== undefined) e.requestObject = r.requestObject;
    if (stage === 'ResponseComplete' && r.responseObject !== undefined) e.responseObject = r.responseObject;
    e.requestReceivedTimestamp = fmtMicro(rrUs);
    e.stageTimestamp = fmtMicro(stageUs);
    if (!received) e.annotations = r.annotations;
    return e as AuditEvent;
  }

  private freezeActor(a: Actor): Actor {
    return deepFreeze(a);
  }

  private nextRv(): string {
    this.rv += 1 + this.rng.int(7);
    return String(this.rv);
  }

  private nowSec(): string {
    return fmtSec(this.clockUs);
  }

  private req(
    actor: Actor,
    verb: string,
    requestURI: string,
    objectRef: ObjectReference | undefined,
    level: AuditLevel,
    status: ResponseStatus,
    opts: { requestObject?: unknown; responseObject?: unknown; decision?: string; reason?: string; annotations?: Record<string, string>; impersonatedUser?: UserInfo } = {},
  ): Req {
    const annotations: Record<string, string> = {
      'authorization.k8s.io/decision': opts.decision ?? 'allow',
      'authorization.k8s.io/reason': opts.reason ?? actor.reason,
    };
    if (opts.annotations) Object.assign(annotations, opts.annotations);
    const r: Req = {
      level,
      auditID: this.rng.uuid(),
      requestURI,
      verb,
      user: actor.user,
      sourceIPs: actor.sourceIPs,
      userAgent: actor.userAgent,
      responseStatus: status,
      annotations,
    };
    if (opts.impersonatedUser) r.impersonatedUser = opts.impersonatedUser;
    if (objectRef) r.objectRef = objectRef;
    if (opts.requestObject !== undefined) r.requestObject = opts.requestObject;
    if (opts.responseObject !== undefined) r.responseObject = opts.responseObject;
    return r;
  }

  /* ------------------------------------------------------------ world building */

  private buildNode(n: NodeInfo, instanceType: string): J {
    const rng = this.rng;
    const big = instanceType.includes('2xlarge');
    const cpu = big ? '8' : '4';
    const mem = big ? (instanceType.startsWith('c') ? '15896104Ki' : '32386852Ki') : '32386852Ki';
    const images: J[] = [];
    for (const def of rng.subset(WORKLOAD_DEFS, 5)) {
      const repo = def.image.split(':')[0];
      images.push({ names: [`${repo}@sha256:${rng.hex(64)}`, def.image], sizeBytes: rng.range(20_000_000, 420_000_000) });
    }
    images.push({ names: [`602401143452.dkr.ecr.${REGION}.amazonaws.com/amazon-k8s-cni@sha256:${rng.hex(64)}`, `602401143452.dkr.ecr.${REGION}.amazonaws.com/amazon-k8s-cni:v1.18.2-eksbuild.1`], sizeBytes: 48_417_023 });
    images.push({ names: [`602401143452.dkr.ecr.${REGION}.amazonaws.com/eks/kube-proxy@sha256:${rng.hex(64)}`, `602401143452.dkr.ecr.${REGION}.amazonaws.com/eks/kube-proxy:v1.30.0-minimal-eksbuild.3`], sizeBytes: 30_785_409 });
    images.push({ names: [`602401143452.dkr.ecr.${REGION}.amazonaws.com/eks/pause:3.5`], sizeBytes: 298_689 });
    const t0 = fmtSec(START_US - rng.range(2, 40) * 86_400_000_000);
    return {
      kind: 'Node',
      apiVersion: 'v1',
      metadata: {
        name: n.name,
        uid: n.uid,
        resourceVersion: '0',
        creationTimestamp: t0,
        labels: {
          'beta.kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/instance-type': instanceType,
          'beta.kubernetes.io/os': 'linux',
          'eks.amazonaws.com/capacityType': 'ON_DEMAND',
          'eks.amazonaws.com/nodegroup': 'general',
          'failure-domain.beta.kubernetes.io/region': REGION,
          'failure-domain.beta.kubernetes.io/zone': n.zone,
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/hostname': n.name,
          'kubernetes.io/os': 'linux',
          'node.kubernetes.io/instance-type': instanceType,
          'topology.kubernetes.io/region': REGION,
          'topology.kubernetes.io/zone': n.zone,
        },
        annotations: {
          'alpha.kubernetes.io/provided-node-ip': n.ip,
          'node.alpha.kubernetes.io/ttl': '0',
          'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        },
      },
      spec: { providerID: `aws:///${n.zone}/${n.instanceId}` },
      status: {
        capacity: { cpu, 'ephemeral-storage': '83873772Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: mem, pods: big ? '58' : '29' },
        allocatable: { cpu: big ? '7910m' : '3920m', 'ephemeral-storage': '76224326324', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: big ? '31369044Ki' : '15094056Ki', pods: big ? '58' : '29' },
        conditions: [],
        addresses: [
          { type: 'InternalIP', address: n.ip },
          { type: 'InternalDNS', address: n.name },
          { type: 'Hostname', address: n.name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: rng.hex(32),
          systemUUID: `ec2${rng.hex(5)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(12)}`,
          bootID: rng.uuid(),
          kernelVersion: '6.1.112-124.190.amzn2023.x86_64',
          osImage: 'Amazon Linux 2023.6.20241010',
          containerRuntimeVersion: 'containerd://1.7.22',
          kubeletVersion: 'v1.30.4-eks-a737599',
          kubeProxyVersion: 'v1.30.4-eks-a737599',
          operatingSystem: 'linux',
          architecture: 'amd64',
        },
        images,
      },
    };
  }

  private buildContainer(def: WorkloadDef, name: string, image: string, port: number, sidecar: boolean): J {
    const rng = this.rng;
    const c: J = { name, image };
    if (sidecar && image.startsWith('envoyproxy')) c.args = ['-c', '/etc/envoy/envoy.yaml', '--service-cluster', def.app, '--log-level', 'warn'];
    c.ports = [{ name: sidecar ? 'proxy' : 'http', containerPort: sidecar ? 15001 : port, protocol: 'TCP' }];
    if (!sidecar && rng.chance(0.5)) c.ports.push({ name: 'metrics', containerPort: 9102, protocol: 'TCP' });
    const envN = sidecar ? rng.range(1, 3) : rng.range(4, 14);
    c.env = rng.subset(ENV_POOL, envN).map((m) => m(def.app, def.ns, name));
    if (!sidecar && rng.chance(0.4)) c.envFrom = [{ configMapRef: { name: `${def.app}-env` } }];
    const cpuReq = rng.pick(['50m', '100m', '250m', '500m', '1']);
    const memReq = rng.pick(['64Mi', '128Mi', '256Mi', '512Mi', '1Gi']);
    c.resources = {
      limits: { cpu: rng.pick(['500m', '1', '2']), memory: rng.pick(['256Mi', '512Mi', '1Gi', '2Gi']) },
      requests: { cpu: cpuReq, memory: memReq },
    };
    c.volumeMounts = sidecar
      ? [{ name: 'proxy-config', readOnly: true, mountPath: '/etc/envoy' }]
      : [
          { name: 'config', readOnly: true, mountPath: `/etc/${def.app}` },
          { name: 'tmp', mountPath: '/tmp' },
        ];
    if (!sidecar) {
      const probePort = port === 53 ? 8080 : port;
      c.livenessProbe = { httpGet: { path: '/healthz', port: probePort, scheme: 'HTTP' }, initialDelaySeconds: rng.pick([5, 10, 15, 30]), timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 };
      c.readinessProbe = { httpGet: { path: rng.pick(['/ready', '/readyz', '/health/ready']), port: probePort, scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 5, successThreshold: 1, failureThreshold: 3 };
    }
    c.terminationMessagePath = '/dev/termination-log';
    c.terminationMessagePolicy = 'File';
    c.imagePullPolicy = 'IfNotPresent';
    c.securityContext = {
      capabilities: { drop: ['ALL'] },
      runAsUser: rng.pick([1000, 10001, 65532]),
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      seccompProfile: { type: 'RuntimeDefault' },
    };
    return c;
  }

  private buildWorkload(def: WorkloadDef): Workload {
    const rng = this.rng;
    const labels: J = { app: def.app, 'app.kubernetes.io/name': def.app, 'app.kubernetes.io/part-of': def.ns };
    if (rng.chance(0.6)) labels['app.kubernetes.io/version'] = def.image.split(':')[1] ?? 'latest';
    const containers: J[] = [this.buildContainer(def, def.app, def.image, def.port, false)];
    if (def.sidecar) containers.push(this.buildContainer(def, def.sidecar.includes('envoy') ? 'envoy' : 'exporter', def.sidecar, def.port, true));
    const volumes: J[] = [
      { name: 'config', configMap: { name: `${def.app}-config`, defaultMode: 420 } },
      { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
    ];
    if (def.sidecar) volumes.push({ name: 'proxy-config', configMap: { name: `${def.app}-proxy`, defaultMode: 420 } });
    const saName = def.system ? def.app : rng.chance(0.7) ? def.app : 'default';
    const tmplAnn: J = {};
    if (rng.chance(0.5)) {
      tmplAnn['prometheus.io/scrape'] = 'true';
      tmplAnn['prometheus.io/port'] = '9102';
    }
    if (rng.chance(0.3)) tmplAnn['kubectl.kubernetes.io/restartedAt'] = fmtSec(START_US - rng.range(1, 20) * 86_400_000_000);
    const spec: J = {
      volumes,
      containers,
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: rng.pick([30, 30, 60]),
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: saName,
      serviceAccount: saName,
      securityContext: { runAsNonRoot: true, fsGroup: 2000 },
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: def.app } }, topologyKey: 'topology.kubernetes.io/zone' } },
          ],
        },
      },
      schedulerName: 'default-scheduler',
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: def.app } } }],
    };
    if (def.system) spec.priorityClassName = 'system-cluster-critical';
    const template: J = { metadata: { creationTimestamp: null, labels } as J, spec };
    if (Object.keys(tmplAnn).length) template.metadata.annotations = tmplAnn;
    // Keep the template within budget so that the largest events stay well under MAX_EVENT_BYTES.
    while (JSON.stringify(template).length > TEMPLATE_BUDGET_BYTES) {
      const withEnv = containers.filter((c) => c.env.length > 1).sort((a, b) => b.env.length - a.env.length)[0];
      if (withEnv) withEnv.env.pop();
      else if (spec.topologySpreadConstraints) delete spec.topologySpreadConstraints;
      else if (spec.affinity) delete spec.affinity;
      else break;
    }
    const rsHash = rng.chars(NAME_ALPHABET, 10);
    const w: Workload = {
      def,
      uid: rng.uuid(),
      rsHash,
      rsName: `${def.app}-${rsHash}`,
      rsUid: rng.uuid(),
      revision: rng.range(2, 40),
      generation: rng.range(2, 60),
      labels,
      template,
      templateFv: {},
      imageIDs: containers.map((c) => `${String(c.image).split(':')[0]}@sha256:${rng.hex(64)}`),
      pods: [],
      saName,
      configMap: `${def.app}-config`,
    };
    w.templateFv = deepFreeze(fieldsV1({ spec: { replicas: 1, selector: { matchLabels: { app: def.app } }, template } }));
    deepFreeze(template);
    for (let i = 0; i < def.replicas; i++) {
      const node = rng.pick(this.nodes);
      const pod: PodInfo = {
        name: `${w.rsName}-${rng.suffix(5)}`,
        uid: rng.uuid(),
        ip: `10.0.${node.ip.split('.')[2]}.${rng.range(2, 254)}`,
        node,
        w,
        kubeApiAccess: `kube-api-access-${rng.suffix(5)}`,
        startedUs: START_US - rng.range(60, 20 * 86_400) * 1_000_000,
      };
      w.pods.push(pod);
      this.pods.push(pod);
    }
    return w;
  }

  /* ------------------------------------------------------------ object builders */

  private podLabels(w: Workload): J {
    return { ...w.labels, 'pod-template-hash': w.rsHash };
  }

  private podSpec(w: Workload, kubeApiAccess: string, nodeName?: string): J {
    const t = w.template.spec;
    const mount = { name: kubeApiAccess, readOnly: true, mountPath: SA_TOKEN_PATH };
    const spec: J = {
      volumes: [
        ...t.volumes,
        {
          name: kubeApiAccess,
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
            ],
            defaultMode: 420,
          },
        },
      ],
      containers: t.containers.map((c: J) => ({ ...c, volumeMounts: [...c.volumeMounts, mount] })),
      restartPolicy: t.restartPolicy,
      terminationGracePeriodSeconds: t.terminationGracePeriodSeconds,
      dnsPolicy: t.dnsPolicy,
      serviceAccountName: t.serviceAccountName,
      serviceAccount: t.serviceAccount,
    };
    if (nodeName) spec.nodeName = nodeName;
    spec.securityContext = t.securityContext;
    if (t.affinity) spec.affinity = t.affinity;
    spec.schedulerName = t.schedulerName;
    spec.tolerations = [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ];
    if (t.priorityClassName) spec.priorityClassName = t.priorityClassName;
    spec.priority = t.priorityClassName ? 2000000000 : 0;
    spec.enableServiceLinks = true;
    spec.preemptionPolicy = 'PreemptLowerPriority';
    if (t.topologySpreadConstraints) spec.topologySpreadConstraints = t.topologySpreadConstraints;
    return spec;
  }

  private podRunningStatus(p: PodInfo): J {
    const rng = this.rng;
    const started = fmtSec(p.startedUs);
    const ready = fmtSec(p.startedUs + 9_000_000);
    const conditions = [
      { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: fmtSec(p.startedUs + 2_000_000) },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: started },
      { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: ready },
      { type: 'ContainersReady', status: 'True', lastProbeTime: null, lastTransitionTime: ready },
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: started },
    ];
    const containers: J[] = p.w.template.spec.containers;
    return {
      phase: 'Running',
      conditions,
      hostIP: p.node.ip,
      hostIPs: [{ ip: p.node.ip }],
      podIP: p.ip,
      podIPs: [{ ip: p.ip }],
      startTime: started,
      containerStatuses: containers.map((c, i) => ({
        name: c.name,
        state: { running: { startedAt: fmtSec(p.startedUs + 3_000_000) } },
        lastState: {},
        ready: true,
        restartCount: rng.chance(0.85) ? 0 : rng.range(1, 4),
        image: c.image,
        imageID: p.w.imageIDs[i],
        containerID: `containerd://${rng.hex(64)}`,
        started: true,
      })),
      qosClass: 'Burstable',
    };
  }

  private podObject(p: PodInfo, status: J, managedFields: J[], extraMeta: J = {}): J {
    const w = p.w;
    return {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: {
        name: p.name,
        generateName: `${w.rsName}-`,
        namespace: w.def.ns,
        uid: p.uid,
        resourceVersion: this.nextRv(),
        creationTimestamp: fmtSec(p.startedUs - 1_000_000),
        ...extraMeta,
        labels: this.podLabels(w),
        ...(w.template.metadata.annotations ? { annotations: w.template.metadata.annotations } : {}),
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: w.rsName, uid: w.rsUid, controller: true, blockOwnerDeletion: true }],
        managedFields,
      },
      spec: this.podSpec(w, p.kubeApiAccess, p.node.name),
      status,
    };
  }

  private kcmPodManagedFields(w: Workload, time: string): J {
    if (!w.podFv) {
      w.podFv = deepFreeze({
        'f:metadata': {
          'f:generateName': {},
          'f:labels': { '.': {}, ...Object.fromEntries(Object.keys(this.podLabels(w)).map((k) => [`f:${k}`, {}])) },
          'f:ownerReferences': { '.': {}, [`k:{"uid":"${w.rsUid}"}`]: {} },
        },
        'f:spec': w.templateFv['f:spec']['f:template']['f:spec'],
      });
    }
    return managedEntry('kube-controller-manager', 'Update', 'v1', time, w.podFv);
  }

  private deploymentObject(w: Workload, opts: { rv?: boolean; status?: boolean; managed?: J[]; annotations?: J; replicas?: number } = {}): J {
    const def = w.def;
    const meta: J = { name: def.app, namespace: def.ns };
    if (opts.rv !== false) {
      meta.uid = w.uid;
      meta.resourceVersion = this.nextRv();
      meta.generation = w.generation;
      meta.creationTimestamp = fmtSec(START_US - 90 * 86_400_000_000);
    }
    meta.labels = { app: def.app, 'app.kubernetes.io/managed-by': 'argocd', 'argocd.argoproj.io/instance': `${def.ns}-${def.app}` };
    meta.annotations = { 'deployment.kubernetes.io/revision': String(w.revision), ...(opts.annotations ?? {}) };
    if (opts.managed) meta.managedFields = opts.managed;
    const replicas = opts.replicas ?? def.replicas;
    const o: J = {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: meta,
      spec: {
        replicas,
        selector: { matchLabels: { app: def.app } },
        template: w.template,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      },
    };
    if (opts.status !== false) {
      const t = fmtSec(START_US - 3 * 86_400_000_000);
      o.status = {
        observedGeneration: w.generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        conditions: [
          { type: 'Available', status: 'True', lastUpdateTime: t, lastTransitionTime: t, reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
          { type: 'Progressing', status: 'True', lastUpdateTime: this.nowSec(), lastTransitionTime: t, reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${w.rsName}" has successfully progressed.` },
        ],
      };
    }
    return o;
  }

  private deploymentManaged(w: Workload, manager = 'argocd-controller', op: 'Apply' | 'Update' = 'Apply'): J[] {
    return [
      managedEntry(manager, op, 'apps/v1', fmtSec(START_US - 3 * 86_400_000_000), {
        'f:metadata': { 'f:labels': { 'f:app': {}, 'f:app.kubernetes.io/managed-by': {}, 'f:argocd.argoproj.io/instance': {} } },
        ...w.templateFv,
      }),
      managedEntry('kube-controller-manager', 'Update', 'apps/v1', this.nowSec(), {
        'f:metadata': { 'f:annotations': { '.': {}, 'f:deployment.kubernetes.io/revision': {} } },
        'f:status': {
          'f:availableReplicas': {},
          'f:conditions': { '.': {}, 'k:{"type":"Available"}': { '.': {}, 'f:lastTransitionTime': {}, 'f:lastUpdateTime': {}, 'f:message': {}, 'f:reason': {}, 'f:status': {}, 'f:type': {} }, 'k:{"type":"Progressing"}': { '.': {}, 'f:lastTransitionTime': {}, 'f:lastUpdateTime': {}, 'f:message': {}, 'f:reason': {}, 'f:status': {}, 'f:type': {} } },
          'f:observedGeneration': {},
          'f:readyReplicas': {},
          'f:replicas': {},
          'f:updatedReplicas': {},
        },
      }, 'status'),
    ];
  }

  private appConfigData(w: Workload, n: number): J {
    const rng = this.rng;
    const data: J = {};
    const lines: string[] = [
      `server:\n  port: ${w.def.port}\n  shutdownTimeout: 25s\n`,
      `logging:\n  level: info\n  format: json\n`,
      `tracing:\n  enabled: true\n  endpoint: otel-collector.monitoring.svc.cluster.local:4317\n  sampleRatio: 0.${rng.range(1, 9)}\n`,
      `cache:\n  ttl: ${rng.range(30, 600)}s\n  maxEntries: ${rng.range(1, 64) * 1000}\n`,
      `upstreams:\n  ledger: http://ledger.payments.svc.cluster.local:8080\n  cart: http://cart-service.checkout.svc.cluster.local:8080\n  recommendations: http://recommendations.checkout.svc.cluster.local:5000\n`,
      `database:\n  host: ${w.def.app}-db.${w.def.ns}.svc.cluster.local\n  port: 5432\n  pool:\n    min: 2\n    max: ${rng.range(10, 50)}\n  sslmode: require\n`,
      `features:\n  newCheckout: ${rng.chance(0.5)}\n  asyncPayments: ${rng.chance(0.5)}\n  edgeCache: true\n`,
      `rateLimit:\n  requestsPerSecond: ${rng.range(50, 2000)}\n  burst: ${rng.range(100, 4000)}\n`,
    ];
    data['application.yaml'] = rng.subset(lines, n).join('');
    data['LOG_LEVEL'] = rng.pick(['info', 'debug', 'warn']);
    if (rng.chance(0.5)) data['GOGC'] = String(rng.pick([50, 100, 200]));
    return data;
  }

  private configMapObject(w: Workload, name: string, data: J, meta: J = {}): J {
    return {
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name, namespace: w.def.ns, ...meta, labels: { app: w.def.app } },
      data,
    };
  }

  private withImpersonation(h: { def: HumanDef }, ns: string): UserInfo | undefined {
    if (!this.rng.chance(IMPERSONATION_RATE)) return undefined;
    const sa = this.rng.pick(['deployer', 'ci', 'default']);
    return { username: `system:serviceaccount:${ns}:${sa}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] };
  }

  private human(): { def: HumanDef; actor: Actor } {
    return this.rng.pick(this.humans);
  }

  private pod(): PodInfo {
    return this.rng.pick(this.pods);
  }

  private appWorkload(): Workload {
    return this.rng.pick(this.appWorkloads);
  }

  private newPodName(w: Workload): string {
    return `${w.rsName}-${this.rng.suffix(5)}`;
  }

  /** A plausible (namespace, name) for a read of resource `r`. */
  private someObject(r: ResDef): { ns?: string; name: string } {
    const rng = this.rng;
    const w = rng.pick(this.workloads);
    const ns = r.namespaced ? w.def.ns : undefined;
    switch (r.resource) {
      case 'pods':
        return { ns, name: rng.pick(w.pods).name };
      case 'replicasets':
        return { ns, name: w.rsName };
      case 'configmaps':
        return { ns, name: rng.pick([w.configMap, 'kube-root-ca.crt', `${w.def.app}-env`]) };
      case 'secrets':
        return { ns, name: rng.pick([`${w.def.app}-db`, `${w.def.app}-tls`, 'regcred']) };
      case 'serviceaccounts':
        return { ns, name: w.saName };
      case 'nodes':
        return { name: rng.pick(this.nodes).name };
      case 'namespaces':
        return { name: rng.pick(NAMESPACES) };
      case 'endpointslices':
        return { ns, name: `${w.def.app}-${rng.suffix(5)}` };
      case 'leases':
        return { ns: 'kube-node-lease', name: rng.pick(this.nodes).name };
      case 'persistentvolumes':
        return { name: `pvc-${rng.uuid()}` };
      case 'persistentvolumeclaims':
        return { ns, name: `data-${w.def.app}-0` };
      case 'csinodes':
        return { name: rng.pick(this.nodes).name };
      case 'clusterroles':
      case 'clusterrolebindings':
        return { name: rng.pick(['system:controller:replicaset-controller', 'admin', 'edit', 'view', 'system:node', 'argocd-application-controller']) };
      default:
        return { ns, name: w.def.app };
    }
  }

  /** Generic read of `r` by `actor`: get (named), list or watch. */
  private readOf(actor: Actor, r: ResDef, verbs: 'any' | 'collection' = 'any', query = ''): Req {
    const rng = this.rng;
    const x = rng.float();
    const verb = verbs === 'collection' ? (x < 0.3 ? 'list' : 'watch') : x < 0.45 ? 'get' : x < 0.7 ? 'list' : 'watch';
    if (verb === 'get') {
      const o = this.someObject(r);
      const ns = r.resource === 'namespaces' ? o.name : o.ns;
      const ref = objRef(r, ns, o.name);
      if (r.resource === 'namespaces') ref.namespace = o.name;
      const uri = resPath(r, r.resource === 'namespaces' ? undefined : ns, o.name);
      const nf = rng.chance(READ_NOT_FOUND_RATE);
      const st = nf
        ? failure(404, 'NotFound', `${r.resource}${r.group ? '.' + r.group : ''} "${o.name}" not found`, { name: o.name, ...(r.group ? { group: r.group } : {}), kind: r.resource })
        : ok();
      return this.req(actor, 'get', uri, ref, 'Metadata', st);
    }
    // collection: cluster-wide for informers most of the time
    let ns: string | undefined;
    if (r.namespaced && rng.chance(0.25)) ns = rng.pick(this.workloads).def.ns;
    const base = resPath(r, ns);
    const uri = verb === 'list' ? `${base}?limit=500&resourceVersion=0${query}` : base + watchQuery(rng, this.rv - rng.int(20_000), query);
    return this.req(actor, verb, uri, objRef(r, ns), 'Metadata', ok());
  }

  /* ============================================================ reads */

  private planRead(scenario: string): Planned {
    const rng = this.rng;
    let r: Req;
    switch (scenario) {
      case 'kubelet': {
        const p = this.pod();
        const node = p.node;
        const a = node.actor;
        const x = rng.float();
        if (x < 0.3) {
          r = this.req(a, 'get', `${resPath(RES.leases, 'kube-node-lease', node.name)}?timeout=10s`, objRef(RES.leases, 'kube-node-lease', node.name), 'Metadata', ok());
        } else if (x < 0.45) {
          r = this.req(a, 'get', `/api/v1/nodes/${node.name}?resourceVersion=0&timeout=10s`, objRef(RES.nodes, undefined, node.name), 'Metadata', ok());
        } else if (x < 0.65) {
          const res = rng.chance(0.6) ? RES.configmaps : RES.secrets;
          const name = res === RES.configmaps ? rng.pick([p.w.configMap, 'kube-root-ca.crt']) : `${p.w.def.app}-db`;
          const uri = resPath(res, p.w.def.ns) + watchQuery(rng, this.rv - rng.int(50_000), `&fieldSelector=metadata.name%3D${name}`);
          r = this.req(a, 'watch', uri, objRef(res, p.w.def.ns), 'Metadata', ok());
        } else if (x < 0.85) {
          const nf = rng.chance(READ_NOT_FOUND_RATE);
          const st = nf ? failure(404, 'NotFound', `pods "${p.name}" not found`, { name: p.name, kind: 'pods' }) : ok();
          r = this.req(a, 'get', resPath(RES.pods, p.w.def.ns, p.name), objRef(RES.pods, p.w.def.ns, p.name), 'Metadata', st);
        } else {
          const res = rng.pick([RES.pods, RES.services, RES.csidrivers, RES.runtimeclasses, RES.nodes]);
          const sel = res === RES.pods ? `&fieldSelector=spec.nodeName%3D${node.name}` : res === RES.nodes ? `&fieldSelector=metadata.name%3D${node.name}` : '';
          r = this.readOf(a, res, 'collection', sel);
        }
        break;
      }
      case 'kube-controller-manager': {
        if (rng.chance(0.4)) {
          r = this.req(this.kcm, 'get', `${resPath(RES.leases, 'kube-system', 'kube-controller-manager')}?timeout=5s`, objRef(RES.leases, 'kube-system', 'kube-controller-manager'), 'Metadata', ok());
        } else {
          r = this.readOf({ ...this.kcm, userAgent: userAgent('kube-controller-manager', '/shared-informers') }, rng.pick(KCM_INFORMERS), 'collection');
        }
        break;
      }
      case 'kube-scheduler': {
        if (rng.chance(0.4)) {
          r = this.req({ ...this.scheduler, userAgent: userAgent('kube-scheduler', '/leader-election') }, 'get', `${resPath(RES.leases, 'kube-system', 'kube-scheduler')}?timeout=5s`, objRef(RES.leases, 'kube-system', 'kube-scheduler'), 'Metadata', ok());
        } else {
          const res = rng.pick(SCHEDULER_INFORMERS);
          const sel = res === RES.pods ? '&fieldSelector=status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed' : '';
          r = this.readOf(this.scheduler, res, 'collection', sel);
        }
        break;
      }
      case 'kube-system-serviceaccount': {
        if (rng.chance(0.55)) {
          const [name, resources] = rng.pick(KCM_CONTROLLERS);
          r = this.readOf(this.kcmSa.get(name)!, rng.pick(resources));
        } else {
          const sa = rng.pick(ADDON_SAS);
          r = this.readOf(this.addonSa.get(sa.name)!, rng.pick(sa.resources));
        }
        break;
      }
      case 'apiserver-loopback': {
        const x = rng.float();
        const a = this.apiserver;
        if (x < 0.2) {
          r = this.req(a, 'get', '/api/v1/namespaces/default/endpoints/kubernetes', objRef(RES.endpoints, 'default', 'kubernetes'), 'Metadata', ok());
        } else if (x < 0.3) {
          r = this.req(a, 'get', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes', objRef(RES.endpointslices, 'default', 'kubernetes'), 'Metadata', ok());
        } else if (x < 0.45) {
          r = this.req(a, 'get', resPath(RES.leases, 'kube-system', this.apiserverLease), objRef(RES.leases, 'kube-system', this.apiserverLease), 'Metadata', ok());
        } else if (x < 0.55) {
          const ns = rng.pick(['default', 'kube-system', 'kube-public']);
          const ref = objRef(RES.namespaces, undefined, ns);
          ref.namespace = ns;
          r = this.req(a, 'get', `/api/v1/namespaces/${ns}`, ref, 'Metadata', ok());
        } else {
          r = this.readOf(a, rng.pick(APISERVER_INFORMERS), 'collection');
        }
        break;
      }
      case 'discovery': {
        const a = rng.chance(0.5) ? this.kcmSa.get(rng.pick(['generic-garbage-collector', 'resourcequota-controller', 'namespace-controller']))! : this.addonSa.get('cluster-autoscaler')!;
        r = this.req(a, 'get', rng.pick(DISCOVERY_PATHS), undefined, 'Metadata', ok());
        break;
      }
      default:
        throw new Error(`unknown read scenario ${scenario}`);
    }
    return { req: r, stages: ['RequestReceived', 'ResponseComplete'], latencyUs: 0 };
  }

  /* ============================================================ writes */

  private planWrite(scenario: string): Planned {
    const r = this.writeReq(scenario);
    return { req: r, stages: ['ResponseComplete'], latencyUs: this.rng.range(1_500, 45_000) };
  }

  private writeReq(scenario: string): Req {
    const rng = this.rng;
    switch (scenario) {
      case 'scheduler-bind': {
        const w = this.appWorkload();
        const name = this.newPodName(w);
        const node = rng.pick(this.nodes);
        const ns = w.def.ns;
        return this.req(this.scheduler, 'create', resPath(RES.pods, ns, name, 'binding'), objRef(RES.pods, ns, name, 'binding'), 'RequestResponse', ok(201), {
          requestObject: { kind: 'Binding', apiVersion: 'v1', metadata: { name, namespace: ns, uid: rng.uuid(), creationTimestamp: null }, target: { kind: 'Node', name: node.name } },
          responseObject: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 },
        });
      }
      case 'replicaset-create-pod': {
        const w = this.appWorkload();
        const ns = w.def.ns;
        const name = this.newPodName(w);
        const kaa = `kube-api-access-${rng.suffix(5)}`;
        const spec = this.podSpec(w, kaa);
        const owner = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: w.rsName, uid: w.rsUid, controller: true, blockOwnerDeletion: true }];
        const reqMeta: J = { generateName: `${w.rsName}-`, namespace: ns, creationTimestamp: null, labels: this.podLabels(w) };
        if (w.template.metadata.annotations) reqMeta.annotations = w.template.metadata.annotations;
        reqMeta.ownerReferences = owner;
        const requestObject = { kind: 'Pod', apiVersion: 'v1', metadata: reqMeta, spec: { ...w.template.spec }, status: {} };
        const now = this.nowSec();
        const respMeta: J = { name, generateName: `${w.rsName}-`, namespace: ns, uid: rng.uuid(), resourceVersion: this.nextRv(), creationTimestamp: now, labels: reqMeta.labels };
        if (reqMeta.annotations) respMeta.annotations = reqMeta.annotations;
        respMeta.ownerReferences = owner;
        respMeta.managedFields = [this.kcmPodManagedFields(w, now)];
        const responseObject = { kind: 'Pod', apiVersion: 'v1', metadata: respMeta, spec, status: { phase: 'Pending', qosClass: 'Burstable' } };
        return this.req(this.kcmSa.get('replicaset-controller')!, 'create', resPath(RES.pods, ns), objRef(RES.pods, ns, name), 'RequestResponse', ok(201), {
          requestObject,
          responseObject,
          annotations: { 'pod-security.kubernetes.io/enforce-policy': 'restricted:latest' },
        });
      }
      case 'replicaset-delete-pod': {
        const p = this.pod();
        if (p.w.def.system && rng.chance(0.5)) return this.writeReq('replicaset-delete-pod');
        const ns = p.w.def.ns;
        const resp = this.podObject(p, this.podRunningStatus(p), [this.kcmPodManagedFields(p.w, fmtSec(p.startedUs))], {
          deletionTimestamp: fmtSec(this.clockUs + 30_000_000),
          deletionGracePeriodSeconds: 30,
        });
        return this.req(this.kcmSa.get('replicaset-controller')!, 'delete', resPath(RES.pods, ns, p.name), objRef(RES.pods, ns, p.name), 'RequestResponse', ok(), {
          requestObject: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/__internal', preconditions: { uid: p.uid }, propagationPolicy: 'Background' },
          responseObject: resp,
        });
      }
      case 'deployment-status': {
        const w = rng.pick(this.workloads);
        const ns = w.def.ns;
        const conflict = rng.chance(WRITE_CONFLICT_RATE);
        const reqObj = this.deploymentObject(w, { managed: this.deploymentManaged(w) });
        const st = conflict
          ? failure(409, 'Conflict', `Operation cannot be fulfilled on deployments.apps "${w.def.app}": the object has been modified; please apply your changes to the latest version and try again`, { name: w.def.app, group: 'apps', kind: 'deployments' })
          : ok();
        return this.req(this.kcmSa.get('deployment-controller')!, 'update', resPath(RES.deployments, ns, w.def.app, 'status'), objRef(RES.deployments, ns, w.def.app, 'status'), 'RequestResponse', st, {
          requestObject: reqObj,
          responseObject: conflict ? statusObject(st) : this.deploymentObject(w, { managed: this.deploymentManaged(w) }),
        });
      }
      case 'kubelet-pod-status': {
        const p = this.pod();
        const ns = p.w.def.ns;
        const status = this.podRunningStatus(p);
        const patch = {
          metadata: { uid: p.uid },
          status: {
            '$setElementOrder/conditions': status.conditions.map((c: J) => ({ type: c.type })),
            conditions: [status.conditions[2], status.conditions[3]].map((c: J) => ({ lastTransitionTime: this.nowSec(), status: 'True', type: c.type })),
            containerStatuses: status.containerStatuses,
          },
        };
        p.statusFv ??= deepFreeze(fieldsV1({ status: { conditions: status.conditions, containerStatuses: status.containerStatuses, hostIP: 1, hostIPs: status.hostIPs, phase: 1, podIP: 1, podIPs: status.podIPs, startTime: 1 } }));
        const kubeletMf = managedEntry('kubelet', 'Update', 'v1', this.nowSec(), p.statusFv, 'status');
        const resp = this.podObject(p, status, [this.kcmPodManagedFields(p.w, fmtSec(p.startedUs)), kubeletMf]);
        return this.req(p.node.actor, 'patch', resPath(RES.pods, ns, p.name, 'status'), objRef(RES.pods, ns, p.name, 'status'), 'RequestResponse', ok(), {
          requestObject: patch,
          responseObject: resp,
        });
      }
      case 'kubelet-node-lease': {
        const node = rng.pick(this.nodes);
        const lease = (rv: string): J => ({
          kind: 'Lease',
          apiVersion: 'coordination.k8s.io/v1',
          metadata: {
            name: node.name,
            namespace: 'kube-node-lease',
            uid: node.leaseUid,
            resourceVersion: rv,
            creationTimestamp: node.object.metadata.creationTimestamp,
            ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid }],
            managedFields: [
              managedEntry('kubelet', 'Update', 'coordination.k8s.io/v1', this.nowSec(), {
                'f:metadata': { 'f:ownerReferences': { '.': {}, [`k:{"uid":"${node.uid}"}`]: {} } },
                'f:spec': { 'f:holderIdentity': {}, 'f:leaseDurationSeconds': {}, 'f:renewTime': {} },
              }),
            ],
          },
          spec: { holderIdentity: node.name, leaseDurationSeconds: 40, renewTime: fmtMicro(this.clockUs - rng.int(2000)) },
        });
        const prev = String(this.rv - rng.int(500));
        const conflict = rng.chance(WRITE_CONFLICT_RATE / 2);
        const st = conflict
          ? failure(409, 'Conflict', `Operation cannot be fulfilled on leases.coordination.k8s.io "${node.name}": the object has been modified; please apply your changes to the latest version and try again`, { name: node.name, group: 'coordination.k8s.io', kind: 'leases' })
          : ok();
        return this.req(node.actor, 'update', `${resPath(RES.leases, 'kube-node-lease', node.name)}?timeout=10s`, objRef(RES.leases, 'kube-node-lease', node.name), 'RequestResponse', st, {
          requestObject: lease(prev),
          responseObject: conflict ? statusObject(st) : lease(this.nextRv()),
        });
      }
      case 'leader-election-lease': {
        const which = rng.pick(['kube-controller-manager', 'kube-scheduler', 'cloud-controller-manager']);
        const actor = which === 'kube-scheduler' ? { ...this.scheduler, userAgent: userAgent('kube-scheduler', '/leader-election') } : which === 'kube-controller-manager' ? this.kcm : { ...this.kcm, user: { username: 'cloud-controller-manager', groups: ['system:authenticated'] }, userAgent: 'aws-cloud-controller-manager/v1.30.3 (linux/amd64) kubernetes/$Format/leader-election', reason: 'RBAC: allowed by ClusterRoleBinding "eks:cloud-controller-manager" of ClusterRole "eks:cloud-controller-manager" to User "cloud-controller-manager"' };
        const lease = (rv: string): J => ({
          kind: 'Lease',
          apiVersion: 'coordination.k8s.io/v1',
          metadata: {
            name: which,
            namespace: 'kube-system',
            uid: this.leaseUids[which],
            resourceVersion: rv,
            creationTimestamp: fmtSec(START_US - 120 * 86_400_000_000),
            managedFields: [
              managedEntry(which, 'Update', 'coordination.k8s.io/v1', this.nowSec(), {
                'f:spec': { 'f:acquireTime': {}, 'f:holderIdentity': {}, 'f:leaseDurationSeconds': {}, 'f:leaseTransitions': {}, 'f:renewTime': {} },
              }),
            ],
          },
          spec: { holderIdentity: this.leaderIds[which], leaseDurationSeconds: 15, acquireTime: fmtMicro(START_US - 86_400_000_000), renewTime: fmtMicro(this.clockUs - rng.int(2000)), leaseTransitions: 7 },
        });
        return this.req(actor, 'update', `${resPath(RES.leases, 'kube-system', which)}?timeout=5s`, objRef(RES.leases, 'kube-system', which), 'RequestResponse', ok(), {
          requestObject: lease(String(this.rv - rng.int(300))),
          responseObject: lease(this.nextRv()),
        });
      }
      case 'kubelet-node-status': {
        const node = rng.pick(this.nodes);
        const hb = this.nowSec();
        const since = fmtSec(START_US - 5 * 86_400_000_000);
        const conds: J[] = [
          { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: hb, lastTransitionTime: since, reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
          { type: 'DiskPressure', status: 'False', lastHeartbeatTime: hb, lastTransitionTime: since, reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
          { type: 'PIDPressure', status: 'False', lastHeartbeatTime: hb, lastTransitionTime: since, reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
          { type: 'Ready', status: 'True', lastHeartbeatTime: hb, lastTransitionTime: since, reason: 'KubeletReady', message: 'kubelet is posting ready status' },
        ];
        const patch = { status: { '$setElementOrder/conditions': conds.map((c) => ({ type: c.type })), conditions: conds.map((c) => ({ lastHeartbeatTime: hb, type: c.type })) } };
        const o = node.object;
        const resp = {
          ...o,
          metadata: {
            ...o.metadata,
            resourceVersion: this.nextRv(),
            managedFields: [
              managedEntry('kubelet', 'Update', 'v1', since, node.metaFv),
              managedEntry('kubelet', 'Update', 'v1', hb, { 'f:status': { 'f:conditions': Object.fromEntries(conds.map((c) => [`k:{"type":"${c.type}"}`, { 'f:lastHeartbeatTime': {} }])), 'f:images': {} } }, 'status'),
            ],
          },
          status: { ...o.status, conditions: conds },
        };
        return this.req(node.actor, 'patch', `/api/v1/nodes/${node.name}/status?timeout=10s`, objRef(RES.nodes, undefined, node.name, 'status'), 'RequestResponse', ok(), {
          requestObject: patch,
          responseObject: resp,
        });
      }
      case 'kubelet-token-request': {
        const p = this.pod();
        const ns = p.w.def.ns;
        const sa = p.w.saName;
        return this.req(p.node.actor, 'create', resPath(RES.serviceaccounts, ns, sa, 'token'), objRef(RES.serviceaccounts, ns, sa, 'token'), 'Request', ok(201), {
          requestObject: {
            kind: 'TokenRequest',
            apiVersion: 'authentication.k8s.io/v1',
            metadata: { name: sa, namespace: ns, creationTimestamp: null },
            spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: p.name, uid: p.uid } },
            status: { token: '', expirationTimestamp: null },
          },
        });
      }
      case 'create-event':
        return this.eventReq();
      case 'endpoints-update': {
        const w = this.appWorkload();
        const ns = w.def.ns;
        if (rng.chance(0.5)) {
          const name = w.def.app;
          const ep = (rv: string): J => ({
            kind: 'Endpoints',
            apiVersion: 'v1',
            metadata: { name, namespace: ns, uid: w.uid, resourceVersion: rv, creationTimestamp: fmtSec(START_US - 90 * 86_400_000_000), labels: { app: w.def.app }, annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': this.nowSec() } },
            subsets: [
              {
                addresses: w.pods.map((p) => ({ ip: p.ip, nodeName: p.node.name, targetRef: { kind: 'Pod', namespace: ns, name: p.name, uid: p.uid } })),
                ports: [{ name: 'http', port: w.def.port, protocol: 'TCP' }],
              },
            ],
          });
          return this.req(this.kcmSa.get('endpoint-controller')!, 'update', resPath(RES.endpoints, ns, name), objRef(RES.endpoints, ns, name), 'RequestResponse', ok(), {
            requestObject: ep(String(this.rv - rng.int(1000))),
            responseObject: ep(this.nextRv()),
          });
        }
        const name = `${w.def.app}-${rng.suffix(5)}`;
        const eps = (rv: string): J => ({
          kind: 'EndpointSlice',
          apiVersion: 'discovery.k8s.io/v1',
          metadata: {
            name,
            generateName: `${w.def.app}-`,
            namespace: ns,
            uid: w.rsUid,
            resourceVersion: rv,
            generation: rng.range(2, 300),
            creationTimestamp: fmtSec(START_US - 90 * 86_400_000_000),
            labels: { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', 'kubernetes.io/service-name': w.def.app, app: w.def.app },
            ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: w.def.app, uid: w.uid, controller: true, blockOwnerDeletion: true }],
          },
          addressType: 'IPv4',
          endpoints: w.pods.map((p) => ({ addresses: [p.ip], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: ns, name: p.name, uid: p.uid }, nodeName: p.node.name, zone: p.node.zone })),
          ports: [{ name: 'http', protocol: 'TCP', port: w.def.port }],
        });
        return this.req(this.kcmSa.get('endpointslice-controller')!, 'update', resPath(RES.endpointslices, ns, name), objRef(RES.endpointslices, ns, name), 'RequestResponse', ok(), {
          requestObject: eps(String(this.rv - rng.int(1000))),
          responseObject: eps(this.nextRv()),
        });
      }
      case 'hpa-scale': {
        const w = this.appWorkload();
        const ns = w.def.ns;
        const replicas = w.def.replicas + rng.range(-1, 3);
        const scale = (rv: string): J => ({
          kind: 'Scale',
          apiVersion: 'autoscaling/v1',
          metadata: { name: w.def.app, namespace: ns, uid: w.uid, resourceVersion: rv, creationTimestamp: fmtSec(START_US - 90 * 86_400_000_000) },
          spec: { replicas: Math.max(1, replicas) },
          status: { replicas: w.def.replicas, selector: `app=${w.def.app}` },
        });
        return this.req(this.kcmSa.get('horizontal-pod-autoscaler')!, 'update', resPath(RES.deployments, ns, w.def.app, 'scale'), objRef(RES.deployments, ns, w.def.app, 'scale'), 'RequestResponse', ok(), {
          requestObject: scale(String(this.rv - rng.int(1000))),
          responseObject: scale(this.nextRv()),
        });
      }
      case 'clusterrole-aggregation': {
        const name = rng.pick(['admin', 'edit', 'view']);
        const verbs = name === 'view' ? ['get', 'list', 'watch'] : ['create', 'delete', 'deletecollection', 'patch', 'update', 'get', 'list', 'watch'];
        const rules = [
          { apiGroups: [''], resources: ['configmaps', 'endpoints', 'persistentvolumeclaims', 'pods', 'replicationcontrollers', 'services'], verbs },
          { apiGroups: ['apps'], resources: ['daemonsets', 'deployments', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'], verbs },
          { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs },
          { apiGroups: ['batch'], resources: ['cronjobs', 'jobs'], verbs },
          { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'], verbs },
          { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs },
          { apiGroups: ['argoproj.io'], resources: ['applications', 'appprojects'], verbs },
          { apiGroups: ['cert-manager.io'], resources: ['certificates', 'certificaterequests', 'issuers'], verbs },
        ];
        const cr = (rv: string): J => ({
          kind: 'ClusterRole',
          apiVersion: 'rbac.authorization.k8s.io/v1',
          metadata: {
            name,
            uid: this.leaseUids[name],
            resourceVersion: rv,
            creationTimestamp: fmtSec(START_US - 120 * 86_400_000_000),
            labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
            annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
          },
          rules,
          aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${name}`]: 'true' } }] },
        });
        return this.req(this.kcmSa.get('clusterrole-aggregation-controller')!, 'update', resPath(RES.clusterroles, undefined, name), objRef(RES.clusterroles, undefined, name), 'RequestResponse', ok(), {
          requestObject: cr(String(this.rv - rng.int(1000))),
          responseObject: cr(this.nextRv()),
        });
      }
      case 'argocd-sync': {
        const w = this.appWorkload();
        const ns = w.def.ns;
        const q = '?fieldManager=argocd-controller&force=true';
        const x = rng.float();
        if (x < 0.5) {
          const applied = this.deploymentObject(w, { rv: false, status: false });
          return this.req(this.argocd, 'patch', resPath(RES.deployments, ns, w.def.app) + q, objRef(RES.deployments, ns, w.def.app), 'RequestResponse', ok(), {
            requestObject: applied,
            responseObject: this.deploymentObject(w, { managed: this.deploymentManaged(w) }),
          });
        }
        if (x < 0.8) {
          const data = this.appConfigData(w, rng.range(2, 6));
          const applied = this.configMapObject(w, w.configMap, data);
          const resp = this.configMapObject(w, w.configMap, data, { uid: w.rsUid, resourceVersion: this.nextRv(), creationTimestamp: fmtSec(START_US - 60 * 86_400_000_000), managedFields: [managedEntry('argocd-controller', 'Apply', 'v1', this.nowSec(), fieldsV1({ data, metadata: { labels: { app: 1 } } }))] });
          return this.req(this.argocd, 'patch', resPath(RES.configmaps, ns, w.configMap) + q, objRef(RES.configmaps, ns, w.configMap), 'RequestResponse', ok(), { requestObject: applied, responseObject: resp });
        }
        const svc = this.serviceObject(w, 'ClusterIP', false);
        return this.req(this.argocd, 'patch', resPath(RES.services, ns, w.def.app) + q, objRef(RES.services, ns, w.def.app), 'RequestResponse', ok(), {
          requestObject: svc,
          responseObject: this.serviceObject(w, 'ClusterIP', true),
        });
      }
      case 'human-deployment':
        return this.humanDeployment();
      case 'human-configmap': {
        const h = this.human();
        const w = this.appWorkload();
        const ns = w.def.ns;
        const name = rng.chance(0.6) ? w.configMap : `${w.def.app}-env`;
        const data = name === w.configMap ? this.appConfigData(w, rng.range(1, 8)) : { LOG_LEVEL: 'debug', FEATURE_FLAGS: 'new-checkout', HTTP_CLIENT_TIMEOUT: `${rng.range(5, 60)}s` };
        const create = rng.chance(0.4);
        const reqObj = this.configMapObject(w, name, data);
        const resp = this.configMapObject(w, name, data, { uid: rng.uuid(), resourceVersion: this.nextRv(), creationTimestamp: this.nowSec(), managedFields: [managedEntry('kubectl-create', 'Update', 'v1', this.nowSec(), fieldsV1({ data, metadata: { labels: { app: 1 } } }))] });
        return this.req(h.actor, create ? 'create' : 'update', create ? resPath(RES.configmaps, ns) + '?fieldManager=kubectl-create&fieldValidation=Strict' : resPath(RES.configmaps, ns, name) + '?fieldManager=kubectl-edit&fieldValidation=Strict', objRef(RES.configmaps, ns, name), 'RequestResponse', ok(create ? 201 : 200), {
          requestObject: reqObj,
          responseObject: resp,
          impersonatedUser: this.withImpersonation(h, ns),
        });
      }
      case 'human-secret': {
        // Secrets are logged at Metadata level (no bodies), as every sane audit policy does.
        const h = this.human();
        const w = this.appWorkload();
        const ns = w.def.ns;
        const name = rng.pick([`${w.def.app}-db`, `${w.def.app}-tls`, 'regcred', `${w.def.app}-sentry`]);
        const create = rng.chance(0.5);
        const exists = create && rng.chance(0.1);
        const st = exists ? failure(409, 'AlreadyExists', `secrets "${name}" already exists`, { name, kind: 'secrets' }) : ok(create ? 201 : 200);
        return this.req(h.actor, create ? 'create' : 'patch', create ? resPath(RES.secrets, ns) + '?fieldManager=kubectl-create&fieldValidation=Strict' : resPath(RES.secrets, ns, name) + '?fieldManager=kubectl-patch', objRef(RES.secrets, ns, name), 'Metadata', st, {
          impersonatedUser: this.withImpersonation(h, ns),
        });
      }
      case 'human-service': {
        const h = this.human();
        const w = this.appWorkload();
        const ns = w.def.ns;
        const type = rng.chance(0.2) ? 'LoadBalancer' : 'ClusterIP';
        const create = rng.chance(0.5);
        return this.req(h.actor, create ? 'create' : 'patch', create ? resPath(RES.services, ns) + '?fieldManager=kubectl-client-side-apply&fieldValidation=Strict' : resPath(RES.services, ns, w.def.app) + '?fieldManager=kubectl-client-side-apply&fieldValidation=Strict', objRef(RES.services, ns, w.def.app), 'RequestResponse', ok(create ? 201 : 200), {
          requestObject: create ? this.serviceObject(w, type, false) : { metadata: { annotations: { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal' } }, spec: { type } },
          responseObject: this.serviceObject(w, type, true, undefined, create),
          impersonatedUser: this.withImpersonation(h, ns),
        });
      }
      case 'human-rbac':
        return this.humanRbac();
      case 'human-delete': {
        const h = this.human();
        const x = rng.float();
        if (x < 0.5) {
          const p = rng.pick(rng.pick(this.appWorkloads).pods);
          const ns = p.w.def.ns;
          return this.req(h.actor, 'delete', resPath(RES.pods, ns, p.name), objRef(RES.pods, ns, p.name), 'RequestResponse', ok(), {
            requestObject: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/__internal', propagationPolicy: 'Background' },
            responseObject: this.podObject(p, this.podRunningStatus(p), [this.kcmPodManagedFields(p.w, fmtSec(p.startedUs))], { deletionTimestamp: fmtSec(this.clockUs + 30_000_000), deletionGracePeriodSeconds: 30 }),
            impersonatedUser: this.withImpersonation(h, ns),
          });
        }
        const w = this.appWorkload();
        const ns = w.def.ns;
        const name = x < 0.75 ? `${w.def.app}-env` : `${w.def.app}-migrate-${rng.range(28_000_000, 29_999_999)}`;
        const res = x < 0.75 ? RES.configmaps : RES.jobs;
        const nf = rng.chance(0.1);
        const st = nf ? failure(404, 'NotFound', `${res.resource}${res.group ? '.' + res.group : ''} "${name}" not found`, { name, ...(res.group ? { group: res.group } : {}), kind: res.resource }) : ok();
        return this.req(h.actor, 'delete', resPath(res, ns, name), objRef(res, ns, name), 'RequestResponse', st, {
          requestObject: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/__internal', propagationPolicy: 'Background' },
          responseObject: statusObject(nf ? st : { metadata: {}, status: 'Success', details: { name, ...(res.group ? { group: res.group } : {}), kind: res.resource, uid: rng.uuid() }, code: 200 }),
        });
      }
      default:
        throw new Error(`unknown write scenario ${scenario}`);
    }
  }

  private serviceObject(w: Workload, type: 'ClusterIP' | 'LoadBalancer' | 'NodePort', server: boolean, nodePort?: number, created = false): J {
    const rng = this.rng;
    const ns = w.def.ns;
    const meta: J = { name: w.def.app, namespace: ns };
    if (server) {
      meta.uid = created ? rng.uuid() : w.uid;
      meta.resourceVersion = this.nextRv();
      meta.creationTimestamp = created ? this.nowSec() : fmtSec(START_US - 90 * 86_400_000_000);
    }
    meta.labels = { app: w.def.app };
    if (type === 'LoadBalancer') meta.annotations = { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal', 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' };
    const port: J = { name: 'http', protocol: 'TCP', port: 80, targetPort: w.def.port };
    if (type !== 'ClusterIP' && (server || nodePort !== undefined)) port.nodePort = nodePort ?? rng.range(30000, 32767);
    const spec: J = { ports: [port], selector: { app: w.def.app } };
    if (server) {
      const ip = `172.20.${rng.range(0, 255)}.${rng.range(1, 254)}`;
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
    }
    spec.type = type;
    if (server) {
      spec.sessionAffinity = 'None';
      if (type !== 'ClusterIP') spec.externalTrafficPolicy = 'Cluster';
      spec.ipFamilies = ['IPv4'];
      spec.ipFamilyPolicy = 'SingleStack';
      spec.internalTrafficPolicy = 'Cluster';
    }
    const o: J = { kind: 'Service', apiVersion: 'v1', metadata: meta, spec };
    if (server) o.status = { loadBalancer: type === 'LoadBalancer' ? { ingress: [{ hostname: `k8s-${ns}-${w.def.app}-${rng.hex(10)}.elb.${REGION}.amazonaws.com` }] } : {} };
    return o;
  }

  private eventReq(): Req {
    const rng = this.rng;
    const p = this.pod();
    const ns = p.w.def.ns;
    const c = p.w.template.spec.containers[0];
    const now = this.nowSec();
    const x = rng.float();
    if (x < 0.25) {
      // scheduler: events.k8s.io/v1
      const name = `${p.name}.${rng.hex(16)}`;
      const ev = (server: boolean): J => ({
        kind: 'Event',
        apiVersion: 'events.k8s.io/v1',
        metadata: { name, namespace: ns, ...(server ? { uid: rng.uuid(), resourceVersion: this.nextRv(), creationTimestamp: now } : { creationTimestamp: null }) },
        eventTime: fmtMicro(this.clockUs - 3000),
        reportingController: 'default-scheduler',
        reportingInstance: `default-scheduler-${this.leaderIds['kube-scheduler'].split('_')[0]}`,
        action: 'Binding',
        reason: 'Scheduled',
        regarding: { kind: 'Pod', namespace: ns, name: p.name, uid: p.uid, apiVersion: 'v1', resourceVersion: String(this.rv - 3) },
        note: `Successfully assigned ${ns}/${p.name} to ${p.node.name}`,
        type: 'Normal',
        deprecatedSource: {},
        deprecatedFirstTimestamp: null,
        deprecatedLastTimestamp: null,
      });
      return this.req({ ...this.scheduler }, 'create', resPath(RES.eventsV1, ns), objRef(RES.eventsV1, ns, name), 'RequestResponse', ok(201), { requestObject: ev(false), responseObject: ev(true) });
    }
    let actor: Actor;
    let involved: J;
    let reason: string;
    let message: string;
    let type = 'Normal';
    let source: J;
    if (x < 0.7) {
      actor = p.node.actor;
      involved = { kind: 'Pod', namespace: ns, name: p.name, uid: p.uid, apiVersion: 'v1', resourceVersion: String(this.rv - rng.int(100)), fieldPath: `spec.containers{${c.name}}` };
      const k = rng.int(5);
      reason = ['Pulled', 'Created', 'Started', 'Unhealthy', 'BackOff'][k];
      message = [
        `Container image "${c.image}" already present on machine`,
        `Created container ${c.name}`,
        `Started container ${c.name}`,
        `Readiness probe failed: Get "http://${p.ip}:${p.w.def.port}/ready": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
        `Back-off restarting failed container ${c.name} in pod ${p.name}_${ns}(${p.uid})`,
      ][k];
      if (k >= 3) type = 'Warning';
      source = { component: 'kubelet', host: p.node.name };
    } else if (x < 0.85) {
      actor = this.kcmSa.get('replicaset-controller')!;
      involved = { kind: 'ReplicaSet', namespace: ns, name: p.w.rsName, uid: p.w.rsUid, apiVersion: 'apps/v1', resourceVersion: String(this.rv - rng.int(100)) };
      const created = rng.chance(0.5);
      reason = created ? 'SuccessfulCreate' : 'SuccessfulDelete';
      message = `${created ? 'Created' : 'Deleted'} pod: ${p.w.rsName}-${rng.suffix(5)}`;
      source = { component: 'replicaset-controller' };
    } else {
      actor = this.kcmSa.get('deployment-controller')!;
      involved = { kind: 'Deployment', namespace: ns, name: p.w.def.app, uid: p.w.uid, apiVersion: 'apps/v1', resourceVersion: String(this.rv - rng.int(100)) };
      reason = 'ScalingReplicaSet';
      message = `Scaled ${rng.chance(0.5) ? 'up' : 'down'} replica set ${p.w.rsName} to ${rng.range(1, 8)} from ${rng.range(1, 8)}`;
      source = { component: 'deployment-controller' };
    }
    const name = `${involved.name}.${rng.hex(16)}`;
    const ev = (server: boolean): J => ({
      kind: 'Event',
      apiVersion: 'v1',
      metadata: { name, namespace: ns, ...(server ? { uid: rng.uuid(), resourceVersion: this.nextRv(), creationTimestamp: now, managedFields: [managedEntry(source.component, 'Update', 'v1', now, { 'f:count': {}, 'f:firstTimestamp': {}, 'f:involvedObject': {}, 'f:lastTimestamp': {}, 'f:message': {}, 'f:reason': {}, 'f:reportingComponent': {}, 'f:reportingInstance': {}, 'f:source': { 'f:component': {}, ...(source.host ? { 'f:host': {} } : {}) }, 'f:type': {} })] } : { creationTimestamp: null }) },
      involvedObject: involved,
      reason,
      message,
      source,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    });
    return this.req(actor, 'create', resPath(RES.events, ns), objRef(RES.events, ns, name), 'RequestResponse', ok(201), { requestObject: ev(false), responseObject: ev(true) });
  }

  private humanDeployment(): Req {
    const rng = this.rng;
    const h = this.human();
    const w = this.appWorkload();
    const ns = w.def.ns;
    const name = w.def.app;
    const imp = this.withImpersonation(h, ns);
    const x = rng.float();
    if (x < 0.35) {
      // kubectl apply (client-side): strategic merge patch carrying last-applied-configuration
      const applied = this.deploymentObject(w, { rv: false, status: false });
      applied.metadata = { name, namespace: ns, labels: applied.metadata.labels };
      const lastApplied = JSON.stringify(applied) + '\n';
      const patch = { metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } }, spec: { template: { spec: { '$setElementOrder/containers': w.template.spec.containers.map((c: J) => ({ name: c.name })), containers: [{ image: w.template.spec.containers[0].image, name: w.template.spec.containers[0].name }] } } } };
      return this.req(h.actor, 'patch', resPath(RES.deployments, ns, name) + '?fieldManager=kubectl-client-side-apply&fieldValidation=Strict', objRef(RES.deployments, ns, name), 'RequestResponse', ok(), {
        requestObject: patch,
        responseObject: this.deploymentObject(w, { managed: this.deploymentManaged(w, 'kubectl-client-side-apply', 'Update'), annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } }),
        impersonatedUser: imp,
      });
    }
    if (x < 0.6) {
      // kubectl rollout restart
      const at = this.nowSec();
      const patch = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } } };
      return this.req(h.actor, 'patch', resPath(RES.deployments, ns, name) + '?fieldManager=kubectl-rollout', objRef(RES.deployments, ns, name), 'RequestResponse', ok(), {
        requestObject: patch,
        responseObject: this.deploymentObject(w, { managed: this.deploymentManaged(w) }),
        impersonatedUser: imp,
      });
    }
    if (x < 0.8) {
      // kubectl scale
      const replicas = rng.range(1, 10);
      const scale = (server: boolean): J => ({
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        metadata: { name, namespace: ns, ...(server ? { uid: w.uid, resourceVersion: this.nextRv(), creationTimestamp: fmtSec(START_US - 90 * 86_400_000_000) } : {}) },
        spec: { replicas },
        ...(server ? { status: { replicas: w.def.replicas, selector: `app=${name}` } } : {}),
      });
      return this.req(h.actor, 'patch', resPath(RES.deployments, ns, name, 'scale'), objRef(RES.deployments, ns, name, 'scale'), 'RequestResponse', ok(), {
        requestObject: { spec: { replicas } },
        responseObject: scale(true),
        impersonatedUser: imp,
      });
    }
    // kubectl create deployment / replace
    const create = rng.chance(0.5);
    const exists = create && rng.chance(0.3);
    const st = exists ? failure(409, 'AlreadyExists', `deployments.apps "${name}" already exists`, { name, group: 'apps', kind: 'deployments' }) : ok(create ? 201 : 200);
    return this.req(h.actor, create ? 'create' : 'update', create ? resPath(RES.deployments, ns) + '?fieldManager=kubectl-create&fieldValidation=Strict' : resPath(RES.deployments, ns, name) + '?fieldManager=kubectl-replace&fieldValidation=Strict', objRef(RES.deployments, ns, name), 'RequestResponse', st, {
      requestObject: this.deploymentObject(w, { rv: !create, status: false }),
      responseObject: exists ? statusObject(st) : this.deploymentObject(w, { managed: this.deploymentManaged(w, create ? 'kubectl-create' : 'kubectl-replace', 'Update') }),
      impersonatedUser: imp,
    });
  }

  private humanRbac(): Req {
    const rng = this.rng;
    const h = this.human();
    const w = this.appWorkload();
    const ns = w.def.ns;
    const x = rng.float();
    const now = this.nowSec();
    const server = (o: J, mf: J): J => ({ ...o, metadata: { ...o.metadata, uid: rng.uuid(), resourceVersion: this.nextRv(), creationTimestamp: now, managedFields: [managedEntry('kubectl-create', 'Update', o.apiVersion, now, mf)] } });
    let res: ResDef;
    let name: string;
    let obj: J;
    if (x < 0.3) {
      res = RES.roles;
      name = `${w.def.app}-${rng.pick(['reader', 'config-editor', 'leader-election'])}`;
      obj = {
        kind: 'Role',
        apiVersion: 'rbac.authorization.k8s.io/v1',
        metadata: { name, namespace: ns, creationTimestamp: null },
        rules: [
          { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
          { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
        ],
      };
    } else if (x < 0.6) {
      res = RES.rolebindings;
      const role = rng.pick(['edit', 'view']);
      name = `${rng.pick(this.humans).def.name.split('@')[0]}-${role}`;
      obj = {
        kind: 'RoleBinding',
        apiVersion: 'rbac.authorization.k8s.io/v1',
        metadata: { name, namespace: ns, creationTimestamp: null },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: rng.pick(this.humans).def.name }],
      };
    } else if (x < 0.85) {
      res = RES.serviceaccounts;
      name = rng.pick([w.saName === 'default' ? `${w.def.app}` : w.saName, 'deployer', `${w.def.app}-migrations`]);
      obj = {
        kind: 'ServiceAccount',
        apiVersion: 'v1',
        metadata: { name, namespace: ns, creationTimestamp: null, annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${AWS_ACCOUNT}:role/eks-${w.def.app}-irsa` } },
      };
    } else {
      res = RES.clusterroles;
      name = `${rng.pick(['namespace-viewer', 'metrics-reader', 'crd-viewer', 'node-reader'])}`;
      obj = {
        kind: 'ClusterRole',
        apiVersion: 'rbac.authorization.k8s.io/v1',
        metadata: { name, creationTimestamp: null },
        rules: [
          { apiGroups: [''], resources: ['namespaces', 'nodes'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list'] },
        ],
      };
    }
    const exists = rng.chance(0.1);
    const st = exists ? failure(409, 'AlreadyExists', `${res.resource}${res.group ? '.' + res.group : ''} "${name}" already exists`, { name, ...(res.group ? { group: res.group } : {}), kind: res.resource }) : ok(201);
    const mf = fieldsV1({ metadata: { annotations: obj.metadata.annotations }, rules: obj.rules, roleRef: obj.roleRef, subjects: obj.subjects });
    const nsArg = res.namespaced ? ns : undefined;
    return this.req(h.actor, 'create', resPath(res, nsArg) + '?fieldManager=kubectl-create&fieldValidation=Strict', objRef(res, nsArg, name), 'RequestResponse', st, {
      requestObject: obj,
      responseObject: exists ? statusObject(st) : server(obj, mf),
      impersonatedUser: res.namespaced ? this.withImpersonation(h, ns) : undefined,
    });
  }

  /* ============================================================ suspicious */

  private planSuspicious(scenario: string): Planned {
    const rng = this.rng;
    const latencyUs = rng.range(1_500, 60_000);
    if (scenario === 'pod-exec' || scenario === 'pod-attach') return { req: this.execReq(scenario === 'pod-exec'), stages: ['ResponseStarted', 'ResponseComplete'], latencyUs };
    return { req: this.suspiciousReq(scenario), stages: ['ResponseComplete'], latencyUs };
  }

  private execReq(exec: boolean): Req {
    const rng = this.rng;
    const h = this.human();
    const p = this.pod();
    const ns = p.w.def.ns;
    const container = p.w.template.spec.containers[0].name;
    let query: string;
    if (exec) {
      const cmd = rng.pick(['sh', 'bash', '%2Fbin%2Fsh', 'sh&command=-c&command=cat+%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken', 'env', 'sh&command=-c&command=curl+-s+http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2Fiam%2Fsecurity-credentials%2F']);
      const tty = rng.chance(0.7);
      query = `?command=${cmd}&container=${container}&stdin=true&stdout=true${tty ? '&tty=true' : '&stderr=true'}`;
    } else {
      query = `?container=${container}&stdin=true&stdout=true&tty=true`;
    }
    const sub = exec ? 'exec' : 'attach';
    const verb = rng.chance(0.6) ? 'create' : 'get'; // SPDY (POST) vs websocket (GET)
    const actor = rng.chance(0.85) ? h.actor : this.argocd;
    return this.req(actor, verb, resPath(RES.pods, ns, p.name, sub) + query, objRef(RES.pods, ns, p.name, sub), 'Metadata', ok(101));
  }

  private suspiciousPod(scenario: string): Req {
    const rng = this.rng;
    const h = this.human();
    const w = rng.pick(this.workloads);
    let ns = scenario === 'kube-system-pod-by-human' ? 'kube-system' : w.def.system ? 'default' : w.def.ns;
    const image = rng.pick(DEBUG_IMAGES);
    const base = image.split('/').pop()!.split(':')[0].replace(/[^a-z0-9]/g, '');
    const name = `${rng.pick(['debug', 'tmp', 'test', base, 'node-shell', 'troubleshoot'])}-${rng.suffix(5)}`;
    let extra: J = {};
    const volumes: J[] = [];
    const mounts: J[] = [];
    switch (scenario) {
      case 'privileged-pod':
        extra = { securityContext: { privileged: true } };
        break;
      case 'host-network-pod':
        extra = { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' };
        break;
      case 'host-pid-pod':
        extra = rng.chance(0.5) ? { hostPID: true } : { hostPID: true, hostIPC: true };
        break;
      case 'sensitive-hostpath-mount': {
        const [path, type] = rng.pick(SENSITIVE_HOST_PATHS);
        volumes.push({ name: 'host', hostPath: { path, type } });
        mounts.push({ name: 'host', mountPath: path === '/' ? '/host' : `/host${path}` });
        break;
      }
      case 'kube-system-pod-by-human':
        ns = 'kube-system';
        break;
    }
    const container: J = { name: base || 'debug', image, command: rng.chance(0.5) ? ['sleep', '3600'] : ['sh'], resources: {} };
    if (mounts.length) container.volumeMounts = mounts;
    if (extra.securityContext) container.securityContext = extra.securityContext;
    const spec: J = {};
    if (volumes.length) spec.volumes = volumes;
    spec.containers = [{ ...container, stdin: true, tty: true }];
    spec.restartPolicy = 'Never';
    spec.dnsPolicy = extra.dnsPolicy ?? 'ClusterFirst';
    if (extra.hostNetwork) spec.hostNetwork = true;
    if (extra.hostPID) spec.hostPID = true;
    if (extra.hostIPC) spec.hostIPC = true;
    if (scenario === 'sensitive-hostpath-mount' && rng.chance(0.5)) spec.nodeName = rng.pick(this.nodes).name;
    const requestObject = { kind: 'Pod', apiVersion: 'v1', metadata: { name, namespace: ns, creationTimestamp: null, labels: { run: name } }, spec, status: {} };
    const nsPolicy = ns === 'kube-system' ? 'privileged:latest' : 'baseline:latest';
    const denied = scenario !== 'kube-system-pod-by-human' && rng.chance(0.15);
    const actor = scenario !== 'kube-system-pod-by-human' && rng.chance(0.2) ? this.argocd : h.actor;
    const uri = resPath(RES.pods, ns) + '?fieldManager=kubectl-run';
    if (denied) {
      const why =
        scenario === 'privileged-pod'
          ? `privileged (container "${container.name}" must not set securityContext.privileged=true)`
          : scenario === 'host-network-pod'
            ? 'host namespaces (hostNetwork=true)'
            : scenario === 'host-pid-pod'
              ? `host namespaces (hostPID=true${spec.hostIPC ? ', hostIPC=true' : ''})`
              : 'hostPath volumes (volume "host")';
      const st = failure(403, 'Forbidden', `pods "${name}" is forbidden: violates PodSecurity "${nsPolicy}": ${why}`, { name, kind: 'pods' });
      return this.req(actor, 'create', uri, objRef(RES.pods, ns, name), 'RequestResponse', st, {
        requestObject,
        responseObject: statusObject(st),
        annotations: { 'pod-security.kubernetes.io/enforce-policy': nsPolicy },
      });
    }
    const now = this.nowSec();
    const kaa = `kube-api-access-${rng.suffix(5)}`;
    const respSpec: J = {
      volumes: [...volumes, { name: kaa, projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }, { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } }], defaultMode: 420 } }],
      containers: [{ ...spec.containers[0], volumeMounts: [...mounts, { name: kaa, readOnly: true, mountPath: SA_TOKEN_PATH }], terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' }],
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: spec.dnsPolicy,
      serviceAccountName: 'default',
      serviceAccount: 'default',
      ...(spec.nodeName ? { nodeName: spec.nodeName } : {}),
      ...(spec.hostNetwork ? { hostNetwork: true } : {}),
      ...(spec.hostPID ? { hostPID: true } : {}),
      ...(spec.hostIPC ? { hostIPC: true } : {}),
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    };
    const responseObject = {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { name, namespace: ns, uid: rng.uuid(), resourceVersion: this.nextRv(), creationTimestamp: now, labels: { run: name }, managedFields: [managedEntry('kubectl-run', 'Update', 'v1', now, fieldsV1({ metadata: { labels: { run: name } }, spec }))] },
      spec: respSpec,
      status: { phase: 'Pending', qosClass: 'BestEffort' },
    };
    return this.req(actor, 'create', uri, objRef(RES.pods, ns, name), 'RequestResponse', ok(201), {
      requestObject,
      responseObject,
      annotations: { 'pod-security.kubernetes.io/enforce-policy': nsPolicy },
      impersonatedUser: rng.chance(0.15) ? { username: 'system:admin', groups: ['system:masters'] } : undefined,
    });
  }

  private suspiciousReq(scenario: string): Req {
    const rng = this.rng;
    const now = this.nowSec();
    switch (scenario) {
      case 'privileged-pod':
      case 'host-network-pod':
      case 'host-pid-pod':
      case 'sensitive-hostpath-mount':
      case 'kube-system-pod-by-human':
        return this.suspiciousPod(scenario);
      case 'cluster-admin-binding': {
        const h = this.human();
        const name = rng.pick(['tmp-admin', 'ci-admin', 'debug-cluster-admin', 'break-glass', `${h.def.name.split('@')[0]}-cluster-admin`]);
        const subject = rng.pick([
          { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: rng.pick(HUMANS).name },
          { kind: 'ServiceAccount', name: rng.pick(['default', 'deployer', 'ci']), namespace: rng.pick(this.appWorkloads).def.ns },
          { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: rng.pick(['team-payments', 'system:authenticated']) },
        ]);
        const obj: J = { kind: 'ClusterRoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name, creationTimestamp: null }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [subject] };
        const resp = { ...obj, metadata: { name, uid: rng.uuid(), resourceVersion: this.nextRv(), creationTimestamp: now, managedFields: [managedEntry('kubectl-create', 'Update', 'rbac.authorization.k8s.io/v1', now, fieldsV1({ roleRef: obj.roleRef, subjects: obj.subjects }))] } };
        return this.req(h.actor, 'create', resPath(RES.clusterrolebindings) + '?fieldManager=kubectl-create&fieldValidation=Strict', objRef(RES.clusterrolebindings, undefined, name), 'RequestResponse', ok(201), { requestObject: obj, responseObject: resp });
      }
      case 'wildcard-clusterrole': {
        const h = this.human();
        const name = rng.pick(['superuser', 'god-mode', 'ci-deployer', 'ops-all', 'temp-full-access']);
        const rules = rng.pick([
          [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
          [{ apiGroups: [''], resources: ['pods', 'pods/exec', 'secrets'], verbs: ['*'] }],
          [{ apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] }, { nonResourceURLs: ['*'], verbs: ['get'] }],
        ]);
        const obj: J = { kind: 'ClusterRole', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name, creationTimestamp: null }, rules };
        const resp = { ...obj, metadata: { name, uid: rng.uuid(), resourceVersion: this.nextRv(), creationTimestamp: now, managedFields: [managedEntry('kubectl-create', 'Update', 'rbac.authorization.k8s.io/v1', now, { 'f:rules': {} })] } };
        const create = rng.chance(0.75);
        return this.req(h.actor, create ? 'create' : 'update', create ? resPath(RES.clusterroles) + '?fieldManager=kubectl-create&fieldValidation=Strict' : resPath(RES.clusterroles, undefined, name) + '?fieldManager=kubectl-edit', objRef(RES.clusterroles, undefined, name), 'RequestResponse', ok(create ? 201 : 200), { requestObject: obj, responseObject: resp });
      }
      case 'configmap-aws-credentials': {
        const w = this.appWorkload();
        const ns = w.def.ns;
        const h = this.human();
        const actor = rng.chance(0.3) ? this.argocd : h.actor;
        const name = rng.pick([`${w.def.app}-aws`, `${w.def.app}-config`, 'aws-credentials', 's3-uploader-config']);
        const keyId = `AKIA${rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
        const secret = rng.chars(B64URL.slice(0, 62), 40);
        const data: J = rng.chance(0.5)
          ? { credentials: `[default]\naws_access_key_id = ${keyId}\naws_secret_access_key = ${secret}\nregion = ${REGION}\n` }
          : { aws_access_key_id: keyId, aws_secret_access_key: secret, AWS_DEFAULT_REGION: REGION, S3_BUCKET: `${w.def.app}-exports-prod` };
        const obj = this.configMapObject(w, name, data);
        const resp = this.configMapObject(w, name, data, { uid: rng.uuid(), resourceVersion: this.nextRv(), creationTimestamp: now, managedFields: [managedEntry('kubectl-create', 'Update', 'v1', now, fieldsV1({ data, metadata: { labels: { app: 1 } } }))] });
        const create = rng.chance(0.6);
        return this.req(actor, create ? 'create' : 'update', create ? resPath(RES.configmaps, ns) + '?fieldManager=kubectl-create&fieldValidation=Strict' : resPath(RES.configmaps, ns, name) + '?fieldManager=kubectl-edit', objRef(RES.configmaps, ns, name), 'RequestResponse', ok(create ? 201 : 200), { requestObject: obj, responseObject: resp });
      }
      case 'anonymous-request': {
        const actor: Actor = { user: { username: 'system:anonymous', groups: ['system:unauthenticated'] }, sourceIPs: [rng.pick(EXTERNAL_IPS)], userAgent: rng.pick(ANON_UAS), reason: '' };
        const x = rng.float();
        if (x < 0.25) {
          return this.req(actor, 'get', rng.pick(['/version', '/api', '/apis', '/.well-known/openid-configuration']), undefined, 'Metadata', ok(), {
            reason: 'RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:unauthenticated"',
          });
        }
        if (x < 0.4) {
          // misconfigured binding letting anonymous users read configmaps
          const ns = rng.pick(this.appWorkloads).def.ns;
          return this.req(actor, 'list', resPath(RES.configmaps, ns), objRef(RES.configmaps, ns), 'Metadata', ok(), {
            reason: 'RBAC: allowed by RoleBinding "anonymous-view/' + ns + '" of ClusterRole "view" to User "system:anonymous"',
          });
        }
        const target = rng.pick([
          [RES.secrets, 'kube-system', 'list'],
          [RES.pods, undefined, 'list'],
          [RES.secrets, undefined, 'list'],
          [RES.clusterrolebindings, undefined, 'list'],
          [RES.pods, 'default', 'create'],
          [RES.nodes, undefined, 'list'],
        ] as const);
        const [res, ns, verb] = target;
        const scope = ns ? ` in the namespace "${ns}"` : ' at the cluster scope';
        const st = failure(403, 'Forbidden', `${res.resource}${res.group ? '.' + res.group : ''} is forbidden: User "system:anonymous" cannot ${verb} resource "${res.resource}" in API group "${res.group}"${scope}`, { kind: res.resource, ...(res.group ? { group: res.group } : {}) });
        return this.req(actor, verb, resPath(res, ns), objRef(res, ns), 'Metadata', st, { decision: 'forbid', reason: '' });
      }
      case 'nodeport-service': {
        const h = this.human();
        const w = this.appWorkload();
        const ns = w.def.ns;
        const port = rng.range(30000, 32767);
        return this.req(h.actor, 'create', resPath(RES.services, ns) + '?fieldManager=kubectl-expose&fieldValidation=Strict', objRef(RES.services, ns, w.def.app), 'RequestResponse', ok(201), {
          requestObject: this.serviceObject(w, 'NodePort', false, rng.chance(0.5) ? port : undefined),
          responseObject: this.serviceObject(w, 'NodePort', true, port, true),
        });
      }
      case 'serviceaccount-token-by-human': {
        const h = this.human();
        const x = rng.float();
        const ns = x < 0.3 ? 'kube-system' : rng.pick(this.appWorkloads).def.ns;
        const sa = x < 0.3 ? rng.pick(['replicaset-controller', 'clusterrole-aggregation-controller', 'generic-garbage-collector', 'default']) : rng.pick(['default', 'deployer', 'argocd-application-controller']);
        const exp = rng.pick([3600, 86400, 31536000]);
        return this.req(h.actor, 'create', resPath(RES.serviceaccounts, ns, sa, 'token'), objRef(RES.serviceaccounts, ns, sa, 'token'), 'Request', ok(201), {
          requestObject: { kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, spec: { audiences: null, expirationSeconds: exp, boundObjectRef: null }, status: { token: '', expirationTimestamp: null } },
        });
      }
      case 'secret-read-by-user': {
        const h = this.human();
        const x = rng.float();
        if (x < 0.3) {
          return this.req(h.actor, 'list', '/api/v1/secrets?limit=500', objRef(RES.secrets), 'Metadata', ok());
        }
        const w = rng.pick(this.workloads);
        const ns = x < 0.45 ? 'kube-system' : w.def.ns;
        const name = x < 0.45 ? rng.pick(['aws-node-token', 'ebs-csi-controller-sa-token', 'sh.helm.release.v1.aws-load-balancer-controller.v3']) : rng.pick([`${w.def.app}-db`, `${w.def.app}-tls`, 'regcred']);
        const denied = !h.def.admin && rng.chance(0.2);
        const st = denied ? failure(403, 'Forbidden', `secrets "${name}" is forbidden: User "${h.def.name}" cannot get resource "secrets" in API group "" in the namespace "${ns}"`, { name, kind: 'secrets' }) : ok();
        return this.req(h.actor, 'get', resPath(RES.secrets, ns, name), objRef(RES.secrets, ns, name), 'Metadata', st, denied ? { decision: 'forbid', reason: '' } : {});
      }
      default:
        throw new Error(`unknown suspicious scenario ${scenario}`);
    }
  }
}

/* ================================================================ convenience */

/** `count` audit events for `seed`, one compact JSON document each. */
export function generate(count: number, seed: number): string[] {
  const g = new AuditEventGenerator(seed);
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = JSON.stringify(g.next());
  return out;
}

/** Lazily yields `count` JSON documents (constant memory). */
export function* generateLines(count: number, seed: number): Generator<string> {
  const g = new AuditEventGenerator(seed);
  for (let i = 0; i < count; i++) yield JSON.stringify(g.next());
}

