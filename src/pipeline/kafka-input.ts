/**
 * A Kafka input: a kafkajs consumer group feeding the shared rule workers,
 * alerts to the output set, offsets committed only behind delivered work.
 *
 * Why eachBatch with manual resolve and commits: the consumer thread only
 * slices a fetched batch into jobs and hands them to the partition's worker;
 * it does not wait for evaluation or delivery, so fetching, evaluation and
 * delivery overlap. resolveOffset() moves kafkajs' fetch position as jobs are
 * dispatched; commits are separate (autoCommit off) and trail the
 * per-partition contiguous completed offset (tracker.ts), so a job finished out
 * of order never commits past one still being delivered.
 *
 * Backpressure: each worker has a budget of in-flight messages/bytes (held
 * until delivery). A batch that meets a full budget waits up to a second for
 * it, then stops there and pauses its partition; release of budget (half free) resumes it, and kafkajs re-fetches
 * from the first undispatched offset. An open output breaker pauses every
 * assigned partition until all breakers close (the service calls
 * `setBreakersOpen`).
 *
 * Rebalance (kafkajs has no revocation callback that can delay the handover):
 * on REBALANCING we commit every completed offset at once; on GROUP_JOIN the
 * partitions no longer assigned stop taking work, their in-flight jobs are
 * still delivered (never dropped) and their offsets committed as they finish.
 * The new owner may re-process what was in flight: duplicates, never loss.
 * After a rejoin kafkajs re-fetches retained partitions from the committed
 * offset; messages this process already dispatched are skipped.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { KAFKA_FETCH_DEFAULTS, type KafkaInputConfig } from '../config/types';
import type { UndecodableBatch } from '../sources/undecodable-batch';
import { readWholeBatches } from '../sources/kafka-record-batches';
import type { Metrics } from '../observability/metrics';
import type { Evaluator } from './evaluate';
import { Aborted, type OutputSet } from './outputs';
import type { Transactor } from './transactor';
import { FetchedRecords } from './fetched';
import { sliceJob } from './job-slicer';
import { PartitionTracker, type TrackedJob } from './tracker';

/** Largest job handed to a worker at once. */
const MAX_JOB_MESSAGES = 1000;
/** After a stop/disconnect event: how long to wait for kafkajs to say it restarts the consumer. */
const SETTLE_MS = 1_000;
/** A consumer kafkajs restarts after a crash must be back in its group within this long. */
const REJOIN_MS = 120_000;
/** How long one batch may wait for a worker's budget before its partition is paused. */
const BUDGET_WAIT_MS = 1000;

type PauseReason = 'budget' | 'breaker' | 'undecodable';

interface PartState {
  topic: string;
  partition: number;
  worker: number;
  tracker: PartitionTracker;
  pauses: Set<PauseReason>;
  revoked: boolean;
  /** exactly_once: the transactor's assignment token when this assignment began (its jobs carry it). */
  token?: number;
  /** The undecodable record batch this partition is held at, if any. */
  held?: UndecodableBatch;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** A problem the user must fix (a missing topic): reported as one line, no retry. */
export class StartupError extends Error {}

export interface KafkaInputDeps {
  kafka: Kafka;
  evaluator: Evaluator;
  outputs: OutputSet;
  /** exactly_once: jobs are committed through Kafka transactions. */
  transactor?: Transactor;
  commitIntervalMs: number;
  /** Client metadata refresh (Event Hubs closes idle connections after 240 s). */
  metadataMaxAgeMs?: number;
  logger: Logger;
  metrics: Metrics;
}

export class KafkaInput {
  private consumer!: Consumer;
  private breakersOpen = false;
  private restarting = false;
  private rejoinWatchdog: NodeJS.Timeout | undefined;
  private readonly parts = new Map<string, PartState>();
  private readonly draining = new Set<PartState>();
  private readonly inflight = new Set<Promise<void>>();
  private joined = false;
  private stopping = false;
  private committer: NodeJS.Timeout | undefined;
  private commitChain: Promise<void> = Promise.resolve();
  /** Rejects when the pipeline cannot continue (a worker died, the consumer crashed for good). */
  readonly failed: Promise<Error>;
  private fail!: (e: Error) => void;

  private readonly log: Logger;

  constructor(
    private readonly cfg: KafkaInputConfig,
    private readonly deps: KafkaInputDeps,
  ) {
    this.failed = new Promise((res) => (this.fail = res));
    this.log = deps.logger.child({ input: cfg.name });
  }

  get name(): string {
    return this.cfg.name;
  }

