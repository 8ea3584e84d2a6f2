/**
 * The HTTP sink against local HTTP servers on 127.0.0.1: the falcosidekick
 * payload field by field, retries, timeouts, the breaker opening and
 * recovering with nothing lost, bounded waiting (busy) and permanent refusals.
 */
import http from 'node:http';
import { alertJson } from '../../src/engine/alert';
import { Ruleset } from '../../src/engine/ruleset';
import { AlertShaper } from '../../src/engine/shaping';
import type { BreakerState } from '../../src/sinks/breaker';
import { HttpSink, SinkBusyError } from '../../src/sinks/http';
import { auditEvent, makeAlert, recordingServer, TEST_RULES } from './helpers';

const fast = { initialBackoffMs: 20, maxBackoffMs: 50 };

describe('falcosidekick-compatible payload', () => {
  test('each alert is POSTed alone as Falco JSON, with every field falcosidekick reads', async () => {
    const srv = await recordingServer();
    const rs = Ruleset.build([{ path: 'r.yaml', text: TEST_RULES }], { hostname: 'kestrel-node-1' }).ruleset!;
    const ev = auditEvent({ id: 'p-1', verb: 'create', resource: 'pods', name: 'cart-7d9f', sub: 'exec', ts: '2026-11-02T09:15:04.936123Z' });
    const alerts = new AlertShaper({ staticFields: { cluster: 'eu-1' } }).shape(rs.evaluate({ obj: ev, source: 'k8s_audit' }));
    const sink = new HttpSink({ url: `http://127.0.0.1:${srv.port}/`, minPriority: 'Debug', headers: { 'X-Api-Key': 'k1' } });
    await sink.send(alerts.map((alert) => ({ alert, json: alertJson(alert) })));
    await sink.close();
    await srv.close();

    expect(srv.requests).toHaveLength(1);
    const req = srv.requests[0];
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-api-key']).toBe('k1');
    const body = JSON.parse(req.body);
    // falcosidekick's types.FalcoPayload: output, priority, rule, time, output_fields, source, tags, hostname
    // (uuid is assigned by falcosidekick; Falco does not send it).
    expect(Object.keys(body)).toEqual(['hostname', 'output', 'output_fields', 'priority', 'rule', 'source', 'tags', 'time']);
    expect(body.output).toBe('09:15:04.936123000: Notice Exec into pod (user=dana@example.com pod=cart-7d9f ns=shop)');
    expect(body.priority).toBe('Notice');
    expect(body.rule).toBe('Exec into pod');
    expect(body.time).toBe('2026-11-02T09:15:04.936123000Z');
    expect(body.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/); // Go time.RFC3339Nano
    expect(body.output_fields).toEqual({
      cluster: 'eu-1',
      'evt.time': 1793610904936123000,
      'ka.target.name': 'cart-7d9f',
      'ka.target.namespace': 'shop',
      'ka.user.name': 'dana@example.com',
    });
    expect(body.source).toBe('k8s_audit');
    expect(body.tags).toEqual(['exec', 'k8s']);
    expect(body.hostname).toBe('kestrel-node-1');
    // falcosidekick's Check(): priority known, rule set, time set, output_fields non-empty.
    expect(['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug']).toContain(body.priority.toLowerCase());
    expect(Object.keys(body.output_fields).length).toBeGreaterThan(0);
    // evt.time stays an exact integer on the wire (no float rounding).
    expect(req.body).toContain('"evt.time":1793610904936123000');
  });

  test('three alerts: three requests, bodies identical to the alerts JSON', async () => {
    const srv = await recordingServer();
    const sink = new HttpSink({ url: `http://127.0.0.1:${srv.port}/`, minPriority: 'Debug' });
    const alerts = [1, 2, 3].map((i) => makeAlert(i));
    await sink.send(alerts);
    await sink.close();
    await srv.close();
    expect([...srv.bodies].sort()).toEqual(alerts.map((a) => a.json).sort());
    expect(sink.stats).toEqual({ sent: 3, failedAttempts: 0, givenUp: 0, rejectedBusy: 0 });
  });
});

