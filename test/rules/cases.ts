/**
 * One case per event: the rule it is about, whether it must fire for it, and
 * the exact set of rules that fire (rule_matching `all`). `overrides` names an
 * extra rules file loaded after rules/ (see OVERRIDES).
 */
import {
  ADMIN, ANONYMOUS, DANA, bindingObject, configMapObject, createPod, csrApproval, kindOf, node, request, roleObject, sa, serviceObject,
  type AuditEvent,
} from './events';

export const OVERRIDES = {
  /** Turns on the allowlist rules that are off by default. */
  allowlists: `
- macro: kestrel_enforce_allowed_nodes
  condition: (kestrel_always_true)
- list: kestrel_allowed_nodes
  items: [node-1]
  append: true
- macro: kestrel_enforce_allowed_users
  condition: (kestrel_always_true)
- macro: kestrel_enforce_allowed_images
  condition: (kestrel_always_true)
- macro: kestrel_enforce_allowed_namespaces
  condition: (kestrel_always_true)
`,
  /** Turns on the all-events rule by overriding its one macro. */
  allEvents: `
- macro: kestrel_all_events
  condition: (kestrel_always_true)
`,
};

export type OverrideName = keyof typeof OVERRIDES;

export interface Case {
  name: string;
  rule: string;
  positive: boolean;
  expect: string[];
  event: AuditEvent;
  overrides?: OverrideName;
}

const cases: Case[] = [];
const pos = (rule: string, name: string, event: AuditEvent, expect: string[], overrides?: OverrideName) =>
  cases.push({ rule, positive: true, name, event, expect, overrides });
const neg = (rule: string, name: string, event: AuditEvent, expect: string[], overrides?: OverrideName) =>
  cases.push({ rule, positive: false, name, event, expect, overrides });

const BUSYBOX = 'docker.io/library/busybox:1.36';
const NGINX = 'docker.io/library/nginx:1.27';

// --- Unauthenticated request allowed -------------------------------------------------
{
  const R = 'Unauthenticated request allowed';
  const U = 'Request by user outside allowed set';
  pos(R, 'anonymous reads configmaps and is allowed',
    request({ verb: 'list', resource: 'configmaps', namespace: 'default', user: ANONYMOUS, userAgent: 'curl/8.5.0', sourceIP: '203.0.113.50' }), [R, U]);
  neg(R, 'anonymous health check', request({ verb: 'get', uri: '/healthz', user: ANONYMOUS, userAgent: 'kube-probe/1.31' }), []);
  neg(R, 'anonymous readyz with query', request({ verb: 'get', uri: '/readyz?verbose', user: ANONYMOUS }), []);
  neg(R, 'anonymous request forbidden', request({ verb: 'list', resource: 'secrets', user: ANONYMOUS, code: 403, sourceIP: '203.0.113.50' }), [U]);
}

// --- Cluster-admin granted through binding -------------------------------------------------
{
  const R = 'Cluster-admin granted through binding';
  pos(R, 'ClusterRoleBinding to cluster-admin', request({
    verb: 'create', resource: 'clusterrolebindings', name: 'ci-bot-admin',
    requestObject: bindingObject('clusterrolebindings', 'ci-bot-admin', undefined, 'cluster-admin', [{ kind: 'ServiceAccount', name: 'ci-bot', namespace: 'ci' }]),
  }), [R, 'ClusterRoleBinding created']);
  pos(R, 'RoleBinding to cluster-admin in a namespace', request({
    verb: 'create', resource: 'rolebindings', namespace: 'shop', name: 'mallory-admin',
    requestObject: bindingObject('rolebindings', 'mallory-admin', 'shop', 'cluster-admin', [{ kind: 'User', name: 'mallory@example.com', apiGroup: 'rbac.authorization.k8s.io' }]),
  }), [R, 'RoleBinding created']);
  neg(R, 'ClusterRoleBinding to view', request({
    verb: 'create', resource: 'clusterrolebindings', name: 'ci-bot-view',
    requestObject: bindingObject('clusterrolebindings', 'ci-bot-view', undefined, 'view', [{ kind: 'ServiceAccount', name: 'ci-bot', namespace: 'ci' }]),
  }), ['ClusterRoleBinding created']);
  neg(R, 'API server bootstraps the cluster-admin binding', request({
    verb: 'create', resource: 'clusterrolebindings', name: 'cluster-admin', user: { username: 'system:apiserver', groups: ['system:masters'] },
    requestObject: bindingObject('clusterrolebindings', 'cluster-admin', undefined, 'cluster-admin', [{ kind: 'Group', name: 'system:masters', apiGroup: 'rbac.authorization.k8s.io' }]),
  }), ['ClusterRoleBinding created']);
}

