/**
 * Falco's two payloads: the text line and the JSON alert, byte for byte
 * engine/alert.ts's. With include_event (metadata or full) the JSON alert gets
 * one more top-level key, `audit`, after all of Falco's (tools that read
 * Falco's alert, e.g. falcosidekick, ignore unknown top-level keys); with
 * `full` it holds the event itself under `audit.event`.
 */
import { alertJson, alertText } from '../../engine/alert';
import { contextFor, type AlertContext } from '../../engine/alert-context';
import type { FormatOptions, FormattableAlert } from './common';
import { RawJson, stringify } from './json';

export function falcoText(a: FormattableAlert): string {
  return alertText(a.alert);
}

export function falcoJson(a: FormattableAlert, options: FormatOptions = {}): string {
  const base = a.json ?? alertJson(a.alert);
  const ctx = a.context && contextFor(a.context, options.includeEvent ?? 'none', options.includeEventMaxBytes);
  if (!ctx) return base;
  return `${base.slice(0, -1)},"audit":${contextJson(ctx)}}`;
}

/** The context as JSON, its event (JSON text) written as the object it is. */
export function contextJson(ctx: AlertContext): string {
  return stringify(ctx.event === undefined ? ctx : { ...ctx, event: new RawJson(ctx.event) });
}
