/**
 * The renewable output producer with fake kafkajs producers: a fatal
 * producer-state error (as kafkajs throws it after a broker lost the producer's
 * state) replaces the producer once, and the batch goes out through the normal
 * retry and breaker path exactly once, on the new producer.
 */
import { KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, type Producer, type ProducerRecord } from 'kafkajs';
import pino from 'pino';
import { Metrics } from '../../src/observability/metrics';
import { OutputSet, type Output } from '../../src/pipeline/outputs';
import { alertFilter } from '../../src/pipeline/selection';
import { BreakerSink } from '../../src/sinks/breaker';
import { KafkaAlertSink } from '../../src/sinks/kafka';
import { fatalProducerState, RenewableProducer, type RenewalNotice } from '../../src/sinks/renewable-producer';
import { makeAlert } from './helpers';

/** What kafkajs' send rejects with when the broker answers a produce request with `type`: the retrier's bail wraps it. */
function kafkajsError(type: string, retriable = false): Error {
  const proto = new KafkaJSProtocolError({ type, code: 45, retriable, message: `broker says ${type}` } as unknown as Error);
  const Wrapper = KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => Error;
  return new Wrapper(proto, { cause: proto });
}

class FakeProducer {
  sent: ProducerRecord[] = [];
  connects = 0;
  disconnects = 0;
  /** Errors the next sends reject with, in order. */
  failures: Error[] = [];
  constructor(readonly id: number) {}
  async connect(): Promise<void> {
    this.connects++;
  }
  async disconnect(): Promise<void> {
    this.disconnects++;
  }
  async send(r: ProducerRecord) {
    await new Promise((res) => setImmediate(res));
    const e = this.failures.shift();
    if (e) throw e;
    this.sent.push(r);
    return [];
  }
}

function handle() {
  const made: FakeProducer[] = [];
  const notices: RenewalNotice[] = [];
  const p = new RenewableProducer(
    () => {
      const f = new FakeProducer(made.length);
      made.push(f);
      return f as unknown as Producer;
    },
    (n) => notices.push(n),
  );
  return { p, made, notices };
}

const silent = pino({ level: 'silent' });
const alerts = [makeAlert(1, { rule: 'Exec', priority: 'Notice' }), makeAlert(2, { rule: 'Secret', priority: 'Warning' })];

describe('fatalProducerState', () => {
  test('finds the protocol error type through kafkajs wrappers, and nothing in other errors', () => {
    expect(fatalProducerState(kafkajsError('OUT_OF_ORDER_SEQUENCE_NUMBER'))).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    expect(fatalProducerState(new KafkaJSNumberOfRetriesExceeded(kafkajsError('UNKNOWN_PRODUCER_ID'), { retryCount: 5, retryTime: 100, cause: kafkajsError('UNKNOWN_PRODUCER_ID') } as never))).toBe('UNKNOWN_PRODUCER_ID');
    expect(fatalProducerState(kafkajsError('INVALID_PRODUCER_EPOCH'))).toBe('INVALID_PRODUCER_EPOCH');
    expect(fatalProducerState(kafkajsError('NOT_LEADER_FOR_PARTITION', true))).toBeUndefined();
    expect(fatalProducerState(new Error('Connection error'))).toBeUndefined();
    expect(fatalProducerState(undefined)).toBeUndefined();
  });
});

describe('RenewableProducer', () => {
  test('an alert batch that meets OUT_OF_ORDER_SEQUENCE_NUMBER once: one renewal, the batch delivered once by the new producer', async () => {
    const { p, made, notices } = handle();
    await p.connect();
    made[0].failures.push(kafkajsError('OUT_OF_ORDER_SEQUENCE_NUMBER'));
    const sink = new BreakerSink(new KafkaAlertSink(p, 'alerts-topic', 'rule', 'Debug', 'alerts'), { timeoutMs: false, errorThresholdPercentage: 50, resetTimeoutMs: 10, volumeThreshold: 5 });
    const out: Output = { name: 'alerts', select: alertFilter({}), send: (a) => sink.send(a), breaker: sink.breaker, close: () => sink.close() };
    const metrics = new Metrics(false);
    await new OutputSet([out], undefined, silent, metrics).deliver({ alerts, letters: [] });

    expect(made.map((f) => [f.id, f.connects, f.disconnects, f.sent.length])).toEqual([
      [0, 1, 1, 0],
      [1, 1, 0, 1],
    ]);
    expect(made[1].sent[0].topic).toBe('alerts-topic');
    expect(made[1].sent[0].messages.map((m) => m.key)).toEqual(['Exec', 'Secret']);
    expect(p.renewals).toBe(1);
    expect(notices).toEqual([{ sender: 'alerts', type: 'OUT_OF_ORDER_SEQUENCE_NUMBER', cause: 'broker says OUT_OF_ORDER_SEQUENCE_NUMBER', renewals: 1 }]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('kestrel_output_failures_total{output="alerts"} 1');
    expect(text).toContain('kestrel_output_alerts_total{output="alerts"} 2');
    await out.close();
  });

  test('concurrent sends failing on the same producer renew it once; each is retried and delivered once', async () => {
    const { p, made, notices } = handle();
    await p.connect();
    made[0].failures.push(kafkajsError('UNKNOWN_PRODUCER_ID'), kafkajsError('UNKNOWN_PRODUCER_ID'), kafkajsError('UNKNOWN_PRODUCER_ID'));
    const set = new OutputSet([], undefined, silent, new Metrics(false));
    await Promise.all(['a', 'b', 'c'].map((topic) => set.retry('alerts', async () => void (await p.send({ topic, messages: [{ value: topic }] }, 'alerts')))));
    expect(p.renewals).toBe(1);
    expect(notices.map((n) => [n.sender, n.type, n.renewals])).toEqual([['alerts', 'UNKNOWN_PRODUCER_ID', 1]]);
    expect(made.length).toBe(2);
    expect(made[0].sent).toEqual([]);
    expect(made[1].sent.map((r) => r.topic).sort()).toEqual(['a', 'b', 'c']);
  });

  test('a second fatal error on the renewed producer renews again; ordinary errors never renew', async () => {
    const { p, made } = handle();
    await p.connect();
    made[0].failures.push(new Error('Connection error: ECONNREFUSED'), kafkajsError('INVALID_PRODUCER_EPOCH'));
    await expect(p.send({ topic: 't', messages: [] })).rejects.toThrow('ECONNREFUSED');
    expect(p.renewals).toBe(0);
    await expect(p.send({ topic: 't', messages: [] })).rejects.toThrow('INVALID_PRODUCER_EPOCH');
    expect(p.renewals).toBe(1);
    made[1].failures.push(kafkajsError('OUT_OF_ORDER_SEQUENCE_NUMBER'));
    await expect(p.send({ topic: 't', messages: [] })).rejects.toThrow('OUT_OF_ORDER_SEQUENCE_NUMBER');
    await p.send({ topic: 't', messages: [] });
    expect([p.renewals, made.length, made[2].sent.length]).toEqual([2, 3, 1]);
    await p.disconnect();
    expect(made.map((f) => f.disconnects)).toEqual([1, 1, 1]);
  });
});
