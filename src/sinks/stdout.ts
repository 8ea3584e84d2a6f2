/**
 * Alerts as lines on a stream (stdout). `send` resolves once the stream
 * accepted the text, so offsets never move ahead of what was written. Files
 * are written by the rotating file sink (file.ts).
 */
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

export function stdoutSink(minPriority: Priority, format: 'json' | 'text', name = 'stdout'): StreamSink {
  return new StreamSink(name, minPriority, format, process.stdout, false);
}
