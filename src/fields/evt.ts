/**
 * Generic `evt.*` fields that libsinsp offers for events of plugin sources
 * (sinsp_filter_check_gen_event in falcosecurity/libs). Syscall-only evt.*
 * fields (evt.type, evt.arg.*, ...) do not exist for plugin sources.
 *
 * Not provided: evt.reltime, evt.reltime.s, evt.reltime.ns (they need the
 * timestamp of the first event of the capture, which a stream processor lacks).
 */
import { marshal, setRenderEvent } from './jsonutil';
import {
  eventTimeNs,
  formatDatetime,
  formatDatetimeS,
  formatIso8601Offset,
  formatTimeHMS,
  formatTimeHMSs,
} from './time';
import type { EventView, FieldDef, FieldValue } from './types';

/** Name of the source plugin that produces each source (evt.pluginname). */
export const SOURCE_PLUGIN: Readonly<Record<string, string>> = Object.freeze({
  k8s_audit: 'k8saudit',
  k8s_admission: 'k8sadmission',
});

/** Shared empty result (frozen: extracted arrays must not be mutated). */
const NONE: FieldValue[] = Object.freeze([]) as unknown as FieldValue[];
const NS_PER_S = 1_000_000_000n;

/** The event timestamp in ns: the one the source assigned, else the document's. */
export function evtTs(ev: EventView): bigint | undefined {
  return ev.tsNs !== undefined ? ev.tsNs : eventTimeNs(ev.obj, ev.source);
}

function timeText(name: string, desc: string, fmt: (ns: bigint) => string): FieldDef {
  return {
    name,
    type: 'string',
    isList: false,
    desc,
    extract(ev) {
      const ts = evtTs(ev);
      return ts === undefined ? NONE : [fmt(ts)];
    },
    // libsinsp exports these as the raw timestamp (integer ns) in output_fields.
    extractJson(ev) {
      const ts = evtTs(ev);
      return ts === undefined ? null : ts;
    },
  };
}

function rawTime(name: string, desc: string, f: (ts: bigint) => bigint, padded: boolean): FieldDef {
  const def: FieldDef = {
    name,
    type: 'abstime',
    isList: false,
    desc,
    extract(ev) {
      const ts = evtTs(ev);
      return ts === undefined ? NONE : [f(ts)];
    },
  };
  if (padded) def.formatValue = (v) => String(v).padStart(9, '0');
  return def;
}

/** The evt.* field definitions (shared by every plugin source). */
export function evtFields(): FieldDef[] {
  return [
    {
      name: 'evt.num',
      type: 'uint64',
      isList: false,
      desc: 'Sequence number of the event in its stream.',
      extract: (ev) => (ev.num === undefined ? NONE : [ev.num]),
    },
    timeText('evt.time', 'Event time of day with nanoseconds (HH:MM:SS.nnnnnnnnn).', (ns) => formatTimeHMS(ns)),
    timeText('evt.time.s', 'Event time of day without the fractional part (HH:MM:SS).', (ns) => formatTimeHMSs(ns)),
    timeText(
      'evt.time.iso8601',
      'Event time as ISO 8601 with nanoseconds and a +0000 UTC offset.',
      formatIso8601Offset,
    ),
    timeText('evt.datetime', 'Event date and time with nanoseconds (YYYY-MM-DD HH:MM:SS.nnnnnnnnn).', (ns) =>
      formatDatetime(ns),
    ),
    timeText('evt.datetime.s', 'Event date and time without the fractional part.', (ns) => formatDatetimeS(ns)),
    rawTime('evt.rawtime', 'Event timestamp in nanoseconds since the epoch.', (ts) => ts, false),
    rawTime('evt.rawtime.s', 'Whole seconds of the event timestamp since the epoch.', (ts) => ts / NS_PER_S, false),
    rawTime('evt.rawtime.ns', 'Nanosecond part of the event timestamp.', (ts) => ts % NS_PER_S, true),
    {
      name: 'evt.pluginname',
      type: 'string',
      isList: false,
      desc: 'Name of the plugin that produced the event.',
      extract: (ev) => {
        const p = SOURCE_PLUGIN[ev.source];
        return p === undefined ? NONE : [p];
      },
    },
    {
      name: 'evt.plugininfo',
      type: 'string',
      isList: false,
      desc: "Summary of the event as rendered by its source plugin (the event's JSON).",
      extract(ev) {
        if (SOURCE_PLUGIN[ev.source] === undefined) return NONE;
        setRenderEvent(ev);
        return [marshal(ev.obj)];
      },
    },
    {
      name: 'evt.source',
      type: 'string',
      isList: false,
      desc: 'Name of the event source (e.g. k8s_audit).',
      extract: (ev) => (ev.source ? [ev.source] : NONE),
    },
    {
      name: 'evt.is_async',
      type: 'bool',
      isList: false,
      desc: 'Whether the event is asynchronous; always false for plugin events.',
      extract: () => [false],
    },
    {
      name: 'evt.asynctype',
      type: 'string',
      isList: false,
      desc: 'Type of an asynchronous event; never set for plugin events.',
      extract: () => NONE,
    },
    {
      name: 'evt.hostname',
      type: 'string',
      isList: false,
      desc: 'Host name reported with the event (FALCO_HOSTNAME or the machine name in Falco).',
      extract: (ev) => (ev.hostname === undefined ? NONE : [ev.hostname]),
    },
  ];
}
