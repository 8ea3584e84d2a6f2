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
    expect(first.auditID).toBe('3167c931-01fd-4eee-8593-fa43c4484c11');
    const sha = createHash('sha256').update(docs.slice(0, 1000).map((d) => d.line).join('\n')).digest('hex');
    expect(sha).toBe('1425d43fa66e1482208c32ed12192b326576b41e5733e99333b558d51232be80');
  });
});

/** Collects failed checks: loops over 10 000 documents stay fast with a single expect at the end. */
class Checks {
  readonly failures: string[] = [];
  count = 0;
  ok(cond: boolean, what: string | (() => string)): void {
    if (cond) return;
    this.count++;
    if (this.failures.length < 20) this.failures.push(typeof what === 'string' ? what : what());
  }
  done(): void {
    expect({ failed: this.count, first: this.failures }).toEqual({ failed: 0, first: [] });
  }
}

describe('audit Event shape', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
  const IP = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1)$/;
  const LEVELS = new Set(['Metadata', 'Request', 'RequestResponse']);
  const STAGES = new Set(['RequestReceived', 'ResponseStarted', 'ResponseComplete']);
  const VERBS = new Set(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']);
  const str = (x: unknown) => typeof x === 'string' && x.length > 0;

  test('every document has the required keys with the right types', () => {
    const c = new Checks();
    docs.forEach(({ ev, line }, i) => {
      const at = (what: string) => () => `#${i} ${what}: ${line.slice(0, 300)}`;
      c.ok(!line.includes('\n'), at('newline'));
      c.ok(ev.kind === 'Event', at('kind'));
      c.ok(ev.apiVersion === 'audit.k8s.io/v1', at('apiVersion'));
      c.ok(LEVELS.has(ev.level), at('level'));
      c.ok(UUID.test(ev.auditID), at('auditID'));
      c.ok(STAGES.has(ev.stage), at('stage'));
      c.ok(str(ev.requestURI) && ev.requestURI.startsWith('/'), at('requestURI'));
      c.ok(VERBS.has(ev.verb), at('verb'));
      c.ok(str(ev.user?.username), at('user.username'));
      c.ok(Array.isArray(ev.user.groups) && ev.user.groups.every(str), at('user.groups'));
      c.ok(ev.user.uid === undefined || str(ev.user.uid), at('user.uid'));
      c.ok(ev.user.extra === undefined || Object.values(ev.user.extra).every((v) => Array.isArray(v) && v.every(str)), at('user.extra'));
      c.ok(ev.impersonatedUser === undefined || str(ev.impersonatedUser.username), at('impersonatedUser'));
      c.ok(Array.isArray(ev.sourceIPs) && ev.sourceIPs.length > 0 && ev.sourceIPs.every((ip) => IP.test(ip)), at('sourceIPs'));
      c.ok(str(ev.userAgent), at('userAgent'));
      c.ok(TS.test(ev.requestReceivedTimestamp) && TS.test(ev.stageTimestamp), at('timestamps'));
      c.ok(ev.requestReceivedTimestamp <= ev.stageTimestamp, at('requestReceived <= stage'));

      // objectRef exists exactly for resource requests (not for /version, /apis, /openapi/v2 ...)
      const path = ev.requestURI.split('?')[0];
      const isResource = /^\/api\/v1\/[^/]+/.test(path) || /^\/apis\/[^/]+\/[^/]+\/[^/]+/.test(path);
      c.ok((ev.objectRef !== undefined) === isResource, at('objectRef presence'));
      const r = ev.objectRef;
      if (r) {
        c.ok(str(r.resource) && str(r.apiVersion), at('objectRef.resource/apiVersion'));
        c.ok(path.includes(`/${r.resource}`), at('objectRef.resource in URI'));
        c.ok(r.namespace === undefined || path.includes(`/namespaces/${r.namespace}`), at('objectRef.namespace in URI'));
        c.ok(r.apiGroup === undefined || path.startsWith(`/apis/${r.apiGroup}/${r.apiVersion}/`), at('objectRef.apiGroup in URI'));
        c.ok(r.apiGroup !== undefined || path.startsWith('/api/v1/'), at('core group URI'));
        c.ok(r.subresource === undefined || path.endsWith(`/${r.subresource}`), at('objectRef.subresource in URI'));
        c.ok(r.name === undefined || ev.verb === 'create' || path.includes(`/${r.name}`), at('objectRef.name in URI'));
      }

      if (ev.stage === 'RequestReceived') {
        c.ok(ev.responseStatus === undefined && ev.annotations === undefined && ev.requestObject === undefined && ev.responseObject === undefined, at('RequestReceived carries no response'));
      } else {
        const st = ev.responseStatus;
        c.ok(st !== undefined && JSON.stringify(st.metadata) === '{}' && Number.isInteger(st.code), at('responseStatus'));
        if (st && st.code >= 400) c.ok(st.status === 'Failure' && str(st.reason) && str(st.message), at('failure status'));
        const ann = ev.annotations ?? {};
        const decision = ann['authorization.k8s.io/decision'];
        c.ok(decision === 'allow' || decision === 'forbid', at('authorization decision'));
        c.ok(typeof ann['authorization.k8s.io/reason'] === 'string', at('authorization reason'));
        c.ok((decision === 'forbid') === (st?.code === 403 && st.reason === 'Forbidden' && st.message!.includes('cannot')), at('forbid <=> RBAC 403'));
      }
      if (ev.level === 'Metadata') c.ok(ev.requestObject === undefined && ev.responseObject === undefined, at('Metadata has no bodies'));
      if (ev.level === 'Request') c.ok(ev.responseObject === undefined, at('Request has no response body'));
      if (ev.level === 'RequestResponse' && ev.stage === 'ResponseComplete') c.ok(typeof ev.requestObject === 'object' && typeof ev.responseObject === 'object', at('RequestResponse bodies'));
    });
    c.done();
  });

  test('reads are get/list/watch by system identities at Metadata level; writes are mutations', () => {
    const c = new Checks();
    for (const { ev, cls, scenario } of docs) {
      if (cls === 'read') {
        c.ok(['get', 'list', 'watch'].includes(ev.verb), `read verb ${ev.verb}`);
        c.ok(ev.user.username.startsWith('system:') && ev.user.username !== 'system:anonymous', `read user ${ev.user.username}`);
        c.ok(ev.level === 'Metadata', `read level ${ev.level}`);
        c.ok(ev.stage === 'RequestReceived' || ev.stage === 'ResponseComplete', `read stage ${ev.stage}`);
      } else if (cls === 'write') {
        c.ok(['create', 'update', 'patch', 'delete'].includes(ev.verb), `write verb ${ev.verb} (${scenario})`);
        c.ok(ev.stage === 'ResponseComplete', `write stage ${ev.stage}`);
      }
    }
    c.done();
    const levels = new Set(docs.filter((d) => d.cls === 'write').map((d) => d.ev.level));
    expect([...levels].sort()).toEqual(['Metadata', 'Request', 'RequestResponse']);
    const humans = new Set(docs.map((d) => d.ev.user.username).filter((u) => !u.startsWith('system:') && u.includes('@')));
    expect(humans.size).toBeGreaterThanOrEqual(4);
    expect(docs.some((d) => d.ev.impersonatedUser !== undefined)).toBe(true);
    // Pods created by controllers carry full specs with managedFields.
    const podCreate = docs.find((d) => d.scenario === 'replicaset-create-pod')!.ev as Any;
    expect(podCreate.responseObject.metadata.managedFields[0].fieldsType).toBe('FieldsV1');
    expect(Object.keys(podCreate.responseObject.metadata.managedFields[0].fieldsV1)).toEqual(['f:metadata', 'f:spec']);
    const ctr = podCreate.requestObject.spec.containers[0];
    for (const k of ['image', 'ports', 'env', 'resources', 'volumeMounts', 'securityContext']) expect(ctr[k]).toBeDefined();
  });
});

