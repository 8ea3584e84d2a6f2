/** The webhook spool: durable, ordered, bounded, replayed after a restart, a torn tail cut off. */
import { appendFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool, SpoolFull } from '../../src/pipeline/spool';

const dir = () => mkdtempSync(join(tmpdir(), 'kestrel-spool-'));
const docs = (...xs: string[]) => xs.map((x) => Buffer.from(x));
const text = (e: { route: string; documents: Buffer[] } | undefined) => e && [e.route, ...e.documents.map((d) => d.toString())];

describe('Spool', () => {
  test('entries come back in order; ack moves the cursor; a reopened spool replays only what was not acknowledged', async () => {
    const d = dir();
    let s = await Spool.open({ dir: d, maxBytes: 1 << 20 });
    await s.append('/k8s-audit', docs('{"a":1}', '{"b":2}'), 1000);
    await s.append('/k8s-admission', docs('{"c":3}'), 2000);
    await s.append('/k8s-audit', docs('{"d":4}'), 3000);
    const first = await s.next();
    expect(text(first)).toEqual(['/k8s-audit', '{"a":1}', '{"b":2}']);
    s.ack(first!);
    expect(s.depth(4000)).toEqual({ bytes: expect.any(Number), entries: 2, oldestAgeMs: 2000 });
    await s.close();

    s = await Spool.open({ dir: d, maxBytes: 1 << 20 });
    expect(s.depth(4000).entries).toBe(2);
    const second = await s.next();
    expect(text(second)).toEqual(['/k8s-admission', '{"c":3}']);
    s.ack(second!);
    const third = await s.next();
    expect([text(third), third!.time]).toEqual([['/k8s-audit', '{"d":4}'], 3000]);
    s.ack(third!);
    expect(s.depth()).toEqual({ bytes: 0, entries: 0, oldestAgeMs: 0 });
    await s.close();
  });

  test('next() waits for an append', async () => {
    const s = await Spool.open({ dir: dir(), maxBytes: 1 << 20 });
    const waiting = s.next();
    await s.append('/p', docs('{}'));
    expect(text(await waiting)).toEqual(['/p', '{}']);
    await s.close();
  });

  test('bounded: over maxBytes of undelivered records, append refuses; delivering makes room', async () => {
    const s = await Spool.open({ dir: dir(), maxBytes: 100 });
    await s.append('/p', docs('x'.repeat(60)));
    await expect(s.append('/p', docs('y'.repeat(60)))).rejects.toBeInstanceOf(SpoolFull);
    s.ack((await s.next())!);
    await s.append('/p', docs('y'.repeat(60)));
    expect(text(await s.next())).toEqual(['/p', 'y'.repeat(60)]);
    await s.close();
  });

  test('segments roll over and delivered ones are deleted', async () => {
    const d = dir();
    const s = await Spool.open({ dir: d, maxBytes: 1 << 20, segmentBytes: 100 });
    for (let i = 0; i < 5; i++) await s.append('/p', docs(`{"i":${i},"pad":"${'p'.repeat(40)}"}`));
    expect(readdirSync(d).filter((f) => f.startsWith('segment-')).length).toBe(5);
    for (let i = 0; i < 4; i++) s.ack((await s.next())!);
    expect(readdirSync(d).filter((f) => f.startsWith('segment-')).sort()).toEqual(['segment-00000004.log']);
    await s.close();
  });

  test('a torn record at the end (crash mid-write) is cut off at open; what was complete stays', async () => {
    const d = dir();
    let s = await Spool.open({ dir: d, maxBytes: 1 << 20 });
    await s.append('/p', docs('{"ok":true}'));
    await s.close();
    appendFileSync(join(d, 'segment-00000000.log'), Buffer.from([50, 0, 0, 0, 1, 2, 3, 4, 9, 9]));
    s = await Spool.open({ dir: d, maxBytes: 1 << 20 });
    expect(text(await s.next())).toEqual(['/p', '{"ok":true}']);
    await s.append('/p', docs('{"after":1}'));
    expect(text(await s.next())).toEqual(['/p', '{"after":1}']);
    await s.close();
  });
});
