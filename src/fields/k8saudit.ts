/**
 * Fields of Falco's k8saudit plugin (source `k8s_audit`), as listed by the
 * plugin's README field table and implemented by pkg/k8saudit/extract.go in
 * falcosecurity/plugins. Every field is a string (or list of strings) in the
 * plugin; values are extracted with the same rules:
 *
 *  - An event without an `auditID` member yields no value for any ka.* field.
 *  - Plain fields read one member path (`extractFromKeys`): missing -> absent;
 *    a string -> its text; any other JSON value -> its compact JSON text
 *    (numbers `201`, booleans `true`, null `null`, objects `{"a":1}`).
 *  - Plain list fields (ka.user.groups, ka.req.binding.subjects,
 *    ka.req.role.rules, ka.req.pod.supplemental_groups) need a JSON array:
 *    anything else -> absent; each element rendered as above.
 *  - Per-container / per-volume / per-rule fields walk the path and fan out
 *    over every array met on the way (`getValuesRecursive`). An element lacking
 *    the final member contributes nothing (privileged, run_as_user, hostpath, ...)
 *    — so a pod whose containers have no securityContext has NO
 *    ka.req.pod.containers.privileged value at all (absent, not "false").
 *    With an index argument `[N]`, the N-th element is taken instead, at every
 *    array met on the way; out of range -> absent.
 *  - Images are strict: one container without `image` makes
 *    ka.req.pod.containers.image(.repository) absent. The repository is the text
 *    before the first `:` then before the first `@` (so `host:5000/x:1` -> `host`).
 *  - An empty result list is absent (libsinsp treats zero values as "no value").
 *
 * Plugin quirks reproduced on purpose (Falco's observed behaviour):
 *  - ka.req.binding.subject.has_name[x] is always "true" (documented as "N/A").
 *  - ka.req.container.privileged is "true" if any container has privileged
 *    JSON true, else "false" (also when no container has a securityContext);
 *    absent only when requestObject.spec.containers is missing.
 *  - ka.req.volume.hostpath[p]: a key argument also makes the plugin apply index
 *    0, so ONLY the first volume is looked at: absent if it has no hostPath;
 *    otherwise "true" when its path equals p, or starts with p minus a trailing
 *    `*` when p ends with `*`; else "false".
 *  - eff_run_as_user / eff_run_as_group read `spec.runAsUser|runAsGroup` (pod
 *    default, "0" when missing) and each container's top-level `runAsUser|runAsGroup`
 *    (not securityContext), one value per container.
 *  - ka.req.pod.containers.add_capabilities / .command / .args and
 *    ka.req.service.ports yield the compact JSON text of each array
 *    (e.g. `["NET_ADMIN","SYS_TIME"]`), one value per container (one for ports).
 *  - ka.sourceips reads requestObject.rules[*].sourceIPs (the plugin's
 *    implementation; plugins issue #236), so it is absent for normal events.
 *
 * Fields added to the plugin after the newest extract.go we could read (v0.4);
 * their member paths are inferred from the field table and the Kubernetes API:
 *  - ka.auth.openshift.decision / .username: annotations
 *    `authentication.openshift.io/decision` / `authentication.openshift.io/username`
 *  - ka.validations.admission.policy.failure: annotation
 *    `validation.policy.admission.k8s.io/validation_failure`
 *  - ka.security.pod.violations: annotation `pod-security.kubernetes.io/audit-violations`
 *  - ka.cluster.name: annotation `cluster_name` (where k8saudit-gke puts it)
 *  - ka.target.pod.name: objectRef.name when objectRef.resource is `pods`
 *  - ka.req.binding.subjects.{user,serviceaccount,group}_names: `name` of the
 *    subjects of kind User / ServiceAccount / Group; serviceaccount_ns_names
 *    is `namespace:name`
 *  - ka.req.pod.containers.name / .command / .args and every
 *    ka.req.pod.initContainers.* / ka.req.pod.ephemeralContainers.* field: the
 *    containers.* logic applied to spec.containers / spec.initContainers /
 *    spec.ephemeralContainers (each family reads only its own list).
 */
