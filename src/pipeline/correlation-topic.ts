/**
 * Records of the internal correlation topic (correlation mode kafka). A
 * prepared base-rule match is keyed by correlation and group, so every match
 * of one group lands in one partition (the producer's hash of the key) and is
 * correlated by that partition's one owner, whatever input partition or
 * process its event came from: the repartition step of Kafka Streams.
 *
 * A tick carries no match, only event time: the partition's owner writes one
 * to its own partition when it received nothing for `correlation.idle_ms`, so
 * its waiting matches are applied (time moves on without new events), and a
 * later owner that replays the partition sees the same ticks in the same place.
 */
import type { Message } from 'kafkajs';
import type { CorrelationInput } from '../engine/correlation/correlator';
import type { AlertOrigin } from '../sinks/types';

/** A prepared match on its way to the topic, with its event's origin (exactly_once drops what the previous owner committed). */
export interface CorrelationRecord {
  input: CorrelationInput;
  origin?: AlertOrigin;
}

export type TopicRecord = { input: CorrelationInput; src?: string } | { tick: bigint };

/**
 * Where a match's event was read, when that names it for good (a Kafka
 * message, and its record inside a message of many): an input message read
 * again after a crash gives the same matches with the same `src`, and the
 * correlation stage takes them once.
 */
export function sourceId(origin: AlertOrigin | undefined): string | undefined {
  if (origin?.topic === undefined || origin.offset === undefined) return undefined;
  return `${origin.topic}/${origin.partition ?? ''}/${origin.offset}/${origin.record ?? ''}`;
}

export function inputMessage(input: CorrelationInput, origin?: AlertOrigin): Message {
  const src = sourceId(origin);
  return { key: `${input.correlation}\u0000${input.key}`, value: JSON.stringify(src === undefined ? input : { ...input, src }) };
}

export function tickMessage(partition: number, timeNs: bigint): Message {
  return { partition, key: null, value: JSON.stringify({ tick: timeNs.toString() }) };
}

/** A record of the topic, or the reason it is not one (it is skipped and counted, never fatal). */
export function decodeRecord(value: Buffer | null): TopicRecord | { error: string } {
  if (!value) return { error: 'null value' };
  let v: unknown;
  try {
    v = JSON.parse(value.toString('utf8'));
  } catch {
    return { error: 'not JSON' };
  }
  const o = v as Record<string, unknown>;
  if (o && typeof o.tick === 'string' && /^\d+$/.test(o.tick)) return { tick: BigInt(o.tick) };
  if (o && typeof o.correlation === 'string' && typeof o.key === 'string' && typeof o.timeNs === 'string' && /^-?\d+$/.test(o.timeNs) && typeof o.group === 'object' && typeof o.fields === 'object') {
    if (typeof o.src !== 'string') return { input: o as unknown as CorrelationInput };
    const { src, ...input } = o;
    return { input: input as unknown as CorrelationInput, src };
  }
  return { error: 'neither a correlation input nor a tick' };
}
