/**
 * Falco priority to OCSF severity (severity_id, severity) and to ECS
 * event.severity (the same number: higher is more severe). Falco has eight
 * levels and OCSF six, so two pairs share a level: Alert and Critical are both
 * Critical (5), Informational and Debug both Informational (1).
 */
import type { Priority } from '../../language/priority';

export interface Severity {
  id: number;
  name: string;
}

export const SEVERITY_BY_PRIORITY: Record<Priority, Severity> = {
  Emergency: { id: 6, name: 'Fatal' },
  Alert: { id: 5, name: 'Critical' },
  Critical: { id: 5, name: 'Critical' },
  Error: { id: 4, name: 'High' },
  Warning: { id: 3, name: 'Medium' },
  Notice: { id: 2, name: 'Low' },
  Informational: { id: 1, name: 'Informational' },
  Debug: { id: 1, name: 'Informational' },
};

export function severityOf(p: Priority): Severity {
  return SEVERITY_BY_PRIORITY[p];
}
