/** Messages between the main thread and its rule workers (worker.ts). */
import type { PayloadFormat } from '../decode/envelope';
import type { Alert } from '../engine/alert';
import type { AlertContext, IncludeEvent } from '../engine/alert-context';
import type { RuleMatching, RulesFile } from '../engine/ruleset';
import type { Priority } from '../language/priority';
import type { BucketCounts } from '../observability/batched-histogram';
import type { EventStep } from './correlation-steps';

/**
 * workerData of every worker. `files` is the rule set the main thread read and
 * validated: workers never read rules from disk, so every thread runs the same set.
 */
export interface WorkerInit {
  files: RulesFile[];
  ruleMatching: RuleMatching;
  minPriority: Priority;
  hostname: string;
  /** Largest message accepted (bigger ones are rejected with the reason). */
  maxEventBytes: number;
  /** What each alert carries of its event for the outputs (OCSF/ECS, include_event); absent: nothing. */
  context?: { include: IncludeEvent; maxEventBytes: number };
}

/**
 * A job: consecutive raw payloads of one input (Kafka messages of one
 * partition, the documents of one webhook request, a run of file documents).
 * Their bytes are packed into one transferred ArrayBuffer (`lengths[i]` bytes
 * each, -1 for a null value) so a job costs one copy and one postMessage.
 */
export interface JobRequest {
  id: number;
  buf: ArrayBuffer;
  lengths: Int32Array;
  /** Where payload i starts in `buf`, when given (else they are back to back). */
  starts?: Int32Array;
  /** How each payload is wrapped, and the event source it carries. */
  format: PayloadFormat;
  source: string;
  /** AKS diagnostic records: the categories read. */
  aksCategories?: string[];
}

/** Hot reload: swap to a ruleset built from these files (already validated by the main thread). */
export interface RulesUpdate {
  type: 'rules';
  files: RulesFile[];
}

export type ToWorker = JobRequest | RulesUpdate;

export interface AlertOut {
  /** Index of the payload in its job. */
  i: number;
  alert: Alert;
  json: string;
  context?: AlertContext;
  /** Position of the event's record inside a message of many (CloudWatch, AKS envelopes). */
  record?: number;
}

export interface RejectOut {
  i: number;
  /** A bad record inside a message of many (the message's good records were evaluated). */
  record?: number;
  reason: string;
  /** The original bytes, for the dead-letter topic (null for a null Kafka value). */
  value: Uint8Array | null;
}

export interface JobResult {
  id: number;
  alerts: AlertOut[];
  rejects: RejectOut[];
  events: number;
  /** Decode + evaluation time of the payloads, counted into EVALUATION_BUCKETS (kestrel_evaluation_seconds). */
  timing: BucketCounts;
  /** Correlation rules and rollups: each event's share, in order (only when the ruleset has them). */
  steps?: EventStep[];
  /** The worker's V8 heap after the job (total size, bytes). */
  heap: number;
  /** Rule cost samples taken during this job: [rule, nanoseconds, samples] (one evaluation in costSampleEvery is timed). */
  costs?: [string, number, number][];
}

/** The outcome of a rules update in one worker (a failed rebuild keeps the previous rules). */
export interface RulesOutcome {
  type: 'rules';
  ok: boolean;
  rules: number;
  message?: string;
}

export type FromWorker = { type: 'ready'; rules: number } | { type: 'fatal'; message: string } | RulesOutcome | ({ type: 'result' } & JobResult);