// --- Pods ------------------------------------------------------------------------------------
{
  const R = 'Privileged pod created';
  pos(R, 'privileged container', createPod('debug-node', 'shop', { containers: [{ image: BUSYBOX, securityContext: { privileged: true } }] }), [R]);
  pos(R, 'privileged init container next to an allowed image', createPod('calico-node-x', 'shop', {
    initContainers: [{ image: BUSYBOX, securityContext: { privileged: true } }],
    containers: [{ image: 'quay.io/calico/node:v3.28.0', securityContext: { privileged: true } }],
  }), [R]);
  neg(R, 'privileged: false', createPod('web', 'shop', { containers: [{ image: NGINX, securityContext: { privileged: false } }] }), []);
  neg(R, 'privileged node agent image', createPod('calico-node-abcde', 'calico-system', {
    containers: [{ image: 'quay.io/calico/node:v3.28.0', securityContext: { privileged: true } }],
  }, { user: sa('kube-system', 'daemon-set-controller') }), []);
  neg(R, 'privileged pod rejected by admission', createPod('debug-node', 'shop', { containers: [{ image: BUSYBOX, securityContext: { privileged: true } }] }, { code: 403 }), []);
}
{
  const R = 'Pod mounts sensitive host path';
  pos(R, 'docker socket', createPod('builder', 'ci', { containers: [{ image: 'docker.io/library/docker:27' }], hostPaths: ['/var/run/docker.sock'] }), [R]);
  pos(R, 'below /proc', createPod('tuner', 'shop', { containers: [{ image: BUSYBOX }], hostPaths: ['/var/log', '/proc/sys/kernel'] }), [R]);
  pos(R, 'kubelet PKI', createPod('grabber', 'shop', { containers: [{ image: BUSYBOX }], hostPaths: ['/var/lib/kubelet/pki'] }), [R]);
  pos(R, 'host root', createPod('rootfs', 'shop', { containers: [{ image: BUSYBOX }], hostPaths: ['/'] }), [R]);
  neg(R, 'node logs only', createPod('log-agent', 'logging', { containers: [{ image: 'cr.fluentbit.io/fluent/fluent-bit:3.1' }], hostPaths: ['/var/log'] }), []);
  neg(R, 'a path that only starts like /etc', createPod('backup', 'shop', { containers: [{ image: BUSYBOX }], hostPaths: ['/etc-backup'] }), []);
}
{
  const R = 'Pod adds dangerous capabilities';
  pos(R, 'NET_ADMIN', createPod('vpn', 'shop', { containers: [{ image: BUSYBOX, securityContext: { capabilities: { add: ['NET_ADMIN', 'SYS_TIME'] } } }] }), [R]);
  pos(R, 'CAP_SYS_ADMIN in an init container', createPod('setup', 'shop', {
    initContainers: [{ image: BUSYBOX, securityContext: { capabilities: { add: ['CAP_SYS_ADMIN'] } } }],
    containers: [{ image: NGINX }],
  }), [R]);
  neg(R, 'NET_BIND_SERVICE only', createPod('web', 'shop', { containers: [{ image: NGINX, securityContext: { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } } }] }), []);
  neg(R, 'drops ALL', createPod('web', 'shop', { containers: [{ image: NGINX, securityContext: { capabilities: { drop: ['ALL'] } } }] }), []);
}
{
  const R = 'Pod shares host PID namespace';
  pos(R, 'hostPID', createPod('pidpeek', 'shop', { hostPID: true, containers: [{ image: BUSYBOX }] }), [R]);
  neg(R, 'hostPID false', createPod('web', 'shop', { hostPID: false, containers: [{ image: NGINX }] }), []);
}
{
  const R = 'Pod shares host IPC namespace';
  pos(R, 'hostIPC', createPod('ipc', 'shop', { hostIPC: true, containers: [{ image: BUSYBOX }] }), [R]);
  neg(R, 'hostIPC false', createPod('web', 'shop', { hostIPC: false, containers: [{ image: NGINX }] }), []);
}
{
  const R = 'Pod uses host network';
  pos(R, 'hostNetwork', createPod('sniffer', 'shop', { hostNetwork: true, containers: [{ image: BUSYBOX }] }), [R]);
  neg(R, 'kube-proxy on the host network', createPod('kube-proxy-x7k2p', 'kube-system', {
    hostNetwork: true, containers: [{ image: 'registry.k8s.io/kube-proxy:v1.31.2' }],
  }, { user: sa('kube-system', 'daemon-set-controller') }), []);
}
{
  const R = 'Pod image outside allowed set';
  pos(R, 'image not allowed (allowlists enabled)', createPod('web', 'shop', { containers: [{ image: NGINX }] }, { user: ADMIN }), [R], 'allowlists');
  pos(R, 'init container image not allowed (allowlists enabled)', createPod('web', 'shop', {
    initContainers: [{ image: BUSYBOX }], containers: [{ image: 'registry.k8s.io/pause:3.10' }],
  }, { user: ADMIN }), [R], 'allowlists');
  neg(R, 'allowed image (allowlists enabled)', createPod('pause', 'shop', { containers: [{ image: 'registry.k8s.io/pause:3.10' }] }, { user: ADMIN }), [], 'allowlists');
  neg(R, 'off by default', createPod('web', 'shop', { containers: [{ image: NGINX }] }), []);
}

