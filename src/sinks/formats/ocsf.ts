/**
 * OCSF Detection Finding (class 2004, category Findings, activity Create) for
 * one alert: the rule is the finding, the audit event's API call is its
 * evidence, the object it touched is the resource. Field by field in
 * docs/siem.md; schema in docs/schemas/ocsf-detection-finding.schema.json.
 */
import { alertJson } from '../../engine/alert';
import { authorization, contextFor, type AlertContext } from '../../engine/alert-context';
import { SUPPRESSED_FIELD } from '../../engine/shaping';
import { VERSION } from '../../version';
import { apiVersionOf, clusterOf, epochMs, findingUid, prune, resourceType, sourceIp, type FormatOptions, type FormattableAlert } from './common';
import { RawJson, stringify } from './json';
import { attacksFromTags, isMitreTag } from './mitre';
import { severityOf } from './severity';

/** The OCSF schema version the payload follows. */
export const OCSF_VERSION = '1.4.0';
export const PRODUCT = { name: 'Kestrel', vendor_name: 'Kestrel' } as const;

const CLASS_UID = 2004;
const ACTIVITY_CREATE = 1;

export function ocsfFinding(a: FormattableAlert, options: FormatOptions = {}): Record<string, unknown> {
  const { alert } = a;
  const ctx = a.context;
  const sev = severityOf(alert.priority);
  const cluster = clusterOf(alert);
  const suppressed = alert.outputFields[SUPPRESSED_FIELD];
  const shown = ctx && contextFor(ctx, options.includeEvent ?? 'none', options.includeEventMaxBytes);
  const time = epochMs(alert);
  const uid = findingUid(alert, ctx);
  return prune({
    activity_id: ACTIVITY_CREATE,
    activity_name: 'Create',
    category_uid: 2,
    category_name: 'Findings',
    class_uid: CLASS_UID,
    class_name: 'Detection Finding',
    type_uid: CLASS_UID * 100 + ACTIVITY_CREATE,
    type_name: 'Detection Finding: Create',
    time,
    severity_id: sev.id,
    severity: sev.name,
    status_id: 1,
    status: 'New',
    message: alert.message,
    count: typeof suppressed === 'number' ? suppressed + 1 : undefined,
    metadata: {
      version: OCSF_VERSION,
      product: { ...PRODUCT, version: VERSION },
      uid,
      labels: cluster !== undefined ? [`cluster:${cluster}`] : undefined,
      original_time: ctx?.stageTimestamp ?? ctx?.requestReceivedTimestamp,
    },
    finding_info: {
      uid,
      title: alert.rule,
      desc: alert.message,
      created_time: time,
      types: nonEmpty(alert.tags.filter((t) => !isMitreTag(t))),
      data_sources: [alert.source],
      analytic: { name: alert.rule, type: 'Rule', type_id: 1 },
      attacks: nonEmpty(attacksFromTags(alert.tags)),
    },
    evidences: ctx ? [evidence(ctx)] : undefined,
    resources: ctx?.objectRef ? [resource(ctx, cluster)] : undefined,
    observables: nonEmpty(observables(ctx)),
    raw_data: shown?.event,
    unmapped: {
      falco: new RawJson(a.json ?? alertJson(alert)),
      impersonated_user: ctx?.impersonatedUser,
      audit: shown && stripEvent(shown),
    },
  });
}

export function ocsfJson(a: FormattableAlert, options: FormatOptions = {}): string {
  return stringify(ocsfFinding(a, options));
}

function evidence(ctx: AlertContext): Record<string, unknown> {
  const auth = authorization(ctx);
  const status = ctx.responseStatus;
  return {
    actor: {
      user: ctx.user && {
        name: ctx.user.username,
        uid: ctx.user.uid,
        groups: ctx.user.groups?.map((name) => ({ name })),
      },
      authorizations: auth.decision ? [{ decision: auth.decision, policy: auth.reason ? { desc: auth.reason } : undefined }] : undefined,
    },
    api: {
      operation: ctx.verb,
      version: apiVersionOf(ctx),
      request: ctx.auditID ? { uid: ctx.auditID } : undefined,
      response: status && {
        code: status.code,
        error: status.code !== undefined && status.code >= 400 ? status.reason : undefined,
        message: status.message,
      },
    },
    src_endpoint: sourceIp(ctx) ? { ip: sourceIp(ctx) } : undefined,
    http_request: ctx.userAgent || ctx.requestURI ? {
      user_agent: ctx.userAgent,
      url: ctx.requestURI ? urlOf(ctx.requestURI) : undefined,
    } : undefined,
  };
}

function urlOf(uri: string): Record<string, unknown> {
  const q = uri.indexOf('?');
  return { url_string: uri, path: q < 0 ? uri : uri.slice(0, q), query_string: q < 0 ? undefined : uri.slice(q + 1) };
}

function resource(ctx: AlertContext, cluster: string | undefined): Record<string, unknown> {
  const r = ctx.objectRef!;
  return {
    type: resourceType(ctx),
    name: r.name,
    namespace: r.namespace,
    uid: r.uid,
    version: apiVersionOf(ctx),
    labels: cluster !== undefined ? [`cluster:${cluster}`] : undefined,
  };
}

function observables(ctx: AlertContext | undefined): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  if (ctx?.user?.username) out.push({ name: 'evidences.actor.user.name', type_id: 4, type: 'User Name', value: ctx.user.username });
  const ip = sourceIp(ctx);
  if (ip) out.push({ name: 'evidences.src_endpoint.ip', type_id: 2, type: 'IP Address', value: ip });
  return out;
}

function stripEvent(ctx: AlertContext): AlertContext {
  const { event: _event, ...rest } = ctx;
  return rest;
}

function nonEmpty<T>(xs: T[]): T[] | undefined {
  return xs.length > 0 ? xs : undefined;
}
