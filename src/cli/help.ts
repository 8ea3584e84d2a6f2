/**
 * The short commands' options and help, from one table: a flag is parsed only
 * if it is described, so every flag has its line in `kestrel help CMD`.
 * (`serve` and `consume` parse and document their own flags.)
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { VERSION } from '../version';
import { UsageError } from './common';

export interface OptionSpec {
  name: string;
  short?: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** Placeholder for the value, e.g. FILE|DIR. */
  value?: string;
  /** Wrapped to the terminal width by the help printer. */
  help: string;
}

export interface CommandSpec {
  name: string;
  usage: string[];
  description: string;
  options: OptionSpec[];
  exitCodes: string;
  /** What to suggest when a positional argument is given. */
  positionalHint: (arg: string) => string;
}

export const EXIT_CODES_TEXT = 'Exit codes: 0 ok; 1 the rules did not load, or no rule can be evaluated; 2 usage, configuration or input-file error.';

const RULES_OPTION: OptionSpec = {
  name: 'rules', short: 'r', type: 'string', multiple: true, value: 'FILE|DIR',
  help: "rules file, or directory (its *.yaml/*.yml files in name order); repeatable: later files append to or override earlier ones. Default: Kestrel's rules/",
};
const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', type: 'boolean', help: 'this help' };

export const COMMANDS: Record<string, CommandSpec> = {
  run: {
    name: 'run',
    usage: [
      'kestrel run [-r FILE|DIR]... [-i FILE|-] [--json] [--source SOURCE]',
      '            [--rule-matching first|all] [--min-priority P]',
      '            [--max-event-bytes N] [--stats] [--correlation-tolerance 30s]',
      '            [--format F] [--threads auto|1|2]',
    ],
    description:
      'Evaluates audit events from a file or stdin and writes alerts to stdout, one per line. ' +
      'Bad documents are reported on stderr with their line and skipped; a summary (events read, ' +
      'rejected, alerts per rule and per priority) ends on stderr. On a terminal, a progress line ' +
      'on stderr shows events, rate, rejected documents and alerts.',
    options: [
      RULES_OPTION,
      { name: 'input', short: 'i', type: 'string', value: 'FILE|-', help: "events file: JSON documents, one per line or pretty-printed, each an audit Event or EventList (AdmissionReviews with --source k8s_admission); '-' or no -i: stdin" },
      { name: 'json', type: 'boolean', help: "print alerts as Falco's JSON object (default: Falco's text line)" },
      { name: 'rule-matching', type: 'string', value: 'first|all', help: "first: at most one alert per event, from the first matching rule (Falco's default); all: one alert per matching rule" },
      { name: 'source', type: 'string', value: 'SOURCE', help: 'event source of the input: k8s_audit (default) or k8s_admission' },
      { name: 'min-priority', type: 'string', value: 'P', help: 'skip rules below priority P: emergency, alert, critical, error, warning, notice, informational, debug (default debug: every rule)' },
      { name: 'max-event-bytes', type: 'string', value: 'N', help: 'reject (and report) a document larger than N bytes (default 16777216, 16 MiB)' },
      { name: 'stats', type: 'boolean', help: 'after the summary, per-rule evaluation cost (1 in 64 evaluations timed) and correlation counters' },
      { name: 'correlation-tolerance', type: 'string', value: 'DURATION', help: 'how late (in event time) a match may arrive and still count in a correlation rule, e.g. 0, 30s, 2m (default 30s)' },
      {
        name: 'format',
        type: 'string',
        value: 'F',
        help:
          "decode each document as a Kafka input's payload format: auto, event, eventlist, lines, fluentbit, vector, " +
          'cloudwatch, gke, aks, ovh (managed-Kubernetes records, docs/managed.md; gzip: pipe through zcat). Default: plain audit documents',
      },
      {
        name: 'threads',
        type: 'string',
        value: 'auto|1|2',
        help:
          '2: read a regular file of 32 MiB or more on two threads (same output; not with correlations, rollups, --format, --stats ' +
          'or rules reading evt.num); takes ~25 % more CPU for less wall time when a core is free. ' +
          'Default auto: 2 when the process may use two cores or more, else 1',
      },
      HELP_OPTION,
    ],
    exitCodes: 'Exit codes: 0 done (also when some documents were rejected), 1 the rules did not load or no rule can be evaluated, 2 usage error or unreadable input file.',
    positionalHint: (arg) => `run does not take positional arguments; did you mean -i ${arg}?`,
  },
  check: {
    name: 'check',
    usage: ['kestrel check [-r FILE|DIR]...'],
    description:
      'Validates rule files like `falco -V`: prints every error and warning as ' +
      '`FILE:LINE:COL: error|warning CODE: message` (codes as in Falco, e.g. ' +
      'LOAD_ERR_COMPILE_CONDITION, LOAD_UNUSED_MACRO), then one summary line.',
    options: [RULES_OPTION, HELP_OPTION],
    exitCodes: 'Exit codes: 0 the rules load and at least one rule can be evaluated, 1 errors or no rule can be evaluated, 2 usage error (e.g. a directory without rule files).',
    positionalHint: (arg) => `check does not take positional arguments; did you mean -r ${arg}?`,
  },
  test: {
    name: 'test',
    usage: ['kestrel test [-r FILE|DIR]...'],
    description: 'Runs the tests written in the rule files (`tests:` of rules and correlations, docs/rules.md): one PASS or FAIL line each, then a summary.',
    options: [RULES_OPTION, HELP_OPTION],
    exitCodes: 'Exit codes: 0 every test passed, 1 a test failed or the rules did not load, 2 usage error.',
    positionalHint: (arg) => `test does not take positional arguments; did you mean -r ${arg}?`,
  },
  rules: {
    name: 'rules',
    usage: [
      'kestrel rules [-r FILE|DIR]... [--cost -i FILE|-',
      '              [--rule-matching first|all] [--source SOURCE]]',
    ],
    description: 'Lists the loaded rules with source, priority, enabled, and whether each is compiled or skipped (a source Kestrel does not evaluate). With --cost, ranks the rules by evaluation time on a sample of events.',
    options: [
      RULES_OPTION,
      { name: 'cost', type: 'boolean', help: 'rank rules by evaluation time on the events of -i (every evaluation timed)' },
      { name: 'input', short: 'i', type: 'string', value: 'FILE|-', help: "with --cost: the sample of events ('-': stdin)" },
      { name: 'rule-matching', type: 'string', value: 'first|all', help: 'with --cost: as for run (default first)' },
      { name: 'source', type: 'string', value: 'SOURCE', help: 'with --cost: event source of the sample (default k8s_audit)' },
      HELP_OPTION,
    ],
    exitCodes: 'Exit codes: 0 listed, 1 the rules did not load, 2 usage error.',
    positionalHint: (arg) => `rules does not take positional arguments; did you mean -r ${arg}?`,
  },
  fields: {
    name: 'fields',
    usage: ['kestrel fields [--source SOURCE]'],
    description: 'Lists every field (name, type, argument, description) rules can use.',
    options: [{ name: 'source', type: 'string', value: 'SOURCE', help: 'only this source: k8s_audit or k8s_admission (default: both)' }, HELP_OPTION],
    exitCodes: 'Exit codes: 0 listed, 2 usage error.',
    positionalHint: (arg) => `fields does not take positional arguments; did you mean --source ${arg}?`,
  },
};

