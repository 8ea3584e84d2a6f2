/** Times before 1970 (issue 9 item 9): the fraction is counted forward from the previous whole second, never printed negative. */
import { alertJson, alertText, formatIsoTime, formatTime, type Alert } from '../../src/engine/alert';
import { formatDatetime, formatIso8601, formatIso8601Offset, formatTimeHMS, parseRfc3339Ns } from '../../src/fields';

describe('pre-1970 timestamps', () => {
  const halfBefore = -500_000_000n; // 1969-12-31T23:59:59.5Z

  test('field formats', () => {
    expect(parseRfc3339Ns('1969-12-31T23:59:59.5Z')).toBe(halfBefore);
    expect(formatIso8601(halfBefore)).toBe('1969-12-31T23:59:59.500000000Z');
    expect(formatIso8601Offset(halfBefore)).toBe('1969-12-31T23:59:59.500000000+0000');
    expect(formatTimeHMS(halfBefore)).toBe('23:59:59.500000000');
    expect(formatDatetime(halfBefore)).toBe('1969-12-31 23:59:59.500000000');
    expect(formatIso8601(-1n)).toBe('1969-12-31T23:59:59.999999999Z');
    expect(formatIso8601(-1_000_000_000n)).toBe('1969-12-31T23:59:59.000000000Z');
    const moonLanding = parseRfc3339Ns('1969-07-20T20:17:40.123456789Z')!;
    expect(formatIso8601(moonLanding)).toBe('1969-07-20T20:17:40.123456789Z');
    expect(formatIso8601(parseRfc3339Ns('1901-01-01T00:00:00.000000001Z')!)).toBe('1901-01-01T00:00:00.000000001Z');
  });

  test("an alert's text line and JSON time", () => {
    expect(formatTime(halfBefore)).toBe('23:59:59.500000000');
    expect(formatIsoTime(halfBefore)).toBe('1969-12-31T23:59:59.500000000Z');
    const a: Alert = { timeNs: halfBefore, rule: 'R', priority: 'Notice', source: 'k8s_audit', tags: [], hostname: 'h', message: 'm', outputFields: {} };
    expect(alertText(a)).toBe('23:59:59.500000000: Notice m');
    expect(JSON.parse(alertJson(a)).time).toBe('1969-12-31T23:59:59.500000000Z');
    // the positive path is unchanged
    expect(formatIsoTime(1793610904936123000n)).toBe('2026-11-02T09:15:04.936123000Z');
    expect(formatTime(1793610904936123000n)).toBe('09:15:04.936123000');
  });
});