describe('faults', () => {
  test('5xx answers are retried with backoff until accepted', async () => {
    const srv = await recordingServer((n) => (n <= 2 ? 503 : 200));
    const sink = new HttpSink({ url: `http://127.0.0.1:${srv.port}/x`, minPriority: 'Debug', ...fast });
    await sink.send([makeAlert(1)]);
    await sink.close();
    await srv.close();
    expect(srv.requests.map((r) => r.body)).toEqual([makeAlert(1).json, makeAlert(1).json, makeAlert(1).json]);
    expect(srv.bodies).toEqual([makeAlert(1).json]);
    expect(sink.stats).toEqual({ sent: 1, failedAttempts: 2, givenUp: 0, rejectedBusy: 0 });
  });

  test('a receiver that does not answer times out and is retried', async () => {
    const srv = await recordingServer((n) => (n === 1 ? 'hang' : 200));
    const sink = new HttpSink({ url: `http://127.0.0.1:${srv.port}/`, minPriority: 'Debug', timeoutMs: 150, ...fast });
    await sink.send([makeAlert(1)]);
    await sink.close();
    await srv.close();
    expect(srv.bodies).toEqual([makeAlert(1).json]);
    expect(sink.stats.failedAttempts).toBe(1);
  });

  test('a permanent refusal (400) rejects send at once with the reason, without retrying', async () => {
    const srv = await recordingServer(() => 400);
    const sink = new HttpSink({ url: `http://127.0.0.1:${srv.port}/`, minPriority: 'Debug', ...fast });
    await expect(sink.send([makeAlert(1)])).rejects.toThrow('http: 1 of 1 alert(s) not delivered: HTTP 400: Please send a valid request body');
    await sink.close();
    await srv.close();
    expect(srv.requests).toHaveLength(1);
    expect(sink.stats.givenUp).toBe(1);
  });

  test('after maxRetryMs, send rejects: the caller keeps the alerts (nothing dropped silently)', async () => {
    const srv = await recordingServer(() => 500);
    const sink = new HttpSink({ url: `http://127.0.0.1:${srv.port}/`, minPriority: 'Debug', maxRetryMs: 200, breaker: { volumeThreshold: 1000 }, ...fast });
    const started = Date.now();
    await expect(sink.send([makeAlert(1), makeAlert(2)])).rejects.toThrow(/^http: 2 of 2 alert\(s\) not delivered: gave up after retrying: HTTP 500/);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(sink.stats.givenUp).toBe(2);
    expect(sink.waiting).toBe(0);
    await sink.close();
    await srv.close();
  });

  test('bounded wait: beyond maxPending alerts, send rejects at once as busy (backpressure)', async () => {
    const srv = await recordingServer(() => 'hang');
    const sink = new HttpSink({ url: `http://127.0.0.1:${srv.port}/`, minPriority: 'Debug', maxPending: 2, timeoutMs: 10_000, maxRetryMs: 500 });
    const first = sink.send([makeAlert(1), makeAlert(2)]);
    first.catch(() => {});
    expect(sink.waiting).toBe(2);
    const err = await sink.send([makeAlert(3)]).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SinkBusyError);
    expect((err as SinkBusyError).busy).toBe(true);
    expect((err as Error).message).toBe('http sink busy: 2 alerts already waiting');
    expect(sink.stats.rejectedBusy).toBe(1);
    await sink.close();
    await srv.close();
    await expect(first).rejects.toThrow();
  });

  test('unreachable receiver: the breaker opens, alerts wait, and all arrive once it is back', async () => {
    // Reserve a port, then close it: connections are refused until the receiver starts there.
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));

    const states: BreakerState[] = [];
    const sink = new HttpSink({
      url: `http://127.0.0.1:${port}/`,
      minPriority: 'Debug',
      maxRetryMs: 10_000,
      initialBackoffMs: 20,
      maxBackoffMs: 100,
      breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 200 },
    });
    sink.breaker.onState = (_n, s) => states.push(s);
    const alerts = Array.from({ length: 10 }, (_, i) => makeAlert(i));
    const sending = sink.send(alerts);

    await new Promise((r) => setTimeout(r, 400));
    expect(states).toContain('open');
    expect(sink.waiting).toBe(10);
    const attemptsWhileDown = sink.stats.failedAttempts;

    const bodies: string[] = [];
    const back = http.createServer((req, res) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => {
        bodies.push(b);
        res.end();
      });
    });
    await new Promise<void>((r) => back.listen(port, '127.0.0.1', () => r()));
    await sending;
    expect(sink.state).toBe('closed');
    expect(states[states.length - 1]).toBe('closed');
    expect(states).toContain('halfOpen');
    expect([...bodies].sort()).toEqual(alerts.map((a) => a.json).sort());
    expect(sink.stats.sent).toBe(10);
    expect(sink.stats.givenUp).toBe(0);
    // While open, attempts failed fast in the breaker instead of hammering the receiver.
    expect(attemptsWhileDown).toBeGreaterThan(0);
    expect(sink.waiting).toBe(0);
    await sink.close();
    back.closeAllConnections();
    await new Promise<void>((r) => back.close(() => r()));
  });

  test('an output down 3 s, then up: with the default breaker, the backlog is delivered within 3 s of recovery', async () => {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));

    // Default breaker and backoff (the old defaults probed every 10 s: the next delivery took 21 s).
    const sink = new HttpSink({ url: `http://127.0.0.1:${port}/`, minPriority: 'Debug', maxRetryMs: 30_000 });
    const states: BreakerState[] = [];
    sink.breaker.onState = (_n, s) => states.push(s);
    const alerts = Array.from({ length: 20 }, (_, i) => makeAlert(i));
    const sending = sink.send(alerts);
    // more alerts keep arriving during the outage
    const later = new Promise<void>((r) => setTimeout(r, 1500)).then(() => sink.send([makeAlert(100), makeAlert(101)]));

    await new Promise((r) => setTimeout(r, 3000));
    expect(states).toContain('open');
    const arrivals: number[] = [];
    const back = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        arrivals.push(Date.now());
        res.end();
      });
    });
    await new Promise<void>((r) => back.listen(port, '127.0.0.1', () => r()));
    const recovered = Date.now();
    await Promise.all([sending, later]);
    const firstMs = arrivals[0] - recovered;
    const allMs = Date.now() - recovered;
    if (process.env.KESTREL_TEST_FIGURES) process.stderr.write(`recovery: first delivery ${firstMs} ms, all 22 ${allMs} ms after the output came back\n`);
    expect(arrivals.length).toBe(22);
    expect(sink.stats.givenUp).toBe(0);
    expect(firstMs).toBeLessThan(3000);
    expect(allMs).toBeLessThan(3000);
    expect(sink.state).toBe('closed');
    await sink.close();
    back.closeAllConnections();
    await new Promise<void>((r) => back.close(() => r()));
  }, 20_000);
});