// --- System namespaces -----------------------------------------------------------------------------
{
  const R = 'Workload created in system namespace';
  pos(R, 'user creates a deployment in kube-system', request({ verb: 'create', resource: 'deployments', namespace: 'kube-system', name: 'metrics-helper' }), [R, 'Deployment created']);
  pos(R, 'user creates a pod in kube-public', createPod('shell', 'kube-public', { containers: [{ image: BUSYBOX }] }), [R]);
  neg(R, 'replicaset controller creates a kube-system pod', createPod('coredns-7db6d8ff4d-2xk9q', 'kube-system', {
    containers: [{ image: 'registry.k8s.io/coredns/coredns:v1.11.1' }],
  }, { user: sa('kube-system', 'replicaset-controller') }), []);
  neg(R, 'deployment in an application namespace', request({ verb: 'create', resource: 'deployments', namespace: 'shop', name: 'cart' }), ['Deployment created']);
}
{
  const R = 'Service account created in system namespace';
  pos(R, 'user creates a service account in kube-system', request({ verb: 'create', resource: 'serviceaccounts', namespace: 'kube-system', name: 'backup' }), [R, 'ServiceAccount created']);
  neg(R, 'controller manager creates its service account', request({
    verb: 'create', resource: 'serviceaccounts', namespace: 'kube-system', name: 'job-controller', user: { username: 'system:kube-controller-manager', groups: ['system:authenticated'] },
  }), ['ServiceAccount created']);
}
{
  const R = 'System RBAC object modified or deleted';
  pos(R, 'system ClusterRole widened', request({
    verb: 'patch', resource: 'clusterroles', name: 'system:public-info-viewer',
    requestObject: { rules: [{ nonResourceURLs: ['/healthz', '/version', '/api/*'], verbs: ['get'] }] },
  }), [R]);
  pos(R, 'system ClusterRoleBinding deleted', request({ verb: 'delete', resource: 'clusterrolebindings', name: 'system:basic-user' }), [R, 'ClusterRoleBinding deleted']);
  neg(R, 'API server reconciles a system ClusterRole', request({
    verb: 'update', resource: 'clusterroles', name: 'system:discovery', user: { username: 'system:apiserver', groups: ['system:masters'] },
    requestObject: roleObject('clusterroles', 'system:discovery', undefined, [{ nonResourceURLs: ['/api', '/apis'], verbs: ['get'] }]),
  }), []);
  neg(R, 'application ClusterRole updated', request({
    verb: 'update', resource: 'clusterroles', name: 'shop-reader',
    requestObject: roleObject('clusterroles', 'shop-reader', undefined, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]),
  }), []);
}
{
  const R = 'Admission control configuration changed';
  pos(R, 'mutating webhook created', request({
    verb: 'create', resource: 'mutatingwebhookconfigurations', name: 'pod-sidecar',
    requestObject: { kind: 'MutatingWebhookConfiguration', apiVersion: 'admissionregistration.k8s.io/v1', metadata: { name: 'pod-sidecar' }, webhooks: [{ name: 'sidecar.example.com', clientConfig: { url: 'https://198.51.100.9/mutate' }, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }], sideEffects: 'None', admissionReviewVersions: ['v1'] }] },
  }), [R]);
  pos(R, 'validating admission policy deleted', request({ verb: 'delete', resource: 'validatingadmissionpolicies', name: 'deny-privileged' }), [R]);
  neg(R, 'cert-manager injects a CA bundle', request({
    verb: 'patch', resource: 'validatingwebhookconfigurations', name: 'cert-manager-webhook', user: sa('cert-manager', 'cert-manager-cainjector'),
    requestObject: { webhooks: [{ name: 'webhook.cert-manager.io', clientConfig: { caBundle: 'LS0tLS1CRUdJTi==' } }] },
  }), []);
  neg(R, 'webhook configurations read', request({ verb: 'list', resource: 'mutatingwebhookconfigurations' }), []);
}
{
  const R = 'Certificate signing request approved';
  pos(R, 'user approves a client certificate', request({
    verb: 'update', resource: 'certificatesigningrequests', name: 'mallory-csr', subresource: 'approval', requestObject: csrApproval('mallory-csr', 'Approved'),
  }), [R]);
  pos(R, 'approval logged at Metadata level', request({ verb: 'update', resource: 'certificatesigningrequests', name: 'mallory-csr', subresource: 'approval' }), [R]);
  neg(R, 'user denies a request', request({
    verb: 'update', resource: 'certificatesigningrequests', name: 'mallory-csr', subresource: 'approval', requestObject: csrApproval('mallory-csr', 'Denied'),
  }), []);
  neg(R, 'certificate controller approves a kubelet certificate', request({
    verb: 'update', resource: 'certificatesigningrequests', name: 'csr-8x2vd', subresource: 'approval', user: sa('kube-system', 'certificate-controller'),
    requestObject: csrApproval('csr-8x2vd', 'Approved'),
  }), []);
}

