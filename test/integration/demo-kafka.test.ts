/**
 * `npm run demo:kafka` end to end: its own local broker, the topics, the example
 * events in Fluent Bit's envelope, `npx kestrel consume -c examples/kestrel.local.yaml`,
 * the alerts read back from the alert topic, everything stopped afterwards.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

test('npm run demo:kafka prints the example alerts read back from the alert topic', () => {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/demo-kafka.js')], { cwd: ROOT, encoding: 'utf8', timeout: 110_000 });
  const seconds = (Date.now() - t0) / 1000;
  expect({ code: r.status, stderrTail: r.status === 0 ? '' : r.stderr.slice(-3000) }).toEqual({ code: 0, stderrTail: '' });
  const lines = r.stdout.trimEnd().split('\n');
  expect(lines.map((l) => /^\[([^\]]+)\] /.exec(l)?.[1])).toEqual([
    'Interactive session in pod',
    'Privileged pod created',
    'Cluster-admin granted through binding',
    'ConfigMap holds credentials',
    'Unauthenticated request allowed',
    'ConfigMap created',
  ]);
  // The same output lines as `kestrel run` on the file (README), after the rule name.
  expect(lines[1]).toBe('[Privileged pod created] 09:15:07.404123000: Warning Privileged pod created (pod=debug-node ns=shop images=(docker.io/library/busybox:1.36) init_images=<NA> user=dana@example.com source_ip=10.0.12.7 user_agent=kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46 audit_id=5e4c1a2b-0000-4000-8000-000000000003)');
  expect(r.stderr).toContain('] 7 events from examples/audit-events.jsonl put on k8s-audit as Fluent Bit records');
  expect(r.stderr).toContain('] 6 alerts on kestrel-alerts:');
  expect(r.stderr).toContain('] 0 messages on kestrel-dlq');
  expect(r.stderr).toMatch(/\] broker stopped; done\n$/);
  process.stderr.write(`demo:kafka took ${seconds.toFixed(1)} s\n`);
}, 120_000);
