/** Messages between the consumer thread and its rule workers (worker.ts). */
import type { PayloadFormat } from '../decode/envelope';
import type { Alert } from '../engine/alert';
import type { RuleMatching, RulesFile } from '../engine/ruleset';
import type { Priority } from '../language/priority';

/** workerData of every worker: each builds its own Ruleset from the rule files. */
export interface WorkerInit {
  rulePaths: string[];
  ruleMatching: RuleMatching;
  minPriority: Priority;
  source: 'k8s_audit' | 'k8s_admission';
  hostname: string;
  format: PayloadFormat;
  maxMessageBytes: number;
}

/**
 * A job: consecutive messages of one partition. Their values are packed into
 * one transferred ArrayBuffer (`lengths[i]` bytes each, -1 for a null value)
 * so a job costs one copy and one postMessage whatever its size.
 */
export interface JobRequest {
  id: number;
  buf: ArrayBuffer;
  lengths: Int32Array;
}

/** Hot reload: swap to a ruleset built from these files (already validated by the main thread). */
export interface RulesUpdate {
  type: 'rules';
  files: RulesFile[];
}

export type ToWorker = JobRequest | RulesUpdate;

export interface AlertOut {
  /** Index of the message in its job. */
  i: number;
  alert: Alert;
  json: string;
}

export interface RejectOut {
  i: number;
  reason: string;
  /** The original bytes, for the dead-letter topic (null for a null Kafka value). */
  value: Uint8Array | null;
}

export interface JobResult {
  id: number;
  alerts: AlertOut[];
  rejects: RejectOut[];
  events: number;
  /** Decode + evaluation time of each message, seconds. */
  seconds: Float64Array;
}

export type FromWorker = { type: 'ready'; rules: number } | { type: 'fatal'; message: string } | ({ type: 'result' } & JobResult);
