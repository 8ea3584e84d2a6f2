import { catalogFor } from '../../src/fields';
import { imageRepository, uriQueryParam } from '../../src/fields/k8saudit';
import { ex } from './helpers';

const podEvent = {
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'RequestResponse',
  auditID: 'c2a7f9a0-1111-4bbb-8ccc-0123456789ab',
  stage: 'ResponseComplete',
  requestURI:
    '/api/v1/namespaces/web/pods?fieldManager=kubectl-client-side-apply&dryRun=All&x=a+b&y=%2Fetc&flag&dryRun=None',
  verb: 'create',
  user: { username: 'alice@example.com', uid: '42', groups: ['devs', 'system:authenticated'] },
  impersonatedUser: { username: 'bob' },
  sourceIPs: ['10.0.0.7', '10.0.0.8'],
  userAgent: 'kubectl/v1.29.0 (linux/amd64) kubernetes/abc1234',
  objectRef: { resource: 'pods', namespace: 'web', name: 'frontend-0', apiVersion: 'v1' },
  responseStatus: { metadata: {}, code: 201 },
  requestObject: {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name: 'frontend-0', namespace: 'web' },
    spec: {
      hostNetwork: true,
      hostPID: false,
      securityContext: { runAsUser: 1000, fsGroup: 2000, supplementalGroups: [3000, 3001] },
      containers: [
        {
          name: 'app',
          image: 'registry.example.com:5000/team/app:1.4.2',
          command: ['/bin/sh', '-c', 'nc -lp 1337'],
          args: ['--v=2'],
          ports: [{ containerPort: 8080, hostPort: 18080 }, { containerPort: 9090 }],
          securityContext: {
            privileged: true,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsUser: 0,
            runAsGroup: 10,
            procMount: 'Unmasked',
            capabilities: { add: ['NET_ADMIN', 'SYS_TIME'], drop: ['ALL'] },
          },
        },
        { name: 'sidecar', image: 'busybox@sha256:abcd', runAsUser: 5, ports: [{ containerPort: 53, protocol: 'UDP' }] },
      ],
      initContainers: [{ name: 'init', image: 'alpine:3.19', securityContext: { privileged: false, runAsUser: 1 } }],
      volumes: [
        { name: 'host-etc', hostPath: { path: '/etc/kubernetes', type: '' } },
        { name: 'plugin', flexVolume: { driver: 'example/lvm' } },
        { name: 'data', emptyDir: {} },
        { name: 'host-sock', hostPath: { path: '/var/run/docker.sock' } },
      ],
    },
  },
  responseObject: { kind: 'Pod', metadata: { name: 'frontend-0' } },
  requestReceivedTimestamp: '2024-03-05T07:08:09.123456Z',
  stageTimestamp: '2024-03-05T07:08:09.130001Z',
  annotations: {
    'authorization.k8s.io/decision': 'allow',
    'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "devs" of ClusterRole "edit" to Group "devs"',
    'pod-security.kubernetes.io/audit-violations': 'would violate PodSecurity "restricted:latest": privileged',
    cluster_name: 'prod-eu-1',
  },
};

