/**
 * Alerts as lines on a stream: stdout, or a file opened for append. `send`
 * resolves once the stream accepted the text (flushed to the OS for a file),
 * so offsets never move ahead of what was written.
 */
import { createWriteStream } from 'node:fs';
import { alertText } from '../engine/alert';
import type { Priority } from '../language/priority';
import type { AlertSink, OutgoingAlert } from './types';

export class StreamSink implements AlertSink {
  constructor(
    readonly name: string,
    readonly minPriority: Priority,
    private readonly format: 'json' | 'text',
    private readonly stream: NodeJS.WritableStream,
    private readonly owned: boolean,
  ) {}

  send(alerts: OutgoingAlert[]): Promise<void> {
    if (alerts.length === 0) return Promise.resolve();
    const text = alerts.map((a) => (this.format === 'json' ? a.json : alertText(a.alert))).join('\n') + '\n';
    return new Promise((resolve, reject) => {
      this.stream.write(text, (e) => (e ? reject(e) : resolve()));
    });
  }

  close(): Promise<void> {
    if (!this.owned) return Promise.resolve();
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }
}

export function stdoutSink(minPriority: Priority, format: 'json' | 'text'): StreamSink {
  return new StreamSink('stdout', minPriority, format, process.stdout, false);
}

/** Appends to `path`; open errors surface on the first send (and open the breaker). */
export function fileSink(path: string, minPriority: Priority, format: 'json' | 'text'): StreamSink {
  const stream = createWriteStream(path, { flags: 'a' });
  stream.on('error', () => {}); // reported through the write callbacks
  return new StreamSink('file', minPriority, format, stream, true);
}
