import {
  catalogFor,
  eventTimeNs,
  formatDatetime,
  formatDatetimeS,
  formatIso8601,
  formatIso8601Offset,
  formatTimeHMS,
  formatTimeHMSs,
  parseRfc3339Ns,
  renderForOutput,
} from '../../src/fields';
import { ex, view } from './helpers';

describe('timestamp parsing', () => {
  test.each<[string, bigint | undefined]>([
    ['2018-10-25T13:58:49.730588Z', 1540475929730588000n],
    ['2018-10-25T13:58:49Z', 1540475929000000000n],
    ['2018-10-25T15:58:49.730588+02:00', 1540475929730588000n],
    ['2018-10-25T08:28:49.730588-05:30', 1540475929730588000n],
    ['2018-10-25T13:58:49.1234567891234Z', 1540475929123456789n],
    ['2024-02-29T23:59:59.999999Z', 1709251199999999000n],
    ['1970-01-01T00:00:00Z', 0n],
    ['2023-02-29T00:00:00Z', undefined],
    ['2018-13-01T00:00:00Z', undefined],
    ['2018-10-25T24:00:00Z', undefined],
    ['2018-10-25 13:58:49Z', undefined],
    ['2018-10-25T13:58:49', undefined],
    ['', undefined],
  ])('%s', (text, ns) => {
    expect(parseRfc3339Ns(text)).toBe(ns);
  });

  test('eventTimeNs per source', () => {
    expect(eventTimeNs({ stageTimestamp: '2018-10-25T13:58:49.730588Z' })).toBe(1540475929730588000n);
    expect(eventTimeNs({ requestReceivedTimestamp: '2018-10-25T13:58:49.730588Z' })).toBeUndefined();
    expect(eventTimeNs({ requestReceivedTimestamp: '2018-10-25T13:58:49.730588Z' }, 'k8s_admission')).toBe(
      1540475929730588000n,
    );
    const both = { stageTimestamp: '2018-10-25T13:58:49Z', requestReceivedTimestamp: '2018-10-25T13:58:48Z' };
    expect(eventTimeNs(both)).toBe(1540475929000000000n);
    expect(eventTimeNs(both, 'k8s_admission')).toBe(1540475928000000000n);
    expect(eventTimeNs({ stageTimestamp: 12 })).toBeUndefined();
    expect(eventTimeNs(null)).toBeUndefined();
  });
});

describe('time formats', () => {
  const ns = 1540475929730588000n;
  test('Falco formats', () => {
    expect(formatTimeHMS(ns)).toBe('13:58:49.730588000');
    expect(formatTimeHMSs(ns)).toBe('13:58:49');
    expect(formatDatetime(ns)).toBe('2018-10-25 13:58:49.730588000');
    expect(formatDatetimeS(ns)).toBe('2018-10-25 13:58:49');
    expect(formatIso8601(ns)).toBe('2018-10-25T13:58:49.730588000Z');
    expect(formatIso8601Offset(ns)).toBe('2018-10-25T13:58:49.730588000+0000');
  });
  test('padding and day boundaries', () => {
    expect(formatTimeHMS(1000n)).toBe('00:00:00.000001000');
    expect(formatIso8601(1709251199999999000n)).toBe('2024-02-29T23:59:59.999999000Z');
    expect(formatDatetime(1709251200000000001n)).toBe('2024-03-01 00:00:00.000000001');
  });
  test('local-zone offset', () => {
    expect(formatTimeHMS(ns, 7200)).toBe('15:58:49.730588000');
    expect(formatDatetimeS(1709251199000000000n, 3600)).toBe('2024-03-01 00:59:59');
  });
});

