/**
 * The sink contract. A sink delivers alerts somewhere (a Kafka topic, an HTTP
 * endpoint, a file, stdout). `send` resolves only once the alerts are safely
 * delivered (acknowledged, written, fsynced per policy) and rejects otherwise,
 * so callers can hold back offsets / HTTP answers until delivery.
 */
import type { Alert } from '../engine/alert';
import type { AlertContext } from '../engine/alert-context';
import type { Priority } from '../language/priority';

/** Where an alert came from, for headers and tracing. */
export interface AlertOrigin {
  topic?: string;
  partition?: number;
  offset?: string;
  /** The input's name (webhook path, file), for inputs other than Kafka. */
  input?: string;
  /** Line of a file input. */
  line?: number;
  /** Index of the record inside a message that carries many (CloudWatch logEvents, AKS records). */
  record?: number;
}

export interface OutgoingAlert {
  alert: Alert;
  /** The alert as Falco JSON (computed once, shared by every sink). */
  json: string;
  origin?: AlertOrigin;
  /** What the alert carries of its audit event (OCSF/ECS payloads, include_event). */
  context?: AlertContext;
}

export interface AlertSink {
  readonly name: string;
  /** Alerts below this priority are not sent to this sink. */
  readonly minPriority: Priority;
  send(alerts: OutgoingAlert[]): Promise<void>;
  close(): Promise<void>;
}
