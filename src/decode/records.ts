/**
 * What a multi-record envelope (CloudWatch subscription, AKS diagnostic export)
 * unwraps to before each record is decoded as an audit document: the records
 * to decode, the ones rejected (truncated, invalid) and the ones skipped on
 * purpose (control messages, unselected categories, duplicates), each with its
 * index inside the Kafka message so DLQ and alert headers can point back to it.
 */
export interface EnvelopeRecord {
  /** Index of the record inside the message (logEvents[i], records[i]). */
  recordIndex: number;
  /** The audit document: JSON text or an already parsed value. */
  text?: string;
  doc?: unknown;
  /** Prefix for reasons about this record, e.g. `CloudWatch logEvents[2]`. */
  label: string;
  /** Cluster name the envelope names, when it does. */
  cluster?: string;
}

export interface RecordNote {
  recordIndex: number;
  reason: string;
}

export interface Unwrapped {
  records: EnvelopeRecord[];
  rejected: RecordNote[];
  skipped: RecordNote[];
}

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
