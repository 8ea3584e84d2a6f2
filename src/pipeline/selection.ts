/**
 * Which alerts an output receives: its minimum priority, and optional rule and
 * tag filters (`rules`, `exclude_rules`, `tags`, `exclude_tags` of an output).
 */
import { atLeast, type Priority } from '../language/priority';
import type { OutgoingAlert } from '../sinks/types';

export interface AlertFilterOptions {
  minPriority?: Priority;
  /** Only these rules (exact names). */
  rules?: string[];
  excludeRules?: string[];
  /** Only alerts with at least one of these tags. */
  tags?: string[];
  excludeTags?: string[];
}

export type AlertPredicate = (a: OutgoingAlert) => boolean;

export function alertFilter(o: AlertFilterOptions): AlertPredicate {
  const rules = o.rules?.length ? new Set(o.rules) : undefined;
  const exRules = o.excludeRules?.length ? new Set(o.excludeRules) : undefined;
  const tags = o.tags?.length ? new Set(o.tags) : undefined;
  const exTags = o.excludeTags?.length ? new Set(o.excludeTags) : undefined;
  const min = o.minPriority;
  return ({ alert }) => {
    if (min && !atLeast(alert.priority, min)) return false;
    if (rules && !rules.has(alert.rule)) return false;
    if (exRules?.has(alert.rule)) return false;
    if (tags && !alert.tags.some((t) => tags.has(t))) return false;
    if (exTags && alert.tags.some((t) => exTags.has(t))) return false;
    return true;
  };
}
