/**
 * `kestrel run --format`: the worked examples of docs/managed.md on the shipped
 * samples, through the CLI's run command (files read as a user would).
 */
import { PassThrough } from 'stream';
import { join } from 'path';
import { runCommand, type RunOptions } from '../../src/cli/run';
import { describeWithShared, MANAGED, UPSTREAM } from './shared';

async function run(opts: Partial<RunOptions>): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (c) => (o += c));
  err.on('data', (c) => (e += c));
  const code = await runCommand({ rules: [], json: false, ruleMatching: 'first', source: 'k8s_audit', ...opts } as RunOptions, out, err);
  return { code, out: o, err: e };
}

describeWithShared(MANAGED)('kestrel run --format on the managed samples', () => {
  const rules = [join(UPSTREAM, 'k8s_audit_rules.yaml')];
  const gkeRules = [...rules, join(UPSTREAM, 'k8s_audit_rules_gke.yaml')];

  test('GKE: a LogEntry file with the GKE overlay', async () => {
    const r = await run({ rules: gkeRules, format: 'gke', input: join(MANAGED, 'k8saudit-gke/gke-labs-kube-agents/human_exec.json') });
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      '20:44:41.302887000: Notice Attach/Exec to pod (user=engineer@example.com pod=standalone-replay-7d9c8b6f5-xk2mq resource=pods ns=kubeagents-system action=exec command=<NA>)\n',
    );
    expect(r.err).toBe('kestrel: 1 events read, 0 rejected, 1 alerts\nalerts by rule:\n  1\tAttach/Exec Pod\nalerts by priority:\n  1\tNotice\n');
  });

  test('AKS: one Event Hubs message of 22 records, JSON alerts carry the events', async () => {
    const r = await run({ rules, format: 'aks', json: true, input: join(MANAGED, 'k8saudit-aks/sysdiglabs-aks-audit-log/event.json') });
    expect(r.code).toBe(0);
    expect(r.err.split('\n')[0]).toBe('kestrel: 22 events read, 0 rejected, 13 alerts');
    const alerts = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(alerts.map((a) => a.rule)).toEqual(Array(13).fill('Disallowed K8s User'));
    expect(alerts[0].output_fields['ka.user.name']).toBe('aksService');
  });

  test('EKS: the control message is skipped, the CloudTrail DATA_MESSAGE rejected with its reason', async () => {
    const control = await run({ rules, format: 'cloudwatch', input: join(MANAGED, 'k8saudit-eks/otel-collector-contrib/valid_cloudwatch_log_control.json') });
    expect([control.code, control.out, control.err]).toEqual([0, '', 'kestrel: 0 events read, 0 rejected, 1 records skipped, 0 alerts\n']);
    const file = join(MANAGED, 'k8saudit-eks/otel-collector-contrib/valid_cloudwatch_log.json');
    const data = await run({ rules, format: 'cloudwatch', input: file });
    expect(data.err).toBe(
      `kestrel: ${file}:1: rejected: CloudWatch logEvents[0]: invalid JSON: Expected ',' or '}' after property value in JSON at position 53 (and 2 more rejected records)\n` +
        'kestrel: 0 events read, 1 rejected, 0 alerts\n',
    );
  });
});