describe('ka.* top-level fields', () => {
  const cases: Array<[string, string | undefined, unknown[]]> = [
    ['ka.auditid', undefined, ['c2a7f9a0-1111-4bbb-8ccc-0123456789ab']],
    ['ka.stage', undefined, ['ResponseComplete']],
    ['ka.auth.decision', undefined, ['allow']],
    ['ka.auth.reason', undefined, ['RBAC: allowed by ClusterRoleBinding "devs" of ClusterRole "edit" to Group "devs"']],
    ['ka.auth.openshift.decision', undefined, []],
    ['ka.auth.openshift.username', undefined, []],
    ['ka.validations.admission.policy.failure', undefined, []],
    ['ka.security.pod.violations', undefined, ['would violate PodSecurity "restricted:latest": privileged']],
    ['ka.user.name', undefined, ['alice@example.com']],
    ['ka.user.groups', undefined, ['devs', 'system:authenticated']],
    ['ka.impuser.name', undefined, ['bob']],
    ['ka.verb', undefined, ['create']],
    ['ka.uri', undefined, [podEvent.requestURI]],
    ['ka.uri.param', 'fieldManager', ['kubectl-client-side-apply']],
    ['ka.uri.param', 'dryRun', ['All']],
    ['ka.uri.param', 'x', ['a b']],
    ['ka.uri.param', 'y', ['/etc']],
    ['ka.uri.param', 'flag', ['']],
    ['ka.uri.param', 'missing', []],
    ['ka.target.name', undefined, ['frontend-0']],
    ['ka.target.namespace', undefined, ['web']],
    ['ka.target.resource', undefined, ['pods']],
    ['ka.target.subresource', undefined, []],
    ['ka.target.pod.name', undefined, ['frontend-0']],
    ['ka.req.binding.subjects', undefined, []],
    ['ka.req.binding.role', undefined, []],
    ['ka.req.binding.subject.has_name', 'cluster-admin', ['true']],
    ['ka.req.configmap.name', undefined, ['frontend-0']],
    ['ka.req.configmap.obj', undefined, []],
    ['ka.resp.name', undefined, ['frontend-0']],
    ['ka.response.code', undefined, ['201']],
    ['ka.response.reason', undefined, []],
    ['ka.useragent', undefined, ['kubectl/v1.29.0 (linux/amd64) kubernetes/abc1234']],
    ['ka.sourceips', undefined, []],
    ['ka.cluster.name', undefined, ['prod-eu-1']],
  ];
  test.each(cases)('%s[%s]', (name, arg, expected) => {
    expect(ex(name, podEvent, arg)).toEqual(expected);
  });
});

