/**
 * Command-line options of a bench command: `--help` prints its usage (exit 0);
 * a mistyped option or a missing value prints one line naming it and the usage
 * (exit 2), never a stack trace.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
const HELP = { help: { type: 'boolean', short: 'h' } } as const;

export function benchArgs<O extends Options>(name: string, usage: string, options: O) {
  const config = { options: { ...options, ...HELP } };
  let parsed: ReturnType<typeof parseArgs<typeof config>>;
  try {
    parsed = parseArgs(config);
  } catch (e) {
    process.stderr.write(`${name}: ${(e as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return parsed.values;
}
