/**
 * One service, one data path (real broker, real HTTP, real files): the same
 * events give the same alert bytes whichever input carries them, and shaping,
 * the HTTP output, file rotation, dead letters, breakers and readiness behave
 * the same for the Kafka, webhook and file inputs.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import pino from 'pino';
import { stringify } from 'yaml';
import { parseServiceConfig } from '../../src/config/load';
import { Service } from '../../src/pipeline/service';
import { errorsOf, validators } from '../formats/helpers';
import { postJson, recordingServer } from '../sinks/helpers';
import { auditEvents, brokers, createTopics, expectedAlerts, httpGet, kafka, metric, produce, readTopic, RULES, tmpDir, waitFor } from '../pipeline/kafka-helpers';

const T = 120_000;
const silent = pino({ level: 'silent' });
let admin: Admin;

beforeAll(async () => {
  admin = kafka().admin();
  await admin.connect();
});
afterAll(() => admin.disconnect());

function config(dir: string, doc: Record<string, unknown>) {
  return parseServiceConfig(stringify({ rules: { paths: [RULES] }, engine: { workers: 2 }, log: { level: 'silent' }, shutdown_timeout_ms: 10_000, ...doc }), dir, {});
}

const eventList = (events: string[]) => ({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: events.map((e) => JSON.parse(e)) });
const fileLines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []);
const sorted = (xs: string[]) => [...xs].sort();

test('a Kafka input and a webhook input in one process: the same events give the same alert bytes on every output; 200 only after the Kafka output acknowledged', async () => {
  const id = randomUUID().slice(0, 8);
  await createTopics(admin, { [`in-${id}`]: 2, [`out-${id}`]: 1, [`dlq-${id}`]: 1 });
  const dir = tmpDir();
  const events = auditEvents(1);
  const expected = expectedAlerts(events, dir);
  expect(expected.length).toBeGreaterThan(3);
  const archive = join(dir, 'alerts.jsonl');
  const svc = await Service.start(
    config(dir, {
      inputs: [
        { type: 'kafka', name: 'audit-topic', topics: [`in-${id}`], group_id: `g-${id}`, session_timeout_ms: 6_000 },
        { type: 'webhook', name: 'apiserver', host: '127.0.0.1', port: 0 },
      ],
      kafka: { brokers: brokers() },
      outputs: [
        { type: 'kafka', name: 'alerts', topic: `out-${id}` },
        { type: 'file', name: 'archive', path: archive },
      ],
      dead_letters: { topic: `dlq-${id}` },
    }),
    { logger: silent },
  );
  try {
    const r = await postJson(svc.ports.inputs.apiserver, eventList(events));
    expect([r.status, JSON.parse(r.body)]).toEqual([200, { events: events.length, alerts: expected.length }]);
    // Answered only after the brokers acknowledged: the records are on the topic already.
    const ends = await admin.fetchTopicOffsets(`out-${id}`);
    expect(ends.reduce((n, p) => n + Number(p.high), 0)).toBe(expected.length);

    await produce(`in-${id}`, events.map((value, i) => ({ key: `k${i}`, value })));
    const out = await readTopic(`out-${id}`, 2 * expected.length);
    const byWebhook = out.filter((m) => m.headers.input === 'apiserver').map((m) => m.value!.toString());
    const byKafka = out.filter((m) => m.headers.input_topic === `in-${id}`).map((m) => m.value!.toString());
    expect(sorted(byWebhook)).toEqual(sorted(expected));
    expect(sorted(byKafka)).toEqual(sorted(expected));
    await waitFor('the file output', () => fileLines(archive).length === 2 * expected.length, 30_000);
    expect(sorted(fileLines(archive))).toEqual(sorted([...expected, ...expected]));
  } finally {
    await svc.stop();
  }
}, T);

type Feed = 'kafka' | 'webhook' | 'file';

/** A service with one input of the given type; `feed` delivers events to it. */
async function serviceWith(kind: Feed, dir: string, id: string, doc: Record<string, unknown>, fileEvents: string[] = []) {
  const input =
    kind === 'kafka' ? { type: 'kafka', name: 'in', topics: [`in-${id}`], group_id: `g-${id}`, session_timeout_ms: 6_000 }
      : kind === 'webhook' ? { type: 'webhook', name: 'in', host: '127.0.0.1', port: 0 }
        : { type: 'file', name: 'in', path: join(dir, 'events.jsonl') };
  if (kind === 'file') writeFileSync(join(dir, 'events.jsonl'), fileEvents.join('\n') + '\n');
  const svc = await Service.start(config(dir, { inputs: [input], kafka: { brokers: brokers() }, dead_letters: { topic: `dlq-${id}` }, metrics: { host: '127.0.0.1', port: 0 }, ...doc }), { logger: silent });
  const feed = async (events: string[]) => {
    // One key: one partition, so the events keep their order (throttling keeps the first of each rule).
    if (kind === 'kafka') await produce(`in-${id}`, events.map((value) => ({ key: 'cluster-1', value })));
    if (kind === 'webhook') return postJson(svc.ports.inputs.in, eventList(events));
    return undefined;
  };
  return { svc, feed };
}