import { INDEX_ARG, KEY_ARG_REQUIRED, argIndex, checkIndexArg } from './catalog';
import { jget, jpath, jtext, setRenderEvent } from './jsonutil';
import type { EventView, FieldArgSpec, FieldDef, FieldValue } from './types';

/** Shared empty result (frozen: extracted arrays must not be mutated). */
const NONE: FieldValue[] = Object.freeze([]) as unknown as FieldValue[];
const NO_INDEX = -1;

// ---------------------------------------------------------------------------
// Extraction helpers (shared with k8sadmission)
// ---------------------------------------------------------------------------

/**
 * The plugin's getValuesRecursive. Returns undefined when the path is not
 * available; otherwise the values found, with `undefined` standing for an
 * array element on which the rest of the path was not available.
 */
export function valuesRecursive(v: unknown, index: number, keys: readonly string[], start = 0): unknown[] | undefined {
  for (let i = start; i < keys.length; i++) {
    if (Array.isArray(v)) {
      if (index === NO_INDEX) {
        const res: unknown[] = [];
        for (let j = 0; j < v.length; j++) {
          const sub = valuesRecursive(v[j], index, keys, i);
          if (sub === undefined) res.push(undefined);
          else for (let k = 0; k < sub.length; k++) res.push(sub[k]);
        }
        return res;
      }
      if (index >= v.length) return undefined;
      v = v[index];
    }
    const k = keys[i];
    if (k.length > 0) {
      v = jget(v, k);
      if (v === undefined) return undefined;
    }
  }
  return [v];
}

/** extractFromKeys: one member path, rendered; list fields need a JSON array. */
export function fromKeys(v: unknown, keys: readonly string[], isList: boolean): FieldValue[] {
  const x = jpath(v, keys);
  if (x === undefined) return NONE;
  if (!isList) return [jtext(x)];
  if (!Array.isArray(x) || x.length === 0) return NONE;
  const out: FieldValue[] = new Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = jtext(x[i]);
  return out;
}

/** arrayAsStringsSkipNil */
function skipNil(arr: unknown[] | undefined): FieldValue[] {
  if (arr === undefined || arr.length === 0) return NONE;
  const out: FieldValue[] = [];
  for (let i = 0; i < arr.length; i++) if (arr[i] !== undefined) out.push(jtext(arr[i]));
  return out;
}

/** arrayAsStrings: any unavailable element makes the whole result unavailable. */
function strict(arr: unknown[] | undefined): string[] | undefined {
  if (arr === undefined) return undefined;
  const out: string[] = new Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    if (arr[i] === undefined) return undefined;
    out[i] = jtext(arr[i]);
  }
  return out;
}

/** The repository part of an image reference, as the plugin computes it. */
export function imageRepository(image: string): string {
  const c = image.indexOf(':');
  const s = c < 0 ? image : image.slice(0, c);
  const a = s.indexOf('@');
  return a < 0 ? s : s.slice(0, a);
}

/** Container list members of a pod spec. */
export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';

const IMAGE_PATHS: Record<ContainerList, readonly string[]> = {
  containers: ['spec', 'containers', 'image'],
  initContainers: ['spec', 'initContainers', 'image'],
  ephemeralContainers: ['spec', 'ephemeralContainers', 'image'],
};

export function containerImages(ro: unknown, list: ContainerList, index: number): string[] | undefined {
  return strict(valuesRecursive(ro, index, IMAGE_PATHS[list]));
}

/** A member of every container of a list; `path` is the full path from the request object. */
function containerMember(ro: unknown, index: number, path: readonly string[]): FieldValue[] {
  return skipNil(valuesRecursive(ro, index, path));
}

function containerHostPorts(ro: unknown, list: ContainerList, index: number): FieldValue[] {
  const per = valuesRecursive(ro, index, ['spec', list, 'ports']);
  if (per === undefined) return NONE;
  const out: FieldValue[] = [];
  for (let i = 0; i < per.length; i++) {
    const ports = per[i];
    if (ports === undefined) continue;
    if (!Array.isArray(ports)) return NONE; // wrong type: the plugin fails the extraction
    for (let j = 0; j < ports.length; j++) {
      const hp = jget(ports[j], 'hostPort');
      if (hp !== undefined) {
        out.push(jtext(hp));
        continue;
      }
      const cp = jget(ports[j], 'containerPort'); // equals the host port with hostNetwork
      if (cp !== undefined) out.push(jtext(cp));
    }
  }
  return out;
}

