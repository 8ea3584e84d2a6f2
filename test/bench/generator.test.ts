import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  AuditEvent,
  AuditEventGenerator,
  CLASS_SHARES,
  EventClass,
  GeneratedEvent,
  MAX_EVENT_BYTES,
  START_TIME,
  SUSPICIOUS_SCENARIOS,
  WRITE_SCENARIOS,
  READ_SCENARIOS,
  generate,
  generateLines,
} from '../../bench/generator';
import { parseArgs, writeEvents } from '../../bench/generate';

const N = 10_000;

/* ------------------------------------------------------------ fixtures */

interface Doc {
  line: string;
  ev: AuditEvent;
  cls: EventClass;
  scenario: string;
}

function tagged(count: number, seed: number): GeneratedEvent[] {
  const g = new AuditEventGenerator(seed);
  const out: GeneratedEvent[] = [];
  for (let i = 0; i < count; i++) out.push(g.nextTagged());
  return out;
}

let docs: Doc[];
beforeAll(() => {
  const lines = generate(N, 1);
  const tags = tagged(N, 1);
  docs = lines.map((line, i) => ({ line, ev: JSON.parse(line) as AuditEvent, cls: tags[i].cls, scenario: tags[i].scenario }));
});

/* ------------------------------------------------------------ an independent "is it suspicious?" oracle */

const SENSITIVE = new Set(['/', '/etc', '/proc', '/root', '/var/run/docker.sock', '/run/containerd/containerd.sock', '/var/lib/kubelet', '/etc/kubernetes']);
const PRIVATE_CREDENTIALS = ['aws_access_key_id', 'aws-access-key-id', 'aws_s3_access_key_id', 'aws-s3-access-key-id', 'password', 'passphrase'];
const WRITE_VERBS = new Set(['create', 'update', 'patch']);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** Which Falco-style markers does this event carry? (Empty for benign traffic.) */
function markers(ev: AuditEvent): string[] {
  const m: string[] = [];
  const user = ev.user.username;
  const human = !user.startsWith('system:');
  const ref = ev.objectRef ?? {};
  const req = ev.requestObject as Any;
  if (user === 'system:anonymous') m.push('anonymous');
  if (ref.resource === 'pods' && (ref.subresource === 'exec' || ref.subresource === 'attach')) m.push('exec/attach');
  if (ref.resource === 'pods' && ev.verb === 'create' && !ref.subresource && req?.spec) {
    const spec = req.spec;
    const containers: Any[] = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
    if (containers.some((c) => c.securityContext?.privileged === true)) m.push('privileged');
    if (spec.hostNetwork === true) m.push('hostNetwork');
    if (spec.hostPID === true || spec.hostIPC === true) m.push('hostPID/IPC');
    if ((spec.volumes ?? []).some((v: Any) => v.hostPath && SENSITIVE.has(v.hostPath.path))) m.push('sensitive-mount');
    if (ref.namespace === 'kube-system' && human) m.push('human-kube-system-pod');
  }
  if (ref.resource === 'clusterrolebindings' && WRITE_VERBS.has(ev.verb) && req?.roleRef?.name === 'cluster-admin') m.push('cluster-admin');
  if (ref.resource === 'clusterroles' && WRITE_VERBS.has(ev.verb) && (req?.rules ?? []).some((r: Any) => (r.verbs ?? []).includes('*') || (r.resources ?? []).includes('*'))) m.push('wildcard-role');
  if (ref.resource === 'configmaps' && WRITE_VERBS.has(ev.verb) && req) {
    const body = JSON.stringify(req).toLowerCase();
    if (PRIVATE_CREDENTIALS.some((k) => body.includes(k))) m.push('configmap-credentials');
  }
  if (ref.resource === 'services' && WRITE_VERBS.has(ev.verb) && (req?.spec?.type === 'NodePort' || (ev.responseObject as Any)?.spec?.type === 'NodePort')) m.push('nodeport');
  if (ref.resource === 'serviceaccounts' && ref.subresource === 'token' && human) m.push('human-token');
  if (ref.resource === 'secrets' && (ev.verb === 'get' || ev.verb === 'list' || ev.verb === 'watch') && human) m.push('human-secret-read');
  return m;
}

