/**
 * How many of a fetched batch's next messages go to the worker as one job:
 * as many as its budget has room for (messages and bytes), at most `max`.
 * An idle worker always takes one message however big (pool.room says so),
 * so an oversized message can never wedge its partition.
 */
import type { Budget } from './pool';

export interface Slice {
  n: number;
  bytes: number;
}

/** `lengths`: the value length of each message (-1 for a null value). */
export function sliceJob(lengths: readonly number[], from: number, room: Budget, max: number): Slice {
  let n = 0;
  let bytes = 0;
  while (from + n < lengths.length && n < room.messages && n < max) {
    const size = Math.max(0, lengths[from + n]);
    if (bytes + size > room.bytes) break;
    bytes += size;
    n++;
  }
  return { n, bytes };
}
