/**
 * Per-partition commit point. Jobs (runs of consecutive fetched messages) are
 * added in fetch order and complete in any order (a job with no alerts finishes
 * before an earlier one still waiting on a sink). The committable offset is one
 * past the last message of the longest completed prefix: never past a gap.
 * Offsets are compared as numbers (exact below 2^53, far beyond real logs); they
 * need not be contiguous (compaction and transaction markers leave holes).
 */
export interface TrackedJob {
  first: number;
  last: number;
  done: boolean;
}

export class PartitionTracker {
  private readonly jobs: TrackedJob[] = [];
  /** Offset the next fetched message must have at least (skips re-fetched, already dispatched ones). */
  nextOffset: number | undefined;
  /** Highest offset known committed (Kafka's meaning: the next offset to read). */
  committed: number | undefined;

  add(first: number, last: number): TrackedJob {
    if (this.nextOffset !== undefined && first < this.nextOffset) throw new Error(`offset ${first} was already dispatched (next is ${this.nextOffset})`);
    const job = { first, last, done: false };
    this.jobs.push(job);
    this.nextOffset = last + 1;
    return job;
  }

  /** Whether `offset` was already dispatched (kafkajs re-fetches from the committed offset after a rebalance). */
  dispatched(offset: number): boolean {
    return this.nextOffset !== undefined && offset < this.nextOffset;
  }

  complete(job: TrackedJob): void {
    job.done = true;
  }

  /** The offset to commit now, if it moved past `committed`; drops the completed prefix. */
  commitPoint(): number | undefined {
    let point: number | undefined;
    while (this.jobs.length > 0 && this.jobs[0].done) point = this.jobs.shift()!.last + 1;
    this.uncommittedPoint = point ?? this.uncommittedPoint;
    const p = this.uncommittedPoint;
    return p !== undefined && (this.committed === undefined || p > this.committed) ? p : undefined;
  }

  private uncommittedPoint: number | undefined;

  /** Jobs dispatched and not yet completed. */
  get pending(): number {
    return this.jobs.filter((j) => !j.done).length;
  }

  get idle(): boolean {
    return this.jobs.every((j) => j.done);
  }
}
