/** A file or standard input as a stream of byte chunks. */
import { createReadStream } from 'node:fs';

/** `start`: read a regular file from this byte on (not for stdin or a pipe, which read from where they are). */
export function openInput(path: string | undefined, start = 0): NodeJS.ReadableStream {
  if (!path || path === '-') return process.stdin;
  // A start position makes every read positional, which a FIFO refuses.
  return createReadStream(path, start > 0 ? { highWaterMark: 1 << 20, start } : { highWaterMark: 1 << 20 });
}