describe.each<Feed>(['kafka', 'webhook', 'file'])('the same pipeline behind a %s input', (kind) => {
  test('static fields, throttling, the HTTP output and file rotation give exactly the shaped alerts; undecodable input is a dead letter (webhook: refused whole)', async () => {
    const id = randomUUID().slice(0, 8);
    await createTopics(admin, { [`in-${id}`]: 2, [`dlq-${id}`]: 1 });
    const dir = tmpDir();
    const events = auditEvents(2);
    // Throttled per rule for 10 minutes: one alert per rule, with the static field.
    const firstPerRule = new Map<string, Record<string, any>>();
    for (const a of expectedAlerts(events, dir).map((l) => JSON.parse(l))) if (!firstPerRule.has(a.rule)) firstPerRule.set(a.rule, a);
    const want = [...firstPerRule.values()].map((a) => ({ ...a, output_fields: { ...a.output_fields, cluster: 'c1' } }));
    const suppressed = expectedAlerts(events, dir).length - want.length;
    expect(suppressed).toBeGreaterThan(0);

    const sidekick = await recordingServer();
    const archive = join(dir, 'alerts.jsonl');
    const poison = '{"kind":"Event","auditID":';
    const { svc, feed } = await serviceWith(kind, dir, id, {
      shaping: { fields: { cluster: 'c1' }, throttle: { window_ms: 600_000 } },
      outputs: [
        { type: 'http', name: 'sidekick', url: `http://127.0.0.1:${sidekick.port}/` },
        { type: 'file', name: 'archive', path: archive, max_bytes: 1_500, keep: 50 },
      ],
    }, [...events.slice(0, 3), poison, ...events.slice(3)]);
    try {
      if (kind === 'kafka') await feed([...events.slice(0, 3), poison, ...events.slice(3)]);
      if (kind === 'webhook') {
        const refused = await postJson(svc.ports.inputs.in, { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [JSON.parse(events[0]), { kind: 'Pod' }] });
        expect(refused.status).toBe(400);
        expect(sidekick.bodies).toEqual([]);
        expect((await feed(events))!.status).toBe(200);
      }
      await waitFor('every shaped alert on the HTTP output', () => sidekick.bodies.length >= want.length, 60_000);
      const byRule = (xs: Record<string, any>[]) => [...xs].sort((a, b) => a.rule.localeCompare(b.rule));
      expect(byRule(sidekick.bodies.map((b) => JSON.parse(b)))).toEqual(byRule(want));

      // Rotation: the current file and its rotated predecessors hold every alert once.
      await waitFor('the file output', () => {
        const all = [archive, ...Array.from({ length: 50 }, (_, i) => `${archive}.${i + 1}`)].flatMap(fileLines);
        return all.length === want.length;
      }, 30_000);
      expect(existsSync(`${archive}.1`)).toBe(true);
      const all = [archive, ...Array.from({ length: 50 }, (_, i) => `${archive}.${i + 1}`)].flatMap(fileLines);
      expect(byRule(all.map((l) => JSON.parse(l)))).toEqual(byRule(want));

      const m = (await httpGet(svc.ports.metrics!, '/metrics')).body;
      expect(metric(m, 'kestrel_alerts_suppressed_total')).toBe(suppressed);
      expect(metric(m, 'kestrel_output_alerts_total', { output: 'sidekick' })).toBe(want.length);
      if (kind !== 'webhook') {
        const dlq = await readTopic(`dlq-${id}`, 1, { settleMs: 500 });
        // Kafka: the message itself; a file: where it is (the splitter keeps no bytes of a broken document).
        const where = kind === 'kafka' ? { 'kestrel.source.topic': `in-${id}` } : { 'kestrel.source.input': 'in', 'kestrel.source.line': '4' };
        expect(dlq.map((d) => [d.value?.toString() ?? null, d.headers])).toEqual([[kind === 'kafka' ? poison : null, expect.objectContaining({ ...where, 'kestrel.error': expect.stringMatching(/^invalid JSON: |JSON document/) })]]);
        expect(metric(m, 'kestrel_dead_letters_total')).toBe(1);
      }
    } finally {
      await svc.stop();
      await sidekick.close();
    }
  }, T);

  test('an HTTP output that is down opens its breaker, /readyz says so, and everything is delivered after it recovers', async () => {
    const id = randomUUID().slice(0, 8);
    await createTopics(admin, { [`in-${id}`]: 2, [`dlq-${id}`]: 1 });
    const dir = tmpDir();
    const events = auditEvents(1);
    const expected = expectedAlerts(events, dir);
    let down = true;
    const sidekick = await recordingServer(() => (down ? 503 : 200));
    const { svc, feed } = await serviceWith(kind, dir, id, {
      outputs: [{ type: 'http', name: 'sidekick', url: `http://127.0.0.1:${sidekick.port}/`, max_retry_ms: 2_000, breaker: { reset_timeout_ms: 500, volume_threshold: 1 } }],
    }, events);
    try {
      const first = await feed(events);
      if (kind === 'webhook') expect(first!.status).toBe(503);
      await waitFor('breaker open in /readyz', async () => {
        const r = await httpGet(svc.ports.metrics!, '/readyz');
        return r.status === 503 && JSON.parse(r.body).reasons.includes('output sidekick: breaker open');
      }, 30_000);
      expect((await httpGet(svc.ports.metrics!, '/healthz')).status).toBe(200);
      down = false;
      if (kind === 'webhook') {
        await waitFor('the sender retry is accepted', async () => (await feed(events))!.status === 200, 30_000);
      }
      await waitFor('every alert delivered after recovery', () => new Set(sidekick.bodies).size === expected.length, 60_000);
      expect(sorted([...new Set(sidekick.bodies)])).toEqual(sorted(expected));
      await waitFor('ready again', async () => (await httpGet(svc.ports.metrics!, '/readyz')).status === 200, 30_000);
    } finally {
      await svc.stop();
      await sidekick.close();
    }
  }, T);
});

