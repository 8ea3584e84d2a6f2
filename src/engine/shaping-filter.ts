/**
 * Per-sink alert selection (minimum priority, rule and tag filters) and the
 * fan-out of one batch of alerts to every sink. Delivery resolves only when
 * every sink accepted its share; a failure of any sink rejects, so the caller
 * (webhook answer, Kafka offset) never acknowledges alerts that were not
 * delivered. Sinks that succeeded may see the batch again on a retry
 * (at-least-once).
 */
import { atLeast, type Priority } from '../language/priority';
import type { AlertSink, OutgoingAlert } from '../sinks/types';

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

/** A sink plus the selection of alerts it receives (its own minPriority always applies). */
export interface RoutedSink {
  sink: AlertSink;
  filter?: AlertPredicate;
}

export class DeliveryError extends Error {
  constructor(readonly failures: { sink: string; error: Error }[]) {
    super(failures.map((f) => `${f.sink}: ${f.error.message}`).join('; '));
    this.name = 'DeliveryError';
  }

  /** True when every failure is a sink saying "busy, try later" (backpressure, not a fault). */
  get busy(): boolean {
    return this.failures.every((f) => (f.error as { busy?: boolean }).busy === true);
  }
}

/** Send each sink its share; resolves when all delivered, rejects with every failure otherwise. */
export async function deliverToSinks(sinks: RoutedSink[], alerts: OutgoingAlert[]): Promise<void> {
  if (alerts.length === 0) return;
  const results = await Promise.allSettled(
    sinks.map(({ sink, filter }) => {
      const share = alerts.filter((a) => atLeast(a.alert.priority, sink.minPriority) && (!filter || filter(a)));
      return share.length ? sink.send(share) : Promise.resolve();
    }),
  );
  const failures: { sink: string; error: Error }[] = [];
  results.forEach((r, i) => {
    if (r.status === 'rejected') failures.push({ sink: sinks[i].sink.name, error: r.reason instanceof Error ? r.reason : new Error(String(r.reason)) });
  });
  if (failures.length) throw new DeliveryError(failures);
}
