/** A file or standard input as a stream of byte chunks. */
import { createReadStream } from 'node:fs';

export function openInput(path: string | undefined): NodeJS.ReadableStream {
  return !path || path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 1 << 20 });
}
