import { catalogFor, KNOWN_SOURCES, matchFieldPrefix, renderForOutput, stringifyOutputJson } from '../../src/fields';
import type { FieldDef } from '../../src/fields/types';

describe('catalogs', () => {
  test('known sources', () => {
    expect([...KNOWN_SOURCES]).toEqual(['k8s_audit', 'k8s_admission']);
    expect(catalogFor('syscall')).toBeUndefined();
    expect(catalogFor('aws_cloudtrail')).toBeUndefined();
    expect(catalogFor('k8s_audit')).toBe(catalogFor('k8s_audit'));
  });

  test('k8s_audit field counts', () => {
    const all = catalogFor('k8s_audit')!.all();
    expect(all.filter((d) => d.name.startsWith('ka.'))).toHaveLength(101);
    expect(all.filter((d) => d.name.startsWith('json.') || d.name.startsWith('jevt.'))).toHaveLength(6);
    expect(all.filter((d) => d.name.startsWith('evt.'))).toHaveLength(15);
    expect(all.filter((d) => d.name.startsWith('kestrel.')).map((d) => d.name)).toEqual(['kestrel.cluster']);
    expect(all).toHaveLength(123);
    expect(catalogFor('k8s_admission')!.all()).toHaveLength(66);
  });

  test('every field of the plugin README is present', () => {
    const cat = catalogFor('k8s_audit')!;
    const names = [
      'ka.auditid', 'ka.stage', 'ka.auth.decision', 'ka.auth.reason', 'ka.auth.openshift.decision',
      'ka.auth.openshift.username', 'ka.validations.admission.policy.failure', 'ka.security.pod.violations',
      'ka.user.name', 'ka.user.groups', 'ka.impuser.name', 'ka.verb', 'ka.uri', 'ka.uri.param',
      'ka.target.name', 'ka.target.namespace', 'ka.target.resource', 'ka.target.subresource', 'ka.target.pod.name',
      'ka.req.binding.subjects', 'ka.req.binding.subjects.user_names', 'ka.req.binding.subjects.serviceaccount_names',
      'ka.req.binding.subjects.serviceaccount_ns_names', 'ka.req.binding.subjects.group_names', 'ka.req.binding.role',
      'ka.req.binding.subject.has_name', 'ka.req.configmap.name', 'ka.req.configmap.obj', 'ka.req.pod.containers.args',
      'ka.req.pod.containers.command', 'ka.req.pod.containers.name', 'ka.req.pod.containers.image',
      'ka.req.container.image', 'ka.req.pod.containers.image.repository', 'ka.req.container.image.repository',
      'ka.req.pod.host_ipc', 'ka.req.pod.host_network', 'ka.req.container.host_network', 'ka.req.pod.host_pid',
      'ka.req.pod.containers.host_port', 'ka.req.pod.containers.privileged', 'ka.req.container.privileged',
      'ka.req.pod.containers.allow_privilege_escalation', 'ka.req.pod.containers.read_only_fs', 'ka.req.pod.run_as_user',
      'ka.req.pod.containers.run_as_user', 'ka.req.pod.containers.eff_run_as_user', 'ka.req.pod.run_as_group',
      'ka.req.pod.containers.run_as_group', 'ka.req.pod.containers.eff_run_as_group', 'ka.req.pod.containers.proc_mount',
      'ka.req.role.rules', 'ka.req.role.rules.apiGroups', 'ka.req.role.rules.nonResourceURLs', 'ka.req.role.rules.verbs',
      'ka.req.role.rules.resources', 'ka.req.pod.fs_group', 'ka.req.pod.supplemental_groups',
      'ka.req.pod.containers.add_capabilities', 'ka.req.service.type', 'ka.req.service.ports',
      'ka.req.pod.volumes.hostpath', 'ka.req.volume.hostpath', 'ka.req.pod.volumes.flexvolume_driver',
      'ka.req.pod.volumes.volume_type', 'ka.resp.name', 'ka.response.code', 'ka.response.reason', 'ka.useragent',
      'ka.sourceips', 'ka.cluster.name',
    ];
    for (const list of ['initContainers', 'ephemeralContainers']) {
      for (const s of ['name', 'image', 'image.repository', 'command', 'args', 'privileged', 'allow_privilege_escalation',
        'read_only_fs', 'run_as_user', 'eff_run_as_user', 'run_as_group', 'eff_run_as_group', 'proc_mount',
        'add_capabilities', 'host_port']) {
        names.push(`ka.req.pod.${list}.${s}`);
      }
    }
    expect(names).toHaveLength(101);
    const got = cat.all().filter((d) => d.name.startsWith('ka.')).map((d) => d.name);
    expect(got).toEqual(names);
    for (const d of cat.all()) {
      expect(d.desc.length).toBeGreaterThan(5);
      if (d.name.startsWith('ka.')) expect(d.type).toBe('string');
    }
  });

  test('list-ness of some fields', () => {
    const cat = catalogFor('k8s_audit')!;
    const lists = cat.all().filter((d) => d.isList && d.name.startsWith('ka.')).map((d) => d.name);
    expect(lists).toContain('ka.user.groups');
    expect(lists).toContain('ka.sourceips');
    expect(lists).toContain('ka.req.pod.volumes.hostpath');
    expect(lists).not.toContain('ka.req.container.image');
    expect(lists).not.toContain('ka.req.volume.hostpath');
    expect(lists).not.toContain('ka.req.pod.supplemental_groups' + 'x');
    expect(cat.get('ka.req.pod.supplemental_groups')!.isList).toBe(true);
    expect(cat.get('ka.req.pod.supplemental_groups')!.arg).toBeUndefined();
  });

  test('matchFieldPrefix picks the longest field name', () => {
    const a = catalogFor('k8s_audit')!;
    expect(matchFieldPrefix(a, 'ka.req.pod.containers.image.repository) x')!.name).toBe('ka.req.pod.containers.image.repository');
    expect(matchFieldPrefix(a, 'ka.req.pod.containers.image[0]')!.name).toBe('ka.req.pod.containers.image');
    expect(matchFieldPrefix(a, 'evt.time.s')!.name).toBe('evt.time.s');
    expect(matchFieldPrefix(a, 'evt.times')!.name).toBe('evt.time');
    expect(matchFieldPrefix(a, 'nope')).toBeUndefined();
    const k = catalogFor('k8s_admission')!;
    expect(matchFieldPrefix(k, 'kar.target.resourcekar.req.configmap.data)')!.name).toBe('kar.target.resource');
  });
});

