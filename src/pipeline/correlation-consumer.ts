/**
 * Correlation mode kafka: the stage that correlates. A second consumer group
 * in every process (named like the internal topic) reads the topic the rule
 * workers' prepared matches are written to (correlation-topic.ts); each
 * partition it is assigned has its own Correlator. Its alerts go through
 * shaping to the outputs, and its offsets are committed only once they are
 * delivered (exactly_once: alerts and offsets in one transaction per internal
 * partition, the same per-partition producers as the input: transactor.ts).
 *
 * State rebuild: a partition's correlator lives in memory only. When a
 * partition is assigned, its state is rebuilt by replaying the partition from
 * a bounded lookback before the group's committed offset (records of the last
 * longest-timespan + tolerance + idle_ms + 60 s, by record time) up to that
 * offset: the alerts those records raise were delivered by the previous owner
 * before it committed, so they are suppressed; windows that already alerted
 * are muted again by the replay itself. From the committed offset on the
 * partition is live.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { ProducerHandle } from '../sinks/renewable-producer';
import type { Logger } from 'pino';
import type { CorrelationConfig } from '../config/types';
import type { Alert } from '../engine/alert';
import type { Correlator } from '../engine/correlation/correlator';
import type { Ruleset } from '../engine/ruleset';
import type { Metrics } from '../observability/metrics';
import type { AlertOrigin } from '../sinks/types';
import { CorrelationMetrics, signature } from './correlation-stage';
import { decodeRecord, tickMessage } from './correlation-topic';
import type { Evaluator } from './evaluate';
import { Aborted, type OutputSet } from './outputs';
import type { Transactor } from './transactor';

export interface CorrelationConsumerDeps {
  kafka: Kafka;
  topic: string;
  /** The consumer group (the topic's name). */
  groupId: string;
  cfg: CorrelationConfig;
  /** The running rules (a reload may change the correlation rules: partitions assigned later use the new ones). */
  ruleset: () => Ruleset;
  evaluator: Evaluator;
  outputs: OutputSet;
  /** exactly_once: alerts and offsets committed in per-partition transactions. */
  transactor?: Transactor;
  /** Writes the ticks (a plain idempotent producer). */
  producer: ProducerHandle;
  sessionTimeoutMs: number;
  metrics: Metrics;
  logger: Logger;
}

interface Part {
  partition: number;
  correlator: Correlator | undefined;
  /** Offsets below this were processed and committed by a previous owner: their alerts are not emitted again. */
  replayUntil: number;
  /** The replay start is set (seek done): records may be applied. */
  ready: boolean;
  /** Newest event time seen in the partition (matches and ticks). */
  maxNs: bigint;
  /** Wall-clock ms of the last record. */
  lastRecord: number;
  tickSent: boolean;
  /** Sources of the matches taken lately (an input message read twice writes its matches twice). */
  seen: RecentSet;
}

/** A set that forgets its oldest members past `capacity`. */
class RecentSet {
  private readonly items = new Set<string>();

  constructor(private readonly capacity: number) {}

  /** Adds `v`; false when it was already there. */
  add(v: string): boolean {
    if (this.items.has(v)) return false;
    this.items.add(v);
    if (this.items.size > this.capacity) this.items.delete(this.items.values().next().value as string);
    return true;
  }
}

/** How many match sources each partition remembers to drop re-written matches. */
const SEEN_CAPACITY = 200_000;

const MARGIN_MS = 60_000;

export class CorrelationConsumer {
  private consumer!: Consumer;
  private readonly parts = new Map<number, Part>();
  private readonly counters: CorrelationMetrics;
  private admin: ReturnType<Kafka['admin']> | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly inflight = new Set<Promise<unknown>>();
  readonly failed: Promise<Error>;
  private fail!: (e: Error) => void;
  private readonly log: Logger;
  private rulesSig: string;

  constructor(private readonly d: CorrelationConsumerDeps) {
    this.counters = new CorrelationMetrics(d.metrics);
    this.rulesSig = signature(d.ruleset().correlations);
    this.failed = new Promise((r) => (this.fail = r));
    this.log = d.logger.child({ stage: 'correlation', topic: d.topic });
  }

