/**
 * Supervision: a fatal error in an input makes /healthz fail and the process
 * exit non-zero within shutdown_timeout_ms + 5 s; a busy port is a user error
 * (one line, exit 2), never "this is a bug".
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { stringify } from 'yaml';
import { runService } from '../../src/cli/service-command';
import { parseServiceConfig } from '../../src/config/load';
import type { Service } from '../../src/pipeline/service';
import { brokers, createTopics, httpGet, kafka, ROOT, RULES, sleep, tmpDir, waitFor, writeConfig } from '../pipeline/kafka-helpers';

const SHUTDOWN_MS = 3_000;

test('the Kafka consumer dies under the service: /healthz fails, then the service exits 1 within shutdown_timeout_ms + 5 s', async () => {
  const id = randomUUID().slice(0, 8);
  const admin = kafka().admin();
  await admin.connect();
  await createTopics(admin, { [`in-${id}`]: 1 });
  await admin.disconnect();
  const cfg = parseServiceConfig(stringify({
    inputs: [{ type: 'kafka', topics: [`in-${id}`], group_id: `g-${id}`, session_timeout_ms: 6_000 }],
    kafka: { brokers: brokers() },
    rules: { paths: [RULES] },
    outputs: [{ type: 'file', path: join(tmpDir(), 'alerts.jsonl') }],
    metrics: { host: '127.0.0.1', port: 0 },
    shutdown_timeout_ms: SHUTDOWN_MS,
  }), ROOT, {});
  let svc: Service | undefined;
  const exit = runService(cfg, new PassThrough(), { logger: pino({ level: 'silent' }), onStarted: (s) => (svc = s) });
  await waitFor('started', () => svc !== undefined, 60_000);
  const port = svc!.ports.metrics!;
  await waitFor('ready', async () => (await httpGet(port, '/readyz')).status === 200, 60_000);
  expect((await httpGet(port, '/healthz')).status).toBe(200);

  // Kill the input's own Kafka client, as a broker-side fence or a library fault would.
  const consumer = (svc as unknown as { inputs: { consumer: { disconnect(): Promise<void> } }[] }).inputs[0].consumer;
  const killed = Date.now();
  void consumer.disconnect();
  let health: { status: number; body: string } | undefined;
  while (!health || health.status === 200) {
    health = await httpGet(port, '/healthz');
    await sleep(10);
  }
  expect([health.status, JSON.parse(health.body)]).toEqual([503, { status: 'failed', reasons: ['input kafka: Kafka consumer stopped unexpectedly'] }]);
  expect(await exit).toBe(1);
  expect(Date.now() - killed).toBeLessThan(SHUTDOWN_MS + 5_000);
}, 90_000);

describe('busy ports are user errors: one line, exit 2', () => {
  let busy: Server;
  let port: number;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    port = (busy.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => busy.close(() => r())));

  const start = (doc: object) => {
    const file = writeConfig(tmpDir(), 'kestrel.yaml', { rules: { paths: [RULES] }, outputs: [{ type: 'stdout' }], ...doc });
    return spawnSync(process.execPath, [join(ROOT, 'bin/kestrel.js'), 'start', '-c', file], { encoding: 'utf8', timeout: 30_000 });
  };

  test('the webhook port', () => {
    const r = start({ inputs: [{ type: 'webhook', host: '127.0.0.1', port }] });
    expect([r.status, r.stderr]).toEqual([2, `kestrel: config: inputs.webhook.port: cannot listen on 127.0.0.1:${port}: EADDRINUSE\n`]);
  });

  test('the metrics port', () => {
    const r = start({ inputs: [{ type: 'webhook', host: '127.0.0.1', port: 0 }], metrics: { host: '127.0.0.1', port } });
    expect([r.status, r.stderr]).toEqual([2, `kestrel: config: metrics.port: cannot listen on 127.0.0.1:${port}: EADDRINUSE\n`]);
  });
});

test('unreachable brokers at start: said within seconds, retried with backoff, /readyz 503 starting; SIGTERM ends the wait (exit 0)', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r())); // nothing listens there now
  const file = writeConfig(tmpDir(), 'kestrel.yaml', {
    inputs: [{ type: 'kafka', topics: ['audit'], group_id: 'g' }],
    kafka: { brokers: [`127.0.0.1:${port}`], connection_timeout_ms: 500 },
    rules: { paths: [RULES] },
    outputs: [{ type: 'stdout' }],
    metrics: { host: '127.0.0.1', port: 0 },
  });
  const proc = spawn(process.execPath, [join(ROOT, 'bin/kestrel.js'), 'start', '-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  const logs = () => err.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const started = Date.now();
  await waitFor('the first retry line', () => logs().some((l) => l.msg === 'cannot reach the Kafka brokers; retrying'), 20_000);
  expect(Date.now() - started).toBeLessThan(20_000);
  const metricsPort = Number(logs().find((l) => l.msg === 'serving /metrics, /healthz, /readyz')!.port);
  const ready = await httpGet(metricsPort, '/readyz');
  expect([ready.status, JSON.parse(ready.body).reasons]).toEqual([503, ['starting']]);
  proc.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(err.trim().split('\n').at(-1)).toBe('kestrel: stopped while waiting for the Kafka brokers');
}, 60_000);
