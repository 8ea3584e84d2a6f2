/**
 * A progress line for long `kestrel run` jobs: rewritten in place on stderr
 * about once a second, only when stderr is a terminal (never in a pipe or a
 * log file), and erased at the end so the summary stands alone.
 */
export interface ProgressCounts {
  events: number;
  rejected: number;
  alerts: number;
}

export interface ProgressOptions {
  intervalMs?: number;
  now?: () => number;
}

const ERASE = '\r\x1b[K';

export class ProgressLine {
  private timer: NodeJS.Timeout | undefined;
  private shown = false;
  private last: { at: number; events: number };
  private readonly intervalMs: number;
  private readonly now: () => number;

  /** Does nothing unless `stream` is a TTY. */
  constructor(private readonly stream: NodeJS.WritableStream & { isTTY?: boolean }, private readonly counts: () => ProgressCounts, options: ProgressOptions = {}) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.now = options.now ?? Date.now;
    this.last = { at: this.now(), events: 0 };
    if (stream.isTTY === true) {
      // The first line appears after one interval: short jobs never show one.
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
  }

  get active(): boolean {
    return this.timer !== undefined;
  }

  /** Rewrite the line with the current counts (called by the timer). */
  tick(): void {
    const c = this.counts();
    const at = this.now();
    const seconds = Math.max((at - this.last.at) / 1000, 1e-3);
    const rate = Math.round((c.events - this.last.events) / seconds);
    this.last = { at, events: c.events };
    this.stream.write(`${ERASE}kestrel: ${c.events} events, ${rate} events/s, ${c.rejected} rejected, ${c.alerts} alerts`);
    this.shown = true;
  }

  /** Erase the line before another message goes to the same terminal; the next tick redraws it. */
  clear(): void {
    if (!this.shown) return;
    this.stream.write(ERASE);
    this.shown = false;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }
}
