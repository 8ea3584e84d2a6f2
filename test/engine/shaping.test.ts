/** Alert shaping (static fields, throttling that counts what it suppresses) and per-sink filters. */
import { alertJson, type Alert } from '../../src/engine/alert';
import { AlertShaper, SUPPRESSED_FIELD } from '../../src/engine/shaping';
import { alertFilter } from '../../src/pipeline/selection';
import { makeAlert } from '../sinks/helpers';

const A = (rule: string, message = 'm', over: Partial<Alert> = {}): Alert => makeAlert(0, { rule, message, ...over }).alert;

describe('static fields', () => {
  test('global fields, overridden per input; fields from the rule output win', () => {
    const shaper = new AlertShaper({ staticFields: { cluster: 'default', environment: 'prod' } });
    const [a] = shaper.shape([A('R', 'm', { outputFields: { 'ka.user.name': 'dana', environment: 'from-rule' } })], { cluster: 'eu-1' });
    expect(a.outputFields).toEqual({ cluster: 'eu-1', environment: 'from-rule', 'ka.user.name': 'dana' });
    expect(JSON.parse(alertJson(a)).output_fields).toEqual({ cluster: 'eu-1', environment: 'from-rule', 'evt.time': 1793610900000000000, 'ka.user.name': 'dana' });
  });

  test('without fields or throttling the alert passes unchanged (same object)', () => {
    const a = A('R');
    expect(new AlertShaper().shape([a])[0]).toBe(a);
  });
});

describe('throttling', () => {
  test('one alert per rule per window; the next one carries the suppressed count; counters', () => {
    let now = 1000;
    const shaper = new AlertShaper({ throttle: { windowMs: 100 }, now: () => now });
    const seen: string[] = [];
    shaper.onSuppressed = (a) => seen.push(a.rule);
    expect(shaper.shape([A('R', 'a'), A('R', 'b'), A('S', 'c'), A('R', 'd')]).map((a) => a.message)).toEqual(['a', 'c']);
    now = 1050;
    expect(shaper.shape([A('R', 'e')])).toEqual([]);
    expect(shaper.pending()).toEqual([{ key: 'R', suppressed: 3 }]);
    now = 1100;
    const [next] = shaper.shape([A('R', 'f')]);
    expect(next.message).toBe('f');
    expect(next.outputFields[SUPPRESSED_FIELD]).toBe(3);
    expect(JSON.parse(alertJson(next)).output_fields['kestrel.suppressed']).toBe(3);
    expect(seen).toEqual(['R', 'R', 'R']);
    expect(shaper.stats).toEqual({ passed: 3, suppressed: 3, suppressedByRule: new Map([['R', 3]]) });
    expect(shaper.pending()).toEqual([]);
    now = 1300;
    expect(shaper.shape([A('R', 'g')])[0].outputFields[SUPPRESSED_FIELD]).toBeUndefined();
  });

  test('rule_output dedups identical alerts only; `rules` limits throttling to some rules', () => {
    const now = 0;
    const shaper = new AlertShaper({ throttle: { windowMs: 1000, key: 'rule_output', rules: ['R'] }, now: () => now });
    const out = shaper.shape([A('R', 'x'), A('R', 'x'), A('R', 'y'), A('S', 'x'), A('S', 'x')]);
    expect(out.map((a) => `${a.rule}:${a.message}`)).toEqual(['R:x', 'R:y', 'S:x', 'S:x']);
    expect(shaper.pending()).toEqual([{ key: 'R: x', suppressed: 1 }]);
  });

  test('windows are per scope (webhook path / topic): one input never suppresses another', () => {
    const shaper = new AlertShaper({ throttle: { windowMs: 1000 }, now: () => 0 });
    expect(shaper.shape([A('R'), A('R')], undefined, '/cluster-a').length).toBe(1);
    expect(shaper.shape([A('R'), A('R')], undefined, '/cluster-b').length).toBe(1);
    expect(shaper.pending()).toEqual([{ key: '/cluster-a: R', suppressed: 1 }, { key: '/cluster-b: R', suppressed: 1 }]);
  });

  test('beyond maxKeys, new keys pass unthrottled (never dropped)', () => {
    const shaper = new AlertShaper({ throttle: { windowMs: 1000, maxKeys: 1 }, now: () => 0 });
    expect(shaper.shape([A('R'), A('S'), A('S'), A('R')]).map((a) => a.rule)).toEqual(['R', 'S', 'S']);
    expect(shaper.stats.suppressed).toBe(1);
  });
});

describe('per-sink filters and fan-out', () => {
  const alerts = [
    makeAlert(1, { rule: 'Exec', priority: 'Notice', tags: ['k8s', 'exec'] }),
    makeAlert(2, { rule: 'Secret', priority: 'Warning', tags: ['k8s', 'secrets'] }),
    makeAlert(3, { rule: 'Debugging', priority: 'Debug', tags: [] }),
  ];
  const pick = (f: ReturnType<typeof alertFilter>) => alerts.filter(f).map((a) => a.alert.rule);

  test('minimum priority, rules, excluded rules, tags, excluded tags', () => {
    expect(pick(alertFilter({ minPriority: 'Notice' }))).toEqual(['Exec', 'Secret']);
    expect(pick(alertFilter({ rules: ['Secret', 'Debugging'] }))).toEqual(['Secret', 'Debugging']);
    expect(pick(alertFilter({ excludeRules: ['Exec'] }))).toEqual(['Secret', 'Debugging']);
    expect(pick(alertFilter({ tags: ['exec', 'secrets'] }))).toEqual(['Exec', 'Secret']);
    expect(pick(alertFilter({ excludeTags: ['secrets'] }))).toEqual(['Exec', 'Debugging']);
    expect(pick(alertFilter({}))).toEqual(['Exec', 'Secret', 'Debugging']);
  });
});
