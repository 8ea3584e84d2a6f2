/**
 * Fields of the k8sadmission plugin (source `k8s_admission`,
 * github.com/RichardoC/k8sadmission), which reads AdmissionReview documents
 * such as those logged by kube-audit-rest. The field list is the one the plugin
 * registers (pkg/k8sadmission/fields.go; its README table is an unfinished
 * copy of k8saudit's and lists fields that do not exist). Extraction reuses the
 * k8saudit helpers on `request.object` (the object being admitted).
 *
 * Facts mirrored from pkg/k8sadmission/extract.go:
 *  - A document without `request.uid` yields no value for any kar.* field.
 *  - kar.verb is `request.operation` (CREATE, UPDATE, DELETE, CONNECT: upper case).
 *  - kar.target.resource is `request.resource.resource`, kar.target.subresource
 *    `request.subResource`, kar.target.name / kar.req.configmap.name `request.name`.
 *  - kar.timestamp is the top-level `requestReceivedTimestamp` (text).
 *  - kar.req.configmap.data reads `request.object.binaryData` and
 *    kar.req.configmap.binary_data reads `request.object.data` (swapped in the
 *    plugin; reproduced).
 *  - kar.req.exec.command is the list `request.object.command` (PodExecOptions).
 */
import { buildK8sField, fromKeys, REQ_SPECS, type K8sFieldSpec } from './k8saudit';
import { jpath } from './jsonutil';
import type { FieldDef } from './types';

function plain(suffix: string, keys: readonly string[], desc: string, list = false): K8sFieldSpec {
  return { suffix, scope: 'root', list, desc, fn: (v) => fromKeys(v, keys, list) };
}

function reqPlain(suffix: string, keys: readonly string[], desc: string, list = false): K8sFieldSpec {
  return { suffix, scope: 'req', list, desc, fn: (v) => fromKeys(v, keys, list) };
}

function shared(suffix: string): K8sFieldSpec {
  const s = REQ_SPECS.get(suffix);
  if (s === undefined) throw new Error(`missing shared spec ${suffix}`);
  return s;
}

/** The admission document guard: only documents with request.uid are events of the plugin. */
export function isAdmissionEvent(root: unknown): boolean {
  return jpath(root, ['request', 'uid']) !== undefined;
}

function admissionObject(root: unknown): unknown {
  return jpath(root, ['request', 'object']);
}

/** All kar.* field definitions, in the plugin's order. */
export function k8sAdmissionFields(): FieldDef[] {
  const specs: K8sFieldSpec[] = [
    plain('uid', ['request', 'uid'], 'Unique id of the admission request.'),
    plain('timestamp', ['requestReceivedTimestamp'], 'Time the request was received (RFC 3339 text), when recorded.'),
    plain('user.name', ['request', 'userInfo', 'username'], 'Name of the user who made the request.'),
    plain('user.groups', ['request', 'userInfo', 'groups'], 'Groups of the user who made the request.', true),
    plain('verb', ['request', 'operation'], 'Operation of the request (CREATE, UPDATE, DELETE, CONNECT).'),
    plain('target.name', ['request', 'name'], 'Name of the target object.'),
    plain('target.namespace', ['request', 'namespace'], 'Namespace of the target object.'),
    plain('target.resource', ['request', 'resource', 'resource'], 'Resource of the target object (pods, secrets, ...).'),
    plain('target.subresource', ['request', 'subResource'], 'Subresource of the target object (exec, attach, ...).'),
    shared('req.binding.subjects'),
    shared('req.binding.role'),
    plain('req.configmap.name', ['request', 'name'], 'Name of the configmap targeted by the request.'),
    reqPlain('req.configmap.data', ['binaryData'], "A configmap's binaryData, as JSON text (the plugin reads binaryData here)."),
    reqPlain('req.configmap.binary_data', ['data'], "A configmap's data, as JSON text (the plugin reads data here)."),
    shared('req.pod.containers.image'),
    shared('req.pod.containers.image.repository'),
    shared('req.pod.host_ipc'),
    shared('req.pod.host_network'),
    shared('req.pod.host_pid'),
    shared('req.pod.containers.host_port'),
    shared('req.pod.containers.privileged'),
    reqPlain('req.exec.command', ['command'], 'Command of an exec request.', true),
    shared('req.pod.containers.allow_privilege_escalation'),
    shared('req.pod.containers.read_only_fs'),
    shared('req.pod.run_as_user'),
    shared('req.pod.containers.run_as_user'),
    shared('req.pod.containers.eff_run_as_user'),
    shared('req.pod.run_as_group'),
    shared('req.pod.containers.run_as_group'),
    shared('req.pod.containers.eff_run_as_group'),
    shared('req.pod.containers.proc_mount'),
    shared('req.role.rules'),
    shared('req.role.rules.apiGroups'),
    shared('req.role.rules.nonResourceURLs'),
    shared('req.role.rules.verbs'),
    shared('req.role.rules.resources'),
    shared('req.pod.fs_group'),
    shared('req.pod.supplemental_groups'),
    shared('req.pod.containers.add_capabilities'),
    shared('req.service.type'),
    shared('req.service.ports'),
    shared('req.pod.volumes.hostpath'),
    shared('req.pod.volumes.flexvolume_driver'),
    shared('req.pod.volumes.volume_type'),
  ];
  return specs.map((s) => buildK8sField('kar', s, isAdmissionEvent, admissionObject));
}