describe('ka.req.pod.* on a pod creation', () => {
  const cases: Array<[string, string | undefined, unknown[]]> = [
    ['ka.req.pod.containers.name', undefined, ['app', 'sidecar']],
    ['ka.req.pod.containers.name', '1', ['sidecar']],
    ['ka.req.pod.containers.image', undefined, ['registry.example.com:5000/team/app:1.4.2', 'busybox@sha256:abcd']],
    ['ka.req.pod.containers.image', '1', ['busybox@sha256:abcd']],
    ['ka.req.pod.containers.image', '2', []],
    ['ka.req.container.image', undefined, ['registry.example.com:5000/team/app:1.4.2']],
    ['ka.req.pod.containers.image.repository', undefined, ['registry.example.com', 'busybox']],
    ['ka.req.container.image.repository', undefined, ['registry.example.com']],
    ['ka.req.pod.containers.command', undefined, ['["/bin/sh","-c","nc -lp 1337"]']],
    ['ka.req.pod.containers.args', undefined, ['["--v=2"]']],
    ['ka.req.pod.containers.args', '1', []],
    ['ka.req.pod.host_ipc', undefined, []],
    ['ka.req.pod.host_network', undefined, ['true']],
    ['ka.req.container.host_network', undefined, ['true']],
    ['ka.req.pod.host_pid', undefined, ['false']],
    ['ka.req.pod.containers.host_port', undefined, ['18080', '9090', '53']],
    ['ka.req.pod.containers.host_port', '1', ['53']],
    ['ka.req.pod.containers.privileged', undefined, ['true']],
    ['ka.req.pod.containers.privileged', '0', ['true']],
    ['ka.req.pod.containers.privileged', '1', []],
    ['ka.req.pod.containers.privileged', '7', []],
    ['ka.req.container.privileged', undefined, ['true']],
    ['ka.req.pod.containers.allow_privilege_escalation', undefined, ['false']],
    ['ka.req.pod.containers.read_only_fs', undefined, ['true']],
    ['ka.req.pod.run_as_user', undefined, ['1000']],
    ['ka.req.pod.containers.run_as_user', undefined, ['0']],
    ['ka.req.pod.containers.eff_run_as_user', undefined, ['0', '5']],
    ['ka.req.pod.containers.eff_run_as_user', '1', ['5']],
    ['ka.req.pod.run_as_group', undefined, []],
    ['ka.req.pod.containers.run_as_group', undefined, ['10']],
    ['ka.req.pod.containers.eff_run_as_group', undefined, ['0', '0']],
    ['ka.req.pod.containers.proc_mount', undefined, ['Unmasked']],
    ['ka.req.pod.fs_group', undefined, ['2000']],
    ['ka.req.pod.supplemental_groups', undefined, ['3000', '3001']],
    ['ka.req.pod.containers.add_capabilities', undefined, ['["NET_ADMIN","SYS_TIME"]']],
    ['ka.req.service.type', undefined, []],
    ['ka.req.service.ports', undefined, []],
    ['ka.req.role.rules', undefined, []],
    ['ka.req.role.rules.verbs', undefined, []],
    ['ka.req.pod.volumes.hostpath', undefined, ['/etc/kubernetes', '/var/run/docker.sock']],
    ['ka.req.pod.volumes.hostpath', '3', ['/var/run/docker.sock']],
    ['ka.req.pod.volumes.hostpath', '1', []],
    ['ka.req.volume.hostpath', '/etc*', ['true']],
    ['ka.req.volume.hostpath', '/etc/kubernetes', ['true']],
    ['ka.req.volume.hostpath', '/etc', ['false']],
    // only the first volume is considered (the plugin applies index 0)
    ['ka.req.volume.hostpath', '/var/run/docker.sock', ['false']],
    ['ka.req.pod.volumes.flexvolume_driver', undefined, ['example/lvm']],
    ['ka.req.pod.volumes.volume_type', undefined, ['hostPath', 'flexVolume', 'emptyDir', 'hostPath']],
    ['ka.req.pod.volumes.volume_type', '2', ['emptyDir']],
    ['ka.req.pod.initContainers.name', undefined, ['init']],
    ['ka.req.pod.initContainers.image', undefined, ['alpine:3.19']],
    ['ka.req.pod.initContainers.image.repository', undefined, ['alpine']],
    ['ka.req.pod.initContainers.command', undefined, []],
    ['ka.req.pod.initContainers.privileged', undefined, ['false']],
    ['ka.req.pod.initContainers.run_as_user', undefined, ['1']],
    ['ka.req.pod.initContainers.eff_run_as_user', undefined, ['0']],
    ['ka.req.pod.initContainers.host_port', undefined, []],
    ['ka.req.pod.ephemeralContainers.name', undefined, []],
    ['ka.req.pod.ephemeralContainers.privileged', undefined, []],
    ['ka.req.pod.ephemeralContainers.eff_run_as_user', undefined, []],
  ];
  test.each(cases)('%s[%s]', (name, arg, expected) => {
    expect(ex(name, podEvent, arg)).toEqual(expected);
  });
});