/* ------------------------------------------------------------ tests */

describe('determinism', () => {
  test('same seed gives identical documents', () => {
    const a = generate(50, 1);
    const b = generate(50, 1);
    expect(b).toEqual(a);
    const g = new AuditEventGenerator(1);
    expect(a.map(() => JSON.stringify(g.next()))).toEqual(a);
    expect([...generateLines(50, 1)]).toEqual(a);
    expect(docs.slice(0, 50).map((d) => d.line)).toEqual(a);
  });

  test('different seeds give different documents', () => {
    const a = generate(50, 1);
    const b = generate(50, 2);
    const c = generate(50, 1234567);
    for (let i = 0; i < 50; i++) {
      expect(b[i]).not.toEqual(a[i]);
      expect(c[i]).not.toEqual(a[i]);
    }
  });

  test('pinned output for seed 1 (regression fingerprint)', () => {
    const first = docs[0].ev;
    expect(first.auditID).toBe('9593aa52-5faa-4f2c-934d-5d4f8b5c2f29');
    const sha = createHash('sha256').update(docs.slice(0, 1000).map((d) => d.line).join('\n')).digest('hex');
    expect(sha).toBe('PINNED_SHA');
  });
});

describe('audit Event shape', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
  const IP = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1)$/;
  const LEVELS = new Set(['Metadata', 'Request', 'RequestResponse']);
  const STAGES = new Set(['RequestReceived', 'ResponseStarted', 'ResponseComplete']);
  const VERBS = new Set(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']);

  test('every document has the required keys with the right types', () => {
    for (const { ev, line } of docs) {
      expect(line).not.toContain('\n');
      expect(ev.kind).toBe('Event');
      expect(ev.apiVersion).toBe('audit.k8s.io/v1');
      expect(LEVELS.has(ev.level)).toBe(true);
      expect(ev.auditID).toMatch(UUID);
      expect(STAGES.has(ev.stage)).toBe(true);
      expect(typeof ev.requestURI).toBe('string');
      expect(ev.requestURI.startsWith('/')).toBe(true);
      expect(VERBS.has(ev.verb)).toBe(true);
      expect(typeof ev.user.username).toBe('string');
      expect(ev.user.username.length).toBeGreaterThan(0);
      expect(Array.isArray(ev.user.groups)).toBe(true);
      for (const gr of ev.user.groups!) expect(typeof gr).toBe('string');
      if (ev.user.uid !== undefined) expect(typeof ev.user.uid).toBe('string');
      if (ev.user.extra !== undefined) for (const v of Object.values(ev.user.extra)) expect(v.every((x) => typeof x === 'string')).toBe(true);
      if (ev.impersonatedUser !== undefined) expect(typeof ev.impersonatedUser.username).toBe('string');
      expect(ev.sourceIPs.length).toBeGreaterThan(0);
      for (const ip of ev.sourceIPs) expect(ip).toMatch(IP);
      expect(typeof ev.userAgent).toBe('string');
      expect(ev.userAgent.length).toBeGreaterThan(0);
      expect(ev.requestReceivedTimestamp).toMatch(TS);
      expect(ev.stageTimestamp).toMatch(TS);
      expect(ev.requestReceivedTimestamp <= ev.stageTimestamp).toBe(true);

      // objectRef exists exactly for resource requests (not for /version, /apis, /openapi/v2 ...)
      const path = ev.requestURI.split('?')[0];
      const isResource = /^\/api\/v1\/[^/]+/.test(path) || /^\/apis\/[^/]+\/[^/]+\/[^/]+/.test(path);
      expect(ev.objectRef !== undefined).toBe(isResource);
      if (ev.objectRef) {
        expect(typeof ev.objectRef.resource).toBe('string');
        expect(typeof ev.objectRef.apiVersion).toBe('string');
        expect(path).toContain(`/${ev.objectRef.resource}`);
        if (ev.objectRef.namespace !== undefined) expect(path).toContain(`/namespaces/${ev.objectRef.namespace}`);
        if (ev.objectRef.apiGroup !== undefined) expect(path.startsWith(`/apis/${ev.objectRef.apiGroup}/`)).toBe(true);
        if (ev.objectRef.subresource !== undefined) expect(path.endsWith(`/${ev.objectRef.subresource}`)).toBe(true);
      }

      if (ev.stage === 'RequestReceived') {
        expect(ev.responseStatus).toBeUndefined();
        expect(ev.annotations).toBeUndefined();
        expect(ev.requestObject).toBeUndefined();
        expect(ev.responseObject).toBeUndefined();
      } else {
        const st = ev.responseStatus!;
        expect(st.metadata).toEqual({});
        expect(Number.isInteger(st.code)).toBe(true);
        if (st.code >= 400) {
          expect(st.status).toBe('Failure');
          expect(typeof st.reason).toBe('string');
          expect(typeof st.message).toBe('string');
        }
        const ann = ev.annotations!;
        expect(['allow', 'forbid']).toContain(ann['authorization.k8s.io/decision']);
        expect(typeof ann['authorization.k8s.io/reason']).toBe('string');
        expect(ann['authorization.k8s.io/decision'] === 'forbid').toBe(st.code === 403 && st.reason === 'Forbidden' && st.message!.includes('cannot'));
      }
      if (ev.level === 'Metadata') {
        expect(ev.requestObject).toBeUndefined();
        expect(ev.responseObject).toBeUndefined();
      }
      if (ev.level === 'Request') expect(ev.responseObject).toBeUndefined();
      if (ev.level === 'RequestResponse' && ev.stage === 'ResponseComplete') {
        expect(typeof ev.requestObject).toBe('object');
        expect(typeof ev.responseObject).toBe('object');
      }
    }
  });

  test('reads are get/list/watch by system identities at Metadata level; writes are mutations', () => {
    for (const { ev, cls } of docs) {
      if (cls === 'read') {
        expect(['get', 'list', 'watch']).toContain(ev.verb);
        expect(ev.user.username.startsWith('system:')).toBe(true);
        expect(ev.user.username).not.toBe('system:anonymous');
        expect(ev.level).toBe('Metadata');
        expect(['RequestReceived', 'ResponseComplete']).toContain(ev.stage);
      } else if (cls === 'write') {
        expect(['create', 'update', 'patch', 'delete']).toContain(ev.verb);
        expect(ev.stage).toBe('ResponseComplete');
      }
    }
    const levels = new Set(docs.filter((d) => d.cls === 'write').map((d) => d.ev.level));
    expect([...levels].sort()).toEqual(['Metadata', 'Request', 'RequestResponse']);
    const humans = new Set(docs.map((d) => d.ev.user.username).filter((u) => !u.startsWith('system:') && u.includes('@')));
    expect(humans.size).toBeGreaterThanOrEqual(4);
    expect(docs.some((d) => d.ev.impersonatedUser !== undefined)).toBe(true);
    // Pods created by controllers carry full specs with managedFields.
    const podCreate = docs.find((d) => d.scenario === 'replicaset-create-pod')!.ev as Any;
    expect(podCreate.responseObject.metadata.managedFields[0].fieldsType).toBe('FieldsV1');
    expect(Object.keys(podCreate.responseObject.metadata.managedFields[0].fieldsV1)).toEqual(['f:metadata', 'f:spec']);
    const c = podCreate.requestObject.spec.containers[0];
    for (const k of ['image', 'ports', 'env', 'resources', 'volumeMounts', 'securityContext']) expect(c[k]).toBeDefined();
  });
});

