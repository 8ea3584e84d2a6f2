/**
 * Zombie fencing for exactly_once: a transactional producer whose id was
 * initialised again by another process (the partition's new owner) gets
 * INVALID_PRODUCER_EPOCH (PRODUCER_FENCED on newer protocol versions) from
 * every transactional request. That is not an error of the pipeline: this
 * process simply no longer owns the partition.
 */
import { Aborted } from './outputs';

const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);
/** kafkajs 2.2 does not know code 90 (PRODUCER_FENCED): it reports an unknown code with this message. */
const UNKNOWN_FENCED = /^Unknown error code 90$/;

/** Whether `e` (or an error it wraps: kafkajs nests causes and aggregates) says the producer was fenced. */
export function isFenced(e: unknown, depth = 0): boolean {
  if (!e || typeof e !== 'object' || depth > 5) return false;
  const err = e as { type?: unknown; message?: unknown; name?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown };
  if (typeof err.type === 'string' && FENCED_TYPES.has(err.type)) return true;
  if (err.type === 'KAFKAJS_UNKNOWN_ERROR_CODE' && typeof err.message === 'string' && UNKNOWN_FENCED.test(err.message)) return true;
  if (err.name === 'ProducerFenced' || err.name === 'KafkaJSProducerFenced') return true;
  if (isFenced(err.cause, depth + 1) || isFenced(err.originalError, depth + 1)) return true;
  return Array.isArray(err.errors) && err.errors.some((x) => isFenced(x, depth + 1));
}

/**
 * A job dropped without committing because its partition now belongs to
 * another consumer (fenced or revoked): the new owner re-reads it. An Aborted,
 * so the Kafka input neither acknowledges nor treats it as a failure.
 */
export class Fenced extends Aborted {
  constructor(readonly topic: string, readonly partition: number, why: string) {
    super();
    this.message = `partition ${topic}[${partition}] ${why}: job dropped uncommitted, its new owner re-reads it`;
  }
}