describe('class mix', () => {
  const count = (ds: { cls: EventClass }[]) => {
    const c: Record<EventClass, number> = { read: 0, write: 0, suspicious: 0 };
    for (const d of ds) c[d.cls]++;
    return c;
  };

  test('exact counts for seed 1 over 10 000 documents', () => {
    expect(count(docs)).toEqual({ read: 7452, write: 2056, suspicious: 492 });
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
    expect(dist).toEqual({ min: 555, p10: 723, median: 1176, p90: 3399, p99: 15091, max: 16781 });
    expect(dist.max).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    expect(sizes.filter((s) => s >= 5 * 1024).length).toBeGreaterThan(N * 0.03);
    const c = new Checks();
    for (const d of docs) {
      const n = Buffer.byteLength(d.line);
      if (d.cls === 'read') c.ok(n >= 500 && n <= 2048, `read of ${n} bytes (${d.scenario})`);
      if (d.cls === 'write' && d.ev.level === 'RequestResponse') c.ok(n >= 1024 && n <= MAX_EVENT_BYTES, `write of ${n} bytes (${d.scenario})`);
    }
    c.done();
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
    const c = new Checks();
    let pairs = 0;
    for (const [id, evs] of byId) {
      const stages = evs.map((e) => e.stage).join('+');
      if (evs.length === 1) {
        // single-stage documents, or a pair whose completion falls after the sample's end
        c.ok(stages === 'ResponseComplete' || firstAt.get(id)! > N - 50, `lone ${stages} ${id}`);
        continue;
      }
      c.ok(stages === 'RequestReceived+ResponseComplete' || stages === 'ResponseStarted+ResponseComplete', `stages ${stages} ${id}`);
      const [a, b] = evs;
      c.ok(JSON.stringify([b.requestURI, b.verb, b.user, b.objectRef]) === JSON.stringify([a.requestURI, a.verb, a.user, a.objectRef]), `pair fields ${id}`);
      c.ok(b.requestReceivedTimestamp === a.requestReceivedTimestamp && b.stageTimestamp >= a.stageTimestamp, `pair timestamps ${id}`);
      if (a.stage === 'RequestReceived') pairs++;
    }
    c.done();
    // every read request is a pair
    const readRR = docs.filter((d) => d.cls === 'read' && d.ev.stage === 'RequestReceived').length;
    expect(readRR - pairs).toBeLessThan(10);
    expect(pairs).toBeGreaterThan(3500);
  });

  test('stageTimestamp is non-decreasing from the fixed start', () => {
    const start = START_TIME.replace('Z', '.000000Z');
    const c = new Checks();
    let prev = start;
    docs.forEach(({ ev }, i) => {
      c.ok(ev.stageTimestamp >= prev, `#${i} ${ev.stageTimestamp} < ${prev}`);
      c.ok(ev.requestReceivedTimestamp >= start, `#${i} before start`);
      prev = ev.stageTimestamp;
    });
    c.done();
    expect(docs[0].ev.stageTimestamp.startsWith('2026-01-01T00:00:00.')).toBe(true);
    expect(prev < '2026-01-01T00:00:10').toBe(true);
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
