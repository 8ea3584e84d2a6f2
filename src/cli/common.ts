import { resolve } from 'node:path';
import { formatDiagnostic, type Diagnostic } from '../language/diagnostics';

/** The project's own rules/ folder, used when no -r is given. */
export const DEFAULT_RULES_DIR = resolve(__dirname, '../../../rules');

/** A mistake in how the command was called: printed as one line, exit code 2. */
export class UsageError extends Error {}

export function printDiagnostics(diags: Diagnostic[], stream: NodeJS.WritableStream = process.stderr): void {
  for (const d of diags) stream.write(`${formatDiagnostic(d)}\n`);
}

/** Write to a stream, waiting when its buffer is full (so a slow reader slows us down, not our memory). */
export function writeWithBackpressure(stream: NodeJS.WritableStream, text: string): Promise<void> | undefined {
  if (stream.write(text)) return undefined;
  return new Promise((res) => stream.once('drain', () => res()));
}