describe('securityContext and object presence', () => {
  const noSecCtx = {
    auditID: 'a1',
    requestObject: { spec: { containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'redis:7' }] } },
  };
  test('missing securityContext: list fields absent, deprecated privileged is "false"', () => {
    expect(ex('ka.req.pod.containers.privileged', noSecCtx)).toEqual([]);
    expect(ex('ka.req.pod.containers.allow_privilege_escalation', noSecCtx)).toEqual([]);
    expect(ex('ka.req.container.privileged', noSecCtx)).toEqual(['false']);
    expect(ex('ka.req.pod.containers.eff_run_as_user', noSecCtx)).toEqual(['0', '0']);
    expect(ex('ka.req.pod.containers.image.repository', noSecCtx)).toEqual(['nginx', 'redis']);
  });
  test('privileged must be JSON true for the deprecated field', () => {
    const ev = { auditID: 'a', requestObject: { spec: { containers: [{ securityContext: { privileged: 'true' } }] } } };
    expect(ex('ka.req.container.privileged', ev)).toEqual(['false']);
    expect(ex('ka.req.pod.containers.privileged', ev)).toEqual(['true']);
  });
  test('no requestObject: every request field is absent', () => {
    const ev = { auditID: 'a', verb: 'get' };
    expect(ex('ka.req.container.privileged', ev)).toEqual([]);
    expect(ex('ka.req.pod.containers.image', ev)).toEqual([]);
    expect(ex('ka.req.container.image', ev)).toEqual([]);
    expect(ex('ka.req.volume.hostpath', ev, '/etc')).toEqual([]);
    expect(ex('ka.req.pod.containers.eff_run_as_user', ev)).toEqual([]);
  });
  test('one container without image makes images absent', () => {
    const ev = { auditID: 'a', requestObject: { spec: { containers: [{ image: 'nginx' }, { name: 'x' }] } } };
    expect(ex('ka.req.pod.containers.image', ev)).toEqual([]);
    expect(ex('ka.req.pod.containers.image', ev, '0')).toEqual(['nginx']);
    expect(ex('ka.req.container.image', ev)).toEqual(['nginx']);
  });
  test('empty containers array', () => {
    const ev = { auditID: 'a', requestObject: { spec: { containers: [] } } };
    expect(ex('ka.req.container.privileged', ev)).toEqual(['false']);
    expect(ex('ka.req.pod.containers.image', ev)).toEqual([]);
    expect(ex('ka.req.container.image', ev)).toEqual([]);
  });
  test('first volume without hostPath: deprecated hostpath is absent', () => {
    const ev = {
      auditID: 'a',
      requestObject: { spec: { volumes: [{ name: 'x', emptyDir: {} }, { name: 'y', hostPath: { path: '/etc' } }] } },
    };
    expect(ex('ka.req.volume.hostpath', ev, '/etc')).toEqual([]);
    expect(ex('ka.req.pod.volumes.hostpath', ev)).toEqual(['/etc']);
  });
  test('eff_run_as_* use spec.runAsUser as the pod default', () => {
    const ev = { auditID: 'a', requestObject: { spec: { runAsUser: 33, runAsGroup: 44, containers: [{}, { runAsGroup: 7 }] } } };
    expect(ex('ka.req.pod.containers.eff_run_as_user', ev)).toEqual(['33', '33']);
    expect(ex('ka.req.pod.containers.eff_run_as_group', ev)).toEqual(['44', '7']);
  });
  test('null and non-string values render as JSON text', () => {
    const ev = { auditID: 'a', verb: null, objectRef: { name: 12, namespace: { a: [1, true] } }, user: { groups: 'x' } };
    expect(ex('ka.verb', ev)).toEqual(['null']);
    expect(ex('ka.target.name', ev)).toEqual(['12']);
    expect(ex('ka.target.namespace', ev)).toEqual(['{"a":[1,true]}']);
    // a list field needs an array
    expect(ex('ka.user.groups', ev)).toEqual([]);
  });
  test('ka.target.pod.name only for pods', () => {
    expect(ex('ka.target.pod.name', { auditID: 'a', objectRef: { resource: 'secrets', name: 's' } })).toEqual([]);
  });
});

describe('documents that are not audit events', () => {
  const notAudit = { kind: 'Event', verb: 'create', user: { username: 'x' } };
  test('no auditID: every ka.* field is absent', () => {
    const cat = catalogFor('k8s_audit')!;
    for (const def of cat.all().filter((d) => d.name.startsWith('ka.'))) {
      const arg = def.arg?.required ? 'x' : undefined;
      expect([def.name, def.extract({ obj: notAudit, source: 'k8s_audit' }, arg)]).toEqual([def.name, []]);
    }
  });
  test('non-object documents', () => {
    expect(ex('ka.verb', null)).toEqual([]);
    expect(ex('ka.verb', [1, 2])).toEqual([]);
    expect(ex('ka.verb', 'text')).toEqual([]);
  });
});