test('every output chooses its payload: Falco JSON, OCSF and ECS of the same alerts from one service, each valid against its published schema', async () => {
  const dir = tmpDir();
  const events = auditEvents(1);
  const expected = expectedAlerts(events, dir).map((l) => JSON.parse(l));
  writeFileSync(join(dir, 'events.jsonl'), events.join('\n') + '\n');
  const out = (name: string) => join(dir, `${name}.jsonl`);
  const svc = await Service.start(config(dir, {
    inputs: [{ type: 'file', path: join(dir, 'events.jsonl') }],
    outputs: [
      { type: 'file', name: 'falco', path: out('falco') },
      { type: 'file', name: 'ocsf', path: out('ocsf'), format: 'ocsf', include_event: 'metadata' },
      { type: 'file', name: 'ecs', path: out('ecs'), format: 'ecs' },
    ],
  }), { logger: silent });
  try {
    await svc.inputsFinished;
    await waitFor('three outputs', () => ['falco', 'ocsf', 'ecs'].every((n) => fileLines(out(n)).length === expected.length), 30_000);
  } finally {
    await svc.stop();
  }
  const v = validators();
  const [falco, ocsf, ecs] = ['falco', 'ocsf', 'ecs'].map((n) => fileLines(out(n)).map((l) => JSON.parse(l)));
  expect(falco).toEqual(expected);
  for (const [validate, docs] of [[v['falco-alert'], falco], [v['ocsf-detection-finding'], ocsf], [v['ecs-alert'], ecs]] as const) for (const d of docs) expect([validate(d), errorsOf(validate)]).toEqual([true, []]);
  // The same alerts, field for field: rule, user and source address come from the audit event.
  expect(ocsf.map((f) => f.finding_info.title)).toEqual(expected.map((a) => a.rule));
  expect(ecs.map((e) => e.rule.name)).toEqual(expected.map((a) => a.rule));
  const auditIds = events.map((e) => JSON.parse(e));
  const userOf = (id: string) => auditIds.find((e) => e.auditID === id)?.user?.username;
  expect(ocsf.map((f) => f.evidences[0].actor.user.name)).toEqual(expected.map((a) => userOf(a.output_fields['ka.auditid'])));
  expect(ecs.map((e) => e.user?.name)).toEqual(expected.map((a) => userOf(a.output_fields['ka.auditid'])));
}, T);