  /** Why this input is not ready (empty when it is). */
  notReady(): string[] {
    if (this.stopping) return [`input ${this.cfg.name}: shutting down`];
    const reasons = this.joined ? [] : [`input ${this.cfg.name}: not a member of consumer group ${this.cfg.groupId}`];
    for (const ps of this.parts.values()) {
      const h = ps.held;
      if (h) reasons.push(`input ${this.cfg.name}: partition ${ps.topic}[${ps.partition}] held at offset ${h.firstOffset}: undecodable record batch (offsets ${h.firstOffset}-${h.lastOffset}): ${h.reason}`);
    }
    return reasons;
  }

  /** An output breaker opened or every one closed: pause or resume every assigned partition. */
  setBreakersOpen(open: boolean): void {
    this.breakersOpen = open;
    for (const ps of this.parts.values()) open ? this.pause(ps, 'breaker') : this.unpause(ps, 'breaker');
  }

  /** Join the group and start fetching. */
  async start(): Promise<void> {
    const c = this.cfg;
    const { evaluator, kafka } = this.deps;
    this.pool = evaluator.pool;
    this.pool.onRelease((w) => this.onRelease(w));

    const fetch = c.fetch ?? KAFKA_FETCH_DEFAULTS;
    this.consumer = kafka.consumer({
      groupId: c.groupId,
      sessionTimeout: c.sessionTimeoutMs,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      // Fetch sizing (config `fetch:`; docs/kafka.md has the measured trade-off: bigger fetches, more memory).
      maxBytesPerPartition: fetch.maxBytesPerPartition,
      maxBytes: fetch.maxBytes,
      maxWaitTimeInMs: fetch.maxWaitMs,
      metadataMaxAge: this.deps.metadataMaxAgeMs,
    });
    const ev = this.consumer.events;
    this.consumer.on(ev.GROUP_JOIN, ({ payload }) => {
      this.restarting = false;
      clearTimeout(this.rejoinWatchdog);
      this.onJoin(payload.memberAssignment);
    });
    this.consumer.on(ev.REBALANCING, () => {
      this.joined = false;
      this.log.info('group rebalancing: committing completed offsets');
      void this.commit();
    });
    // A consumer that stops or disconnects while we still run it is a zombie: nothing would consume.
    // kafkajs also stops and disconnects a consumer it is about to restart after a crash (a broker
    // outage): that one is given REJOIN_MS to join the group again before the input fails.
    const unexpected = (what: string) => () => {
      if (this.stopping) return;
      setTimeout(() => {
        if (!this.stopping && !this.restarting) this.fail(new Error(`Kafka consumer ${what} unexpectedly`));
      }, SETTLE_MS).unref();
    };
    this.consumer.on(ev.STOP, unexpected('stopped'));
    this.consumer.on(ev.DISCONNECT, unexpected('disconnected'));
    this.consumer.on(ev.CRASH, ({ payload }) => {
      this.joined = false;
      if (payload.restart) {
        this.log.warn({ err: payload.error.message }, 'consumer crashed; kafkajs restarts it');
        this.restarting = true;
        clearTimeout(this.rejoinWatchdog);
        this.rejoinWatchdog = setTimeout(() => {
          if (!this.stopping && this.restarting) this.fail(new Error(`Kafka consumer did not rejoin within ${REJOIN_MS / 1000} s after: ${payload.error.message}`));
        }, REJOIN_MS);
        this.rejoinWatchdog.unref();
      } else this.fail(new Error(`Kafka consumer stopped: ${payload.error.message}`));
    });
    await this.consumer.connect();
    // Its topics come as whole record batches, framed here (sources/kafka-record-batches.ts).
    this.releaseTopics = readWholeBatches(c.topics);
    for (const topic of c.topics) await this.consumer.subscribe({ topic, fromBeginning: c.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, this.pool.size),
      eachBatch: (p) => this.onBatch(p),
    });
    const every = this.deps.commitIntervalMs;
    this.committer = setInterval(() => (this.deps.transactor ? this.forgetDrained() : void this.commit()), every);
    this.committer.unref();
  }

  private part(topic: string, partition: number): PartState {
    const key = tpKey(topic, partition);
    let ps = this.parts.get(key);
    if (!ps) {
      ps = { topic, partition, worker: this.pool.workerFor(topic, partition), tracker: new PartitionTracker(), pauses: new Set(), revoked: false, token: this.deps.transactor?.token(topic, partition) };
      this.parts.set(key, ps);
      if (this.breakersOpen) this.pause(ps, 'breaker');
    }
    return ps;
  }

  private pool!: Evaluator['pool'];
  private releaseTopics: () => void = () => {};

