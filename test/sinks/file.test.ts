/** The file sink: JSON lines, size-based rotation keeping N files, fsync policies. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RotatingFileSink } from '../../src/sinks/file';
import { makeAlert, tempDir } from './helpers';

const lines = (p: string) => readFileSync(p, 'utf8').split('\n').filter((l) => l !== '');

describe('RotatingFileSink', () => {
  test('writes one Falco JSON alert per line and appends to an existing file', async () => {
    const dir = tempDir();
    const path = join(dir, 'alerts.jsonl');
    writeFileSync(path, '{"old":true}\n');
    const sink = new RotatingFileSink({ path, minPriority: 'Debug', fsync: 'always' });
    await sink.send([makeAlert(1), makeAlert(2)]);
    await sink.send([makeAlert(3)]);
    await sink.close();
    expect(lines(path)).toEqual(['{"old":true}', makeAlert(1).json, makeAlert(2).json, makeAlert(3).json]);
  });

  test('rotates by size: PATH, PATH.1 (newest) ... PATH.keep, older ones deleted, no line split', async () => {
    const dir = tempDir();
    const path = join(dir, 'alerts.jsonl');
    const one = Buffer.byteLength(makeAlert(0).json) + 1; // every synthetic alert below has the same length
    const sink = new RotatingFileSink({ path, minPriority: 'Debug', maxBytes: one * 2, keep: 2, fsync: 'never' });
    for (let i = 0; i < 7; i++) await sink.send([makeAlert(i)]);
    await sink.close();
    expect(readdirSync(dir).sort()).toEqual(['alerts.jsonl', 'alerts.jsonl.1', 'alerts.jsonl.2']);
    expect(lines(path)).toEqual([makeAlert(6).json]);
    expect(lines(`${path}.1`)).toEqual([makeAlert(4).json, makeAlert(5).json]);
    expect(lines(`${path}.2`)).toEqual([makeAlert(2).json, makeAlert(3).json]);
    expect(sink.rotations).toBe(3);
  });

  test('a batch is rotated at line boundaries like single alerts; a line larger than maxBytes gets a file of its own', async () => {
    const dir = tempDir();
    const path = join(dir, 'a.jsonl');
    const one = Buffer.byteLength(makeAlert(0).json) + 1;
    const sink = new RotatingFileSink({ path, minPriority: 'Debug', maxBytes: one * 2, keep: 5, fsync: 'interval', fsyncIntervalMs: 20 });
    await sink.send([makeAlert(1)]);
    await sink.send([makeAlert(2), makeAlert(3), makeAlert(4)]);
    await new Promise((r) => setTimeout(r, 50)); // an interval fsync happens
    await sink.close();
    expect(lines(`${path}.1`)).toEqual([makeAlert(1).json, makeAlert(2).json]);
    expect(lines(path)).toEqual([makeAlert(3).json, makeAlert(4).json]);
    expect(existsSync(`${path}.2`)).toBe(false);

    const tiny = new RotatingFileSink({ path: join(dir, 'b.jsonl'), minPriority: 'Debug', maxBytes: 10, keep: 5, fsync: 'never' });
    await tiny.send([makeAlert(1), makeAlert(2)]);
    await tiny.close();
    expect([lines(join(dir, 'b.jsonl.1')), lines(join(dir, 'b.jsonl'))]).toEqual([[makeAlert(1).json], [makeAlert(2).json]]);
  });

  test('text format writes Falco text lines', async () => {
    const path = join(tempDir(), 'a.log');
    const sink = new RotatingFileSink({ path, minPriority: 'Debug', format: 'text' });
    await sink.send([makeAlert(1)]);
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe('09:15:01.000000000: Warning alert number 1 (user=dana@example.com)\n');
  });

  test('an unwritable path rejects send (the caller keeps the alerts); a closed sink rejects', async () => {
    const bad = new RotatingFileSink({ path: join(tempDir(), 'no', 'such', 'dir', 'a.jsonl'), minPriority: 'Debug' });
    await expect(bad.send([makeAlert(1)])).rejects.toThrow(/ENOENT/);
    await bad.close();
    await expect(bad.send([makeAlert(1)])).rejects.toThrow('file sink is closed');
  });
});
