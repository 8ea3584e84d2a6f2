/**
 * Builders for the audit.k8s.io/v1 Events the default-rule tests feed the
 * engine. Each builder returns a complete Event as the kube-apiserver logs it
 * (requestURI and objectRef consistent with each other, responseStatus,
 * authorization annotations, timestamps); options change only what a case
 * needs to change.
 */

export type AuditEvent = Record<string, unknown>;

export interface User {
  username: string;
  groups?: string[];
}

export const DANA: User = { username: 'dana@example.com', groups: ['ops', 'system:authenticated'] };
export const ADMIN: User = { username: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', 'system:authenticated'] };
export const ANONYMOUS: User = { username: 'system:anonymous', groups: ['system:unauthenticated'] };
export const sa = (ns: string, name: string): User => ({
  username: `system:serviceaccount:${ns}:${name}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
});
export const node = (name: string): User => ({ username: `system:node:${name}`, groups: ['system:nodes', 'system:authenticated'] });

/** API group and version of each resource the tests use. */
const GROUPS: Record<string, { group: string; version: string; namespaced: boolean }> = {
  pods: { group: '', version: 'v1', namespaced: true },
  services: { group: '', version: 'v1', namespaced: true },
  configmaps: { group: '', version: 'v1', namespaced: true },
  secrets: { group: '', version: 'v1', namespaced: true },
  serviceaccounts: { group: '', version: 'v1', namespaced: true },
  namespaces: { group: '', version: 'v1', namespaced: false },
  nodes: { group: '', version: 'v1', namespaced: false },
  ingresses: { group: 'networking.k8s.io', version: 'v1', namespaced: true },
  deployments: { group: 'apps', version: 'v1', namespaced: true },
  daemonsets: { group: 'apps', version: 'v1', namespaced: true },
  statefulsets: { group: 'apps', version: 'v1', namespaced: true },
  replicasets: { group: 'apps', version: 'v1', namespaced: true },
  jobs: { group: 'batch', version: 'v1', namespaced: true },
  cronjobs: { group: 'batch', version: 'v1', namespaced: true },
  roles: { group: 'rbac.authorization.k8s.io', version: 'v1', namespaced: true },
  rolebindings: { group: 'rbac.authorization.k8s.io', version: 'v1', namespaced: true },
  clusterroles: { group: 'rbac.authorization.k8s.io', version: 'v1', namespaced: false },
  clusterrolebindings: { group: 'rbac.authorization.k8s.io', version: 'v1', namespaced: false },
  customresourcedefinitions: { group: 'apiextensions.k8s.io', version: 'v1', namespaced: false },
  mutatingwebhookconfigurations: { group: 'admissionregistration.k8s.io', version: 'v1', namespaced: false },
  validatingwebhookconfigurations: { group: 'admissionregistration.k8s.io', version: 'v1', namespaced: false },
  validatingadmissionpolicies: { group: 'admissionregistration.k8s.io', version: 'v1', namespaced: false },
  certificatesigningrequests: { group: 'certificates.k8s.io', version: 'v1', namespaced: false },
};

const KIND: Record<string, string> = {
  pods: 'Pod', services: 'Service', configmaps: 'ConfigMap', secrets: 'Secret', serviceaccounts: 'ServiceAccount',
  namespaces: 'Namespace', nodes: 'Node', ingresses: 'Ingress', deployments: 'Deployment', daemonsets: 'DaemonSet', statefulsets: 'StatefulSet',
  replicasets: 'ReplicaSet', jobs: 'Job', cronjobs: 'CronJob', roles: 'Role', rolebindings: 'RoleBinding',
  clusterroles: 'ClusterRole', clusterrolebindings: 'ClusterRoleBinding', customresourcedefinitions: 'CustomResourceDefinition',
  mutatingwebhookconfigurations: 'MutatingWebhookConfiguration', validatingwebhookconfigurations: 'ValidatingWebhookConfiguration',
  validatingadmissionpolicies: 'ValidatingAdmissionPolicy', certificatesigningrequests: 'CertificateSigningRequest',
};

export const kindOf = (resource: string): string => KIND[resource];

const REASONS: Record<number, string> = { 403: 'Forbidden', 404: 'NotFound', 409: 'AlreadyExists', 422: 'Invalid' };

let seq = 0;

export interface RequestOptions {
  verb: string;
  resource?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  user?: User;
  stage?: 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete';
  code?: number;
  /** Defaults to allow, or forbid for 403. */
  decision?: 'allow' | 'forbid';
  /** Query string appended to the request URI (without `?`). */
  query?: string;
  /** Non-resource requests (/healthz, /version ...): the URI, no objectRef. */
  uri?: string;
  requestObject?: unknown;
  responseObject?: unknown;
  impersonatedUser?: User;
  sourceIP?: string;
  userAgent?: string;
}

const KUBECTL = 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46';

/** One audit event for one API request. */
export function request(o: RequestOptions): AuditEvent {
  seq++;
  const code = o.code ?? (o.verb === 'create' ? 201 : 200);
  const decision = o.decision ?? (code === 403 ? 'forbid' : 'allow');
  const stage = o.stage ?? 'ResponseComplete';
  const user = o.user ?? DANA;
  const received = new Date(Date.UTC(2026, 10, 2, 10, 0, 0) + seq * 1000);
  const done = new Date(received.getTime() + 12);
  let uri = o.uri ?? '';
  let objectRef: Record<string, string> | undefined;
  if (o.resource) {
    const g = GROUPS[o.resource];
    if (!g) throw new Error(`test builder: unknown resource ${o.resource}`);
    const base = g.group === '' ? `/api/${g.version}` : `/apis/${g.group}/${g.version}`;
    const nsPart = g.namespaced && o.namespace ? `/namespaces/${o.namespace}` : '';
    const collection = o.verb === 'create' && !o.subresource;
    uri = `${base}${nsPart}/${o.resource}${o.name && !collection ? `/${o.name}` : ''}${o.subresource ? `/${o.subresource}` : ''}`;
    if (o.verb === 'watch') uri += '?watch=true';
    objectRef = { resource: o.resource };
    if (g.namespaced && o.namespace) objectRef.namespace = o.namespace;
    if (o.name) objectRef.name = o.name;
    if (g.group !== '') objectRef.apiGroup = g.group;
    objectRef.apiVersion = g.version;
    if (o.subresource) objectRef.subresource = o.subresource;
  }
  if (o.query) uri += (uri.includes('?') ? '&' : '?') + o.query;
  const ev: AuditEvent = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: o.requestObject !== undefined ? (o.responseObject !== undefined ? 'RequestResponse' : 'Request') : 'Metadata',
    auditID: `7f3c2a10-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    stage,
    requestURI: uri,
    verb: o.verb,
    user: { username: user.username, ...(user.groups ? { groups: user.groups } : {}) },
    ...(o.impersonatedUser ? { impersonatedUser: { username: o.impersonatedUser.username, groups: o.impersonatedUser.groups } } : {}),
    sourceIPs: [o.sourceIP ?? '10.0.12.7'],
    userAgent: o.userAgent ?? KUBECTL,
    ...(objectRef ? { objectRef } : {}),
    responseStatus: code >= 400 ? { metadata: {}, status: 'Failure', reason: REASONS[code] ?? 'InternalError', code } : { metadata: {}, code },
    ...(o.requestObject !== undefined ? { requestObject: o.requestObject } : {}),
    ...(o.responseObject !== undefined ? { responseObject: o.responseObject } : {}),
    requestReceivedTimestamp: received.toISOString().replace('Z', '000Z'),
    stageTimestamp: done.toISOString().replace('Z', '000Z'),
    annotations: {
      'authorization.k8s.io/decision': decision,
      'authorization.k8s.io/reason': decision === 'allow' ? 'RBAC: allowed by ClusterRoleBinding "ops-admins" of ClusterRole "cluster-admin" to Group "ops"' : '',
    },
  };
  return ev;
}

// ---------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------

export interface ContainerSpec {
  name?: string;
  image: string;
  securityContext?: Record<string, unknown>;
  command?: string[];
}

export interface PodOptions {
  containers: ContainerSpec[];
  initContainers?: ContainerSpec[];
  hostPID?: boolean;
  hostIPC?: boolean;
  hostNetwork?: boolean;
  hostPaths?: string[];
}

export function podObject(name: string, namespace: string, p: PodOptions, withUid = false): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  if (p.hostPID !== undefined) spec.hostPID = p.hostPID;
  if (p.hostIPC !== undefined) spec.hostIPC = p.hostIPC;
  if (p.hostNetwork !== undefined) spec.hostNetwork = p.hostNetwork;
  const mounts = (p.hostPaths ?? []).map((_, i) => ({ name: `host-${i}`, mountPath: `/host/${i}` }));
  const container = (c: ContainerSpec, i: number) => ({
    name: c.name ?? `c${i}`,
    image: c.image,
    ...(c.command ? { command: c.command } : {}),
    ...(mounts.length ? { volumeMounts: mounts } : {}),
    ...(c.securityContext ? { securityContext: c.securityContext } : {}),
    resources: {},
    terminationMessagePath: '/dev/termination-log',
    imagePullPolicy: 'IfNotPresent',
  });
  if (p.initContainers) spec.initContainers = p.initContainers.map(container);
  spec.containers = p.containers.map(container);
  if (p.hostPaths) {
    spec.volumes = [
      ...p.hostPaths.map((path, i) => ({ name: `host-${i}`, hostPath: { path, type: '' } })),
      { name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }] } },
    ];
  }
  spec.restartPolicy = 'Always';
  spec.serviceAccountName = 'default';
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name, namespace, ...(withUid ? { uid: '0b6e8f1e-1111-4b7c-9a55-2f0c3d4e5f60', resourceVersion: '918273' } : {}) },
    spec,
  };
}