function effective(ro: unknown, list: ContainerList, index: number, key: string): FieldValue[] {
  const pod = jpath(ro, ['spec', key]);
  const dflt = pod === undefined ? '0' : jtext(pod);
  const arr = valuesRecursive(ro, index, ['spec', list, key]);
  if (arr === undefined || arr.length === 0) return NONE;
  const out: FieldValue[] = new Array(arr.length);
  for (let i = 0; i < arr.length; i++) out[i] = arr[i] === undefined ? dflt : jtext(arr[i]);
  return out;
}

function rulesMember(ro: unknown, index: number, key: string): FieldValue[] {
  const arr = valuesRecursive(ro, index, ['rules', key]);
  if (arr === undefined) return NONE;
  const out: FieldValue[] = [];
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (Array.isArray(v)) for (let j = 0; j < v.length; j++) out.push(jtext(v[j]));
  }
  return out;
}

function anyPrivileged(ro: unknown): FieldValue[] {
  const arr = valuesRecursive(ro, NO_INDEX, ['spec', 'containers', 'securityContext', 'privileged']);
  if (arr === undefined) return NONE;
  for (let i = 0; i < arr.length; i++) if (arr[i] === true) return ['true'];
  return ['false'];
}

function volumeHostpath(ro: unknown, arg: string | undefined): FieldValue[] {
  if (arg === undefined) return NONE;
  // The key argument makes the plugin use arg index 0: first volume only.
  const arr = valuesRecursive(ro, 0, ['spec', 'volumes', 'hostPath', 'path']);
  if (arr === undefined) return NONE;
  const prefix = arg.endsWith('*') ? arg.slice(0, -1) : undefined;
  for (let i = 0; i < arr.length; i++) {
    if (arr[i] === undefined) continue;
    const p = jtext(arr[i]);
    if ((prefix !== undefined && p.startsWith(prefix)) || p === arg) return ['true'];
  }
  return ['false'];
}

function volumeTypes(ro: unknown, index: number): FieldValue[] {
  const arr = valuesRecursive(ro, index, ['spec', 'volumes', '']);
  if (arr === undefined) return NONE;
  const out: FieldValue[] = [];
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const k of Object.keys(v)) if (k !== 'name') out.push(k);
    }
  }
  return out;
}

/** Binding subjects of one kind (User, ServiceAccount, Group). */
function subjectNames(ro: unknown, kind: string, withNamespace: boolean): FieldValue[] {
  const subs = jget(ro, 'subjects');
  if (!Array.isArray(subs)) return NONE;
  const out: FieldValue[] = [];
  for (let i = 0; i < subs.length; i++) {
    const s = subs[i];
    if (jget(s, 'kind') !== kind) continue;
    const name = jget(s, 'name');
    const n = typeof name === 'string' ? name : '';
    if (withNamespace) {
      const ns = jget(s, 'namespace');
      out.push((typeof ns === 'string' ? ns : '') + ':' + n);
    } else out.push(n);
  }
  return out;
}

// ---------------------------------------------------------------------------
// ka.uri.param: Go net/url semantics
// ---------------------------------------------------------------------------

const CTL_RE = /[\u0000-\u001f\u007f]/;
const BAD_ESCAPE_RE = /%(?![0-9A-Fa-f]{2})/;

/** Go's url.QueryUnescape; undefined on a malformed escape. */
function queryUnescape(s: string): string | undefined {
  if (s.indexOf('%') < 0) return s.indexOf('+') < 0 ? s : s.replace(/\+/g, ' ');
  if (BAD_ESCAPE_RE.test(s)) return undefined;
  const bytes: number[] = [];
  const src = Buffer.from(s, 'utf8');
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === 0x25) {
      bytes.push(parseInt(String.fromCharCode(src[i + 1], src[i + 2]), 16));
      i += 2;
    } else bytes.push(c === 0x2b ? 0x20 : c);
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * The first value of query parameter `key` in `uri`, as the plugin computes it
 * with url.Parse + url.ParseQuery: undefined when the URI does not parse, when
 * the query has any malformed part (a `;` or a bad %-escape, anywhere), or when
 * the key is not there. `+` decodes to a space; `a` alone gives "".
 */
