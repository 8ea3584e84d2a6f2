/**
 * deploy/grafana/kestrel-dashboard.json: every PromQL query (panel targets and
 * template variables) names only metrics that Kestrel exports, with labels
 * those metrics have. The names come from the live registry (`new Metrics()`),
 * never from a list here, so a renamed metric fails this test until the
 * dashboard follows.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Histogram } from 'prom-client';
import { Metrics } from '../../src/observability/metrics';

type Obj = Record<string, any>;

const dashboard: Obj = JSON.parse(readFileSync(join(resolve(__dirname, '../..'), 'deploy/grafana/kestrel-dashboard.json'), 'utf8'));

/** Every panel, rows' nested panels included. */
const panels = (list: Obj[]): Obj[] => list.flatMap((p) => [p, ...panels(p.panels ?? [])]);
const queries: string[] = [
  ...panels(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t: Obj) => t.expr as string)),
  ...dashboard.templating.list.filter((v: Obj) => v.type === 'query').map((v: Obj) => v.query.query as string),
];

/** Exported series name → its label names (histograms export _bucket, _sum and _count; _bucket adds `le`). */
function exported(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  // getMetricsAsArray() returns the metric objects; their name and labelNames are public fields.
  for (const m of new Metrics().registry.getMetricsAsArray() as unknown as Array<{ name: string; labelNames?: string[]; type?: string }>) {
    const labels = new Set(m.labelNames ?? []);
    // prom-client's histograms and ours fed with bucket counts (observability/batched-histogram.ts).
    if (m instanceof Histogram || m.type === 'histogram') {
      out.set(`${m.name}_bucket`, new Set([...labels, 'le']));
      out.set(`${m.name}_sum`, labels);
      out.set(`${m.name}_count`, labels);
    } else {
      out.set(m.name, labels);
    }
  }
  return out;
}

/** Words of PromQL that are not metric names. */
const PROMQL_WORDS = new Set([
  'sum', 'min', 'max', 'avg', 'count', 'topk', 'bottomk', 'quantile', 'stddev', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right',
  'and', 'or', 'unless', 'offset', 'bool', 'rate', 'irate', 'increase', 'delta', 'histogram_quantile', 'label_values', 'abs', 'clamp_min', 'clamp_max', 'time',
]);

/** [metric, label names used in its matchers] for every metric selector of a query. */
function selectors(expr: string): Array<[string, string[]]> {
  const text = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[[^\]]*\]/g, '').replace(/\b(by|without)\s*\([^)]*\)/g, '');
  const out: Array<[string, string[]]> = [];
  const re = /([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{[^}]*\})?\s*(\()?/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const [, word, matchers, call] = m;
    if (call !== undefined || PROMQL_WORDS.has(word) || /^\$/.test(text[m.index - 1] ?? '')) continue;
    // label_values(metric, label): the second argument is a label.
    if (/,\s*$/.test(text.slice(0, m.index)) && /^label_values\(/.test(text)) continue;
    out.push([word, matchers ? [...matchers.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)/g)].map((x) => x[1]) : []]);
  }
  return out;
}

/** Labels Prometheus adds when it scrapes (target labels of the ServiceMonitor/pod). */
const TARGET_LABELS = new Set(['job', 'instance', 'namespace', 'pod', 'service', 'container', 'endpoint']);

describe('Grafana dashboard', () => {
  test('covers throughput, lag, alerts by rule and priority, dead letters, breakers, paused partitions, latency and webhook requests', () => {
    const text = queries.join('\n');
    for (const name of ['kestrel_events_total', 'kestrel_consumer_lag', 'kestrel_alerts_total', 'falcosecurity_falco_rules_matches_total', 'kestrel_dead_letters_total',
      'kestrel_breaker_state', 'kestrel_paused_partitions', 'kestrel_evaluation_seconds_bucket', 'kestrel_webhook_requests_total']) {
      expect([name, text.includes(name)]).toEqual([name, true]);
    }
    expect(text).toMatch(/sum by \(rule\) \(rate\(kestrel_alerts_total/);
    expect(text).toMatch(/sum by \(priority\) \(rate\(kestrel_alerts_total/);
  });

  test('every query names only metrics Kestrel exports, with labels they have', () => {
    const metrics = exported();
    const problems: string[] = [];
    let count = 0;
    for (const q of queries) {
      const found = selectors(q);
      if (found.length === 0) problems.push(`no metric in ${q}`);
      for (const [name, labels] of found) {
        count++;
        const known = metrics.get(name);
        if (known === undefined) problems.push(`${name} is not exported (in ${q})`);
        else for (const l of labels) if (!known.has(l) && !TARGET_LABELS.has(l)) problems.push(`${name} has no label ${l} (in ${q})`);
      }
      for (const [, by] of q.matchAll(/\bby\s*\(([^)]*)\)/g)) {
        const names = found.map(([n]) => n);
        for (const l of by.split(',').map((s) => s.trim())) {
          if (!TARGET_LABELS.has(l) && !names.some((n) => metrics.get(n)?.has(l))) problems.push(`by (${l}): no metric of the query has it (in ${q})`);
        }
      }
    }
    expect(problems).toEqual([]);
    // 27 panel targets (the mean latency names two series) and 2 template variables.
    expect(count).toBe(30);
  });

  test('the checker itself: a misspelt metric or a wrong label is caught', () => {
    expect(selectors('sum by (rule) (rate(kestrel_alerts_totl{job=~"$job", rule="x"}[$__rate_interval]))')).toEqual([['kestrel_alerts_totl', ['job', 'rule']]]);
    expect(selectors('label_values(kestrel_pipeline_healthy{job=~"$job"}, instance)')).toEqual([['kestrel_pipeline_healthy', ['job']]]);
    expect(selectors('histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m]))) / b_total')).toEqual([['a_bucket', []], ['b_total', []]]);
    expect(exported().get('kestrel_alerts_totl')).toBeUndefined();
    expect(exported().get('kestrel_alerts_total')).toEqual(new Set(['rule', 'priority']));
    expect(exported().get('kestrel_evaluation_seconds_bucket')).toEqual(new Set(['le']));
  });

  test('panels have unique ids, a title, a description and the datasource variable', () => {
    const all = panels(dashboard.panels).filter((p) => p.type !== 'row');
    expect(new Set(panels(dashboard.panels).map((p) => p.id)).size).toBe(panels(dashboard.panels).length);
    for (const p of all) expect([p.title, typeof p.description, p.datasource]).toEqual([p.title, 'string', { type: 'prometheus', uid: '${datasource}' }]);
    expect(dashboard.uid).toBe('kestrel-overview');
  });
});
