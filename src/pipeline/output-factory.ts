/**
 * Outputs from their configuration: the sink for each `outputs[]` entry, its
 * payload format, its alert selection and its breaker. The HTTP sink has a
 * breaker of its own (it retries alert by alert inside); every other sink is
 * wrapped in one here.
 */
import { readFileSync } from 'node:fs';
import type { ProducerHandle } from '../sinks/renewable-producer';
import type { OutputConfig } from '../config/types';
import { contextNeeds, type IncludeEvent } from '../engine/alert-context';
import { Breaker, BreakerSink } from '../sinks/breaker';
import { RotatingFileSink } from '../sinks/file';
import { formatAlert } from '../sinks/formats';
import { HttpSink } from '../sinks/http';
import { KafkaAlertSink } from '../sinks/kafka';
import { stdoutSink } from '../sinks/stdout';
import type { AlertSink, OutgoingAlert } from '../sinks/types';
import type { Output } from './outputs';
import { alertFilter } from './selection';

/** Thrown for a configuration that cannot be built (a missing CA file, ...): a user error. */
export class OutputSetupError extends Error {}

/** The payload each sink sends is `OutgoingAlert.json`: rewrite it for the output's format. */
/** The payload rewrite of an output's format (undefined: the worker's Falco JSON as it is). */
export function renderer(cfg: OutputConfig): ((a: OutgoingAlert) => OutgoingAlert) | undefined {
  // Falco JSON as the worker made it, and text on streams (the stream sinks print it), need no rewrite.
  if (cfg.format === 'json' && cfg.includeEvent === 'none') return undefined;
  if (cfg.format === 'text' && (cfg.type === 'stdout' || cfg.type === 'file')) return undefined;
  const opts = { includeEvent: cfg.includeEvent, includeEventMaxBytes: cfg.includeEventMaxBytes };
  return (a) => ({ ...a, json: formatAlert(cfg.format, a, opts) });
}

/** What the workers must extract of each alert's event for these outputs (undefined: nothing). */
export function contextFor(outputs: readonly OutputConfig[], defaultMaxEventBytes: number): { include: IncludeEvent; maxEventBytes: number } | undefined {
  const needs = contextNeeds(outputs, defaultMaxEventBytes);
  if (needs.include === 'none' && !outputs.some((o) => o.format === 'ocsf' || o.format === 'ecs')) return undefined;
  return needs;
}

function sinkFor(cfg: OutputConfig, producer: ProducerHandle | undefined): AlertSink {
  const min = cfg.minPriority;
  switch (cfg.type) {
    case 'stdout':
      return stdoutSink(min, cfg.format === 'text' ? 'text' : 'json', cfg.name);
    case 'file':
      return new RotatingFileSink({ name: cfg.name, path: cfg.path, minPriority: min, format: cfg.format === 'text' ? 'text' : 'json', maxBytes: cfg.maxBytes, keep: cfg.keep, fsync: cfg.fsync, fsyncIntervalMs: cfg.fsyncIntervalMs });
    case 'kafka':
      if (!producer) throw new OutputSetupError(`outputs.${cfg.name}: needs the kafka connection`);
      return new KafkaAlertSink(producer, cfg.topic, cfg.key, min, cfg.name);
    case 'http': {
      let ca: Buffer | undefined;
      if (cfg.caFile) {
        try {
          ca = readFileSync(cfg.caFile);
        } catch (e) {
          throw new OutputSetupError(`config: outputs.${cfg.name}.ca_file: cannot read ${cfg.caFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      }
      return new HttpSink({
        name: cfg.name, url: cfg.url, minPriority: min, headers: cfg.headers, timeoutMs: cfg.timeoutMs, maxRetryMs: cfg.maxRetryMs, maxPending: cfg.maxPending,
        concurrency: cfg.concurrency, breaker: cfg.breaker, ca, insecureSkipVerify: cfg.insecureSkipVerify,
      });
    }
  }
}

export function buildOutput(cfg: OutputConfig, producer: ProducerHandle | undefined): Output & { breaker: Breaker<never[], unknown> } {
  const sink = sinkFor(cfg, producer);
  const render = renderer(cfg);
  const guarded = sink instanceof HttpSink ? sink : new BreakerSink(sink, cfg.breaker);
  const breaker = (sink instanceof HttpSink ? sink.breaker : (guarded as BreakerSink).breaker) as unknown as Breaker<never[], unknown>;
  return {
    name: cfg.name,
    select: alertFilter(cfg),
    send: (alerts) => guarded.send(render ? alerts.map(render) : alerts),
    breaker,
    close: () => guarded.close(),
  };
}
