/**
 * SIGHUP on `kestrel consume`: a good new ruleset reaches every worker; a
 * broken one is rejected with located errors and the running rules stay.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { baseConfig, createTopics, httpGet, kafka, metric, produce, readTopic, startConsume, stopConsume, tmpDir, waitFor, writeConfig } from '../pipeline/kafka-helpers';

const rule = (name: string) => `- rule: ${name}
  desc: test rule
  condition: ka.verb = create
  output: "${name} by %ka.user.name"
  priority: NOTICE
  source: k8s_audit
`;
const event = (user: string) => JSON.stringify({
  kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: randomUUID(), stage: 'ResponseComplete', verb: 'create',
  user: { username: user }, objectRef: { resource: 'configmaps', namespace: 'a', name: 'b' },
  responseStatus: { code: 201 }, stageTimestamp: '2026-05-06T07:08:09.000001Z',
});

let admin: Admin;
beforeAll(async () => {
  admin = kafka().admin();
  await admin.connect();
});
afterAll(async () => admin.disconnect());

test('SIGHUP reloads rules in every worker; a broken ruleset is rejected and the old one keeps running', async () => {
  const id = randomUUID().slice(0, 8);
  await createTopics(admin, { [`in-${id}`]: 2, [`out-${id}`]: 1, [`dlq-${id}`]: 1 });
  const dir = tmpDir();
  const rulesFile = join(dir, `rules-${id}.yaml`);
  writeFileSync(rulesFile, rule('Old rule'));
  const c = startConsume(writeConfig(dir, `reload-${id}.yaml`, baseConfig(id, { rules: { paths: [rulesFile] } })));
  try {
    const port = await c.port();
    await produce(`in-${id}`, [{ value: event('u1'), partition: 0 }, { value: event('u2'), partition: 1 }]);
    expect((await readTopic(`out-${id}`, 2)).map((r) => JSON.parse(r.value!.toString()).output).sort()).toEqual([
      '07:08:09.000001000: Notice Old rule by u1', '07:08:09.000001000: Notice Old rule by u2',
    ]);

    writeFileSync(rulesFile, `${rule('Broken rule')}  exceptions: 3\n`);
    c.proc.kill('SIGHUP');
    await waitFor('rejected reload', () => c.stderr().includes('rules reload failed'), 20_000);
    expect(c.stderr()).toContain(`${rulesFile}:7:15: error LOAD_ERR_YAML_VALIDATE: rule 'Broken rule': 'exceptions' must be a sequence`);
    await produce(`in-${id}`, [{ value: event('u3'), partition: 0 }, { value: event('u4'), partition: 1 }]);
    const afterBroken = await readTopic(`out-${id}`, 4);
    expect(afterBroken.map((r) => JSON.parse(r.value!.toString()).rule)).toEqual(['Old rule', 'Old rule', 'Old rule', 'Old rule']);

    writeFileSync(rulesFile, rule('New rule'));
    c.proc.kill('SIGHUP');
    await waitFor('reload', () => c.stderr().includes('rules reloaded'), 20_000);
    await produce(`in-${id}`, [{ value: event('u5'), partition: 0 }, { value: event('u6'), partition: 1 }]);
    const all = await readTopic(`out-${id}`, 6);
    expect(all.slice(4).map((r) => JSON.parse(r.value!.toString()).output).sort()).toEqual([
      '07:08:09.000001000: Notice New rule by u5', '07:08:09.000001000: Notice New rule by u6',
    ]);
    const m = (await httpGet(port, '/metrics')).body;
    expect([metric(m, 'kestrel_rules_reloads_total', { result: 'ok' }), metric(m, 'kestrel_rules_reloads_total', { result: 'failed' })]).toEqual([1, 1]);
  } finally {
    expect(await stopConsume(c)).toBe(0);
  }
  // One log stream: every stderr line (reloads, rule errors, kafkajs's own lines) is a pino JSON object,
  // and kafkajs's notices about its own defaults are not passed on.
  const lines = c.stderr().split('\n').filter((l) => l !== '');
  expect(lines.filter((l) => !l.startsWith('{'))).toEqual([]);
  expect(lines.filter((l) => /partitioner|Limiting retries for the idempotent producer/i.test(l))).toEqual([]);
}, 120_000);
