/**
 * The `kestrel consume` pipeline: a kafkajs consumer group feeding rule
 * workers, alerts to sinks, offsets committed only behind delivered work.
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
 * from the first undispatched offset. An open sink breaker pauses every
 * assigned partition until all breakers close.
 *
 * Rebalance (kafkajs has no revocation callback that can delay the handover):
 * on REBALANCING we commit every completed offset at once; on GROUP_JOIN the
 * partitions no longer assigned stop taking work, their in-flight jobs are
 * still delivered (never dropped) and their offsets committed as they finish.
 * The new owner may re-process what was in flight: duplicates, never loss.
 * After a rejoin kafkajs re-fetches retained partitions from the committed
 * offset; messages this process already dispatched are skipped.
 */
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { KestrelConfig } from '../config/types';
import type { Metrics } from '../observability/metrics';
import type { Readiness } from '../observability/server';
import { BreakerSink, type BreakerState } from '../sinks/breaker';
import { KafkaAlertSink, KafkaDeadLetters, type DeadLetter } from '../sinks/kafka';
import { fileSink, stdoutSink } from '../sinks/stdout';
import type { AlertSink, OutgoingAlert } from '../sinks/types';
import { Aborted, Deliverer, dlqBreaker, Transactor } from './delivery';
import type { RulesFile } from '../engine/ruleset';
import { WorkerPool } from './pool';
import type { JobResult } from './protocol';
import { PartitionTracker, type TrackedJob } from './tracker';

/** Largest job handed to a worker at once. */
const MAX_JOB_MESSAGES = 1000;
/** How long one batch may wait for a worker's budget before its partition is paused. */
const BUDGET_WAIT_MS = 1000;

type PauseReason = 'budget' | 'breaker';

interface PartState {
  topic: string;
  partition: number;
  worker: number;
  tracker: PartitionTracker;
  pauses: Set<PauseReason>;
  revoked: boolean;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class StartupError extends Error {}

export class Pipeline {
  private consumer!: Consumer;
  private producer: Producer | undefined;
  private pool!: WorkerPool;
  private deliverer!: Deliverer;
  private transactor: Transactor | undefined;
  private sinks: BreakerSink[] = [];
  private readonly breakerStates = new Map<string, BreakerState>();
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

  constructor(
    private readonly cfg: KestrelConfig,
    private readonly kafka: Kafka,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.failed = new Promise((res) => (this.fail = res));
  }

  /** Hot reload: every worker switches to these rule files for the jobs that follow. */
  updateRules(files: RulesFile[]): void {
    this.pool?.updateRules(files);
  }

  readiness(): Readiness {
    const reasons: string[] = [];
    if (this.stopping) reasons.push('shutting down');
    if (!this.joined) reasons.push('not a member of the consumer group');
    for (const [sink, state] of this.breakerStates) if (state !== 'closed') reasons.push(`sink ${sink}: breaker ${state}`);
    return { ready: reasons.length === 0, reasons };
  }