const WIDTH = 80;

/** Break text into lines of at most `width` characters, at spaces. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function optionLines(options: OptionSpec[]): string[] {
  const heads = options.map((o) => `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.value ? ` ${o.value}` : ''}`);
  const width = Math.max(...heads.map((h) => h.length)) + 2;
  return options.flatMap((o, i) => wrap(o.help, WIDTH - 2 - width).map((line, j) => `  ${(j === 0 ? heads[i] : '').padEnd(width)}${line}`));
}

export function commandHelp(name: string): string {
  const c = COMMANDS[name];
  return [
    `Usage: ${c.usage.join('\n       ')}`,
    '',
    ...wrap(c.description, WIDTH),
    '',
    'Options:',
    ...optionLines(c.options),
    '',
    ...wrap(c.exitCodes, WIDTH),
    '',
  ].join('\n');
}

export function globalHelp(): string {
  return `kestrel ${VERSION}: Falco-compatible detection for Kubernetes audit events

Usage: kestrel COMMAND [options]    (kestrel help COMMAND: that command's options)

Commands:
  run      evaluate events from a file or stdin; alerts on stdout, summary on stderr
  check    validate rule files (errors and warnings with Falco's codes)
  test     run the tests written in the rule files
  rules    list the loaded rules and whether each is compiled (--cost: rank by cost)
  fields   list the fields rules can use
  start    run the service from one config file: kestrel start -c kestrel.yaml
  serve    the service with one webhook input, from flags (docs/webhook.md)
  consume  the service from a config file, as before start existed (docs/kafka.md)
  help     kestrel help [COMMAND]

  -h, --help     this help
  -V, --version  the version

${wrap(EXIT_CODES_TEXT, WIDTH).join('\n')}
`;
}

/** Parse a short command's arguments against its table; mistakes are UsageErrors (exit 2). */
export function parseCommandArgs(name: string, argv: string[]): Record<string, string | boolean | string[] | undefined> {
  const c = COMMANDS[name];
  const options: ParseArgsConfig['options'] = Object.fromEntries(
    c.options.map((o) => [o.name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options });
  } catch (e) {
    // Node's message goes on about '--'; its first sentence is the point.
    throw new UsageError(`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')} (kestrel help ${name})`);
  }
  if (parsed.positionals.length > 0) throw new UsageError(c.positionalHint(parsed.positionals[0]));
  return parsed.values as Record<string, string | boolean | string[] | undefined>;
}