test('a webhook with a spool answers 200 while its output is down, keeps the requests across a restart, delivers them all once the output is back, and answers 503 when full', async () => {
  const dir = tmpDir();
  const spool = join(dir, 'spool');
  const events = auditEvents(1);
  const expected = expectedAlerts(events, dir);
  let down = true;
  const sidekick = await recordingServer(() => (down ? 503 : 200));
  const doc = {
    inputs: [{ type: 'webhook', name: 'apiserver', host: '127.0.0.1', port: 0, spool: { path: spool, max_bytes: 1_048_576 } }],
    outputs: [{ type: 'http', name: 'sidekick', url: `http://127.0.0.1:${sidekick.port}/`, breaker: { reset_timeout_ms: 300, volume_threshold: 1 } }],
    metrics: { host: '127.0.0.1', port: 0 },
  };
  let svc = await Service.start(config(dir, doc), { logger: silent });
  try {
    const r = await postJson(svc.ports.inputs.apiserver, eventList(events));
    expect([r.status, JSON.parse(r.body)]).toEqual([200, { events: events.length, alerts: 0 }]);
    const m = (await httpGet(svc.ports.metrics!, '/metrics')).body;
    expect(metric(m, 'kestrel_spool_requests', { input: 'apiserver' })).toBe(1);
    await waitFor('the output refusing', () => sidekick.requests.length > 0, 30_000);
  } finally {
    await svc.stop(1_000); // the output is still down: the spooled request stays undelivered
  }
  expect(sidekick.bodies).toEqual([]);

  down = false;
  svc = await Service.start(config(dir, doc), { logger: silent });
  try {
    await waitFor('every alert after the restart', () => new Set(sidekick.bodies).size === expected.length, 60_000);
    expect(sorted([...new Set(sidekick.bodies)])).toEqual(sorted(expected));
    await waitFor('an empty spool', async () => metric((await httpGet(svc.ports.metrics!, '/metrics')).body, 'kestrel_spool_requests', { input: 'apiserver' }) === 0, 30_000);
  } finally {
    await svc.stop();
  }

  // Full: more undelivered bytes than max_bytes.
  down = true;
  svc = await Service.start(config(dir, { ...doc, inputs: [{ ...doc.inputs[0], spool: { path: join(dir, 'small'), max_bytes: 4_096 } }] }), { logger: silent });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await postJson(svc.ports.inputs.apiserver, eventList(events.slice(0, 2)))).status);
    expect(statuses[0]).toBe(200);
    expect(statuses).toContain(503);
  } finally {
    await svc.stop(1_000);
    await sidekick.close();
  }
}, T);

test('a managed-cluster envelope through the service: AKS records of the chosen category are evaluated, a cut record is a dead letter with its index', async () => {
  const dir = tmpDir();
  const [event] = auditEvents(1).slice(1, 2); // the exec event: one alert
  const expected = expectedAlerts([event], dir);
  expect(expected).toHaveLength(1);
  const record = (category: string, log: string) => ({ category, operationName: 'Microsoft.ContainerService/managedClusters/diagnosticLogs/Read', properties: { log } });
  const message = { records: [record('kube-audit', event), record('kube-audit-admin', event), record('kube-audit', event.slice(0, 40))] };
  writeFileSync(join(dir, 'aks.jsonl'), JSON.stringify(message) + '\n');
  const archive = join(dir, 'alerts.jsonl');
  const svc = await Service.start(config(dir, {
    inputs: [{ type: 'file', path: join(dir, 'aks.jsonl'), format: 'aks', aks_categories: ['kube-audit'] }],
    outputs: [{ type: 'file', path: archive }],
    metrics: { host: '127.0.0.1', port: 0 },
  }), { logger: silent });
  try {
    await svc.inputsFinished;
    await waitFor('the alert', () => fileLines(archive).length === 1, 30_000);
    expect(fileLines(archive)).toEqual(expected);
    const m = (await httpGet(svc.ports.metrics!, '/metrics')).body;
    expect(metric(m, 'kestrel_dead_letters_unrouted_total', { input: 'file' })).toBe(1);
    expect(metric(m, 'kestrel_events_total', { input: 'file' })).toBe(1);
  } finally {
    await svc.stop();
  }
}, T);