export function uriQueryParam(uri: string, key: string): string | undefined {
  if (CTL_RE.test(uri)) return undefined;
  let rest = uri;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    if (BAD_ESCAPE_RE.test(rest.slice(hash + 1))) return undefined;
    rest = rest.slice(0, hash);
  }
  if (rest === '*') return undefined;
  // scheme
  let scheme = '';
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    const alpha = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
    if (alpha) continue;
    if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
      if (i === 0) break;
      continue;
    }
    if (c === 0x3a) {
      if (i === 0) return undefined; // missing protocol scheme
      scheme = rest.slice(0, i);
      rest = rest.slice(i + 1);
    }
    break;
  }
  let rawQuery = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    rawQuery = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  if (!rest.startsWith('/')) {
    if (scheme === '') {
      const slash = rest.indexOf('/');
      const seg = slash < 0 ? rest : rest.slice(0, slash);
      if (seg.indexOf(':') >= 0) return undefined;
      if (BAD_ESCAPE_RE.test(rest)) return undefined;
    }
  } else if (BAD_ESCAPE_RE.test(rest)) return undefined;
  // url.ParseQuery
  let found: string | undefined;
  let failed = false;
  for (const part of rawQuery.split('&')) {
    if (part.length === 0) continue;
    if (part.indexOf(';') >= 0) {
      failed = true;
      continue;
    }
    const eq = part.indexOf('=');
    const k = queryUnescape(eq < 0 ? part : part.slice(0, eq));
    if (k === undefined) {
      failed = true;
      continue;
    }
    const val = queryUnescape(eq < 0 ? '' : part.slice(eq + 1));
    if (val === undefined) {
      failed = true;
      continue;
    }
    if (found === undefined && k === key) found = val;
  }
  return failed ? undefined : found;
}

// ---------------------------------------------------------------------------
// Field specifications
// ---------------------------------------------------------------------------

/** Where a field reads from: the whole document, or the object of the request. */
export type Scope = 'root' | 'req';

export interface K8sFieldSpec {
  /** Name without the `ka.` / `kar.` prefix. */
  suffix: string;
  scope: Scope;
  list: boolean;
  arg?: 'index' | 'key';
  desc: string;
  /** v is the document (scope root) or the request object (scope req). */
  fn(v: unknown, arg: string | undefined): FieldValue[];
}

function plain(suffix: string, scope: Scope, keys: readonly string[], desc: string, list = false): K8sFieldSpec {
  return { suffix, scope, list, desc, fn: (v) => fromKeys(v, keys, list) };
}

function indexed(suffix: string, desc: string, fn: (ro: unknown, index: number) => FieldValue[]): K8sFieldSpec {
  return { suffix, scope: 'req', list: true, arg: 'index', desc, fn: (ro, arg) => fn(ro, argIndex(arg)) };
}

function containerSpecs(list: ContainerList, label: string): K8sFieldSpec[] {
  const p = `req.pod.${list}.`;
  const member = (keys: readonly string[]) => {
    const path = ['spec', list, ...keys];
    return (ro: unknown, i: number) => containerMember(ro, i, path);
  };
  const sc = (key: string, what: string) =>
    indexed(p + key, `securityContext.${what} of each of the pod's ${label} that sets it.`, member(['securityContext', what]));
  return [
    indexed(p + 'name', `Names of the pod's ${label}.`, member(['name'])),
    indexed(p + 'image', `Images of the pod's ${label}.`, (ro, i) => containerImages(ro, list, i) ?? NONE),
    indexed(p + 'image.repository', `Image repositories (image without tag or digest) of the pod's ${label}.`, (ro, i) => {
      const imgs = containerImages(ro, list, i);
      return imgs === undefined ? NONE : imgs.map(imageRepository);
    }),
    indexed(p + 'command', `Command of each of the pod's ${label}, as JSON text.`, member(['command'])),
    indexed(p + 'args', `Arguments of each of the pod's ${label}, as JSON text.`, member(['args'])),
    indexed(p + 'host_port', `Host ports of the pod's ${label} (containerPort when no hostPort is set).`, (ro, i) =>
      containerHostPorts(ro, list, i),
    ),
    sc('privileged', 'privileged'),
    sc('allow_privilege_escalation', 'allowPrivilegeEscalation'),
    sc('read_only_fs', 'readOnlyRootFilesystem'),
    sc('run_as_user', 'runAsUser'),
    indexed(p + 'eff_run_as_user', `Initial user id of each of the pod's ${label}: its own, else the pod's, else 0.`, (ro, i) =>
      effective(ro, list, i, 'runAsUser'),
    ),
    sc('run_as_group', 'runAsGroup'),
    indexed(p + 'eff_run_as_group', `Initial group id of each of the pod's ${label}: its own, else the pod's, else 0.`, (ro, i) =>
      effective(ro, list, i, 'runAsGroup'),
    ),
    sc('proc_mount', 'procMount'),
    indexed(p + 'add_capabilities', `Capabilities added by each of the pod's ${label}, as JSON text.`, member(['securityContext', 'capabilities', 'add'])),
  ];
}