  private onJoin(assignment: Record<string, number[]>): void {
    const now = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => tpKey(t, p))));
    const { transactor } = this.deps;
    for (const [key, ps] of this.parts) {
      // exactly_once: a partition the transactor started over (it was fenced meanwhile) is a new assignment here too.
      if (now.has(key) && (!transactor || transactor.token(ps.topic, ps.partition) === ps.token)) continue;
      ps.revoked = true;
      if (ps.pauses.size > 0) this.consumer.resume([{ topic: ps.topic, partitions: [ps.partition] }]);
      ps.pauses.clear();
      this.parts.delete(key);
      this.draining.add(ps);
    }
    for (const [t, list] of Object.entries(assignment)) for (const p of list) this.part(t, p);
    this.deps.metrics.assigned.set(now.size);
    this.updatePaused();
    this.joined = true;
    this.log.info({ assignment }, 'joined consumer group');
  }

  private pause(ps: PartState, why: PauseReason): void {
    if (ps.pauses.size === 0) this.consumer.pause([{ topic: ps.topic, partitions: [ps.partition] }]);
    ps.pauses.add(why);
    this.updatePaused();
  }

  private unpause(ps: PartState, why: PauseReason): void {
    if (!ps.pauses.delete(why) || ps.pauses.size > 0 || this.stopping) return;
    this.consumer.resume([{ topic: ps.topic, partitions: [ps.partition] }]);
    this.updatePaused();
  }

  private updatePaused(): void {
    let n = 0;
    let held = 0;
    for (const ps of this.parts.values()) {
      if (ps.pauses.size > 0) n++;
      if (ps.held) held++;
    }
    this.deps.metrics.paused.set(this.stopping ? this.parts.size : n);
    this.deps.metrics.stalled.set(held);
  }

  /**
   * An undecodable record batch: its partition is held (paused, never resumed
   * by this process), reported once per batch (log, metrics, /readyz), and
   * nothing at or after it is committed. Skipping it would lose its events
   * without a trace of what they were; see docs/kafka.md.
   */
  private hold(ps: PartState, bad: UndecodableBatch): void {
    if (ps.held?.firstOffset !== bad.firstOffset) {
      ps.held = bad;
      this.deps.metrics.undecodableBatches.inc({ topic: ps.topic, partition: String(ps.partition) });
      this.log.error(
        { topic: ps.topic, partition: ps.partition, offset: bad.firstOffset, lastOffset: bad.lastOffset, err: bad.reason },
        'undecodable record batch: its partition is held at it (other partitions go on); nothing of it or after it is evaluated or committed',
      );
    }
    if (!ps.pauses.has('undecodable')) this.pause(ps, 'undecodable');
  }

  private onRelease(w: number): void {
    const f = this.pool.inFlight(w);
    this.deps.metrics.queueDepth.set({ worker: String(w) }, f.messages);
    this.deps.metrics.queueBytes.set({ worker: String(w) }, f.bytes);
    // Resume at half budget, not at the first free slot: fewer pause/resume flips.
    if (f.messages > this.pool.budget.messages / 2 || f.bytes > this.pool.budget.bytes / 2) return;
    for (const ps of this.parts.values()) if (ps.worker === w && ps.pauses.has('budget')) this.unpause(ps, 'budget');
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const ps = this.part(batch.topic, batch.partition);
    // Offsets, value positions; stops before an undecodable batch (sources/undecodable-batch.ts).
    const f = FetchedRecords.from(batch.messages, Number((batch as { fetchedOffset?: string }).fetchedOffset ?? 0));
    const started = Date.now();
    let i = 0;
    while (i < f.length) {
      if (!isRunning() || isStale() || this.stopping || ps.revoked || ps.pauses.size > 0) break;
      if (ps.tracker.dispatched(f.offsets[i])) {
        resolveOffset(String(f.ends[i]));
        i++;
        continue;
      }
      const waited = Date.now() - started;
      const room = this.pool.room(ps.worker);
      const { n, bytes } = sliceJob(f.lengths, i, room, MAX_JOB_MESSAGES);
      if (n === 0) {
        // A short wait absorbs ordinary jitter; pausing costs a fetch round (kafkajs idles
        // maxWaitTime when every partition is paused), so it is for real saturation.
        if (waited < BUDGET_WAIT_MS && (await this.pool.waitForRelease(ps.worker, BUDGET_WAIT_MS - waited))) continue;
        this.pause(ps, 'budget');
        break;
      }
      this.dispatch(ps, f, i, n, bytes);
      resolveOffset(String(f.ends[i + n - 1]));
      i += n;
    }
    const whole = i === f.length && !ps.revoked && !isStale();
    // Every record went out: the fetch moves past the last batch, even where compaction emptied its end.
    if (whole && f.tail !== undefined && !ps.tracker.dispatched(f.tail)) resolveOffset(String(f.tail));
    if (whole && f.held) this.hold(ps, f.held);
    if (ps.tracker.nextOffset !== undefined) this.deps.metrics.lag.set({ topic: ps.topic, partition: String(ps.partition) }, Math.max(0, Number(batch.highWatermark) - ps.tracker.nextOffset));
    await heartbeat();
  }

  /**
   * Hand records [from, from + n) to the partition's worker. Their values are
   * packed here into one transferred buffer, so nothing fetched (nor the
   * fetch response the values sit in) is kept alive while the job is in flight.
   */
  private dispatch(ps: PartState, f: FetchedRecords, from: number, n: number, bytes: number): void {
    const { topic, partition, worker } = ps;
    const offsets = f.offsets.slice(from, from + n);
    const packed = f.pack(from, n);
    const job = ps.tracker.add(offsets[0], f.ends[from + n - 1]);
    this.pool.reserve(worker, n, bytes);
    this.deps.metrics.received.inc({ input: this.cfg.name }, n);
    this.deps.metrics.queueDepth.inc({ worker: String(worker) }, n);
    const run = this.deps.evaluator.run(worker, packed, {
      input: this.cfg.name, format: this.cfg.format, source: this.cfg.source, aksCategories: this.cfg.aksCategories, fields: Object.keys(this.cfg.fields).length ? this.cfg.fields : undefined, origin: (i) => ({ topic, partition, offset: String(offsets[i]) }),
    });
    const p = this.finish(ps, job, run).finally(() => {
      this.pool.release(worker, n, bytes);
      this.inflight.delete(p);
    });
    this.inflight.add(p);
  }

  private async finish(ps: PartState, job: TrackedJob, run: ReturnType<Evaluator['run']>): Promise<void> {
    const { topic, partition } = ps;
    const { transactor, outputs } = this.deps;
    try {
      const out = await run;
      if (transactor) await transactor.submit(out, topic, partition, job.last + 1, ps.token);
      else await outputs.deliver(out);
      ps.tracker.complete(job);
      if (transactor) {
        // The transaction committed this job's offsets: only drop the completed prefix.
        const point = ps.tracker.commitPoint();
        if (point !== undefined) ps.tracker.committed = point;
      }
    } catch (e) {
      // Aborted by shutdown, or fenced (the partition moved): the new owner re-reads it.
      if (e instanceof Aborted) {
        if (ps.revoked) this.draining.delete(ps);
        return;
      }
      this.fail(e as Error);
    }
  }

  /** Commit every partition whose contiguous completed offset moved (serialised). */
  commit(): Promise<void> {
    if (this.deps.transactor) return Promise.resolve();
    this.commitChain = this.commitChain.then(async () => {
      const entries: { ps: PartState; offset: number }[] = [];
      for (const ps of [...this.parts.values(), ...this.draining]) {
        const offset = ps.tracker.commitPoint();
        if (offset !== undefined) entries.push({ ps, offset });
      }
      if (entries.length > 0) {
        try {
          await this.consumer.commitOffsets(entries.map(({ ps, offset }) => ({ topic: ps.topic, partition: ps.partition, offset: String(offset) })));
          for (const { ps, offset } of entries) ps.tracker.committed = offset;
          this.deps.metrics.commits.inc({ result: 'ok' });
        } catch (e) {
          this.deps.metrics.commits.inc({ result: 'failed' });
          this.log.warn({ err: (e as Error).message }, 'offset commit failed; retrying at the next interval');
        }
      }
      this.forgetDrained();
    });
    return this.commitChain;
  }

  private forgetDrained(): void {
    for (const ps of this.draining) if (ps.tracker.idle && ps.tracker.commitPoint() === undefined) this.draining.delete(ps);
  }

  /** Stop fetching: every assigned partition is paused (stop() follows once in-flight work is drained). */
  quiesce(): void {
    this.stopping = true;
    clearTimeout(this.rejoinWatchdog);
    if (this.committer) clearInterval(this.committer);
    if (!this.consumer) return;
    try {
      for (const ps of this.parts.values()) if (ps.pauses.size === 0) this.consumer.pause([{ topic: ps.topic, partitions: [ps.partition] }]);
    } catch {
      // A consumer that already died cannot pause: it fetches nothing anyway.
    }
    this.updatePaused();
  }

  /** Jobs dispatched and not yet delivered. */
  get inFlight(): Promise<void>[] {
    return [...this.inflight];
  }

  /**
   * After the in-flight work was delivered (or abandoned at the deadline):
   * commit what completed, leave the group. Returns whether the commit made it.
   */
  async stop(deadline: number): Promise<boolean> {
    this.quiesce();
    const left = () => Math.max(0, deadline - Date.now());
    const within = <T>(p: Promise<T>, ms: number) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    let ok = true;
    if (this.consumer) {
      if (!this.deps.transactor) ok = await within(this.commit(), left());
      await within(this.consumer.disconnect(), left());
    }
    this.releaseTopics();
    this.joined = false;
    return ok;
  }
}
