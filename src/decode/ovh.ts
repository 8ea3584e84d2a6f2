/**
 * OVHcloud Managed Kubernetes audit logs from Logs Data Platform. The LDP tail
 * sends `{"message": "<GELF record JSON>"}`; the GELF record's `short_message`
 * is the audit Event JSON and `_appID` the stream's app id, which LDP renders
 * as the line `<appID>> <event JSON>` (what the k8saudit-ovh plugin parses).
 * All three forms are accepted: the tail message, the GELF record, the line.
 * Pure: no I/O.
 */
import type { Obj } from './records';

export function looksLikeGelf(o: Obj): boolean {
  return typeof o.short_message === 'string' && (typeof o._appID === 'string' || typeof o.version === 'string');
}

/** `<appID>> {...}` -> the JSON part, or undefined when the text is not such a line. */
export function ovhLinePayload(text: string): string | undefined {
  const m = /^([^\s{}[\]">]+)> (?=[{[])/.exec(text);
  return m ? text.slice(m[0].length) : undefined;
}