/** Every request-object field spec, keyed by suffix (shared with k8sadmission). */
export const REQ_SPECS: ReadonlyMap<string, K8sFieldSpec> = (() => {
  const specs: K8sFieldSpec[] = [
    plain('req.binding.subjects', 'req', ['subjects'], 'Subjects of a (cluster) role binding in the request, as JSON text.', true),
    {
      suffix: 'req.binding.subjects.user_names',
      scope: 'req',
      list: true,
      desc: 'Names of the User subjects of a (cluster) role binding in the request.',
      fn: (ro) => subjectNames(ro, 'User', false),
    },
    {
      suffix: 'req.binding.subjects.serviceaccount_names',
      scope: 'req',
      list: true,
      desc: 'Names of the ServiceAccount subjects of a (cluster) role binding in the request.',
      fn: (ro) => subjectNames(ro, 'ServiceAccount', false),
    },
    {
      suffix: 'req.binding.subjects.serviceaccount_ns_names',
      scope: 'req',
      list: true,
      desc: 'ServiceAccount subjects of a (cluster) role binding as namespace:name.',
      fn: (ro) => subjectNames(ro, 'ServiceAccount', true),
    },
    {
      suffix: 'req.binding.subjects.group_names',
      scope: 'req',
      list: true,
      desc: 'Names of the Group subjects of a (cluster) role binding in the request.',
      fn: (ro) => subjectNames(ro, 'Group', false),
    },
    plain('req.binding.role', 'req', ['roleRef', 'name'], 'Role referenced by a (cluster) role binding in the request.'),
    plain('req.configmap.obj', 'req', ['data'], 'Data of a configmap in the request, as JSON text.'),
    ...containerSpecs('containers', 'containers'),
    {
      suffix: 'req.container.image',
      scope: 'req',
      list: false,
      desc: 'Image of the first container of the pod (deprecated).',
      fn: (ro) => {
        const imgs = containerImages(ro, 'containers', 0);
        return imgs === undefined || imgs.length === 0 ? NONE : [imgs[0]];
      },
    },
    {
      suffix: 'req.container.image.repository',
      scope: 'req',
      list: false,
      desc: 'Image repository of the first container of the pod (deprecated).',
      fn: (ro) => {
        const imgs = containerImages(ro, 'containers', 0);
        return imgs === undefined || imgs.length === 0 ? NONE : [imageRepository(imgs[0])];
      },
    },
    plain('req.pod.host_ipc', 'req', ['spec', 'hostIPC'], 'hostIPC of the pod in the request.'),
    plain('req.pod.host_network', 'req', ['spec', 'hostNetwork'], 'hostNetwork of the pod in the request.'),
    plain('req.container.host_network', 'req', ['spec', 'hostNetwork'], 'hostNetwork of the pod in the request (deprecated alias).'),
    plain('req.pod.host_pid', 'req', ['spec', 'hostPID'], 'hostPID of the pod in the request.'),
    {
      suffix: 'req.container.privileged',
      scope: 'req',
      list: false,
      desc: 'true when any container of the pod is privileged, else false (deprecated).',
      fn: (ro) => anyPrivileged(ro),
    },
    plain('req.pod.run_as_user', 'req', ['spec', 'securityContext', 'runAsUser'], 'Pod-level securityContext.runAsUser.'),
    plain('req.pod.run_as_group', 'req', ['spec', 'securityContext', 'runAsGroup'], 'Pod-level securityContext.runAsGroup.'),
    plain('req.role.rules', 'req', ['rules'], 'Rules of a (cluster) role in the request, each as JSON text.', true),
    indexed('req.role.rules.apiGroups', 'API groups named by the rules of a (cluster) role.', (ro, i) => rulesMember(ro, i, 'apiGroups')),
    indexed('req.role.rules.nonResourceURLs', 'Non-resource URLs named by the rules of a (cluster) role.', (ro, i) =>
      rulesMember(ro, i, 'nonResourceURLs'),
    ),
    indexed('req.role.rules.verbs', 'Verbs named by the rules of a (cluster) role.', (ro, i) => rulesMember(ro, i, 'verbs')),
    indexed('req.role.rules.resources', 'Resources named by the rules of a (cluster) role.', (ro, i) => rulesMember(ro, i, 'resources')),
    plain('req.pod.fs_group', 'req', ['spec', 'securityContext', 'fsGroup'], 'Pod-level securityContext.fsGroup.'),
    plain(
      'req.pod.supplemental_groups',
      'req',
      ['spec', 'securityContext', 'supplementalGroups'],
      'Pod-level securityContext.supplementalGroups.',
      true,
    ),
    plain('req.service.type', 'req', ['spec', 'type'], 'Type of a service in the request.'),
    indexed('req.service.ports', 'Ports of a service in the request, as one JSON text.', (ro, i) =>
      skipNil(valuesRecursive(ro, i, ['spec', 'ports'])),
    ),
    indexed('req.pod.volumes.hostpath', 'hostPath paths of the volumes of the pod.', (ro, i) =>
      skipNil(valuesRecursive(ro, i, ['spec', 'volumes', 'hostPath', 'path'])),
    ),
    {
      suffix: 'req.volume.hostpath',
      scope: 'req',
      list: false,
      arg: 'key',
      desc: 'true when the first volume of the pod is a hostPath equal to the argument (prefix match with a trailing *), else false (deprecated).',
      fn: (ro, arg) => volumeHostpath(ro, arg),
    },
    indexed('req.pod.volumes.flexvolume_driver', 'flexVolume drivers of the volumes of the pod.', (ro, i) =>
      skipNil(valuesRecursive(ro, i, ['spec', 'volumes', 'flexVolume', 'driver'])),
    ),
    indexed('req.pod.volumes.volume_type', 'Volume source types (member names other than name) of the volumes of the pod.', (ro, i) =>
      volumeTypes(ro, i),
    ),
    ...containerSpecs('initContainers', 'init containers'),
    ...containerSpecs('ephemeralContainers', 'ephemeral containers'),
  ];
  const m = new Map<string, K8sFieldSpec>();
  for (const s of specs) m.set(s.suffix, s);
  return m;
})();