// --- Nodes and containers ---------------------------------------------------------------------
{
  const R = 'Kubelet API reached through nodes/proxy';
  const pods = request({ verb: 'get', resource: 'nodes', name: 'node-1', subresource: 'proxy' });
  pods.requestURI = '/api/v1/nodes/node-1/proxy/pods';
  pos(R, 'kubelet pod list through the proxy', pods, [R]);
  const execUri = '/api/v1/nodes/node-1/proxy/exec/shop/cart-7d9f/cart?command=id&input=1&output=1&tty=0';
  const stream = (stage: 'ResponseStarted' | 'ResponseComplete') => {
    const e = request({ verb: 'get', resource: 'nodes', name: 'node-1', subresource: 'proxy', stage, code: 101, userAgent: 'websocat/1.13' });
    e.requestURI = execUri;
    return e;
  };
  pos(R, 'exec through the kubelet, stream opened', stream('ResponseStarted'), [R]);
  neg(R, 'the same stream closing', stream('ResponseComplete'), []);
  const metrics = request({ verb: 'get', resource: 'nodes', name: 'node-1', subresource: 'proxy', user: sa('monitoring', 'prometheus'), userAgent: 'Prometheus/2.53.0' });
  metrics.requestURI = '/api/v1/nodes/node-1/proxy/metrics/cadvisor';
  neg(R, 'prometheus scrapes cadvisor', metrics, []);
  neg(R, 'forbidden', request({ verb: 'get', resource: 'nodes', name: 'node-1', subresource: 'proxy', code: 403 }), []);
}
{
  const R = 'Ephemeral container added to pod';
  pos(R, 'kubectl debug', request({
    verb: 'patch', resource: 'pods', namespace: 'shop', name: 'cart-7d9f', subresource: 'ephemeralcontainers',
    requestObject: { spec: { ephemeralContainers: [{ name: 'debugger-x2k', image: BUSYBOX, stdin: true, tty: true, targetContainerName: 'cart' }] } },
  }), [R]);
  neg(R, 'rejected', request({ verb: 'patch', resource: 'pods', namespace: 'shop', name: 'cart-7d9f', subresource: 'ephemeralcontainers', code: 403 }), []);
}
{
  const R = 'Interactive session in pod';
  const exec = (stage: 'ResponseStarted' | 'ResponseComplete', verb = 'create', subresource = 'exec', code = 101) =>
    request({ verb, resource: 'pods', namespace: 'shop', name: 'cart-7d9f', subresource, stage, code, query: subresource === 'exec' ? 'command=sh&container=cart&stdin=true&stdout=true&tty=true' : 'container=cart&stdin=true&stdout=true&tty=true' });
  pos(R, 'exec stream opened', exec('ResponseStarted'), [R]);
  pos(R, 'attach over websocket', exec('ResponseStarted', 'get', 'attach'), [R]);
  neg(R, 'the exec stream closing (same session)', exec('ResponseComplete'), []);
  neg(R, 'exec forbidden', exec('ResponseComplete', 'create', 'exec', 403), []);
}
{
  const R = 'Port-forward to pod';
  const pf = (stage: 'ResponseStarted' | 'ResponseComplete') =>
    request({ verb: 'create', resource: 'pods', namespace: 'shop', name: 'postgres-0', subresource: 'portforward', stage, code: 101, query: 'ports=5432' });
  pos(R, 'port-forward opened', pf('ResponseStarted'), [R]);
  neg(R, 'port-forward closing', pf('ResponseComplete'), []);
}

