import { diagnostics, EVENT, fire, lines, oneRule, ruleset } from './helpers';

const hits = (cond: string, ev: object = EVENT) => fire(ruleset(oneRule(cond)), ev).length === 1;

describe('condition semantics on audit events', () => {
  test.each([
    ['ka.verb = create', true],
    ['ka.verb == create', true],
    ['ka.verb != create', false],
    ['ka.verb in (get, create)', true],
    ['ka.user.name startswith ana', true],
    ['ka.user.name endswith "@example.com"', true],
    ['ka.user.name contains "@"', true],
    ['ka.user.name icontains "ANA@"', true],
    ['ka.user.name glob "*@example.*"', true],
    ['ka.user.name regex "[a-z]+@example\\\\.com"', true],
    ['ka.user.name regex "ana"', false],
    ['ka.response.code startswith 2', true],
    ['ka.response.code = 201', true],
    ['ka.uri.param[fieldManager] = kubectl-client-side-apply', true],
    ['ka.req.pod.containers.image[1] = docker.io/envoyproxy/envoy:v1.30', true],
    ['ka.req.pod.volumes.hostpath pmatch (/var)', true],
    ['ka.req.pod.volumes.hostpath pmatch (/va)', false],
    ['jevt.value[/objectRef/namespace] = web', true],
    ['jevt.value[/annotations/authorization.k8s.io~1decision] = allow', true],
    ['tolower(ka.verb) = create and toupper(ka.verb) = CREATE', true],
    ['len(ka.req.pod.containers.image) = 2', true],
    ['basename(ka.uri) = "pods?fieldManager=kubectl-client-side-apply"', true],
    ['ka.target.namespace = val(jevt.value[/requestObject/metadata/namespace])', true],
    ['ka.target.name != val(ka.target.namespace)', true],
  ])('%s -> %s', (cond, want) => {
    expect(hits(cond)).toBe(want);
  });

  test('list fields: in needs every value in the set, intersects needs one', () => {
    expect(hits('ka.req.pod.containers.privileged in (true)')).toBe(false);
    expect(hits('ka.req.pod.containers.privileged in (true, false)')).toBe(true);
    expect(hits('ka.req.pod.containers.privileged intersects (true)')).toBe(true);
    expect(hits('ka.user.groups intersects (admins)')).toBe(false);
    expect(hits('ka.user.groups = devs')).toBe(true);
  });

  test('an absent field makes every comparison false, so its negation is true', () => {
    expect(hits('ka.target.subresource = exec')).toBe(false);
    expect(hits('ka.target.subresource != exec')).toBe(false);
    expect(hits('ka.target.subresource in (exec)')).toBe(false);
    expect(hits('ka.target.subresource exists')).toBe(false);
    expect(hits('not ka.target.subresource != exec')).toBe(true);
    expect(hits('not ka.target.subresource in (exec)')).toBe(true);
    expect(hits('jevt.value[/nope] = ""')).toBe(false);
  });

  test('precedence: not > and > or', () => {
    expect(hits('ka.verb = get or ka.verb = create and ka.user.name = bob')).toBe(false);
    expect(hits('(ka.verb = get or ka.verb = create) and not ka.user.name = bob')).toBe(true);
    expect(hits('not ka.verb = get and ka.verb = create')).toBe(true);
  });

  test('a corrupt event reads as absent fields, never throws', () => {
    const rs = ruleset(oneRule('ka.req.pod.containers.image intersects (x) or ka.verb = create'));
    expect(fire(rs, { ...EVENT, requestObject: 'garbage' })).toEqual(['R']);
    expect(fire(rs, { kind: 'Event', auditID: 'x', stage: 'ResponseComplete', verb: 42 })).toEqual([]);
  });
});

describe('lists and macros', () => {
  test('nested lists expand, macros use macros', () => {
    const rs = ruleset(`
- list: inner
  items: [create]
- list: outer
  items: [get, inner]
- macro: is_write
  condition: ka.verb in (outer)
- macro: completed_write
  condition: jevt.value[/stage] = ResponseComplete and is_write
${oneRule('completed_write')}`);
    expect(fire(rs, EVENT)).toEqual(['R']);
    expect(fire(rs, { ...EVENT, verb: 'delete' })).toEqual([]);
  });

  test('unused macros with unknown fields are never compiled (only warned about, as in Falco)', () => {
    expect(diagnostics(`- macro: sys\n  condition: proc.name = bash\n${oneRule('ka.verb = create')}`)).toEqual([
      "rules.yaml:1:3: warning LOAD_UNUSED_MACRO: macro 'sys' is not referred to by any rule or macro",
    ]);
  });
});