describe('RBAC objects', () => {
  const role = {
    auditID: 'r1',
    objectRef: { resource: 'clusterroles', name: 'ops' },
    requestObject: {
      kind: 'ClusterRole',
      metadata: { name: 'ops' },
      rules: [
        { apiGroups: [''], resources: ['pods', 'pods/exec'], verbs: ['get', 'create'] },
        { nonResourceURLs: ['/healthz'], verbs: ['*'] },
      ],
    },
  };
  test.each<[string, string | undefined, unknown[]]>([
    ['ka.req.role.rules', undefined, ['{"apiGroups":[""],"resources":["pods","pods/exec"],"verbs":["get","create"]}', '{"nonResourceURLs":["/healthz"],"verbs":["*"]}']],
    ['ka.req.role.rules.verbs', undefined, ['get', 'create', '*']],
    ['ka.req.role.rules.verbs', '1', ['*']],
    ['ka.req.role.rules.verbs', '2', []],
    ['ka.req.role.rules.resources', undefined, ['pods', 'pods/exec']],
    ['ka.req.role.rules.apiGroups', undefined, ['']],
    ['ka.req.role.rules.nonResourceURLs', undefined, ['/healthz']],
    ['ka.req.role.rules.nonResourceURLs', '0', []],
  ])('role %s[%s]', (name, arg, expected) => {
    expect(ex(name, role, arg)).toEqual(expected);
  });

  const binding = {
    auditID: 'b1',
    requestObject: {
      kind: 'ClusterRoleBinding',
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [
        { kind: 'User', name: 'mallory', apiGroup: 'rbac.authorization.k8s.io' },
        { kind: 'ServiceAccount', name: 'builder', namespace: 'ci' },
        { kind: 'Group', name: 'ops' },
        { kind: 'ServiceAccount', name: 'deployer', namespace: 'cd' },
      ],
    },
  };
  test.each<[string, unknown[]]>([
    [
      'ka.req.binding.subjects',
      [
        '{"kind":"User","name":"mallory","apiGroup":"rbac.authorization.k8s.io"}',
        '{"kind":"ServiceAccount","name":"builder","namespace":"ci"}',
        '{"kind":"Group","name":"ops"}',
        '{"kind":"ServiceAccount","name":"deployer","namespace":"cd"}',
      ],
    ],
    ['ka.req.binding.subjects.user_names', ['mallory']],
    ['ka.req.binding.subjects.serviceaccount_names', ['builder', 'deployer']],
    ['ka.req.binding.subjects.serviceaccount_ns_names', ['ci:builder', 'cd:deployer']],
    ['ka.req.binding.subjects.group_names', ['ops']],
    ['ka.req.binding.role', ['cluster-admin']],
  ])('binding %s', (name, expected) => {
    expect(ex(name, binding)).toEqual(expected);
  });
});

describe('services and configmaps', () => {
  const svc = {
    auditID: 's1',
    requestObject: { kind: 'Service', spec: { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }] } },
  };
  test('service fields', () => {
    expect(ex('ka.req.service.type', svc)).toEqual(['NodePort']);
    // the whole ports array is one value (the plugin never fans out over it)
    expect(ex('ka.req.service.ports', svc)).toEqual(['[{"port":80,"targetPort":8080,"nodePort":30080,"protocol":"TCP"}]']);
    expect(ex('ka.req.service.ports', svc, '0')).toEqual(['[{"port":80,"targetPort":8080,"nodePort":30080,"protocol":"TCP"}]']);
  });
  const cm = {
    auditID: 'c1',
    objectRef: { resource: 'configmaps', name: 'app-config', namespace: 'web' },
    requestObject: { kind: 'ConfigMap', data: { 'db.password': 's3cr&t', mode: 'a<b', 'multi': 'x=1\ny="2"\n' } },
  };
  test('configmap object as compact JSON', () => {
    expect(ex('ka.req.configmap.name', cm)).toEqual(['app-config']);
    expect(ex('ka.req.configmap.obj', cm)).toEqual(['{"db.password":"s3cr&t","mode":"a<b","multi":"x=1\\ny=\\"2\\"\\n"}']);
  });
  test('events written by Go encoding/json keep their HTML escapes', () => {
    const raw = JSON.stringify(cm).replace('&', '\\u0026').replace('<', '\\u003c');
    expect(ex('ka.req.configmap.obj', JSON.parse(raw), undefined, 'k8s_audit', { raw })).toEqual([
      '{"db.password":"s3cr\\u0026t","mode":"a\\u003cb","multi":"x=1\\ny=\\"2\\"\\n"}',
    ]);
  });
});

