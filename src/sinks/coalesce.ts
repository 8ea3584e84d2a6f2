/**
 * Merges sends that arrive while one is in flight into the next request. The
 * alert producer is idempotent with one request in flight, so N jobs that
 * finish together used to cost N round trips one after the other (each job's
 * alerts, and its offsets, waiting behind the others); merged, they cost about
 * two. Every caller's promise settles with the request that carried its items:
 * a failed request rejects each of its callers, who retry on their own
 * (OutputSet.retry), so nothing is acknowledged before it was written.
 *
 * A merged request stays under `maxBytes` (as measured by `size`) so it never
 * grows past what the broker takes; one caller's items are never split.
 */
interface Waiting<T> {
  items: readonly T[];
  bytes: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class Coalescer<T> {
  private readonly queue: Waiting<T>[] = [];
  private busy = false;

  constructor(
    private readonly flush: (items: T[]) => Promise<unknown>,
    private readonly size: (item: T) => number,
    private readonly maxBytes: number,
  ) {}

  send(items: readonly T[]): Promise<void> {
    let bytes = 0;
    for (const it of items) bytes += this.size(it);
    return new Promise((resolve, reject) => {
      this.queue.push({ items, bytes, resolve, reject });
      if (!this.busy) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.busy = true;
    while (this.queue.length > 0) {
      const batch: Waiting<T>[] = [this.queue.shift()!];
      let bytes = batch[0].bytes;
      while (this.queue.length > 0 && bytes + this.queue[0].bytes <= this.maxBytes) {
        const next = this.queue.shift()!;
        bytes += next.bytes;
        batch.push(next);
      }
      try {
        await this.flush(batch.length === 1 ? [...batch[0].items] : batch.flatMap((w) => w.items));
        for (const w of batch) w.resolve();
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
    }
    this.busy = false;
  }
}
