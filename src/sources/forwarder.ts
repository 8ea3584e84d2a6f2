/**
 * Webhook → Kafka forwarding: the events of one webhook request are produced
 * to a Kafka topic (idempotent producer, acks = all) and the request is
 * answered only once the brokers have acknowledged them. The events then go
 * through the consumer group like any other input: durable, scaled out.
 */
import type { Kafka, Producer } from 'kafkajs';
import type { WebhookBatch } from './webhook';

export interface Forwarder {
  deliver(batch: WebhookBatch): Promise<{ alerts: number }>;
  close(): Promise<void>;
}

export async function startForwarder(kafka: Kafka, topic: string): Promise<Forwarder> {
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
  await producer.connect();
  return {
    async deliver(batch) {
      if (batch.events.length === 0) return { alerts: 0 };
      await producer.send({
        topic,
        acks: -1,
        messages: batch.events.map((ev) => ({
          // Keyed by the event's id, so a retried request lands on the same partition.
          key: typeof ev.obj?.auditID === 'string' ? ev.obj.auditID : typeof ev.obj?.request?.uid === 'string' ? ev.obj.request.uid : null,
          value: ev.raw ?? JSON.stringify(ev.obj),
        })),
      });
      return { alerts: 0 };
    },
    close: () => producer.disconnect(),
  };
}