describe('evt.* fields', () => {
  const auditEvt = { auditID: 'x', stageTimestamp: '2018-10-25T13:58:49.730588Z', verb: 'get' };
  const extra = { num: 7, hostname: 'falco-node-1' };
  test.each<[string, unknown[]]>([
    ['evt.num', [7]],
    ['evt.time', ['13:58:49.730588000']],
    ['evt.time.s', ['13:58:49']],
    ['evt.time.iso8601', ['2018-10-25T13:58:49.730588000+0000']],
    ['evt.datetime', ['2018-10-25 13:58:49.730588000']],
    ['evt.datetime.s', ['2018-10-25 13:58:49']],
    ['evt.rawtime', [1540475929730588000n]],
    ['evt.rawtime.s', [1540475929n]],
    ['evt.rawtime.ns', [730588000n]],
    ['evt.pluginname', ['k8saudit']],
    ['evt.plugininfo', ['{"auditID":"x","stageTimestamp":"2018-10-25T13:58:49.730588Z","verb":"get"}']],
    ['evt.source', ['k8s_audit']],
    ['evt.is_async', [false]],
    ['evt.asynctype', []],
    ['evt.hostname', ['falco-node-1']],
  ])('%s', (name, expected) => {
    expect(ex(name, auditEvt, undefined, 'k8s_audit', extra)).toEqual(expected);
  });

  test('absent without timestamp / number / hostname', () => {
    for (const name of ['evt.time', 'evt.datetime', 'evt.rawtime', 'evt.rawtime.ns', 'evt.num', 'evt.hostname']) {
      expect(ex(name, { auditID: 'x' })).toEqual([]);
    }
  });

  test('the source timestamp (EventView.tsNs) wins over the document', () => {
    expect(ex('evt.time', auditEvt, undefined, 'k8s_audit', { tsNs: 1000n })).toEqual(['00:00:00.000001000']);
  });

  test('k8s_admission uses requestReceivedTimestamp', () => {
    const adm = { request: { uid: 'u' }, requestReceivedTimestamp: '2022-11-30T17:46:51.5Z' };
    expect(ex('evt.time', adm, undefined, 'k8s_admission')).toEqual(['17:46:51.500000000']);
    expect(ex('evt.pluginname', adm, undefined, 'k8s_admission')).toEqual(['k8sadmission']);
    expect(ex('evt.source', adm, undefined, 'k8s_admission')).toEqual(['k8s_admission']);
  });

  test('types', () => {
    const cat = catalogFor('k8s_audit')!;
    expect(cat.get('evt.num')!.type).toBe('uint64');
    expect(cat.get('evt.time')!.type).toBe('string');
    expect(cat.get('evt.rawtime')!.type).toBe('abstime');
    expect(cat.get('evt.is_async')!.type).toBe('bool');
  });

  test('output rendering of evt fields', () => {
    const cat = catalogFor('k8s_audit')!;
    const ev = view(auditEvt, 'k8s_audit', extra);
    const r = (name: string) => {
      const d = cat.get(name)!;
      return renderForOutput(d, d.extract(ev, undefined), ev);
    };
    expect(r('evt.time')).toEqual({ text: '13:58:49.730588000', json: 1540475929730588000n });
    expect(r('evt.time.iso8601')).toEqual({ text: '2018-10-25T13:58:49.730588000+0000', json: 1540475929730588000n });
    expect(r('evt.rawtime')).toEqual({ text: '1540475929730588000', json: 1540475929730588000n });
    expect(r('evt.rawtime.s')).toEqual({ text: '1540475929', json: 1540475929 });
    expect(r('evt.rawtime.ns')).toEqual({ text: '730588000', json: 730588000 });
    expect(r('evt.num')).toEqual({ text: '7', json: 7 });
    expect(r('evt.is_async')).toEqual({ text: 'false', json: false });
    expect(r('evt.asynctype')).toEqual({ text: '<NA>', json: null });
    const padded = view({ auditID: 'x', stageTimestamp: '2024-01-01T00:00:00.000001Z' });
    const d = cat.get('evt.rawtime.ns')!;
    expect(renderForOutput(d, d.extract(padded, undefined), padded)).toEqual({ text: '000001000', json: 1000 });
  });
});