describe('ka.uri.param parsing (Go net/url)', () => {
  test.each<[string, string, string | undefined]>([
    ['/api/v1/namespaces/default/pods/p/exec?command=ls&command=-la&container=c', 'command', 'ls'],
    ['/api/v1/namespaces/default/pods/p/exec?command=sh&command=-c&command=echo+hi', 'container', undefined],
    ['/x?a=%zz&command=ls', 'command', undefined],
    ['/x?a=1;b=2&command=ls', 'command', undefined],
    ['/x?command=a%20b%2Bc', 'command', 'a b+c'],
    ['/x?command=ls#frag', 'command', 'ls'],
    ['/x?=v&k', '', 'v'],
    ['/x', 'command', undefined],
    ['/x?a=%C3%A9', 'a', '\u00e9'],
    ['/bad%zz?command=ls', 'command', undefined],
  ])('%s [%s]', (uri, key, expected) => {
    expect(uriQueryParam(uri, key)).toBe(expected);
  });
  test('through the field', () => {
    const ev = { auditID: 'e', requestURI: '/api/v1/namespaces/default/pods/p/exec?command=sh&command=-c&stdin=true' };
    expect(ex('ka.uri.param', ev, 'command')).toEqual(['sh']);
    expect(ex('ka.uri.param', ev, 'stdin')).toEqual(['true']);
    expect(ex('ka.uri.param', { auditID: 'e' }, 'command')).toEqual([]);
  });
});

describe('image repository', () => {
  test.each([
    ['nginx', 'nginx'],
    ['nginx:1.25', 'nginx'],
    ['docker.io/library/nginx:1.25@sha256:abc', 'docker.io/library/nginx'],
    ['falcosecurity/falco@sha256:abc', 'falcosecurity/falco'],
    ['localhost:5000/app:v1', 'localhost'],
  ])('%s -> %s', (img, repo) => {
    expect(imageRepository(img)).toBe(repo);
  });
});

describe('argument checks', () => {
  const cat = catalogFor('k8s_audit')!;
  test('index arguments', () => {
    const d = cat.get('ka.req.pod.containers.image')!;
    expect(d.arg).toEqual({ required: false, kind: 'index' });
    expect(d.checkArg!('0')).toBeUndefined();
    expect(d.checkArg!('12')).toBeUndefined();
    expect(d.checkArg!('01')).toMatch(/starting with 0/);
    expect(d.checkArg!('')).toMatch(/starting with 0/);
    expect(d.checkArg!('a')).toMatch(/only by digits/);
    expect(d.checkArg!('-1')).toMatch(/only by digits/);
    expect(d.checkArg!('99999999999999999999')).toMatch(/64 bit/);
  });
  test('key arguments', () => {
    expect(cat.get('ka.uri.param')!.arg).toEqual({ required: true, kind: 'key' });
    expect(cat.get('ka.req.binding.subject.has_name')!.arg).toEqual({ required: true, kind: 'key' });
    const hp = cat.get('ka.req.volume.hostpath')!;
    expect(hp.arg).toEqual({ required: true, kind: 'key' });
    expect(hp.checkArg!('')).toMatch(/non-empty/);
    expect(hp.checkArg!('/etc')).toBeUndefined();
  });
  test('fields without arguments', () => {
    expect(cat.get('ka.user.groups')!.arg).toBeUndefined();
    expect(cat.get('ka.req.role.rules')!.arg).toBeUndefined();
    expect(cat.get('ka.verb')!.arg).toBeUndefined();
  });
});