// --- RBAC content -------------------------------------------------------------------------------
{
  const R = 'Role grants wildcard access';
  const W = 'Role grants write access';
  pos(R, 'ClusterRole with * verbs and resources', request({
    verb: 'create', resource: 'clusterroles', name: 'god-mode',
    requestObject: roleObject('clusterroles', 'god-mode', undefined, [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]),
  }), [R, 'ClusterRole created']);
  pos(R, 'Role with * resources', request({
    verb: 'update', resource: 'roles', namespace: 'shop', name: 'shop-all',
    requestObject: roleObject('roles', 'shop-all', 'shop', [{ apiGroups: [''], resources: ['*'], verbs: ['get', 'delete'] }]),
  }), [R, W]);
  neg(R, 'read-only Role', request({
    verb: 'create', resource: 'roles', namespace: 'shop', name: 'pod-reader',
    requestObject: roleObject('roles', 'pod-reader', 'shop', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]),
  }), ['Role created']);
}
{
  const R = 'Role grants escalate, bind or impersonate';
  pos(R, 'impersonate users', request({
    verb: 'create', resource: 'clusterroles', name: 'impersonator',
    requestObject: roleObject('clusterroles', 'impersonator', undefined, [{ apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] }]),
  }), [R, 'ClusterRole created']);
  pos(R, 'bind and escalate', request({
    verb: 'patch', resource: 'clusterroles', name: 'rbac-manager',
    requestObject: { rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind', 'escalate'] }] },
  }), [R]);
  neg(R, 'reads roles only', request({
    verb: 'create', resource: 'clusterroles', name: 'rbac-viewer',
    requestObject: roleObject('clusterroles', 'rbac-viewer', undefined, [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles', 'bindings'], verbs: ['get', 'list'] }]),
  }), ['ClusterRole created']);
}
{
  const R = 'Role grants pod exec';
  pos(R, 'pods/exec', request({
    verb: 'create', resource: 'roles', namespace: 'shop', name: 'debugger',
    requestObject: roleObject('roles', 'debugger', 'shop', [{ apiGroups: [''], resources: ['pods', 'pods/exec'], verbs: ['get', 'create'] }]),
  }), [R, 'Role grants write access', 'Role created']);
  pos(R, 'nodes/proxy', request({
    verb: 'create', resource: 'clusterroles', name: 'node-proxy',
    requestObject: roleObject('clusterroles', 'node-proxy', undefined, [{ apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] }]),
  }), [R, 'ClusterRole created']);
  neg(R, 'pods/log', request({
    verb: 'create', resource: 'roles', namespace: 'shop', name: 'log-reader',
    requestObject: roleObject('roles', 'log-reader', 'shop', [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get'] }]),
  }), ['Role created']);
}
{
  const R = 'Role grants write access';
  pos(R, 'deployments writer', request({
    verb: 'create', resource: 'roles', namespace: 'shop', name: 'deployer',
    requestObject: roleObject('roles', 'deployer', 'shop', [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'update', 'patch'] }]),
  }), [R, 'Role created']);
  neg(R, 'aggregation controller updates the edit role', request({
    verb: 'update', resource: 'clusterroles', name: 'edit', user: sa('kube-system', 'clusterrole-aggregation-controller'),
    requestObject: roleObject('clusterroles', 'edit', undefined, [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'delete', 'patch', 'update'] }]),
  }), []);
}