// ---------------------------------------------------------------------------
// FieldDef construction
// ---------------------------------------------------------------------------

function argSpecOf(spec: K8sFieldSpec): FieldArgSpec | undefined {
  if (spec.arg === 'index') return INDEX_ARG;
  if (spec.arg === 'key') return KEY_ARG_REQUIRED;
  return undefined;
}

/**
 * Turn a spec into a FieldDef. `guard` says whether the document is an event of
 * the plugin at all; `reqObject` locates the request object in the document.
 */
export function buildK8sField(
  prefix: string,
  spec: K8sFieldSpec,
  guard: (root: unknown) => boolean,
  reqObject: (root: unknown) => unknown,
): FieldDef {
  const name = `${prefix}.${spec.suffix}`;
  const fn = spec.fn;
  const def: FieldDef = {
    name,
    type: 'string',
    isList: spec.list,
    desc: spec.desc,
    extract:
      spec.scope === 'root'
        ? (ev: EventView, arg) => {
            if (!guard(ev.obj)) return NONE;
            setRenderEvent(ev);
            return fn(ev.obj, arg);
          }
        : (ev: EventView, arg) => {
            if (!guard(ev.obj)) return NONE;
            setRenderEvent(ev);
            return fn(reqObject(ev.obj), arg);
          },
  };
  const a = argSpecOf(spec);
  if (a !== undefined) def.arg = a;
  if (spec.arg === 'index') def.checkArg = (arg) => checkIndexArg(name, arg);
  if (spec.suffix === 'req.volume.hostpath') {
    def.checkArg = (arg) => (arg.length === 0 ? `${name} requires a non-empty path argument` : undefined);
  }
  return def;
}

