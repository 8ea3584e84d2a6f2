/**
 * AKS audit logs exported by Azure diagnostic settings to an Event Hub: one
 * message `{"records": [{category, resourceId, properties: {log: "<audit Event
 * JSON>"}, ...}]}`. Only the selected categories are read (kube-audit: every
 * request; kube-audit-admin: the same minus get/list/watch); with both, an
 * event arrives twice, so a record repeating an earlier (auditID, stage) of the
 * same message is skipped. Azure cuts properties.log at 16 KiB: such a record is
 * rejected with that reason. Pure: no I/O.
 */
import { isObj, type Obj, type Unwrapped } from './records';
import { jsonErrorText } from '../language/json-error';

export const AKS_AUDIT_CATEGORIES: readonly string[] = ['kube-audit', 'kube-audit-admin'];
/** Azure's cut of properties.log; an unparsable log this long was cut, not malformed. */
const AKS_LOG_LIMIT_BYTES = 16 * 1024;

export function looksLikeAksExport(o: Obj): boolean {
  return Array.isArray(o.records);
}

/** One record of the export on its own (a shipper split the records array). */
export function looksLikeAksRecord(o: Obj): boolean {
  return typeof o.category === 'string' && isObj(o.properties) && 'log' in o.properties;
}

/** `.../providers/Microsoft.ContainerService/managedClusters/<name>` -> name (Azure upper-cases resource ids). */
export function aksClusterOf(resourceId: unknown): string | undefined {
  if (typeof resourceId !== 'string') return undefined;
  const m = /\/managedClusters\/([^/]+)/i.exec(resourceId);
  return m ? m[1] : undefined;
}

export function unwrapAksExport(o: Obj, categories: readonly string[] = AKS_AUDIT_CATEGORIES): Unwrapped | { error: string } {
  const records = looksLikeAksRecord(o) ? [o] : (o.records as unknown[]);
  if (records.length === 0) return { error: 'AKS diagnostic export with no records' };
  const out: Unwrapped = { records: [], rejected: [], skipped: [] };
  const seen = new Map<string, number>();
  records.forEach((rec, i) => {
    const label = records.length === 1 && records[0] === o ? 'AKS record' : `AKS records[${i}]`;
    if (!isObj(rec)) {
      out.rejected.push({ recordIndex: i, reason: `${label}: not an object` });
      return;
    }
    if (typeof rec.category !== 'string' || !categories.includes(rec.category)) {
      out.skipped.push({ recordIndex: i, reason: `${label}: category ${JSON.stringify(rec.category)} not selected (${categories.join(', ')})` });
      return;
    }
    const props = isObj(rec.properties) ? rec.properties : {};
    const log = props.log;
    let doc: unknown;
    if (typeof log === 'string') {
      try {
        doc = JSON.parse(log);
      } catch (e) {
        const bytes = Buffer.byteLength(log, 'utf8');
        const reason = bytes >= AKS_LOG_LIMIT_BYTES - 512
          ? `properties.log truncated by Azure at 16 KiB (${bytes} bytes, not a complete JSON document)`
          : `properties.log is not valid JSON: ${jsonErrorText(e)}`;
        out.rejected.push({ recordIndex: i, reason: `${label}: ${reason}` });
        return;
      }
    } else if (isObj(log)) doc = log;
    else {
      out.rejected.push({ recordIndex: i, reason: `${label}: no properties.log` });
      return;
    }
    if (isObj(doc) && typeof doc.auditID === 'string') {
      const key = `${doc.auditID}\u0000${String(doc.stage)}`;
      const first = seen.get(key);
      if (first !== undefined) {
        out.skipped.push({ recordIndex: i, reason: `${label}: duplicate of records[${first}] (auditID ${doc.auditID}, stage ${String(doc.stage)}; ${String(rec.category)})` });
        return;
      }
      seen.set(key, i);
    }
    out.records.push({ recordIndex: i, doc, label, cluster: aksClusterOf(rec.resourceId) });
  });
  return out;
}