  /** Check topics, start workers and producers, join the group. Throws StartupError for configuration problems. */
  async start(admin: Admin): Promise<void> {
    const c = this.cfg;
    const existing = new Set(await admin.listTopics());
    const needed = [...c.kafka.inputTopics.map((t) => ['kafka.input_topics', t]), ...(c.sinks.kafka ? [['sinks.kafka.topic', c.sinks.kafka.topic]] : []), ...(c.dlq ? [['dlq.topic', c.dlq.topic]] : [])];
    const missing = needed.filter(([, t]) => !existing.has(t));
    if (missing.length > 0) throw new StartupError(`topic${missing.length > 1 ? 's' : ''} not found on the brokers: ${missing.map(([k, t]) => `'${t}' (${k})`).join(', ')}; create ${missing.length > 1 ? 'them' : 'it'} first`);

    this.pool = await WorkerPool.start(
      c.workers.count,
      { rulePaths: c.rules.paths, ruleMatching: c.rules.ruleMatching, minPriority: c.rules.minPriority, source: c.rules.source, hostname: c.hostname, format: c.input.format, maxMessageBytes: c.input.maxMessageBytes },
      { messages: c.workers.maxInFlightMessages, bytes: c.workers.maxInFlightBytes },
    );
    this.pool.onRelease = (w) => this.onRelease(w);
    this.pool.onFatal = (e) => this.fail(e);

    const eos = c.delivery.mode === 'exactly_once';
    if (c.sinks.kafka || c.dlq) {
      this.producer = this.kafka.producer(
        eos ? { transactionalId: c.delivery.transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60_000, allowAutoTopicCreation: false } : { idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false },
      );
      await this.producer.connect();
    }
    const wrap = (s: AlertSink) => {
      const b = new BreakerSink(s, c.breaker);
      this.watch(b.breaker);
      return b;
    };
    const others: BreakerSink[] = [];
    if (c.sinks.stdout) others.push(wrap(stdoutSink(c.sinks.stdout.minPriority, c.sinks.stdout.format)));
    if (c.sinks.file) others.push(wrap(fileSink(c.sinks.file.path, c.sinks.file.minPriority, c.sinks.file.format)));
    const dlq = c.dlq && this.producer ? dlqBreaker(new KafkaDeadLetters(this.producer, c.dlq.topic), c.breaker) : undefined;
    if (dlq) this.watch(dlq);
    if (!c.dlq) this.logger.warn('no dlq.topic configured: undecodable messages are only logged and counted');

    if (eos) {
      this.sinks = others;
      this.deliverer = new Deliverer(others, dlq, this.logger, this.metrics);
      const k = c.sinks.kafka!;
      this.transactor = new Transactor(this.producer!, c.kafka.groupId, k, c.dlq?.topic, others, this.deliverer, this.metrics, c.breaker);
      this.watch(this.transactor.breaker);
    } else {
      const kafkaSink = c.sinks.kafka ? [wrap(new KafkaAlertSink(this.producer!, c.sinks.kafka.topic, c.sinks.kafka.key, c.sinks.kafka.minPriority))] : [];
      this.sinks = [...kafkaSink, ...others];
      this.deliverer = new Deliverer(this.sinks, dlq, this.logger, this.metrics);
    }

    this.consumer = this.kafka.consumer({
      groupId: c.kafka.groupId,
      sessionTimeout: c.kafka.sessionTimeoutMs,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 200,
    });
    const ev = this.consumer.events;
    this.consumer.on(ev.GROUP_JOIN, ({ payload }) => this.onJoin(payload.memberAssignment));
    this.consumer.on(ev.REBALANCING, () => {
      this.joined = false;
      this.logger.info('group rebalancing: committing completed offsets');
      void this.commit();
    });
    this.consumer.on(ev.CRASH, ({ payload }) => {
      this.joined = false;
      if (payload.restart) this.logger.warn({ err: payload.error.message }, 'consumer crashed; kafkajs restarts it');
      else this.fail(new Error(`Kafka consumer stopped: ${payload.error.message}`));
    });
    await this.consumer.connect();
    for (const topic of c.kafka.inputTopics) await this.consumer.subscribe({ topic, fromBeginning: c.kafka.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, c.workers.count),
      eachBatch: (p) => this.onBatch(p),
    });
    if (!eos) this.committer = setInterval(() => void this.commit(), c.delivery.commitIntervalMs);
    else this.committer = setInterval(() => this.forgetDrained(), c.delivery.commitIntervalMs);
  }

  private watch(b: { name: string; onState: (name: string, s: BreakerState) => void }): void {
    this.breakerStates.set(b.name, 'closed');
    this.metrics.breaker.set({ sink: b.name }, 0);
    b.onState = (name, s) => {
      this.breakerStates.set(name, s);
      this.metrics.breaker.set({ sink: name }, { closed: 0, halfOpen: 1, open: 2 }[s]);
      this.logger.warn({ sink: name, state: s }, `sink breaker ${s}`);
      const anyOpen = [...this.breakerStates.values()].some((v) => v !== 'closed');
      for (const ps of this.parts.values()) anyOpen ? this.pause(ps, 'breaker') : this.unpause(ps, 'breaker');
    };
  }

