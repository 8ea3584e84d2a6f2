/**
 * `kestrel consume` end to end on the real broker: consumers run as child
 * processes (node dist/src/cli/consume.js -c <config>), exactly as deployed.
 */
import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import {
  auditEvents, baseConfig, createTopics, expectedAlerts, httpGet, kafka, metric, produce, readTopic, reader, sleep, startConsume,
  stopConsume, tmpDir, waitFor, writeConfig, type ConsumeProcess,
} from '../pipeline/kafka-helpers';
import { RULES } from '../pipeline/kafka-helpers';
import { readRuleFiles } from '../../src/engine/load';
import { Ruleset } from '../../src/engine/ruleset';

const T = 180_000;
const dir = tmpDir();
let admin: Admin;
const running: ConsumeProcess[] = [];

const start = (cfg: Record<string, unknown>, name: string) => {
  const c = startConsume(writeConfig(dir, name, cfg));
  running.push(c);
  return c;
};

async function topics(id: string, partitions: number, extra: Record<string, number> = {}): Promise<void> {
  await createTopics(admin, { [`in-${id}`]: partitions, [`out-${id}`]: 2, [`dlq-${id}`]: 1, ...extra });
}

const values = (records: { value: Buffer | null }[]) => records.map((r) => r.value!.toString()).sort();

beforeAll(async () => {
  admin = kafka().admin();
  await admin.connect();
});

afterAll(async () => {
  await Promise.all(running.map((c) => stopConsume(c, 'SIGKILL')));
  await admin.disconnect();
});

test('known events in → exactly the alerts of `kestrel run --json`, with key and headers; poison messages → DLQ; offsets committed', async () => {
  const id = randomUUID().slice(0, 8);
  await topics(id, 3);
  const events = auditEvents(6); // 42 events
  const expected = expectedAlerts(events, dir); // the repo's rules/ decide how many alerts
  expect(expected.length).toBeGreaterThanOrEqual(6);
  const big = JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: 'big', stage: 'ResponseComplete', pad: 'x'.repeat(5000) });
  const poison = [
    { key: 'p', value: 'this is not json', partition: 0 },
    { key: 'p', value: '{"kind":"Pod","apiVersion":"v1"}', partition: 1 },
    { key: 'p', value: big, partition: 2 },
  ];
  await produce(`in-${id}`, [...events.map((value, i) => ({ key: `k${i}`, value })), ...poison]);

  const c = start(baseConfig(id, { input: { max_message_bytes: 4096 } }), `exact-${id}.yaml`);
  const port = await c.port();
  const out = await readTopic(`out-${id}`, expected.length);
  expect(values(out)).toEqual([...expected].sort());
  for (const r of out) {
    const alert = JSON.parse(r.value!.toString());
    expect(r.key).toBe(alert.rule);
    expect(r.headers).toEqual({ rule: alert.rule, priority: alert.priority, source: 'k8s_audit', input_topic: `in-${id}`, input_partition: r.headers.input_partition, input_offset: r.headers.input_offset });
  }
  // The headers point at the input message that raised the alert.
  const input = await readTopic(`in-${id}`, events.length + poison.length, { settleMs: 0 });
  const at = new Map(input.map((m) => [`${m.partition}/${m.offset}`, JSON.parse(m.value!.toString().startsWith('{') ? m.value!.toString() : '{}')]));
  for (const r of out) {
    const ev = at.get(`${r.headers.input_partition}/${r.headers.input_offset}`);
    expect(JSON.parse(r.value!.toString()).time).toBe(ev.stageTimestamp.replace(/(\.\d+)Z$/, (_: string, f: string) => `${f.padEnd(10, '0')}Z`));
  }

  const dlq = await readTopic(`dlq-${id}`, 3);
  const byReason = dlq.map((r) => ({ value: r.value!.toString(), error: r.headers['kestrel.error'], partition: r.headers['kestrel.source.partition'], topic: r.headers['kestrel.source.topic'] }));
  expect(byReason.sort((a, b) => a.partition.localeCompare(b.partition))).toEqual([
    { value: 'this is not json', error: 'invalid JSON: Unexpected token \'h\', "this is not json" is not valid JSON', partition: '0', topic: `in-${id}` },
    { value: '{"kind":"Pod","apiVersion":"v1"}', error: 'not an audit event: kind "Pod" (expected "Event" or "EventList")', partition: '1', topic: `in-${id}` },
    { value: big, error: `message larger than the 4096-byte limit (${Buffer.byteLength(big)} bytes)`, partition: '2', topic: `in-${id}` },
  ]);
  for (const r of dlq) {
    const src = input.find((m) => String(m.partition) === r.headers['kestrel.source.partition'] && m.offset === r.headers['kestrel.source.offset']);
    expect(src!.value!.toString()).toBe(r.value!.toString());
  }

  const ready = await httpGet(port, '/readyz');
  expect(ready.status).toBe(200);
  const rulesetHash = Ruleset.build(readRuleFiles([RULES]).files).ruleset!.hash;
  expect(ready.body).toBe(`{"ready":true,"reasons":[],"ruleset":"${rulesetHash}"}\n`);
  expect((await httpGet(port, '/healthz')).status).toBe(200);
  const m = (await httpGet(port, '/metrics')).body;
  expect(metric(m, 'kestrel_input_messages_total')).toBe(45);
  expect(metric(m, 'kestrel_events_total')).toBe(42);
  expect(metric(m, 'kestrel_rejected_total')).toBe(3);
  expect(metric(m, 'kestrel_dead_letters_total')).toBe(3);
  expect(metric(m, 'kestrel_alerts_total')).toBe(expected.length);
  const first = JSON.parse(expected[0]);
  expect(metric(m, 'kestrel_alerts_total', { rule: first.rule, priority: first.priority })).toBe(expected.filter((a) => JSON.parse(a).rule === first.rule).length);
  expect(metric(m, 'kestrel_evaluation_seconds_count')).toBe(45);
  // Every worker that evaluated a job reports its V8 heap (a few MB to tens of MB); the other reports nothing yet.
  const heaps = m.split('\n').filter((l) => l.startsWith('kestrel_worker_heap_bytes{')).map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
  expect(heaps.length >= 1 && heaps.length <= 2).toBe(true);
  for (const h of heaps) expect(h > 1e6 && h < 512e6).toBe(true);
  expect(metric(m, 'kestrel_paused_partitions')).toBe(0);
  expect(metric(m, 'kestrel_breaker_state')).toBe(0);

  // SIGTERM: drain, commit, leave: committed offsets reach the end of every partition.
  expect(await stopConsume(c)).toBe(0);
  const [committed] = await admin.fetchOffsets({ groupId: `g-${id}`, topics: [`in-${id}`] });
  const ends = await admin.fetchTopicOffsets(`in-${id}`);
  expect(committed.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual(ends.map((p) => [p.partition, p.high]).sort());
}, T);

