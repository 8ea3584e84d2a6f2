/**
 * Kafka sinks: alerts to the output topic (Falco JSON, key = rule name by
 * default, headers naming the rule and where the event came from) and raw
 * undecodable messages to the dead-letter topic. The producer is idempotent and
 * every send waits for acks from all in-sync replicas (acks = -1).
 */
import type { Message, Producer } from 'kafkajs';
import type { AlertKey } from '../config/types';
import type { Priority } from '../language/priority';
import type { AlertOrigin, AlertSink, OutgoingAlert } from './types';

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
  return { key: alertKey(a, key), value: a.json, headers };
}

export interface DeadLetter {
  value: Uint8Array | null;
  reason: string;
  origin: Required<Pick<AlertOrigin, 'topic' | 'partition' | 'offset'>>;
}

/** One dead-letter record: the original bytes, the reason, where it was read. */
export function deadLetterMessage(d: DeadLetter): Message {
  return {
    value: d.value ? Buffer.from(d.value.buffer, d.value.byteOffset, d.value.length) : null,
    headers: {
      'kestrel.error': d.reason,
      'kestrel.source.topic': d.origin.topic,
      'kestrel.source.partition': String(d.origin.partition),
      'kestrel.source.offset': d.origin.offset,
    },
  };
}

export class KafkaAlertSink implements AlertSink {
  readonly name = 'kafka';

  constructor(private readonly producer: Producer, readonly topic: string, private readonly key: AlertKey, readonly minPriority: Priority) {}

  async send(alerts: OutgoingAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    await this.producer.send({ topic: this.topic, acks: -1, messages: alerts.map((a) => alertMessage(a, this.key)) });
  }

  async close(): Promise<void> {}
}

/** The dead-letter topic, as a guarded sink of its own. */
export class KafkaDeadLetters {
  readonly name = 'dlq';

  constructor(private readonly producer: Producer, readonly topic: string) {}

  async send(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await this.producer.send({ topic: this.topic, acks: -1, messages: letters.map(deadLetterMessage) });
  }
}