  private anyBreakerOpen(): boolean {
    return [...this.breakerStates.values()].some((v) => v !== 'closed');
  }

  private part(topic: string, partition: number): PartState {
    const key = tpKey(topic, partition);
    let ps = this.parts.get(key);
    if (!ps) {
      ps = { topic, partition, worker: this.pool.workerFor(topic, partition), tracker: new PartitionTracker(), pauses: new Set(), revoked: false };
      this.parts.set(key, ps);
      if (this.anyBreakerOpen()) this.pause(ps, 'breaker');
    }
    return ps;
  }

  private onJoin(assignment: Record<string, number[]>): void {
    const now = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => tpKey(t, p))));
    for (const [key, ps] of this.parts) {
      if (now.has(key)) continue;
      ps.revoked = true;
      if (ps.pauses.size > 0) this.consumer.resume([{ topic: ps.topic, partitions: [ps.partition] }]);
      ps.pauses.clear();
      this.parts.delete(key);
      this.draining.add(ps);
    }
    for (const [t, list] of Object.entries(assignment)) for (const p of list) this.part(t, p);
    this.metrics.assigned.set(now.size);
    this.updatePaused();
    this.joined = true;
    this.logger.info({ assignment }, 'joined consumer group');
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
    for (const ps of this.parts.values()) if (ps.pauses.size > 0) n++;
    this.metrics.paused.set(this.stopping ? this.parts.size : n);
  }

  private onRelease(w: number): void {
    const f = this.pool.inFlight(w);
    this.metrics.queueDepth.set({ worker: String(w) }, f.messages);
    this.metrics.queueBytes.set({ worker: String(w) }, f.bytes);
    // Resume at half budget, not at the first free slot: fewer pause/resume flips.
    if (f.messages > this.pool.budget.messages / 2 || f.bytes > this.pool.budget.bytes / 2) return;
    for (const ps of this.parts.values()) if (ps.worker === w && ps.pauses.has('budget')) this.unpause(ps, 'budget');
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const ps = this.part(batch.topic, batch.partition);
    const msgs = batch.messages;
    const started = Date.now();
    let i = 0;
    while (i < msgs.length) {
      if (!isRunning() || isStale() || this.stopping || ps.revoked || ps.pauses.size > 0) break;
      if (ps.tracker.dispatched(Number(msgs[i].offset))) {
        resolveOffset(msgs[i].offset);
        i++;
        continue;
      }
      const waited = Date.now() - started;
      const room = this.pool.room(ps.worker);
      let n = 0;
      let bytes = 0;
      while (i + n < msgs.length && n < room.messages && n < MAX_JOB_MESSAGES) {
        const size = msgs[i + n].value?.length ?? 0;
        if (n > 0 && bytes + size > room.bytes) break;
        if (n === 0 && size > room.bytes) break;
        bytes += size;
        n++;
      }
      if (n === 0) {
        // A short wait absorbs ordinary jitter; pausing costs a fetch round (kafkajs idles
        // maxWaitTime when every partition is paused), so it is for real saturation.
        if (waited < BUDGET_WAIT_MS && (await this.pool.waitForRelease(ps.worker, BUDGET_WAIT_MS - waited))) continue;
        this.pause(ps, 'budget');
        break;
      }
      const job = msgs.slice(i, i + n);
      this.dispatch(ps, job, bytes);
      resolveOffset(job[n - 1].offset);
      i += n;
    }
    if (ps.tracker.nextOffset !== undefined) this.metrics.lag.set({ topic: ps.topic, partition: String(ps.partition) }, Math.max(0, Number(batch.highWatermark) - ps.tracker.nextOffset));
    await heartbeat();
  }

  private dispatch(ps: PartState, msgs: KafkaMessage[], bytes: number): void {
    const { topic, partition, worker } = ps;
    const offsets = msgs.map((m) => m.offset);
    const job = ps.tracker.add(Number(offsets[0]), Number(offsets[offsets.length - 1]));
    this.pool.reserve(worker, msgs.length, bytes);
    this.metrics.consumed.inc({ topic, partition: String(partition) }, msgs.length);
    this.metrics.queueDepth.inc({ worker: String(worker) }, msgs.length);
    const run = this.pool.run(worker, msgs.map((m) => m.value));
    const p = this.finish(ps, job, offsets, run).finally(() => {
      this.pool.release(worker, msgs.length, bytes);
      this.inflight.delete(p);
    });
    this.inflight.add(p);
  }

  private async finish(ps: PartState, job: TrackedJob, offsets: string[], run: Promise<JobResult>): Promise<void> {
    const { topic, partition } = ps;
    try {
      const res = await run;
      for (const s of res.seconds) this.metrics.evaluation.observe(s);
      this.metrics.events.inc(res.events);
      const alerts: OutgoingAlert[] = res.alerts.map((a) => {
        this.metrics.alerts.inc({ rule: a.alert.rule, priority: a.alert.priority });
        return { alert: a.alert, json: a.json, origin: { topic, partition, offset: offsets[a.i] } };
      });
      const letters: DeadLetter[] = res.rejects.map((r) => {
        this.metrics.decodeFailures.inc({ topic });
        return { value: r.value, reason: r.reason, origin: { topic, partition, offset: offsets[r.i] } };
      });
      if (this.transactor) await this.transactor.submit({ alerts, letters }, topic, partition, job.last + 1);
      else await this.deliverer.deliver({ alerts, letters });
      ps.tracker.complete(job);
      if (this.transactor) {
        // The transaction committed this job's offsets: only drop the completed prefix.
        const point = ps.tracker.commitPoint();
        if (point !== undefined) ps.tracker.committed = point;
      }
    } catch (e) {
      if (e instanceof Aborted) return;
      this.fail(e as Error);
    }
  }

  /** Commit every partition whose contiguous completed offset moved (serialised). */
  commit(): Promise<void> {
    if (this.transactor) return Promise.resolve();
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
          this.metrics.commits.inc({ result: 'ok' });
        } catch (e) {
          this.metrics.commits.inc({ result: 'failed' });
          this.logger.warn({ err: (e as Error).message }, 'offset commit failed; retrying at the next interval');
        }
      }
      this.forgetDrained();
    });
    return this.commitChain;
  }

  private forgetDrained(): void {
    for (const ps of this.draining) if (ps.tracker.idle && ps.tracker.commitPoint() === undefined) this.draining.delete(ps);
  }

  /**
   * Stop fetching, finish and deliver in-flight work, commit, leave the group.
   * Whatever is still undelivered at the deadline is abandoned uncommitted
   * (it will be re-read): returns false then.
   */
  async stop(deadlineMs: number): Promise<boolean> {
    if (this.stopping) return false;
    this.stopping = true;
    const deadline = Date.now() + deadlineMs;
    const left = () => Math.max(0, deadline - Date.now());
    const within = <T>(p: Promise<T>, ms: number) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    if (this.committer) clearInterval(this.committer);
    if (this.consumer) {
      for (const ps of this.parts.values()) if (ps.pauses.size === 0) this.consumer.pause([{ topic: ps.topic, partitions: [ps.partition] }]);
      this.updatePaused();
    }
    const pending = this.inflight.size;
    let drained = await within((async () => {
      while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
      await this.transactor?.idle();
    })(), left() * 0.8);
    if (!drained) {
      this.logger.error({ undelivered_jobs: this.inflight.size }, 'shutdown timeout: undelivered work is left uncommitted and will be re-read');
      if (this.deliverer) this.deliverer.aborted = true;
    } else if (pending > 0) this.logger.info({ jobs: pending }, 'in-flight work delivered');
    if (this.consumer) {
      if (!this.transactor) drained = (await within(this.commit(), left())) && drained;
      await within(this.consumer.disconnect(), left());
    }
    this.joined = false;
    await Promise.allSettled(this.sinks.map((s) => s.close()));
    if (this.producer) await within(this.producer.disconnect(), left());
    await this.pool?.close();
    return drained;
  }
}
