/**
 * EKS audit logs from CloudWatch Logs (group `/aws/eks/<cluster>/cluster`,
 * streams `kube-apiserver-audit-*`): each log event's `message` is one audit
 * Event JSON. Two shapes reach Kafka:
 *  - the subscription-filter envelope (Firehose / Kinesis, gzip-compressed by
 *    CloudWatch; the caller gunzips): {messageType, logGroup, logStream,
 *    logEvents: [{id, timestamp, message}]}. CONTROL_MESSAGE (CloudWatch's
 *    destination health check) carries no audit event and is skipped;
 *  - one log event per Kafka record (Vector after unnesting): {id, timestamp,
 *    message} (plus the group as logGroup / log_group when the shipper keeps it).
 * CloudWatch cuts long lines and appends `[Truncated...]`: such a message is a
 * rejected record (never half-evaluated), as the k8saudit-eks plugin drops them.
 * Pure: no I/O.
 */
import { isObj, type Obj, type Unwrapped } from './records';

export const TRUNCATED_SUFFIX = '[Truncated...]';

export function looksLikeSubscription(o: Obj): boolean {
  return typeof o.messageType === 'string' && Array.isArray(o.logEvents);
}

export function looksLikeLogEvent(o: Obj): boolean {
  return typeof o.id === 'string' && typeof o.timestamp === 'number' && typeof o.message === 'string';
}

/** `/aws/eks/<cluster>/cluster` -> cluster; undefined for other groups. */
export function eksClusterOf(logGroup: unknown): string | undefined {
  if (typeof logGroup !== 'string') return undefined;
  const m = /^\/aws\/eks\/([^/]+)\/cluster$/.exec(logGroup);
  return m ? m[1] : undefined;
}

/** Why a CloudWatch message cannot be decoded as a whole event, or undefined. */
export function truncationOf(message: string): string | undefined {
  return message.trimEnd().endsWith(TRUNCATED_SUFFIX)
    ? `message truncated by CloudWatch (ends with "${TRUNCATED_SUFFIX}", ${message.length} characters)`
    : undefined;
}

export function unwrapSubscription(o: Obj): Unwrapped | { error: string } {
  const out: Unwrapped = { records: [], rejected: [], skipped: [] };
  if (o.messageType === 'CONTROL_MESSAGE') {
    out.skipped.push({ recordIndex: 0, reason: 'CloudWatch CONTROL_MESSAGE (destination health check, no audit events)' });
    return out;
  }
  if (o.messageType !== 'DATA_MESSAGE') return { error: `CloudWatch subscription: unknown messageType ${JSON.stringify(o.messageType)}` };
  const cluster = eksClusterOf(o.logGroup);
  const events = o.logEvents as unknown[];
  if (events.length === 0) return { error: 'CloudWatch DATA_MESSAGE with no logEvents' };
  events.forEach((ev, i) => {
    const label = `CloudWatch logEvents[${i}]`;
    if (!isObj(ev) || typeof ev.message !== 'string') {
      out.rejected.push({ recordIndex: i, reason: `${label}: no message string` });
      return;
    }
    const cut = truncationOf(ev.message);
    if (cut) out.rejected.push({ recordIndex: i, reason: `${label}: ${cut}` });
    else out.records.push({ recordIndex: i, text: ev.message, label, cluster });
  });
  return out;
}

export function unwrapLogEvent(o: Obj): Unwrapped {
  const message = o.message as string;
  const cut = truncationOf(message);
  const label = 'CloudWatch log event';
  if (cut) return { records: [], rejected: [{ recordIndex: 0, reason: `${label}: ${cut}` }], skipped: [] };
  return { records: [{ recordIndex: 0, text: message, label, cluster: eksClusterOf(o.logGroup ?? o.log_group) }], rejected: [], skipped: [] };
}
