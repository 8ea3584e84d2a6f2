import { catalogFor, renderForOutput } from '../../src/fields';
import { describeWithConformance } from '../support/conformance-data';
import { ex, readTrace, view } from './helpers';

describeWithConformance('falco-legacy traces', () => {
  test('create_nginx_pod_privileged', () => {
    const [e] = readTrace('create_nginx_pod_privileged.json');
    expect(ex('ka.auditid', e)).toEqual(['a362d22b-db3c-4590-9505-23782f12925f']);
    expect(ex('ka.user.name', e)).toEqual(['system:serviceaccount:kube-system:replicaset-controller']);
    expect(ex('ka.target.resource', e)).toEqual(['pods']);
    expect(ex('ka.target.name', e)).toEqual([]);
    expect(ex('ka.target.namespace', e)).toEqual(['default']);
    expect(ex('ka.resp.name', e)).toEqual(['nginx-deployment-5cdcc99dbf-rgw6z']);
    expect(ex('ka.req.pod.containers.privileged', e)).toEqual(['true']);
    expect(ex('ka.req.container.privileged', e)).toEqual(['true']);
    expect(ex('ka.req.pod.containers.image', e)).toEqual(['nginx']);
    expect(ex('ka.req.container.image.repository', e)).toEqual(['nginx']);
    expect(ex('ka.req.pod.host_network', e)).toEqual([]);
    expect(ex('ka.response.code', e)).toEqual(['201']);
    expect(ex('ka.sourceips', e)).toEqual([]);
    expect(ex('jevt.value', e, '/sourceIPs/0')).toEqual(['::1']);
    expect(ex('evt.time', e)).toEqual(['14:09:12.581541000']);
    expect(ex('evt.rawtime', e)).toEqual([1540476552581541000n]);
    expect(ex('jevt.rawtime', e)).toEqual(['1540476552581541000']);
  });

  test('create_nginx_pod_unprivileged: no securityContext', () => {
    const [e] = readTrace('create_nginx_pod_unprivileged.json');
    expect(ex('ka.req.pod.containers.privileged', e)).toEqual([]);
    expect(ex('ka.req.container.privileged', e)).toEqual(['false']);
  });

  test('privileged second container', () => {
    const [a] = readTrace('create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json');
    expect(ex('ka.req.pod.containers.privileged', a)).toEqual(['true']);
    expect(ex('ka.req.container.privileged', a)).toEqual(['true']);
    expect(ex('ka.req.pod.containers.image.repository', a)).toEqual(['nginx', 'mysql']);
    const [b] = readTrace('create_nginx_pod_privileged_2nd_container.json');
    expect(ex('ka.req.pod.containers.privileged', b)).toEqual(['false', 'true']);
    expect(ex('ka.req.pod.containers.privileged', b, '1')).toEqual(['true']);
  });

  test('create_nginx_pod_hostnetwork', () => {
    const [e] = readTrace('create_nginx_pod_hostnetwork.json');
    expect(ex('ka.req.pod.host_network', e)).toEqual(['true']);
    expect(ex('ka.req.container.host_network', e)).toEqual(['true']);
  });

  test('create_nginx_pod_sensitive_mount', () => {
    const [e] = readTrace('create_nginx_pod_sensitive_mount.json');
    expect(ex('ka.req.pod.volumes.hostpath', e)).toEqual(['/etc']);
    expect(ex('ka.req.volume.hostpath', e, '/etc')).toEqual(['true']);
    expect(ex('ka.req.volume.hostpath', e, '/proc*')).toEqual(['false']);
    expect(ex('jevt.value', e, '/requestObject/spec/volumes')).toEqual(['[{"hostPath":{"path":"/etc","type":""},"name":"etc"}]']);
  });

  test('exec_pod', () => {
    const [e] = readTrace('exec_pod.json');
    expect(ex('ka.target.subresource', e)).toEqual(['exec']);
    expect(ex('ka.uri.param', e, 'command')).toEqual(['bash']);
    expect(ex('ka.uri.param', e, 'container')).toEqual(['nginx1']);
    expect(ex('ka.response.code', e)).toEqual(['101']);
    expect(ex('ka.stage', e)).toEqual(['ResponseStarted']);
    expect(ex('ka.target.pod.name', e)).toEqual(['nginx-deployment-7998647bdf-phvq7']);
    expect(ex('evt.time', e)).toEqual(['13:38:34.902914000']);
  });

  test('create_cluster_role_wildcard_verbs', () => {
    const [e] = readTrace('create_cluster_role_wildcard_verbs.json');
    expect(ex('ka.req.role.rules.verbs', e)).toEqual(['*', 'get']);
    expect(ex('ka.req.role.rules.resources', e)).toEqual(['pods']);
    expect(ex('ka.req.role.rules.nonResourceURLs', e, '1')).toHaveLength(13);
    expect(ex('ka.req.role.rules', e)[0]).toBe('{"apiGroups":[""],"resources":["pods"],"verbs":["*"]}');
  });

  test('create_configmap', () => {
    const [e] = readTrace('create_configmap.json');
    expect(ex('ka.req.configmap.name', e)).toEqual(['my-config']);
    expect(ex('ka.req.configmap.obj', e)).toEqual([
      '{"ui.properties":"color.good=purple\\ncolor.bad=yellow\\nallow.textmode=true\\n"}',
    ]);
  });

  test('create_nginx_service_nodeport', () => {
    const [e] = readTrace('create_nginx_service_nodeport.json');
    expect(ex('ka.req.service.type', e)).toEqual(['NodePort']);
    expect(ex('ka.req.service.ports', e)).toEqual(['[{"nodePort":30080,"port":80,"protocol":"TCP","targetPort":80}]']);
  });

  test('attach_cluster_admin_role', () => {
    const [e] = readTrace('attach_cluster_admin_role.json');
    expect(ex('ka.req.binding.role', e)).toEqual(['cluster-admin']);
    expect(ex('ka.req.binding.subjects', e)).toEqual(['{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"minikube"}']);
    expect(ex('ka.req.binding.subjects.user_names', e)).toEqual(['minikube']);
    expect(ex('ka.req.binding.subject.has_name', e, 'cluster-admin')).toEqual(['true']);
    const cat = catalogFor('k8s_audit')!;
    const d = cat.get('ka.req.binding.subjects')!;
    expect(renderForOutput(d, d.extract(view(e), undefined)).text).toBe(
      '({"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"minikube"})',
    );
  });

  test('fal_01_003: a document that is not an audit event', () => {
    const [e] = readTrace('fal_01_003.json');
    expect(ex('ka.verb', e)).toEqual([]);
    expect(ex('jevt.value', e, '/kind')).toEqual(['0']);
    expect(ex('evt.time', e)).toEqual([]);
  });

  test('every trace: every field extracts without throwing', () => {
    const names = [
      'anonymous_creates_namespace_foo.json', 'attach_pod.json', 'create_deployment.json', 'create_secret.json',
      'delete_namespace_foo.json', 'modify_cluster_role_node_problem_detector.json', 'create_service_account_token_secret.json',
    ];
    const cat = catalogFor('k8s_audit')!;
    for (const n of names) {
      for (const e of readTrace(n)) {
        const v = view(e, 'k8s_audit', { num: 1, hostname: 'h' });
        for (const d of cat.all()) {
          const arg = d.arg?.kind === 'pointer' ? '/verb' : d.arg?.required ? '/etc' : undefined;
          const vals = d.extract(v, arg);
          expect(Array.isArray(vals)).toBe(true);
          if (!d.isList) expect(vals.length).toBeLessThanOrEqual(1);
          renderForOutput(d, vals, v);
        }
      }
    }
  });
});