describe('exceptions', () => {
  const base = (exceptions: string) => `- rule: R
  desc: d
  condition: ka.verb = create
  output: hit
  priority: WARNING
  source: k8s_audit
  exceptions:
${exceptions}`;

  test('tuples of fields with default = comps', () => {
    const rs = ruleset(base(`    - name: who_where
      fields: [ka.user.name, ka.target.namespace]
      values:
        - [ana@example.com, web]
        - [bob, kube-system]`));
    expect(fire(rs, EVENT)).toEqual([]);
    expect(fire(rs, { ...EVENT, objectRef: { ...EVENT.objectRef, namespace: 'prod' } })).toEqual(['R']);
  });

  test('single field with list values and comps', () => {
    const rs = ruleset(base(`    - name: ns
      fields: ka.target.namespace
      values: [kube-system, web]
    - name: images
      fields: [ka.req.pod.containers.image.repository, ka.user.name]
      comps: [intersects, startswith]
      values:
        - [[docker.io/envoyproxy/envoy, quay.io/x], "bob"]`));
    expect(fire(rs, EVENT)).toEqual([]);
    expect(fire(rs, { ...EVENT, objectRef: { ...EVENT.objectRef, namespace: 'prod' } })).toEqual(['R']);
  });

  test('exception with unknown field or bad comp is a located error', () => {
    expect(diagnostics(base(`    - name: bad
      fields: [ka.nope]
      values: [[x]]`))).toEqual(["rules.yaml:8:7: error LOAD_ERR_VALIDATE: rule 'R': exception 'bad': unknown field 'ka.nope' for source k8s_audit"]);
    expect(diagnostics(base(`    - name: bad
      fields: [ka.verb]
      comps: [like]
      values: [[x]]`))).toEqual(["rules.yaml:8:7: error LOAD_ERR_VALIDATE: rule 'R': exception 'bad': unknown comparison operator 'like'"]);
  });
});

describe('rule matching and priorities', () => {
  const two = `
- rule: First
  desc: d
  condition: ka.verb = create
  output: first
  priority: NOTICE
  source: k8s_audit
- rule: Second
  desc: d
  condition: ka.target.resource = pods
  output: second
  priority: CRITICAL
  source: k8s_audit
`;
  test('first: only the first matching rule in load order; all: every rule', () => {
    expect(fire(ruleset(two), EVENT)).toEqual(['First']);
    expect(fire(ruleset(two, { ruleMatching: 'all' }), EVENT)).toEqual(['First', 'Second']);
  });
  test('minimum priority drops lower rules before matching', () => {
    expect(fire(ruleset(two, { minPriority: 'Error' }), EVENT)).toEqual(['Second']);
  });
  test('disabled rules never fire, and can be enabled later', () => {
    expect(fire(ruleset({ 'a.yaml': two, 'b.yaml': '- rule: First\n  enabled: false\n' }), EVENT)).toEqual(['Second']);
  });
});

describe('outputs', () => {
  test('%field substitution, <NA> for absent, lists in parentheses, Falco text line', () => {
    const rs = ruleset(oneRule('ka.verb = create', 'user=%ka.user.name sub=%ka.target.subresource images=%ka.req.pod.containers.image code=%ka.response.code.'));
    expect(lines(rs, EVENT)).toEqual([
      '05:06:07.123456000: Warning user=ana@example.com sub=<NA> images=(registry.example.com/shop/app:1.4.2,docker.io/envoyproxy/envoy:v1.30) code=201.',
    ]);
  });
});

describe('load errors name file, line and column', () => {
  test.each([
    ['ka.verb = create and ka.nope = 1', "rules.yaml:3:36: error LOAD_ERR_COMPILE_CONDITION: rule 'R': unknown field 'ka.nope' for source k8s_audit"],
    ['ka.verb = create and undefined_macro', "rules.yaml:3:36: error LOAD_ERR_VALIDATE: rule 'R': undefined macro 'undefined_macro'"],
    ['ka.verb startwith create', "rules.yaml:3:23: error LOAD_ERR_COMPILE_CONDITION: rule 'R': unknown operator 'startwith'"],
    ['ka.verb regex "(unclosed"', "rules.yaml:3:29: error LOAD_ERR_COMPILE_CONDITION: rule 'R': invalid regular expression '(unclosed': error parsing regexp: missing closing ): `(unclosed`"],
    ['ka.uri.param = x', "rules.yaml:3:15: error LOAD_ERR_COMPILE_CONDITION: rule 'R': field 'ka.uri.param' requires an argument, e.g. ka.uri.param[name]"],
  ])('%s', (cond, want) => {
    expect(diagnostics(oneRule(cond)).filter((d) => !d.includes('syntax'))).toEqual([want]);
  });

  test('macro cycles', () => {
    expect(diagnostics(`- macro: a\n  condition: b\n- macro: b\n  condition: a\n${oneRule('a')}`)).toEqual([
      "rules.yaml:4:14: error LOAD_ERR_VALIDATE: rule 'R': macro cycle: a -> b -> a (in rule 'R')",
    ]);
  });

  test('skip-if-unknown-filter turns an unknown field into a warning', () => {
    expect(diagnostics(oneRule('ka.nope = 1') + '  skip-if-unknown-filter: true\n')).toEqual([
      "rules.yaml:3:15: warning LOAD_UNKNOWN_FILTER: rule 'R' skipped (skip-if-unknown-filter): unknown field 'ka.nope' for source k8s_audit",
    ]);
  });
});
