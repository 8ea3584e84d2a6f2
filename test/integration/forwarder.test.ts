/**
 * Webhook → Kafka: `kestrel serve` in forwarder mode and the webhook input of
 * `kestrel consume` answer 200 only after the events are on the input topic.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import {
  auditEvents, baseConfig, brokers, createTopics, expectedAlerts, kafka, produce, readTopic, ROOT, startConsume, stopConsume, tmpDir, waitFor, writeConfig,
} from '../pipeline/kafka-helpers';
import { conformancePath, testWithConformance } from '../support/conformance-data';

function post(port: number, path: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const eventList = (lines: string[]) => JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: lines.map((l) => JSON.parse(l)) });

let admin: Admin;
beforeAll(async () => {
  admin = kafka().admin();
  await admin.connect();
});
afterAll(async () => admin.disconnect());

test('consume with a webhook input: a posted EventList is produced to the input topic, then evaluated', async () => {
  const id = randomUUID().slice(0, 8);
  await createTopics(admin, { [`in-${id}`]: 2, [`out-${id}`]: 1, [`dlq-${id}`]: 1 });
  const dir = tmpDir();
  const events = auditEvents(1);
  const expected = expectedAlerts(events, dir);
  const c = startConsume(writeConfig(dir, `wh-${id}.yaml`, baseConfig(id, { webhook: { host: '127.0.0.1', port: 0 } })));
  try {
    let port = 0;
    await waitFor('webhook', () => {
      port = (c.logLines().find((l) => l.msg === 'webhook listening')?.port as number) ?? 0;
      return port > 0;
    }, 30_000);
    expect(await post(port, '/k8s-audit', eventList(events))).toEqual({ status: 200, body: expect.any(String) });
    const input = await readTopic(`in-${id}`, events.length, { settleMs: 0 });
    expect(input.map((m) => JSON.parse(m.value!.toString()).auditID).sort()).toEqual(events.map((e) => JSON.parse(e).auditID).sort());
    const out = await readTopic(`out-${id}`, expected.length);
    expect(out.map((r) => r.value!.toString()).sort()).toEqual([...expected].sort());
    expect((await post(port, '/k8s-audit', '{"kind":"Pod"}')).status).toBe(400);
  } finally {
    expect(await stopConsume(c)).toBe(0);
  }
}, 90_000);

/** The JSON log lines of a process's stderr. */
function logLines(err: string): Record<string, unknown>[] {
  return err.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

test('serve in forwarder mode: 200 only once the events are on the topic', async () => {
  const id = randomUUID().slice(0, 8);
  await createTopics(admin, { [`fw-${id}`]: 1 });
  const dir = tmpDir();
  const cfg = writeConfig(dir, `serve-${id}.yaml`, { listen: { host: '127.0.0.1', port: 0 }, forward: { kafka: { brokers: brokers(), topic: `fw-${id}` } } });
  const proc = spawn(process.execPath, [join(ROOT, 'bin/kestrel.js'), 'serve', '-c', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  try {
    let port = 0;
    await waitFor('serve', () => {
      const listening = logLines(err).find((l) => l.msg === 'webhook listening');
      port = Number(listening?.port ?? 0);
      return port > 0;
    }, 30_000);
    expect(logLines(err).find((l) => l.msg === 'webhook listening')?.forward_topic).toBe(`fw-${id}`);
    const events = auditEvents(1).slice(0, 3);
    expect((await post(port, '/k8s-audit', eventList(events))).status).toBe(200);
    const got = await readTopic(`fw-${id}`, 3, { settleMs: 0 });
    expect(got.map((m) => [m.key?.toString(), JSON.parse(m.value!.toString())])).toEqual(events.map((e) => [JSON.parse(e).auditID, JSON.parse(e)]));
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
}, 60_000);

testWithConformance('consume with source k8s_admission: kube-audit-rest AdmissionReviews on a topic raise kar.* alerts', async () => {
  const id = randomUUID().slice(0, 8);
  await createTopics(admin, { [`in-${id}`]: 1, [`out-${id}`]: 1, [`dlq-${id}`]: 1 });
  const dir = tmpDir();
  const rules = conformancePath('admission/k8s_admission_rules.yaml');
  const review = (uid: string, user: string) => JSON.stringify({
    kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1', requestReceivedTimestamp: '2026-11-02T10:00:00.000000Z',
    request: {
      uid, kind: { group: '', version: 'v1', kind: 'PodExecOptions' }, resource: { group: '', version: 'v1', resource: 'pods' },
      subResource: 'exec', name: 'web-1', namespace: 'shop', operation: 'CONNECT', userInfo: { username: user, groups: ['system:authenticated'] },
      object: { kind: 'PodExecOptions', apiVersion: 'v1', stdin: true, tty: true, container: 'web', command: ['sh'] },
    },
  });
  await produce(`in-${id}`, [{ value: review('u-1', 'alice@example.com') }, { value: '{"kind":"AdmissionReview","request":{}}' }]);
  const c = startConsume(writeConfig(dir, `adm-${id}.yaml`, baseConfig(id, { rules: { paths: [rules], source: 'k8s_admission' } })));
  try {
    const out = await readTopic(`out-${id}`, 1);
    expect(out.map((r) => [JSON.parse(r.value!.toString()).rule, JSON.parse(r.value!.toString()).source, JSON.parse(r.value!.toString()).output])).toEqual([
      ['Disallowed K8s User', 'k8s_admission', '10:00:00.000000000: Warning K8s Operation performed by user not in allowed list of users (uid=u-1 user=alice@example.com target=web-1/pods verb=CONNECT  )'],
    ]);
    const dlq = await readTopic(`dlq-${id}`, 1);
    expect(dlq.map((r) => r.headers['kestrel.error'])).toEqual(['AdmissionReview request has no uid']);
  } finally {
    expect(await stopConsume(c)).toBe(0);
  }
}, 90_000);