// ---------------------------------------------------------------------------
// The ka.* field list, in the plugin's order
// ---------------------------------------------------------------------------

const ROOT_SPECS: K8sFieldSpec[] = [
  plain('auditid', 'root', ['auditID'], 'Unique id of the audit event.'),
  plain('stage', 'root', ['stage'], 'Stage of the request (RequestReceived, ResponseStarted, ResponseComplete, Panic).'),
  plain('auth.decision', 'root', ['annotations', 'authorization.k8s.io/decision'], 'Authorization decision (allow / forbid).'),
  plain('auth.reason', 'root', ['annotations', 'authorization.k8s.io/reason'], 'Reason given for the authorization decision.'),
  plain(
    'auth.openshift.decision',
    'root',
    ['annotations', 'authentication.openshift.io/decision'],
    'OpenShift authentication decision (OpenShift clusters only).',
  ),
  plain(
    'auth.openshift.username',
    'root',
    ['annotations', 'authentication.openshift.io/username'],
    'User name seen by OpenShift authentication (OpenShift clusters only).',
  ),
  plain(
    'validations.admission.policy.failure',
    'root',
    ['annotations', 'validation.policy.admission.k8s.io/validation_failure'],
    'Failure reported by a ValidatingAdmissionPolicy.',
  ),
  plain(
    'security.pod.violations',
    'root',
    ['annotations', 'pod-security.kubernetes.io/audit-violations'],
    'Pod Security admission violations recorded for the request.',
  ),
  plain('user.name', 'root', ['user', 'username'], 'Name of the user who made the request.'),
  plain('user.groups', 'root', ['user', 'groups'], 'Groups of the user who made the request.', true),
  plain('impuser.name', 'root', ['impersonatedUser', 'username'], 'Name of the impersonated user.'),
  plain('verb', 'root', ['verb'], 'Verb of the request (get, list, create, update, patch, delete, ...).'),
  plain('uri', 'root', ['requestURI'], 'Request URI as sent by the client.'),
  {
    suffix: 'uri.param',
    scope: 'root',
    list: false,
    arg: 'key',
    desc: 'Value of a query parameter of the request URI, e.g. ka.uri.param[command].',
    fn: (root, arg) => {
      if (arg === undefined) return NONE;
      const uri = jget(root, 'requestURI');
      if (uri === undefined) return NONE;
      const v = uriQueryParam(jtext(uri), arg);
      return v === undefined ? NONE : [v];
    },
  },
  plain('target.name', 'root', ['objectRef', 'name'], 'Name of the target object.'),
  plain('target.namespace', 'root', ['objectRef', 'namespace'], 'Namespace of the target object.'),
  plain('target.resource', 'root', ['objectRef', 'resource'], 'Resource of the target object (pods, secrets, ...).'),
  plain('target.subresource', 'root', ['objectRef', 'subresource'], 'Subresource of the target object (exec, attach, ...).'),
  {
    suffix: 'target.pod.name',
    scope: 'root',
    list: false,
    desc: 'Name of the target pod, when the target resource is pods.',
    fn: (root) => (jpath(root, ['objectRef', 'resource']) === 'pods' ? fromKeys(root, ['objectRef', 'name'], false) : NONE),
  },
];

const TAIL_SPECS: K8sFieldSpec[] = [
  plain('resp.name', 'root', ['responseObject', 'metadata', 'name'], 'Name of the object in the response.'),
  plain('response.code', 'root', ['responseStatus', 'code'], 'HTTP status code of the response.'),
  plain('response.reason', 'root', ['responseStatus', 'reason'], 'Reason of the response status (mostly for failures).'),
  plain('useragent', 'root', ['userAgent'], 'User agent of the client.'),
  {
    suffix: 'sourceips',
    scope: 'root',
    list: true,
    arg: 'index',
    desc: 'Source IP addresses of the client (as implemented by the plugin: requestObject.rules[*].sourceIPs).',
    fn: (root, arg) => rulesMember(jget(root, 'requestObject'), argIndex(arg), 'sourceIPs'),
  },
  plain('cluster.name', 'root', ['annotations', 'cluster_name'], 'Name of the Kubernetes cluster (the cluster_name annotation).'),
];