// --- Credentials ---------------------------------------------------------------------------------------
{
  const R = 'Service account token requested';
  const token = (user = DANA) => request({
    verb: 'create', resource: 'serviceaccounts', namespace: 'ci', name: 'deployer', subresource: 'token', user,
    requestObject: { kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, spec: { audiences: null, expirationSeconds: 3600, boundObjectRef: null }, status: { token: '', expirationTimestamp: null } },
  });
  pos(R, 'kubectl create token', token(), [R]);
  neg(R, 'kubelet requests a pod token', token(node('node-1')), []);
}
{
  const R = 'Secret read by user';
  pos(R, 'user reads a secret', request({ verb: 'get', resource: 'secrets', namespace: 'shop', name: 'db-credentials' }), [R]);
  pos(R, 'user lists secrets', request({ verb: 'list', resource: 'secrets', namespace: 'shop' }), [R]);
  neg(R, 'ingress controller watches secrets', request({ verb: 'watch', resource: 'secrets', user: sa('ingress-nginx', 'ingress-nginx'), userAgent: 'nginx-ingress-controller/v1.11.2' }), []);
  neg(R, 'read forbidden', request({ verb: 'get', resource: 'secrets', namespace: 'kube-system', name: 'bootstrap-token-abcdef', code: 403 }), []);
}
{
  const R = 'ConfigMap holds credentials';
  pos(R, 'AWS credentials file', request({
    verb: 'create', resource: 'configmaps', namespace: 'shop', name: 'billing-env',
    requestObject: configMapObject('billing-env', 'shop', { 'credentials': '[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' }),
  }), [R, 'ConfigMap created']);
  pos(R, 'bare AWS key id', request({
    verb: 'update', resource: 'configmaps', namespace: 'shop', name: 'uploader',
    requestObject: configMapObject('uploader', 'shop', { 'uploader.ini': 'key=AKIAIOSFODNN7EXAMPLE\nbucket=shop-assets\n' }),
  }), [R]);
  pos(R, 'private key', request({
    verb: 'patch', resource: 'configmaps', namespace: 'shop', name: 'tls-files',
    requestObject: { data: { 'tls.key': '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg...\n-----END EC PRIVATE KEY-----\n' } },
  }), [R]);
  neg(R, 'feature flags', request({
    verb: 'create', resource: 'configmaps', namespace: 'shop', name: 'feature-flags',
    requestObject: configMapObject('feature-flags', 'shop', { 'flags.json': '{"newCheckout":true,"betaSearch":false}' }),
  }), ['ConfigMap created']);
  neg(R, 'CA bundle published by the control plane', request({
    verb: 'create', resource: 'configmaps', namespace: 'shop', name: 'kube-root-ca.crt', user: sa('kube-system', 'root-ca-cert-publisher'),
    requestObject: configMapObject('kube-root-ca.crt', 'shop', { 'ca.crt': '-----BEGIN CERTIFICATE-----\nMIIC/jCCAeagAwIBAgIBADANBgkqhkiG9w0BAQsFADAVMRMw\n-----END CERTIFICATE-----\n' }),
  }), ['ConfigMap created']);
}

