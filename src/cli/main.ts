/** The `kestrel` command line: parses arguments and wires the commands. */
import { parsePriority } from '../language/priority';
import { VERSION } from '../version';
import { checkCommand } from './check';
import { DEFAULT_RULES_DIR, UsageError } from './common';
import { commandHelp, COMMANDS, globalHelp, parseCommandArgs } from './help';
import { fieldsCommand, rulesCommand, rulesCostCommand } from './list';
import { parseTimespan } from '../language/correlation-item';
import { runCommand, twoThreads } from './run';
import { testCommand } from './test';
import { PAYLOAD_FORMATS, type PayloadFormat } from '../decode/envelope';

/** Commands that parse and document their own flags. */
// Loaded on demand: their Kafka, HTTP and metrics modules would add ~0.1 s to every `run`.
const OWN_PARSERS: Record<string, (argv: string[]) => Promise<number>> = {
  start: async (argv) => (await import('./start')).startMain(argv),
  serve: async (argv) => (await import('./serve')).serveCommand(argv),
  consume: async (argv) => (await import('./consume')).consumeMain(argv),
};
const ALL_COMMANDS = [...Object.keys(COMMANDS), ...Object.keys(OWN_PARSERS)];

function unknownCommand(name: string): UsageError {
  return new UsageError(`unknown command '${name}' (try: ${ALL_COMMANDS.join(', ')}; kestrel help)`);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help') {
    process.stdout.write(globalHelp());
    return command ? 0 : 2;
  }
  if (command === '-V' || command === '-v' || command === '--version' || command === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (command === 'help') return help(rest);
  const own = OWN_PARSERS[command];
  if (own) return own(rest);
  if (!COMMANDS[command]) throw unknownCommand(command);

  const values = parseCommandArgs(command, rest);
  if (values.help) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  const rules = (values.rules as string[] | undefined)?.length ? (values.rules as string[]) : [DEFAULT_RULES_DIR];
  switch (command) {
    case 'run': {
      const matching = (values['rule-matching'] as string | undefined) ?? 'first';
      if (matching !== 'first' && matching !== 'all') throw new UsageError(`--rule-matching must be 'first' or 'all', not '${matching}'`);
      const source = (values.source as string | undefined) ?? 'k8s_audit';
      if (source !== 'k8s_audit' && source !== 'k8s_admission') throw new UsageError(`--source must be k8s_audit or k8s_admission, not '${source}'`);
      let minPriority;
      if (values['min-priority'] !== undefined) {
        minPriority = parsePriority(values['min-priority'] as string);
        if (!minPriority) throw new UsageError(`--min-priority: unknown priority '${values['min-priority']}'`);
      }
      let maxEventBytes;
      if (values['max-event-bytes'] !== undefined) {
        maxEventBytes = Number(values['max-event-bytes']);
        if (!Number.isInteger(maxEventBytes) || maxEventBytes <= 0) throw new UsageError('--max-event-bytes must be a positive integer');
      }
      const format = values.format as PayloadFormat | undefined;
      if (format !== undefined && !PAYLOAD_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${PAYLOAD_FORMATS.join(', ')}, not '${format}'`);
      let correlationToleranceMs;
      if (values['correlation-tolerance'] !== undefined) {
        correlationToleranceMs = values['correlation-tolerance'] === '0' ? 0 : parseTimespan(values['correlation-tolerance'] as string);
        if (correlationToleranceMs === undefined) throw new UsageError('--correlation-tolerance must be a duration such as 0, 30s or 2m');
      }
      const parallel = twoThreads(values.threads as string | undefined);
      return runCommand({
        rules, input: values.input as string | undefined, json: values.json === true, ruleMatching: matching, source, minPriority, maxEventBytes,
        stats: values.stats === true, correlationToleranceMs, format, parallel,
      });
    }
    case 'check':
      return checkCommand(rules);
    case 'test':
      return testCommand(rules);
    case 'rules': {
      if (!values.cost) {
        const stray = (['input', 'rule-matching', 'source'] as const).find((o) => values[o] !== undefined);
        if (stray) throw new UsageError(`rules: --${stray} only goes with --cost (kestrel help rules)`);
        return rulesCommand(rules);
      }
      const matching = (values['rule-matching'] as string | undefined) ?? 'first';
      if (matching !== 'first' && matching !== 'all') throw new UsageError(`--rule-matching must be 'first' or 'all', not '${matching}'`);
      const source = (values.source as string | undefined) ?? 'k8s_audit';
      if (source !== 'k8s_audit' && source !== 'k8s_admission') throw new UsageError(`--source must be k8s_audit or k8s_admission, not '${source}'`);
      if (values.input === undefined) throw new UsageError('rules --cost needs a sample of events: -i FILE (or -i - for stdin)');
      return rulesCostCommand({ rules, input: values.input as string, ruleMatching: matching, source });
    }
    default:
      return fieldsCommand(values.source as string | undefined);
  }
}

/** `kestrel help [COMMAND]`. */
async function help(args: string[]): Promise<number> {
  if (args.length === 0) {
    process.stdout.write(globalHelp());
    return 0;
  }
  if (args.length > 1) throw new UsageError('help takes one command name (kestrel help run)');
  const [name] = args;
  if (COMMANDS[name]) {
    process.stdout.write(commandHelp(name));
    return 0;
  }
  if (OWN_PARSERS[name]) return OWN_PARSERS[name](['--help']);
  throw unknownCommand(name);
}

/** A closed stdout or stderr (`kestrel fields | head -2`) ends a short command quietly. */
function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
      throw e;
    });
  }
}

/**
 * Run the CLI as a process. Exit codes: 0 ok, 1 the rules did not load,
 * 2 usage, configuration or input-file error, 70 internal error (a bug).
 */
export function runCli(argv: string[] = process.argv.slice(2)): void {
  // Long-running commands may leave client sockets or timers behind after a clean stop.
  const exitNow = argv[0] !== undefined && argv[0] in OWN_PARSERS;
  if (!exitNow) exitQuietlyOnClosedPipe();
  main(argv).then(
    (code) => {
      process.exitCode = code;
      if (exitNow) process.exit(code);
    },
    (e: unknown) => {
      const usage = e instanceof UsageError || String((e as { code?: string }).code ?? '').startsWith('ERR_PARSE_ARGS');
      process.stderr.write(`kestrel: ${(e as Error).message}\n`);
      if (!usage) process.stderr.write('kestrel: this is a bug; please report it with the command that caused it\n');
      process.exitCode = usage ? 2 : 70;
    },
  );
}