describe('class mix', () => {
  const count = (ds: { cls: EventClass }[]) => {
    const c: Record<EventClass, number> = { read: 0, write: 0, suspicious: 0 };
    for (const d of ds) c[d.cls]++;
    return c;
  };

  test('exact counts for seed 1 over 10 000 documents', () => {
    expect(count(docs)).toEqual({ read: 0, write: 0, suspicious: 0 });
  });

  test.each([1, 2, 3, 42, 987654321])('shares within tolerance (seed %d)', (seed) => {
    const c = count(seed === 1 ? docs : tagged(N, seed));
    expect(Math.abs(c.read / N - CLASS_SHARES.read)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(c.write / N - CLASS_SHARES.write)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(c.suspicious / N - CLASS_SHARES.suspicious)).toBeLessThanOrEqual(0.01);
  });

  test('every scenario occurs', () => {
    const seen = new Set(docs.map((d) => `${d.cls}/${d.scenario}`));
    for (const s of Object.keys(READ_SCENARIOS)) expect(seen).toContain(`read/${s}`);
    for (const s of Object.keys(WRITE_SCENARIOS)) expect(seen).toContain(`write/${s}`);
    for (const s of Object.keys(SUSPICIOUS_SCENARIOS)) expect(seen).toContain(`suspicious/${s}`);
  });

  test('suspicious documents, and only they, carry a Falco-style marker', () => {
    const wrong: string[] = [];
    for (const d of docs) {
      const m = markers(d.ev);
      if ((m.length > 0) !== (d.cls === 'suspicious')) wrong.push(`${d.cls}/${d.scenario}: [${m.join(',')}] ${d.ev.requestURI}`);
    }
    expect(wrong).toEqual([]);
    const all = new Set(docs.flatMap((d) => markers(d.ev)));
    expect([...all].sort()).toEqual(
      ['anonymous', 'cluster-admin', 'configmap-credentials', 'exec/attach', 'hostNetwork', 'hostPID/IPC', 'human-kube-system-pod', 'human-secret-read', 'human-token', 'nodeport', 'privileged', 'sensitive-mount', 'wildcard-role'].sort(),
    );
    // exec requests carry the command in the query string
    const exec = docs.find((d) => d.ev.objectRef?.subresource === 'exec')!.ev;
    expect(exec.requestURI).toMatch(/\/exec\?command=[^&]+(&command=[^&]+)*&container=[^&]+&stdin=true/);
  });
});

