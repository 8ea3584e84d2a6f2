/**
 * CLI: write a seeded, realistic Kubernetes audit log as JSON lines.
 *
 *   node dist/bench/generate.js --count N [--seed S] [--out FILE] [--quiet]
 *
 * Writes to stdout unless --out is given. Streams: events are produced and
 * written in small batches with back-pressure, so memory stays flat for any N.
 * With --out, a summary (events, bytes, events/s) is printed on stderr.
 */
import * as fs from 'node:fs';
import type { Writable } from 'node:stream';
import { AuditEventGenerator } from './generator';

export interface GenerateOptions {
  count: number;
  seed: number;
  out?: string;
  quiet: boolean;
}

export const USAGE = 'usage: generate --count N [--seed S] [--out FILE] [--quiet]';

/** Parse argv (without node and script). Throws an Error with a message on bad input. */
export function parseArgs(argv: readonly string[]): GenerateOptions {
  let count: number | undefined;
  let seed = 1;
  let out: string | undefined;
  let quiet = false;
  const int = (flag: string, v: string | undefined, min: number): number => {
    if (v === undefined || !/^-?\d+$/.test(v)) throw new Error(`${flag} needs an integer, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`${flag} must be an integer >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--count':
      case '-n':
        count = int('--count', value(), 0);
        break;
      case '--seed':
      case '-s':
        seed = int('--seed', value(), -(2 ** 31));
        break;
      case '--out':
      case '-o': {
        const v = value();
        if (!v) throw new Error('--out needs a file name');
        out = v;
        break;
      }
      case '--quiet':
      case '-q':
        quiet = true;
        break;
      default:
        throw new Error(`unknown argument ${JSON.stringify(a)}`);
    }
  }
  if (count === undefined) throw new Error('--count is required');
  return { count, seed, out, quiet };
}

function write(stream: Writable, chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    stream.once('error', onError);
    if (stream.write(chunk)) {
      stream.removeListener('error', onError);
      resolve();
    } else {
      stream.once('drain', () => {
        stream.removeListener('error', onError);
        resolve();
      });
    }
  });
}

/** Write `count` events for `seed` to `stream` as JSON lines; returns the byte count. */
export async function writeEvents(stream: Writable, count: number, seed: number): Promise<number> {
  const gen = new AuditEventGenerator(seed);
  const BATCH_BYTES = 1 << 20;
  let buf = '';
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    buf += JSON.stringify(gen.next()) + '\n';
    if (buf.length >= BATCH_BYTES) {
      bytes += Buffer.byteLength(buf);
      await write(stream, buf);
      buf = '';
    }
  }
  if (buf.length > 0) {
    bytes += Buffer.byteLength(buf);
    await write(stream, buf);
  }
  return bytes;
}

export async function main(argv: readonly string[]): Promise<number> {
  let opts: GenerateOptions;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const stream: Writable = opts.out ? fs.createWriteStream(opts.out) : process.stdout;
  if (!opts.out) {
    // `generate ... | head` closes the pipe early: that is not an error.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
    });
  }
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const bytes = await writeEvents(stream, opts.count, opts.seed);
  if (opts.out) {
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      stream.end(() => resolve());
    });
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const cpuSecs = (cpu.user + cpu.system) / 1e6;
    if (!opts.quiet) {
      process.stderr.write(
        `wrote ${opts.count} events (${(bytes / 1048576).toFixed(1)} MiB) to ${opts.out} in ${secs.toFixed(2)} s ` +
          `(${cpuSecs.toFixed(2)} s CPU): ${Math.round(opts.count / Math.max(secs, 1e-9))} events/s wall, ` +
          `${Math.round(opts.count / Math.max(cpuSecs, 1e-9))} events/s CPU\n`,
      );
    }
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`generate: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
