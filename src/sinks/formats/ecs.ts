/**
 * Elastic Common Schema (8.x) document for one alert: event.kind alert, the
 * rule, the Kubernetes user, source address and user agent, the API object as
 * orchestrator.*, MITRE ATT&CK as threat.*, and the Falco alert itself under
 * `falco` so nothing is lost. Field by field in docs/siem.md; schema in
 * docs/schemas/ecs-alert.schema.json.
 */
import { alertJson, formatIsoTime } from '../../engine/alert';
import { contextFor, type AlertContext } from '../../engine/alert-context';
import { VERSION } from '../../version';
import { apiVersionOf, clusterOf, findingUid, prune, resourceType, sourceIp, staticFields, type FormatOptions, type FormattableAlert } from './common';
import { RawJson, stringify } from './json';
import { attacksFromTags } from './mitre';
import { severityOf } from './severity';

export const ECS_VERSION = '8.11.0';

/** API resources whose changes are identity and access management. */
const IAM_RESOURCES = new Set([
  'roles', 'rolebindings', 'clusterroles', 'clusterrolebindings', 'serviceaccounts', 'certificatesigningrequests',
  'tokenreviews', 'subjectaccessreviews', 'selfsubjectaccessreviews', 'localsubjectaccessreviews', 'selfsubjectreviews', 'users', 'groups',
]);
/** Subresources that open an interactive session into a pod. */
const SESSION_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

/** ECS event.category and event.type of a Kubernetes API request (values allowed together by ECS). */
export function ecsCategorization(ctx: AlertContext | undefined): { category: string; type: string } {
  const verb = ctx?.verb?.toLowerCase();
  const ref = ctx?.objectRef;
  if (!ref?.resource) return { category: 'web', type: 'access' };
  if (ref.subresource && SESSION_SUBRESOURCES.has(ref.subresource)) return { category: 'session', type: 'start' };
  const iam = IAM_RESOURCES.has(ref.resource);
  switch (verb) {
    case 'create':
      return { category: iam ? 'iam' : 'configuration', type: 'creation' };
    case 'update': case 'patch':
      return { category: iam ? 'iam' : 'configuration', type: 'change' };
    case 'delete': case 'deletecollection':
      return { category: iam ? 'iam' : 'configuration', type: 'deletion' };
    case 'get': case 'list': case 'watch': case 'connect':
      return iam ? { category: 'iam', type: 'info' } : { category: 'configuration', type: 'access' };
    default:
      return { category: iam ? 'iam' : 'configuration', type: 'info' };
  }
}

function outcome(ctx: AlertContext | undefined): string | undefined {
  const code = ctx?.responseStatus?.code;
  if (code === undefined) return undefined;
  return code < 400 ? 'success' : 'failure';
}

/** ECS labels: keys without dots (Elasticsearch would expand them into objects). */
function labelsOf(fields: Record<string, string>): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) out[k.replace(/\./g, '_')] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

function threatOf(tags: readonly string[]): Record<string, unknown> | undefined {
  const attacks = attacksFromTags(tags);
  if (attacks.length === 0) return undefined;
  const uniq = <T>(xs: (T | undefined)[]) => [...new Set(xs.filter((x): x is T => x !== undefined))];
  const tactics = uniq(attacks.map((x) => x.tactic));
  const techniques = uniq(attacks.map((x) => x.technique?.uid)).map((uid) => attacks.find((x) => x.technique?.uid === uid)!.technique!);
  const subs = uniq(attacks.map((x) => x.sub_technique?.uid));
  return {
    framework: 'MITRE ATT&CK',
    tactic: tactics.length > 0 ? { id: tactics.map((t) => t.uid), name: tactics.map((t) => t.name) } : undefined,
    technique: techniques.length > 0 ? {
      id: techniques.map((t) => t.uid),
      // Names only when every technique has one, so id[i] and name[i] stay aligned.
      name: techniques.every((t) => t.name) ? techniques.map((t) => t.name!) : undefined,
      subtechnique: subs.length > 0 ? { id: subs } : undefined,
    } : undefined,
  };
}

export function ecsDocument(a: FormattableAlert, options: FormatOptions = {}): Record<string, unknown> {
  const { alert } = a;
  const ctx = a.context;
  const sev = severityOf(alert.priority);
  const { category, type } = ecsCategorization(ctx);
  const shown = ctx && contextFor(ctx, options.includeEvent ?? 'none', options.includeEventMaxBytes);
  const ref = ctx?.objectRef;
  const user = ctx?.user;
  const effective = ctx?.impersonatedUser;
  const { event: _event, ...audit } = shown ?? {};
  const cluster = clusterOf(alert);
  return prune({
    '@timestamp': formatIsoTime(alert.timeNs),
    message: alert.message,
    tags: alert.tags.length > 0 ? alert.tags : undefined,
    labels: labelsOf(staticFields(alert)),
    ecs: { version: ECS_VERSION },
    event: {
      kind: 'alert',
      category: [category],
      type: [type],
      severity: sev.id,
      id: findingUid(alert, ctx),
      action: ctx?.verb,
      outcome: outcome(ctx),
      provider: alert.source,
      dataset: 'kestrel.alert',
      original: shown?.event,
    },
    rule: { name: alert.rule, ruleset: 'kestrel' },
    threat: threatOf(alert.tags),
    user: user && {
      name: user.username,
      id: user.uid,
      roles: user.groups,
      effective: effective && { name: effective.username, id: effective.uid, roles: effective.groups },
    },
    source: sourceIp(ctx) ? { ip: sourceIp(ctx) } : undefined,
    user_agent: ctx?.userAgent ? { original: ctx.userAgent } : undefined,
    url: ctx?.requestURI ? { original: ctx.requestURI } : undefined,
    http: {
      request: ctx?.auditID ? { id: ctx.auditID } : undefined,
      response: ctx?.responseStatus?.code !== undefined ? { status_code: ctx.responseStatus.code } : undefined,
    },
    orchestrator: {
      type: 'kubernetes',
      cluster: cluster !== undefined ? { name: cluster } : undefined,
      namespace: ref?.namespace,
      api_version: apiVersionOf(ctx),
      resource: ref ? { type: resourceType(ctx), name: ref.name } : undefined,
    },
    kubernetes: {
      namespace: ref?.namespace,
      pod: ref?.resource === 'pods' && ref.name ? { name: ref.name } : undefined,
      audit: shown ? audit : undefined,
    },
    observer: { product: 'Kestrel', vendor: 'Kestrel', type: 'ids', version: VERSION, hostname: alert.hostname || undefined },
    falco: new RawJson(a.json ?? alertJson(alert)),
  });
}

export function ecsJson(a: FormattableAlert, options: FormatOptions = {}): string {
  return stringify(ecsDocument(a, options));
}
