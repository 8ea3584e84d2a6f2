/**
 * The payload of an alert in an output's format: `text` and `json` are
 * Falco's (byte for byte the engine's), `ocsf` an OCSF Detection Finding,
 * `ecs` an Elastic Common Schema document. One line each, no newline.
 */
import type { FormatOptions, FormattableAlert } from './common';
import { ecsJson } from './ecs';
import { falcoJson, falcoText } from './falco';
import { ocsfJson } from './ocsf';

export type { FormatOptions, FormattableAlert } from './common';

/** Alert payload of an output (config/types.ts should take this type from here: config sits above sinks). */
export type AlertFormat = 'text' | 'json' | 'ocsf' | 'ecs';
export const ALERT_FORMATS: readonly AlertFormat[] = ['text', 'json', 'ocsf', 'ecs'];

export function formatAlert(format: AlertFormat, a: FormattableAlert, options: FormatOptions = {}): string {
  switch (format) {
    case 'text':
      return falcoText(a);
    case 'json':
      return falcoJson(a, options);
    case 'ocsf':
      return ocsfJson(a, options);
    case 'ecs':
      return ecsJson(a, options);
  }
}