describe('renderForOutput', () => {
  const cat = catalogFor('k8s_audit')!;
  const def = (n: string): FieldDef => cat.get(n)!;
  test('absent values', () => {
    expect(renderForOutput(def('ka.user.name'), [])).toEqual({ text: '<NA>', json: null });
    expect(renderForOutput(def('ka.user.groups'), [])).toEqual({ text: '<NA>', json: null });
  });
  test('strings and lists', () => {
    expect(renderForOutput(def('ka.user.name'), ['alice'])).toEqual({ text: 'alice', json: 'alice' });
    expect(renderForOutput(def('ka.response.code'), ['201'])).toEqual({ text: '201', json: '201' });
    expect(renderForOutput(def('ka.user.groups'), ['a', 'b c'])).toEqual({ text: '(a,b c)', json: ['a', 'b c'] });
    expect(renderForOutput(def('ka.req.pod.containers.image'), ['nginx'])).toEqual({ text: '(nginx)', json: ['nginx'] });
  });
  test('list text is cut to 1023 bytes', () => {
    const vals = Array.from({ length: 300 }, (_, i) => `value-${i}`);
    const r = renderForOutput(def('ka.user.groups'), vals);
    expect(Buffer.byteLength(r.text)).toBe(1023);
    expect(r.text.startsWith('(value-0,value-1,')).toBe(true);
    expect(r.json).toEqual(vals);
    // a non-list string is never cut
    const long = 'x'.repeat(5000);
    expect(renderForOutput(def('ka.user.name'), [long]).text).toBe(long);
  });
  test('stringifyOutputJson writes bigint as bare integers', () => {
    expect(stringifyOutputJson({ 'evt.time': 1540475929730588000n, 'ka.verb': 'get', n: null, l: ['a'] })).toBe(
      '{"evt.time":1540475929730588000,"ka.verb":"get","n":null,"l":["a"]}',
    );
  });
});