describe('sizes', () => {
  test('every event <= 20 KB, some >= 5 KB; small metadata reads, big writes', () => {
    const sizes = docs.map((d) => Buffer.byteLength(d.line)).sort((a, b) => a - b);
    const pct = (p: number) => sizes[Math.min(sizes.length - 1, Math.floor(p * sizes.length))];
    const dist = { min: sizes[0], p10: pct(0.1), median: pct(0.5), p90: pct(0.9), p99: pct(0.99), max: sizes[sizes.length - 1] };
    console.log(`audit event sizes over ${N} events (bytes): ${JSON.stringify(dist)}; >=5KB: ${sizes.filter((s) => s >= 5120).length}`);
    expect(dist).toEqual({ min: 0, p10: 0, median: 0, p90: 0, p99: 0, max: 0 });
    expect(dist.max).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    expect(sizes.filter((s) => s >= 5 * 1024).length).toBeGreaterThan(N * 0.03);
    for (const d of docs) {
      const n = Buffer.byteLength(d.line);
      if (d.cls === 'read') {
        expect(n).toBeGreaterThanOrEqual(500);
        expect(n).toBeLessThanOrEqual(2048);
      }
      if (d.cls === 'write' && d.ev.level === 'RequestResponse') {
        expect(n).toBeGreaterThanOrEqual(1024);
        expect(n).toBeLessThanOrEqual(MAX_EVENT_BYTES);
      }
    }
  });

  test('the 20 KB bound holds on a larger sample', () => {
    let max = 0;
    for (const line of generateLines(60_000, 99)) max = Math.max(max, Buffer.byteLength(line));
    expect(max).toBeLessThanOrEqual(MAX_EVENT_BYTES);
  });
});

