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

export function sliceJob(messages: readonly { value: Buffer | null }[], from: number, room: Budget, max: number): Slice {
  let n = 0;
  let bytes = 0;
  while (from + n < messages.length && n < room.messages && n < max) {
    const size = messages[from + n].value?.length ?? 0;
    if (bytes + size > room.bytes) break;
    bytes += size;
    n++;
  }
  return { n, bytes };
}