/** A successful (or failed, with `code`) pod creation logged at RequestResponse level. */
export function createPod(name: string, namespace: string, p: PodOptions, o: Partial<RequestOptions> = {}): AuditEvent {
  const code = o.code ?? 201;
  return request({
    verb: 'create', resource: 'pods', namespace, name, ...o, code,
    requestObject: podObject(name, namespace, p),
    responseObject: code < 300 ? podObject(name, namespace, p, true) : undefined,
  });
}

export function roleObject(resource: 'roles' | 'clusterroles', name: string, namespace: string | undefined, rules: Record<string, string[]>[]): Record<string, unknown> {
  return {
    kind: KIND[resource],
    apiVersion: 'rbac.authorization.k8s.io/v1',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    rules,
  };
}

export function bindingObject(resource: 'rolebindings' | 'clusterrolebindings', name: string, namespace: string | undefined, role: string, subjects: Record<string, string>[]): Record<string, unknown> {
  return {
    kind: KIND[resource],
    apiVersion: 'rbac.authorization.k8s.io/v1',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects,
  };
}

export function configMapObject(name: string, namespace: string, data: Record<string, string>): Record<string, unknown> {
  return { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name, namespace }, data };
}

export function serviceObject(name: string, namespace: string, type: string): Record<string, unknown> {
  const port: Record<string, unknown> = { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 };
  if (type === 'NodePort') port.nodePort = 30080;
  return { kind: 'Service', apiVersion: 'v1', metadata: { name, namespace }, spec: { type, selector: { app: name }, ports: [port] } };
}

export function csrApproval(name: string, type: 'Approved' | 'Denied'): Record<string, unknown> {
  return {
    kind: 'CertificateSigningRequest',
    apiVersion: 'certificates.k8s.io/v1',
    metadata: { name },
    spec: {
      request: 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K',
      signerName: 'kubernetes.io/kube-apiserver-client',
      usages: ['client auth'],
      username: 'mallory@example.com',
      groups: ['system:authenticated'],
    },
    status: { conditions: [{ type, status: 'True', reason: 'KubectlApprove', message: 'This CSR was approved by kubectl certificate approve.' }] },
  };
}