  async start(): Promise<void> {
    const { kafka, groupId, topic } = this.d;
    this.admin = kafka.admin();
    await this.admin.connect();
    this.consumer = kafka.consumer({ groupId, sessionTimeout: this.d.sessionTimeoutMs, readUncommitted: false, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => this.onJoin(payload.memberAssignment[topic] ?? []));
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.fail(new Error(`correlation consumer stopped: ${payload.error.message}`));
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 16, eachBatch: (p) => this.track(this.onBatch(p)) });
    const every = Math.max(100, Math.floor(this.d.cfg.idleMs / 2));
    this.ticker = setInterval(() => void this.tick(), every);
    this.ticker.unref();
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }

  /** Partitions no longer assigned forget their state; new ones are paused until their replay start is set. */
  private onJoin(assigned: number[]): void {
    this.assigned = new Set(assigned);
    for (const p of this.parts.keys()) if (!this.assigned.has(p)) this.parts.delete(p);
    this.log.info({ partitions: assigned }, 'correlation partitions assigned');
    this.startOver(assigned.filter((p) => !this.parts.has(p)));
  }

  private assigned = new Set<number>();

  /** Fresh state for these partitions, rebuilt by replay (paused meanwhile). */
  private startOver(partitions: number[]): void {
    const fresh = partitions.map((partition): Part => ({ partition, correlator: undefined, replayUntil: 0, ready: false, maxNs: 0n, lastRecord: Date.now(), tickSent: false, seen: new RecentSet(SEEN_CAPACITY) }));
    if (fresh.length === 0) return;
    for (const part of fresh) this.parts.set(part.partition, part);
    this.consumer.pause([{ topic: this.d.topic, partitions: partitions }]);
    void this.track(this.rebuild(fresh)).catch((e: Error) => this.fail(new Error(`correlation state rebuild: ${e.message}`)));
    this.observe();
  }

  /** Where each new partition's replay starts, and up to where its alerts were already delivered. */
  private async rebuild(fresh: Part[]): Promise<void> {
    const { topic, groupId, cfg } = this.d;
    const rs = this.d.ruleset();
    const longest = Math.max(0, ...rs.correlations.map((c) => c.timespanMs));
    const since = Date.now() - (longest + cfg.toleranceMs + cfg.idleMs + MARGIN_MS);
    const admin = this.admin!;
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const low = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.low)]));
    const byTime = new Map((await admin.fetchTopicOffsetsByTimestamp(topic, since)).map((o) => [o.partition, Number(o.offset)]));
    for (const part of fresh) {
      if (this.parts.get(part.partition) !== part) continue; // revoked meanwhile
      const c = Number(committed?.partitions.find((p) => p.partition === part.partition)?.offset ?? -1);
      part.correlator = this.newCorrelator(rs, part.partition);
      if (c >= 0) {
        part.replayUntil = c;
        const start = Math.max(low.get(part.partition) ?? 0, Math.min(c, byTime.get(part.partition) ?? c));
        this.consumer.seek({ topic, partition: part.partition, offset: String(start) });
        this.log.info({ partition: part.partition, from: start, committed: c }, 'correlation state: replaying the partition up to its committed offset');
      }
      part.ready = true;
      part.lastRecord = Date.now();
    }
    this.consumer.resume([{ topic, partitions: fresh.map((p) => p.partition) }]);
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const part = this.parts.get(batch.partition);
    // Not assigned, or its replay start is not set yet: kafkajs fetches it again from the resolved offset.
    if (!part || !part.ready || this.stopping || isStale()) return;
    const raised: { alert: Alert; origin: AlertOrigin }[] = [];
    let last = -1;
    let suppressed = 0;
    let consumed = 0;
    let duplicates = 0;
    for (const m of batch.messages) {
      if (!isRunning() || isStale() || this.parts.get(batch.partition) !== part) break;
      const offset = Number(m.offset);
      last = offset;
      const rec = decodeRecord(m.value);
      let alerts: Alert[] = [];
      if ('error' in rec) this.log.warn({ partition: part.partition, offset, reason: rec.error }, 'correlation topic: record skipped');
      else if ('tick' in rec) {
        if (rec.tick > part.maxNs) part.maxNs = rec.tick;
        alerts = part.correlator?.advance(rec.tick) ?? [];
      } else if (rec.src !== undefined && !part.seen.add(`${rec.input.correlation}\u0000${rec.input.rule}\u0000${rec.src}`)) {
        duplicates++;
      } else {
        consumed++;
        const t = BigInt(rec.input.timeNs);
        if (t > part.maxNs) part.maxNs = t;
        alerts = part.correlator?.accept(rec.input) ?? [];
      }
      if (offset < part.replayUntil) suppressed += alerts.length;
      else for (const alert of alerts) raised.push({ alert, origin: { topic: batch.topic, partition: batch.partition, offset: m.offset } });
    }
    if (last < 0) return;
    part.lastRecord = Date.now();
    part.tickSent = false;
    this.counters.inputs('consumed', consumed);
    this.counters.inputs('duplicate', duplicates);
    if (suppressed > 0) this.log.debug({ partition: part.partition, suppressed }, 'correlation state replay: alerts already delivered before the committed offset');
    this.counters.alerts(raised.map((r) => r.alert));
    this.observe();
    const next = last + 1;
    const out = { alerts: this.d.evaluator.finish(raised), letters: [] };
    try {
      if (this.d.transactor) await this.d.transactor.submit(out, batch.topic, batch.partition, next);
      else {
        await this.d.outputs.deliver(out);
        await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(next) }]);
      }
    } catch (e) {
      // Shutdown, fenced, or the commit failed in a rebalance: this state is not the committed one any more.
      // The partition's next owner (this process again, if it kept it) replays it from the committed offset.
      if (this.parts.get(batch.partition) !== part) return;
      this.parts.delete(batch.partition);
      if (this.stopping) return;
      // Fenced (exactly_once): another process owns it now; if the group gives it back, the next join rebuilds it.
      if (e instanceof Aborted) return;
      this.log.warn({ partition: batch.partition, err: (e as Error).message }, 'correlation commit failed: the partition is rebuilt from its committed offset');
      if (this.assigned.has(batch.partition)) this.startOver([batch.partition]);
      return;
    }
    resolveOffset(String(last));
    await heartbeat();
  }

  /** Partitions quiet for idle_ms with matches waiting get a tick: time moves on without new events. */
  private async tick(): Promise<void> {
    const now = Date.now();
    const tol = BigInt(this.d.cfg.toleranceMs) * 1_000_000n;
    for (const part of this.parts.values()) {
      if (!part.ready || part.tickSent || !part.correlator || now - part.lastRecord < this.d.cfg.idleMs) continue;
      if (part.correlator.stats().pending === 0 || part.maxNs === 0n) continue;
      part.tickSent = true;
      try {
        await this.d.producer.send({ topic: this.d.topic, acks: -1, messages: [tickMessage(part.partition, part.maxNs + tol)] });
      } catch (e) {
        part.tickSent = false;
        this.log.warn({ partition: part.partition, err: (e as Error).message }, 'correlation tick not written; retrying');
      }
    }
  }

  private observe(): void {
    this.counters.observe([...this.parts.values()].flatMap((p) => (p.correlator ? [p.correlator] : [])));
  }

  /**
   * A reload changed the correlation rules: every partition's state starts
   * over with the new rules (matches already taken are not replayed into them).
   */
  swap(rs: Ruleset): void {
    const sig = signature(rs.correlations);
    if (sig === this.rulesSig) return;
    this.rulesSig = sig;
    for (const part of this.parts.values()) if (part.correlator) part.correlator = this.newCorrelator(rs, part.partition);
    this.log.info('correlation rules changed: the state of every correlation partition starts over');
    this.observe();
  }

  private newCorrelator(rs: Ruleset, partition: number): Correlator | undefined {
    const { cfg } = this.d;
    return rs.newCorrelator({ toleranceMs: cfg.toleranceMs, maxGroups: cfg.maxGroups, onLimit: (m) => this.log.warn({ partition }, m) });
  }

  /** Stop taking records; the batch being delivered finishes (its offsets commit), then the group is left. */
  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    if (this.ticker) clearInterval(this.ticker);
    const left = () => Math.max(0, deadline - Date.now());
    const within = (p: Promise<unknown>) => Promise.race([p.then(() => undefined, () => undefined), new Promise<void>((r) => setTimeout(r, left()).unref())]);
    await within(Promise.allSettled([...this.inflight]));
    if (this.consumer) await within(this.consumer.disconnect());
    if (this.admin) await within(this.admin.disconnect());
  }
}
