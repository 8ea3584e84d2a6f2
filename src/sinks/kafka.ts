/**
 * Kafka sinks: alerts to the output topic (Falco JSON, key = rule name by
 * default, headers naming the rule and where the event came from) and raw
 * undecodable messages to the dead-letter topic. The producer is idempotent and
 * every send waits for acks from all in-sync replicas (acks = -1); it is
 * renewable (renewable-producer.ts), so a broker that lost its producer state
 * does not stop delivery for good.
 */
import type { Message } from 'kafkajs';
import type { Priority } from '../language/priority';
import type { ProducerHandle } from './renewable-producer';
import type { AlertOrigin, AlertSink, OutgoingAlert } from './types';
import { Coalescer } from './coalesce';

/** What the output topic's record key is: the rule name (default), priority, source, or none. */
export type AlertKey = 'rule' | 'priority' | 'source' | 'none';

export function alertKey(a: OutgoingAlert, key: AlertKey): string | null {
  switch (key) {
    case 'rule':
      return a.alert.rule;
    case 'priority':
      return a.alert.priority;
    case 'source':
      return a.alert.source;
    default:
      return null;
  }
}

/** One output-topic record. Header values are strings. */
export function alertMessage(a: OutgoingAlert, key: AlertKey): Message {
  const headers: Record<string, string> = { rule: a.alert.rule, priority: a.alert.priority, source: a.alert.source };
  if (a.origin?.topic !== undefined) headers.input_topic = a.origin.topic;
  if (a.origin?.partition !== undefined) headers.input_partition = String(a.origin.partition);
  if (a.origin?.offset !== undefined) headers.input_offset = a.origin.offset;
  if (a.origin?.input !== undefined) headers.input = a.origin.input;
  if (a.origin?.record !== undefined) headers.input_record_index = String(a.origin.record);
  return { key: alertKey(a, key), value: a.json, headers };
}

export interface DeadLetter {
  value: Uint8Array | null;
  reason: string;
  /** Kafka inputs: topic, partition, offset; other inputs: the input's name (and line). */
  origin: AlertOrigin;
}

/** One dead-letter record: the original bytes, the reason, where it was read. */
export function deadLetterMessage(d: DeadLetter): Message {
  const headers: Record<string, string> = { 'kestrel.error': d.reason };
  const o = d.origin;
  if (o.topic !== undefined) headers['kestrel.source.topic'] = o.topic;
  if (o.partition !== undefined) headers['kestrel.source.partition'] = String(o.partition);
  if (o.offset !== undefined) headers['kestrel.source.offset'] = o.offset;
  if (o.input !== undefined) headers['kestrel.source.input'] = o.input;
  if (o.line !== undefined) headers['kestrel.source.line'] = String(o.line);
  if (o.record !== undefined) headers['kestrel.source.record_index'] = String(o.record);
  return { value: d.value ? Buffer.from(d.value.buffer, d.value.byteOffset, d.value.length) : null, headers };
}

/** Largest merged alert request (UTF-16 length of the values plus a header allowance each): even all non-ASCII, under the broker's 1 MiB default message.max.bytes. */
const MERGED_REQUEST_BYTES = 256 * 1024;

export class KafkaAlertSink implements AlertSink {
  /** Sends that arrive while one is in flight go out together (coalesce.ts). */
  private readonly requests: Coalescer<OutgoingAlert>;

  constructor(private readonly producer: ProducerHandle, readonly topic: string, private readonly key: AlertKey, readonly minPriority: Priority, readonly name = 'kafka') {
    this.requests = new Coalescer((alerts) => this.producer.send({ topic: this.topic, acks: -1, messages: alerts.map((a) => alertMessage(a, this.key)) }, this.name), (a) => a.json.length + 256, MERGED_REQUEST_BYTES);
  }

  async send(alerts: OutgoingAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    await this.requests.send(alerts);
  }

  async close(): Promise<void> {}
}

/** The dead-letter topic, as a guarded sink of its own. */
export class KafkaDeadLetters {
  readonly name = 'dlq';

  constructor(private readonly producer: ProducerHandle, readonly topic: string) {}

  async send(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await this.producer.send({ topic: this.topic, acks: -1, messages: letters.map(deadLetterMessage) }, this.name);
  }
}
