/**
 * File sink: alerts as JSON lines (Falco JSON, or Falco's text line), with
 * size-based rotation and an fsync policy.
 *
 * Rotation: before a line that would take the file past `maxBytes`, the file
 * is closed and renamed PATH.1 (PATH.1 → PATH.2, ...; the oldest beyond `keep`
 * is deleted), and a new PATH is opened. Rotation happens at line boundaries
 * inside a batch too, so the files are the same however the alerts were
 * batched (lines are never split; a single line larger than maxBytes gets a
 * file of its own).
 *
 * fsync: `always` — `send` resolves after the data is fsynced; `interval` —
 * after the write reached the OS, fsync every `fsyncIntervalMs`; `never` —
 * after the write reached the OS.
 */
import { promises as fsp } from 'node:fs';
import { alertText } from '../engine/alert';
import type { Priority } from '../language/priority';
import type { AlertSink, OutgoingAlert } from './types';

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface FileSinkOptions {
  path: string;
  minPriority: Priority;
  format?: 'json' | 'text';
  /** Rotate before the file would exceed this many bytes. 0: never rotate. */
  maxBytes?: number;
  /** Rotated files kept (PATH.1 ... PATH.keep). Default 5. */
  keep?: number;
  fsync?: FsyncPolicy;
  fsyncIntervalMs?: number;
  name?: string;
}

export class RotatingFileSink implements AlertSink {
  readonly name: string;
  readonly minPriority: Priority;
  private handle?: fsp.FileHandle;
  private size = 0;
  private chain: Promise<void> = Promise.resolve();
  private dirty = false;
  private timer?: NodeJS.Timeout;
  private closed = false;
  /** Rotations done (for metrics and tests). */
  rotations = 0;

  constructor(private readonly opts: FileSinkOptions) {
    this.name = opts.name ?? 'file';
    this.minPriority = opts.minPriority;
    if ((opts.fsync ?? 'interval') === 'interval') {
      this.timer = setInterval(() => {
        this.chain = this.chain.then(() => this.syncIfDirty()).catch(() => {});
      }, opts.fsyncIntervalMs ?? 1000);
      this.timer.unref();
    }
  }

  send(alerts: OutgoingAlert[]): Promise<void> {
    if (alerts.length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error(`${this.name} sink is closed`));
    const lines = alerts.map((a) => Buffer.from(`${this.opts.format === 'text' ? alertText(a.alert) : a.json}\n`, 'utf8'));
    const run = this.chain.then(() => this.write(lines));
    this.chain = run.catch(() => {});
    return run;
  }

  private async open(): Promise<fsp.FileHandle> {
    if (!this.handle) {
      this.handle = await fsp.open(this.opts.path, 'a');
      this.size = (await this.handle.stat()).size;
    }
    return this.handle;
  }

  /** Append lines, rotating before any line that would pass maxBytes; one write per file touched. */
  private async write(lines: Buffer[]): Promise<void> {
    const max = this.opts.maxBytes ?? 0;
    await this.open();
    let run: Buffer[] = [];
    let runBytes = 0;
    for (const line of lines) {
      if (max > 0 && this.size + runBytes > 0 && this.size + runBytes + line.length > max) {
        await this.append(run, runBytes);
        await this.rotate();
        await this.open();
        run = [];
        runBytes = 0;
      }
      run.push(line);
      runBytes += line.length;
    }
    await this.append(run, runBytes);
    if (this.opts.fsync === 'always') await this.handle!.sync();
    else this.dirty = true;
  }

  private async append(run: Buffer[], bytes: number): Promise<void> {
    if (bytes === 0) return;
    const buf = run.length === 1 ? run[0] : Buffer.concat(run, bytes);
    const h = this.handle!;
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await h.write(buf, off, buf.length - off);
      off += bytesWritten;
    }
    this.size += bytes;
  }

  private async rotate(): Promise<void> {
    const p = this.opts.path;
    const keep = this.opts.keep ?? 5;
    if (this.handle) {
      if (this.opts.fsync !== 'never') await this.handle.sync();
      await this.handle.close();
      this.handle = undefined;
      this.dirty = false;
    }
    if (keep <= 0) {
      await fsp.rm(p, { force: true });
    } else {
      await fsp.rm(`${p}.${keep}`, { force: true });
      for (let i = keep - 1; i >= 1; i--) await fsp.rename(`${p}.${i}`, `${p}.${i + 1}`).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
      await fsp.rename(p, `${p}.1`);
    }
    this.rotations++;
  }

  private async syncIfDirty(): Promise<void> {
    if (this.dirty && this.handle) {
      this.dirty = false;
      await this.handle.sync();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.chain;
    if (this.handle) {
      if (this.opts.fsync !== 'never') await this.handle.sync().catch(() => {});
      await this.handle.close();
      this.handle = undefined;
    }
  }
}