test('two consumers in one group share the partitions and together produce exactly the expected alerts', async () => {
  const id = randomUUID().slice(0, 8);
  await topics(id, 4);
  const cfg = baseConfig(id, { workers: { count: 1 } });
  const a = start(cfg, `a-${id}.yaml`);
  const b = start(cfg, `b-${id}.yaml`);
  const assignments = (c: ConsumeProcess) => c.logLines().filter((l) => l.msg === 'joined consumer group').map((l) => l.assignment as Record<string, number[]>);
  // Both members in the group, with two partitions each.
  await waitFor('both consumers assigned', () => [a, b].every((c) => (assignments(c).at(-1)?.[`in-${id}`] ?? []).length === 2), 60_000);
  const events = auditEvents(20);
  const expected = expectedAlerts(events, dir);
  await produce(`in-${id}`, events.map((value, i) => ({ key: `k${i}`, value })));
  const out = await readTopic(`out-${id}`, expected.length);
  expect(values(out)).toEqual([...expected].sort());
  const parts = [a, b].map((c) => assignments(c).at(-1)![`in-${id}`]);
  expect([...parts[0], ...parts[1]].sort()).toEqual([0, 1, 2, 3]);
  expect(await stopConsume(a)).toBe(0);
  expect(await stopConsume(b)).toBe(0);
}, T);

test('a consumer killed with SIGKILL mid-stream and restarted leaves every expected alert on the output topic', async () => {
  const id = randomUUID().slice(0, 8);
  await topics(id, 2);
  const first = auditEvents(150); // 1050 events
  const second = auditEvents(150, 150);
  const expected = expectedAlerts([...first, ...second], dir);
  await produce(`in-${id}`, first.map((value, i) => ({ key: `k${i}`, value })));
  const cfg = baseConfig(id, { workers: { count: 1, max_in_flight_messages: 20 } });
  const out = await reader(`out-${id}`);
  try {
    const c1 = start(cfg, `k1-${id}.yaml`);
    await waitFor('first alerts', () => out.records.length > 0);
    c1.proc.kill('SIGKILL');
    await c1.exited;
    const before = out.records.length;
    await produce(`in-${id}`, second.map((value, i) => ({ key: `k${i}`, value })));
    expect(before).toBeLessThan(expected.length);
    const c2 = start(cfg, `k2-${id}.yaml`);
    const want = new Set(expected);
    await waitFor('every expected alert', () => new Set(out.records.map((r) => r.value!.toString())).size >= want.size, 90_000);
    await sleep(1_000);
    const got = out.records.map((r) => r.value!.toString());
    // None missing, nothing unexpected; duplicates only from uncommitted work before the kill.
    expect([...new Set(got)].sort()).toEqual([...want].sort());
    expect(got.length).toBeGreaterThanOrEqual(expected.length);
    expect(await stopConsume(c2)).toBe(0);
  } finally {
    await out.stop();
  }
}, T);