// --- Exposure, impersonation, allowlists -----------------------------------------------------------------
{
  const R = 'NodePort service exposed';
  pos(R, 'NodePort created', request({ verb: 'create', resource: 'services', namespace: 'shop', name: 'cart', requestObject: serviceObject('cart', 'shop', 'NodePort') }), [R, 'Service created']);
  neg(R, 'ClusterIP created', request({ verb: 'create', resource: 'services', namespace: 'shop', name: 'cart', requestObject: serviceObject('cart', 'shop', 'ClusterIP') }), ['Service created']);
}
{
  const R = 'Ingress without TLS';
  const ingress = (tls: boolean) => ({
    kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', metadata: { name: 'shop', namespace: 'shop' },
    spec: {
      ingressClassName: 'nginx',
      ...(tls ? { tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }] } : {}),
      rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'cart', port: { number: 80 } } } }] } }],
    },
  });
  pos(R, 'ingress without tls', request({ verb: 'create', resource: 'ingresses', namespace: 'shop', name: 'shop', requestObject: ingress(false) }), [R]);
  neg(R, 'ingress with tls', request({ verb: 'create', resource: 'ingresses', namespace: 'shop', name: 'shop', requestObject: ingress(true) }), []);
  neg(R, 'logged at Metadata level: no body, no verdict', request({ verb: 'create', resource: 'ingresses', namespace: 'shop', name: 'shop' }), []);
}
{
  const R = 'Node registered outside allowed set';
  const register = (name: string, code = 201) => request({
    verb: 'create', resource: 'nodes', name, code, user: node(name), userAgent: 'kubelet/v1.31.2 (linux/amd64) kubernetes/5864a46',
    requestObject: { kind: 'Node', apiVersion: 'v1', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {} },
  });
  pos(R, 'unknown node joins (allowlists enabled)', register('rogue-1'), [R], 'allowlists');
  pos(R, 'unknown node refused (allowlists enabled)', register('rogue-1', 403), [R], 'allowlists');
  neg(R, 'listed node (allowlists enabled)', register('node-1'), [], 'allowlists');
  neg(R, 'off by default', register('rogue-1'), []);
}
{
  const R = 'Request made by impersonation';
  pos(R, 'kubectl --as', request({ verb: 'list', resource: 'pods', namespace: 'shop', impersonatedUser: { username: 'alice@example.com', groups: ['dev'] } }), [R]);
  pos(R, 'impersonation refused', request({ verb: 'get', resource: 'secrets', namespace: 'shop', name: 'db', code: 403, impersonatedUser: { username: 'system:admin' } }), [R]);
  neg(R, 'no impersonation', request({ verb: 'list', resource: 'pods', namespace: 'shop' }), []);
}
{
  const R = 'Namespace outside allowed set created';
  pos(R, 'unlisted namespace (allowlists enabled)', request({ verb: 'create', resource: 'namespaces', name: 'miner', user: ADMIN }), [R, 'Namespace created'], 'allowlists');
  neg(R, 'listed namespace (allowlists enabled)', request({ verb: 'create', resource: 'namespaces', name: 'kube-node-lease', user: { username: 'system:kube-controller-manager' } }), ['Namespace created'], 'allowlists');
  neg(R, 'off by default', request({ verb: 'create', resource: 'namespaces', name: 'miner' }), ['Namespace created']);
}
{
  const R = 'Request by user outside allowed set';
  pos(R, 'unlisted user (allowlists enabled)', request({ verb: 'list', resource: 'pods', namespace: 'shop' }), [R], 'allowlists');
  pos(R, 'anonymous, denied', request({ verb: 'get', resource: 'namespaces', name: 'kube-system', user: ANONYMOUS, code: 403 }), [R]);
  neg(R, 'listed user (allowlists enabled)', request({ verb: 'list', resource: 'pods', namespace: 'shop', user: ADMIN }), [], 'allowlists');
  neg(R, 'service account (allowlists enabled)', request({ verb: 'list', resource: 'pods', namespace: 'shop', user: sa('shop', 'cart') }), [], 'allowlists');
  neg(R, 'unlisted user, allowlists off by default', request({ verb: 'list', resource: 'pods', namespace: 'shop' }), []);
}

