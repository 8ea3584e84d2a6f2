/**
 * Correlation mode kafka's pieces that need no broker: the internal topic's
 * records (keyed by correlation and group, ticks, what is refused), and the
 * `correlation:` config section.
 */
import { ConfigError, parseServiceConfig } from '../../src/config/load';
import type { CorrelationInput } from '../../src/engine/correlation/correlator';
import { decodeRecord, inputMessage, sourceId, tickMessage } from '../../src/pipeline/correlation-topic';

const input: CorrelationInput = {
  correlation: 'Burst of forbidden requests', key: '["mallory@example.com"]', rule: 'Request forbidden (correlation feed)', timeNs: '1793617200009000000',
  hostname: 'kestrel-0', group: { 'ka.user.name': { text: 'mallory@example.com', json: 'mallory@example.com' } }, fields: {},
};

test('an input record is keyed by correlation and group and decodes back to the same input; a tick carries only its time', () => {
  const m = inputMessage(input);
  expect(m.key).toBe('Burst of forbidden requests\u0000["mallory@example.com"]');
  expect(decodeRecord(Buffer.from(m.value as string))).toEqual({ input });
  const t = tickMessage(3, 1793617230009000000n);
  expect(t).toEqual({ partition: 3, key: null, value: '{"tick":"1793617230009000000"}' });
  expect(decodeRecord(Buffer.from(t.value as string))).toEqual({ tick: 1793617230009000000n });
});

test('a match from a Kafka message carries where it was read (a message read twice gives the same source), others do not', () => {
  const m = inputMessage(input, { topic: 'audit', partition: 2, offset: '41', record: 3 });
  expect(decodeRecord(Buffer.from(m.value as string))).toEqual({ input, src: 'audit/2/41/3' });
  expect(sourceId({ topic: 'audit', partition: 0, offset: '7' })).toBe('audit/0/7/');
  expect(sourceId({ input: 'webhook', line: 4 })).toBeUndefined();
  expect(decodeRecord(Buffer.from(inputMessage(input, { input: 'replay', line: 9 }).value as string))).toEqual({ input });
});

test.each([
  [null, 'null value'],
  ['{not json', 'not JSON'],
  ['{"tick":"12x"}', 'neither a correlation input nor a tick'],
  ['{"correlation":"c","key":"[]","timeNs":"1"}', 'neither a correlation input nor a tick'],
])('a record %p is skipped: %s', (value, error) => {
  expect(decodeRecord(value === null ? null : Buffer.from(value))).toEqual({ error });
});

const BASE = `
inputs:
  - type: kafka
    topics: [audit]
    group_id: audit-g
kafka:
  brokers: [k1:9092]
rules:
  paths: [rules/]
outputs:
  - type: stdout
`;
const parse = (text: string) => parseServiceConfig(text, '/etc/kestrel', {});
const error = (text: string): string => {
  try {
    parse(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('no error');
};

test('the correlation section: absent means the defaults; every key read and validated', () => {
  expect(parse(BASE).correlation).toBeUndefined();
  expect(parse(`${BASE}correlation:\n  mode: kafka\n  tolerance_ms: 60000\n  max_groups: 500\n  topic: corr\n  idle_ms: 2000\n`).correlation).toEqual({ mode: 'kafka', toleranceMs: 60_000, maxGroups: 500, topic: 'corr', idleMs: 2_000 });
  expect(parse(`${BASE}correlation: {}\n`).correlation).toEqual({ mode: 'local', toleranceMs: 30_000, maxGroups: 100_000, idleMs: 30_000 });
  expect(error(`${BASE}correlation:\n  mode: distributed\n`)).toMatch(/^config: correlation\.mode: /);
  expect(error(`${BASE}correlation:\n  max_groups: 0\n`)).toMatch(/^config: correlation\.max_groups: /);
  expect(error(`${BASE}correlation:\n  window: 5\n`)).toMatch(/^config: correlation\.window: /);
});

test('correlation mode kafka needs a kafka input', () => {
  const webhook = `
inputs:
  - type: webhook
rules:
  paths: [rules/]
outputs:
  - type: stdout
correlation:
  mode: kafka
`;
  expect(error(webhook)).toBe('config: correlation.mode: kafka needs a kafka input (the correlation stage is a consumer group beside it; use local for webhook and file inputs)');
});
