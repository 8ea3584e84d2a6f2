/** What every payload builder takes, and the values the OCSF and ECS mappings share. */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Alert } from '../../engine/alert';
import type { AlertContext, IncludeEvent } from '../../engine/alert-context';
import { catalogFor } from '../../fields';

/** An alert on its way to an output: Falco's alert, its JSON when already made, and its event context. */
export interface FormattableAlert {
  alert: Alert;
  /** alertJson(alert) of this very alert (after shaping), computed once and shared by every output; recomputed when absent. */
  json?: string;
  /** alertContext(...) of the event, attached by the worker; without it OCSF/ECS carry the alert fields only. */
  context?: AlertContext;
}

export interface FormatOptions {
  /** How much of the audit event the payload carries (default none). */
  includeEvent?: IncludeEvent;
  /** Cap on the event text with includeEvent full (default: no cap beyond the worker's). */
  includeEventMaxBytes?: number;
}

/** Output fields that may name the cluster, most specific first (a static field or an output field). */
export const CLUSTER_FIELDS = ['kestrel.cluster', 'cluster'] as const;

export function clusterOf(a: Alert): string | undefined {
  for (const k of CLUSTER_FIELDS) {
    const v = a.outputFields[k] ?? a.extra?.[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

/**
 * Stable id of the finding: the same rule on the same API request (auditID,
 * or admission request uid) gives the same id, so a replayed or duplicated
 * alert is recognised as one finding. Without an id, the time and message.
 */
export function findingUid(a: Alert, ctx: AlertContext | undefined): string {
  const h = createHash('sha256').update(a.rule).update('\u0000');
  if (ctx?.auditID) h.update(ctx.auditID);
  else h.update(String(a.timeNs)).update('\u0000').update(a.message);
  return h.digest('hex').slice(0, 32);
}

/**
 * Operator-configured static fields (cluster, environment, ...): output fields
 * whose name is no field of the alert's source, with string values. They sit
 * in output_fields (see engine/shaping.ts) next to the rule's own fields.
 */
export function staticFields(a: Alert): Record<string, string> {
  const catalog = catalogFor(a.source);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a.outputFields)) {
    if (typeof v !== 'string') continue;
    const base = k.replace(/\[.*$/, '');
    if (catalog?.get(base)) continue;
    out[k] = v;
  }
  return out;
}

/** The first source IP of the request (the client, before any proxies the API server recorded), when it is an IP address. */
export function sourceIp(ctx: AlertContext | undefined): string | undefined {
  const ip = ctx?.sourceIPs?.[0];
  return ip !== undefined && isIP(ip) !== 0 ? ip : undefined;
}

/** `pods`, or `pods/exec` for a subresource. */
export function resourceType(ctx: AlertContext | undefined): string | undefined {
  const r = ctx?.objectRef;
  if (!r?.resource) return undefined;
  return r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
}

/** `v1` for the core group, `apps/v1` otherwise. */
export function apiVersionOf(ctx: AlertContext | undefined): string | undefined {
  const r = ctx?.objectRef;
  if (!r?.apiVersion) return undefined;
  return r.apiGroup ? `${r.apiGroup}/${r.apiVersion}` : r.apiVersion;
}

/** Milliseconds since the epoch (OCSF timestamp_t). */
export function epochMs(a: Alert): number {
  return Number(a.timeNs / 1_000_000n);
}

/** Copy without undefined members and empty plain objects, recursively (array elements are kept, pruned). */
export function prune<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => prune(x)) as T;
  if (v === null || typeof v !== 'object' || v.constructor !== Object) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined) continue;
    const p = prune(x);
    if (p !== null && typeof p === 'object' && !Array.isArray(p) && p.constructor === Object && Object.keys(p).length === 0) continue;
    out[k] = p;
  }
  return out as T;
}