/** Order of the request-object fields in the plugin's table. */
const KA_REQ_ORDER = [
  'req.binding.subjects',
  'req.binding.subjects.user_names',
  'req.binding.subjects.serviceaccount_names',
  'req.binding.subjects.serviceaccount_ns_names',
  'req.binding.subjects.group_names',
  'req.binding.role',
  '!has_name',
  '!configmap.name',
  'req.configmap.obj',
  'req.pod.containers.args',
  'req.pod.containers.command',
  'req.pod.containers.name',
  'req.pod.containers.image',
  'req.container.image',
  'req.pod.containers.image.repository',
  'req.container.image.repository',
  'req.pod.host_ipc',
  'req.pod.host_network',
  'req.container.host_network',
  'req.pod.host_pid',
  'req.pod.containers.host_port',
  'req.pod.containers.privileged',
  'req.container.privileged',
  'req.pod.containers.allow_privilege_escalation',
  'req.pod.containers.read_only_fs',
  'req.pod.run_as_user',
  'req.pod.containers.run_as_user',
  'req.pod.containers.eff_run_as_user',
  'req.pod.run_as_group',
  'req.pod.containers.run_as_group',
  'req.pod.containers.eff_run_as_group',
  'req.pod.containers.proc_mount',
  'req.role.rules',
  'req.role.rules.apiGroups',
  'req.role.rules.nonResourceURLs',
  'req.role.rules.verbs',
  'req.role.rules.resources',
  'req.pod.fs_group',
  'req.pod.supplemental_groups',
  'req.pod.containers.add_capabilities',
  'req.service.type',
  'req.service.ports',
  'req.pod.volumes.hostpath',
  'req.volume.hostpath',
  'req.pod.volumes.flexvolume_driver',
  'req.pod.volumes.volume_type',
];

const CONTAINER_SUFFIXES = [
  'name',
  'image',
  'image.repository',
  'command',
  'args',
  'privileged',
  'allow_privilege_escalation',
  'read_only_fs',
  'run_as_user',
  'eff_run_as_user',
  'run_as_group',
  'eff_run_as_group',
  'proc_mount',
  'add_capabilities',
  'host_port',
];

const EXTRA_KA_SPECS: Record<string, K8sFieldSpec> = {
  '!has_name': {
    suffix: 'req.binding.subject.has_name',
    scope: 'root',
    list: false,
    arg: 'key',
    desc: 'Deprecated; kept for compatibility (the plugin always yields "true").',
    fn: () => ['true'],
  },
  '!configmap.name': plain('req.configmap.name', 'root', ['objectRef', 'name'], 'Name of the configmap targeted by the request.'),
};

/** The audit document guard: only documents with an auditID are k8saudit events. */
export function isAuditEvent(root: unknown): boolean {
  return jget(root, 'auditID') !== undefined;
}

function auditRequestObject(root: unknown): unknown {
  return jget(root, 'requestObject');
}

/** All ka.* field definitions, in the plugin's order. */
export function k8sAuditFields(): FieldDef[] {
  const specs: K8sFieldSpec[] = [...ROOT_SPECS];
  for (const key of KA_REQ_ORDER) {
    const s = key.startsWith('!') ? EXTRA_KA_SPECS[key] : REQ_SPECS.get(key);
    if (s === undefined) throw new Error(`missing spec ${key}`);
    specs.push(s);
  }
  specs.push(...TAIL_SPECS);
  for (const list of ['initContainers', 'ephemeralContainers']) {
    for (const sfx of CONTAINER_SUFFIXES) {
      const s = REQ_SPECS.get(`req.pod.${list}.${sfx}`);
      if (s === undefined) throw new Error(`missing spec ${list}.${sfx}`);
      specs.push(s);
    }
  }
  return specs.map((s) => buildK8sField('ka', s, isAuditEvent, auditRequestObject));
}