// --- Resource tracking --------------------------------------------------------------------------
const TRACKED: [resource: string, display: string, namespace?: string][] = [
  ['deployments', 'Deployment', 'shop'],
  ['daemonsets', 'DaemonSet', 'monitoring'],
  ['services', 'Service', 'shop'],
  ['configmaps', 'ConfigMap', 'shop'],
  ['secrets', 'Secret', 'shop'],
  ['namespaces', 'Namespace'],
  ['serviceaccounts', 'ServiceAccount', 'shop'],
  ['roles', 'Role', 'shop'],
  ['clusterroles', 'ClusterRole'],
  ['rolebindings', 'RoleBinding', 'shop'],
  ['clusterrolebindings', 'ClusterRoleBinding'],
  ['customresourcedefinitions', 'CustomResourceDefinition'],
];
for (const [resource, display, namespace] of TRACKED) {
  const name = resource === 'customresourcedefinitions' ? 'backups.example.com' : `team-a-${kindOf(resource).toLowerCase()}`;
  const created = `${display} created`;
  const deleted = `${display} deleted`;
  pos(created, 'created', request({ verb: 'create', resource, namespace, name }), [created]);
  neg(created, 'already exists (409)', request({ verb: 'create', resource, namespace, name, code: 409 }), []);
  pos(deleted, 'deleted', request({ verb: 'delete', resource, namespace, name }), [deleted]);
  neg(deleted, 'not found (404)', request({ verb: 'delete', resource, namespace, name, code: 404 }), []);
}
{
  pos('Secret deleted', 'deletecollection', request({ verb: 'deletecollection', resource: 'secrets', namespace: 'shop' }), ['Secret deleted']);
  neg('Deployment created', 'request received stage', request({ verb: 'create', resource: 'deployments', namespace: 'shop', name: 'cart', stage: 'RequestReceived' }), []);
  neg('Pod shares host PID namespace', 'request received stage', createPod('pidpeek', 'shop', { hostPID: true, containers: [{ image: BUSYBOX }] }, { stage: 'RequestReceived' }), []);
}

// --- All events --------------------------------------------------------------------------------
{
  const R = 'Audit event';
  pos(R, 'a plain read (macro overridden)', request({ verb: 'get', resource: 'pods', namespace: 'shop', name: 'cart-7d9f', user: sa('kube-system', 'replicaset-controller') }), [R], 'allEvents');
  pos(R, 'a request-received stage (macro overridden)', request({ verb: 'list', resource: 'nodes', stage: 'RequestReceived', user: node('node-1') }), [R], 'allEvents');
  neg(R, 'off by default', request({ verb: 'get', resource: 'pods', namespace: 'shop', name: 'cart-7d9f', user: sa('kube-system', 'replicaset-controller') }), []);
}

export const CASES: readonly Case[] = cases;
