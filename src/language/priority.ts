/** Falco priorities, most severe first (the index is the severity rank). */
export const PRIORITIES = ['Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug'] as const;
export type Priority = (typeof PRIORITIES)[number];

const BY_NAME: Record<string, Priority> = {};
for (const p of PRIORITIES) BY_NAME[p.toLowerCase()] = p;
BY_NAME.info = 'Informational';

/** Parse a priority name case-insensitively (`WARNING`, `info`, ...). */
export function parsePriority(text: string): Priority | undefined {
  return BY_NAME[text.trim().toLowerCase()];
}

/** 0 = Emergency ... 7 = Debug. */
export function priorityRank(p: Priority): number {
  return PRIORITIES.indexOf(p);
}

/** True when `p` is at least as severe as `min`. */
export function atLeast(p: Priority, min: Priority): boolean {
  return priorityRank(p) <= priorityRank(min);
}
