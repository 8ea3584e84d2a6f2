/**
 * Format `json` and `text` are Falco's payloads byte for byte, whatever the
 * worker attached; include_event only appends one `audit` key at the end.
 */
import { alertJson, alertText } from '../../src/engine/alert';
import { formatAlert } from '../../src/sinks/formats';
import { caseAlerts, outgoing } from './helpers';

const alerts = caseAlerts();

test('json is alertJson and text is alertText for all 109 alerts of the rule tests, with or without the context', () => {
  expect(alerts).toHaveLength(109);
  const diffs: string[] = [];
  for (const { name, view, alert } of alerts) {
    const a = outgoing(alert, view);
    const json = alertJson(alert);
    for (const [got, want] of [
      [formatAlert('json', a), json],
      [formatAlert('json', { alert }), json],
      [formatAlert('json', a, { includeEvent: 'none' }), json],
      [formatAlert('text', a, { includeEvent: 'full' }), alertText(alert)],
    ]) if (got !== want) diffs.push(`${name}: ${got}`);
  }
  expect(diffs).toEqual([]);
});

test('include_event metadata and full append `audit` after all of Falco\'s keys, leaving them as they were', () => {
  for (const { view, alert } of alerts) {
    const a = outgoing(alert, view);
    const prefix = `${alertJson(alert).slice(0, -1)},"audit":{`;
    const metadata = formatAlert('json', a, { includeEvent: 'metadata' });
    const full = formatAlert('json', a, { includeEvent: 'full' });
    expect(metadata.startsWith(prefix)).toBe(true);
    expect(full.startsWith(prefix)).toBe(true);
    expect(JSON.parse(metadata).audit.event).toBeUndefined();
    expect(JSON.parse(full).audit.event).toEqual(view.obj);
  }
});

test('bigint output fields stay exact integers next to the context', () => {
  const { view, alert } = alerts[0];
  const text = formatAlert('json', outgoing(alert, view), { includeEvent: 'full' });
  expect(text).toContain(`"evt.time":${alert.timeNs}`);
});