test('exactly_once: killed and restarted, a read_committed reader sees every alert exactly once', async () => {
  const id = randomUUID().slice(0, 8);
  await topics(id, 2);
  const first = auditEvents(100);
  const second = auditEvents(100, 100);
  const expected = expectedAlerts([...first, ...second], dir);
  await produce(`in-${id}`, [...first.map((value, i) => ({ key: `k${i}`, value })), { key: 'bad', value: 'garbage' }]);
  const cfg = baseConfig(id, { workers: { count: 1, max_in_flight_messages: 20 }, delivery: { mode: 'exactly_once', transactional_id: `tx-${id}` } });
  const out = await reader(`out-${id}`, true);
  try {
    const c1 = start(cfg, `e1-${id}.yaml`);
    await waitFor('first committed alerts', () => out.records.length > 0);
    c1.proc.kill('SIGKILL');
    await c1.exited;
    await produce(`in-${id}`, second.map((value, i) => ({ key: `k${i}`, value })));
    const c2 = start(cfg, `e2-${id}.yaml`);
    await waitFor(`${expected.length} alerts`, () => out.records.length >= expected.length, 120_000);
    await sleep(2_000);
    expect(out.records.map((r) => r.value!.toString()).sort()).toEqual([...expected].sort());
    expect(await stopConsume(c2)).toBe(0);
  } finally {
    await out.stop();
  }
  const dlq = await readTopic(`dlq-${id}`, 1, { readCommitted: true });
  expect(dlq.map((r) => [r.value!.toString(), r.headers['kestrel.error']])).toEqual([['garbage', 'invalid JSON: Unexpected token \'g\', "garbage" is not valid JSON']]);
}, T);

test('output topic unavailable: breaker opens, partitions pause, /readyz false; after recovery everything is delivered', async () => {
  const id = randomUUID().slice(0, 8);
  await topics(id, 2);
  const cfg = baseConfig(id, { breaker: { timeout_ms: 2_000, reset_timeout_ms: 1_000, volume_threshold: 1 } });
  const c = start(cfg, `b-${id}.yaml`);
  const port = await c.port();
  await waitFor('ready', async () => (await httpGet(port, '/readyz')).status === 200);
  await admin.deleteTopics({ topics: [`out-${id}`] });
  const events = auditEvents(20);
  const expected = expectedAlerts(events, dir);
  await produce(`in-${id}`, events.map((value, i) => ({ key: `k${i}`, value })));
  await waitFor('breaker open and partitions paused', async () => {
    const m = (await httpGet(port, '/metrics')).body;
    return metric(m, 'kestrel_breaker_state', { output: 'kafka' }) === 2 && metric(m, 'kestrel_paused_partitions') === 2;
  }, 60_000);
  const ready = await httpGet(port, '/readyz');
  expect(ready.status).toBe(503);
  expect(JSON.parse(ready.body).reasons).toContain('output kafka: breaker open');
  // Nothing committed beyond undelivered work while the sink is down.
  const [committed] = await admin.fetchOffsets({ groupId: `g-${id}`, topics: [`in-${id}`] });
  const ends = await admin.fetchTopicOffsets(`in-${id}`);
  const total = (xs: { offset?: string; high?: string }[]) => xs.reduce((s, p) => s + Math.max(0, Number(p.offset ?? p.high)), 0);
  expect(total(committed.partitions)).toBeLessThan(total(ends.map((e) => ({ high: e.high }))));

  await createTopics(admin, { [`out-${id}`]: 2 });
  const out = await readTopic(`out-${id}`, expected.length, { timeoutMs: 90_000 });
  expect([...new Set(values(out))]).toEqual([...expected].sort());
  await waitFor('breaker closed and partitions resumed', async () => {
    const m = (await httpGet(port, '/metrics')).body;
    return metric(m, 'kestrel_breaker_state', { output: 'kafka' }) === 0 && metric(m, 'kestrel_paused_partitions') === 0;
  }, 30_000);
  expect(await stopConsume(c)).toBe(0);
  const [after] = await admin.fetchOffsets({ groupId: `g-${id}`, topics: [`in-${id}`] });
  expect(total(after.partitions)).toBe(total(ends.map((e) => ({ high: e.high }))));
}, T);
