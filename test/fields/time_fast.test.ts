import { nsDecimal, parseRfc3339Ns, parseRfc3339Regex } from '../../src/fields/time';

describe('parseRfc3339Ns fast path', () => {
  const samples = [
    '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.123456Z', '2026-11-02T09:15:12.340123000Z', '2026-11-02T09:15:12,5Z',
    '2026-11-02T09:15:12.1234567891234Z', '2024-02-29T23:59:59.999999999Z', '2023-02-29T00:00:00Z', '2026-13-01T00:00:00Z',
    '2026-00-01T00:00:00Z', '2026-01-00T00:00:00Z', '2026-04-31T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:60:00Z',
    '2026-01-01T00:00:60Z', '2026-01-01T00:00:00.Z', '2026-01-01T00:00:00z', '2026-01-01t00:00:00Z', '2026-01-01T00:00:00',
    '2026-01-01T00:00:00+02:00', '2026-01-01T00:00:00.5-01:30', '2026-1-01T00:00:00Z', '2026-01-01T00:00:0xZ', '20260101T000000Z',
    '0000-01-01T00:00:00Z', '1969-12-31T23:59:59.999999999Z', '9999-12-31T23:59:59.999999999Z', '1900-02-29T00:00:00Z',
    '2000-02-29T00:00:00Z', '2026-01-01T00:00:00.12a4Z', '2026-01-01T00:00:00..1Z', '', 'Z', '2026-01-01T00:00:00.0000000000Z',
    '٢٠٢٦-01-01T00:00:00Z', '2026-01-01T00:00:00 Z',
  ];
  test.each(samples)('%s as the regex parser', (text) => {
    expect(parseRfc3339Ns(text)).toBe(parseRfc3339Regex(text));
    // Again: the one-entry memo answers.
    const ns = parseRfc3339Ns(text);
    expect(ns).toBe(parseRfc3339Regex(text));
    if (ns !== undefined) expect(nsDecimal(ns)).toBe(ns.toString());
  });

  test('nsDecimal of other values than the last parsed one', () => {
    parseRfc3339Ns('2026-01-01T00:00:00.5Z');
    expect(nsDecimal(1767225600500000000n)).toBe('1767225600500000000');
    expect(nsDecimal(42n)).toBe('42');
    expect(nsDecimal(-1000000001n)).toBe('-1000000001');
    parseRfc3339Ns('1970-01-01T00:00:00.000000042Z');
    expect(nsDecimal(42n)).toBe('42');
  });

  test('exact values', () => {
    expect(parseRfc3339Ns('2026-11-02T09:15:12.340123Z')).toBe(1793610912340123000n);
    expect(parseRfc3339Ns('1970-01-01T00:00:00.000000001Z')).toBe(1n);
    expect(parseRfc3339Ns('2026-02-30T00:00:00Z')).toBeUndefined();
  });

  test('random timestamps, valid and broken', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const p = (v: number, w: number) => String(v).padStart(w, '0');
    for (let i = 0; i < 3000; i++) {
      let t = `${p(rnd(10000), 4)}-${p(rnd(14), 2)}-${p(rnd(33), 2)}T${p(rnd(26), 2)}:${p(rnd(62), 2)}:${p(rnd(62), 2)}`;
      if (rnd(2)) t += `.${'0123456789'.slice(0, 1 + rnd(9))}${rnd(3) ? '' : '7531'}`;
      t += rnd(5) ? 'Z' : '+01:00';
      if (!rnd(20)) t = t.slice(0, rnd(t.length)) + 'x' + t.slice(rnd(t.length));
      const ns = parseRfc3339Ns(t);
      expect(ns).toBe(parseRfc3339Regex(t));
      if (ns !== undefined) expect(nsDecimal(ns)).toBe(ns.toString());
    }
  });
});
