/**
 * JSON.parse's error message without the " (line N column M)" that newer
 * Node.js versions append (24 does, 20 does not), so a rejection reason reads
 * the same on every supported runtime.
 */
export function jsonErrorText(e: unknown): string {
  return String((e as Error)?.message ?? e).replace(/ \(line \d+ column \d+\)$/, '');
}