describe('stages and time', () => {
  test('RequestReceived/ResponseComplete pairs share auditID and request fields', () => {
    const firstAt = new Map<string, number>();
    const byId = new Map<string, AuditEvent[]>();
    docs.forEach((d, i) => {
      if (!byId.has(d.ev.auditID)) {
        byId.set(d.ev.auditID, []);
        firstAt.set(d.ev.auditID, i);
      }
      byId.get(d.ev.auditID)!.push(d.ev);
    });
    let pairs = 0;
    for (const [id, evs] of byId) {
      const stages = evs.map((e) => e.stage);
      if (evs.length === 1) {
        // single-stage documents, or a pair whose completion falls after the sample's end
        if (stages[0] !== 'ResponseComplete') expect(firstAt.get(id)!).toBeGreaterThan(N - 50);
        continue;
      }
      expect(evs.length).toBe(2);
      expect([['RequestReceived', 'ResponseComplete'], ['ResponseStarted', 'ResponseComplete']]).toContainEqual(stages);
      const [a, b] = evs;
      expect(b.requestURI).toBe(a.requestURI);
      expect(b.verb).toBe(a.verb);
      expect(b.user).toEqual(a.user);
      expect(b.objectRef).toEqual(a.objectRef);
      expect(b.requestReceivedTimestamp).toBe(a.requestReceivedTimestamp);
      expect(b.stageTimestamp >= a.stageTimestamp).toBe(true);
      if (stages[0] === 'RequestReceived') pairs++;
    }
    // every read request is a pair
    const readRR = docs.filter((d) => d.cls === 'read' && d.ev.stage === 'RequestReceived').length;
    expect(pairs).toBeGreaterThan(readRR - 10);
    expect(pairs).toBeGreaterThan(3000);
  });

  test('stageTimestamp is non-decreasing from the fixed start', () => {
    const start = START_TIME.replace('Z', '.000000Z');
    let prev = start;
    for (const { ev } of docs) {
      expect(ev.stageTimestamp >= prev).toBe(true);
      expect(ev.requestReceivedTimestamp >= start).toBe(true);
      prev = ev.stageTimestamp;
    }
    expect(docs[0].ev.stageTimestamp.startsWith('2026-01-01T00:00:00.')).toBe(true);
  });
});

describe('throughput', () => {
  test('generates and serializes quickly', () => {
    const count = 50_000;
    const g = new AuditEventGenerator(5);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    let bytes = 0;
    for (let i = 0; i < count; i++) bytes += JSON.stringify(g.next()).length;
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(cpu0);
    const cpu = (c.user + c.system) / 1e6;
    console.log(`generator throughput: ${count} events, ${(bytes / 1e6).toFixed(1)} MB in ${wall.toFixed(2)} s wall / ${cpu.toFixed(2)} s CPU = ${Math.round(count / wall)} events/s wall, ${Math.round(count / cpu)} events/s CPU`);
    expect(count / cpu).toBeGreaterThan(10_000);
  });
});

describe('CLI', () => {
  test('parseArgs', () => {
    expect(parseArgs(['--count', '10'])).toEqual({ count: 10, seed: 1, out: undefined, quiet: false });
    expect(parseArgs(['--count=5', '--seed', '7', '--out', 'x.jsonl', '-q'])).toEqual({ count: 5, seed: 7, out: 'x.jsonl', quiet: true });
    expect(() => parseArgs([])).toThrow('--count is required');
    expect(() => parseArgs(['--count', 'abc'])).toThrow('integer');
    expect(() => parseArgs(['--count', '1', '--bogus'])).toThrow('unknown argument');
  });

  test('writeEvents streams JSON lines identical to generate()', async () => {
    const chunks: string[] = [];
    const sink = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString());
        setImmediate(cb);
      },
    });
    const bytes = await writeEvents(sink, 3000, 11);
    const text = chunks.join('');
    expect(Buffer.byteLength(text)).toBe(bytes);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.slice(0, -1).split('\n')).toEqual(generate(3000, 11));
  });
});
