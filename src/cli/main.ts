/** The `kestrel` command line: parses arguments and wires the commands. */
import { parseArgs } from 'node:util';
import { parsePriority } from '../language/priority';
import { VERSION } from '../version';
import { checkCommand } from './check';
import { DEFAULT_RULES_DIR, UsageError } from './common';
import { fieldsCommand, rulesCommand } from './list';
import { runCommand } from './run';

const HELP = `kestrel ${VERSION}: Falco-compatible detection for Kubernetes audit events

Usage:
  kestrel run    [-r FILE|DIR]... [-i FILE|-] [--json] [--rule-matching first|all]
                 [--source k8s_audit|k8s_admission] [--min-priority P] [--max-event-bytes N]
  kestrel check  [-r FILE|DIR]...
  kestrel rules  [-r FILE|DIR]...
  kestrel fields [--source SOURCE]
  kestrel serve  [-c CONFIG] [-r FILE|DIR]... [--listen HOST:PORT] [--token-file F] [--tls-cert F --tls-key F]
                 audit webhook and kube-audit-rest receiver (kestrel serve --help; docs/webhook.md)
  kestrel consume -c kestrel.yaml   Kafka consumer group (kestrel consume --help; docs/kafka.md)

  -r, --rules      rules file or directory (its *.yaml in name order); repeatable.
                   Default: the rules/ folder shipped with Kestrel.
  -i, --input      events file, one JSON document per line or pretty-printed; '-' or
                   nothing for stdin. A document may be an audit Event or EventList.
  --json           print alerts as Falco JSON (default: Falco's text line)
  --rule-matching  first (Falco's default: at most one alert per event) or all
  --source         event source of the input (default k8s_audit)
  --min-priority   skip rules below this priority (default debug)
  -h, --help       this help;  -v, --version  the version
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(HELP);
    return command ? 0 : 2;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  // Commands with their own options parse them themselves.
  // Loaded on demand: their Kafka, HTTP and metrics modules would add ~0.1 s to every `run`.
  if (command === 'consume') return (await import('./consume')).consumeMain(rest);
  if (command === 'serve') return (await import('./serve')).serveCommand(rest);
  const { values } = parseArgs({
    args: rest,
    allowPositionals: false,
    options: {
      rules: { type: 'string', short: 'r', multiple: true },
      input: { type: 'string', short: 'i' },
      json: { type: 'boolean' },
      'rule-matching': { type: 'string' },
      source: { type: 'string' },
      'min-priority': { type: 'string' },
      'max-event-bytes': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const rules = values.rules?.length ? values.rules : [DEFAULT_RULES_DIR];
  switch (command) {
    case 'run': {
      const matching = values['rule-matching'] ?? 'first';
      if (matching !== 'first' && matching !== 'all') throw new UsageError(`--rule-matching must be 'first' or 'all', not '${matching}'`);
      const source = values.source ?? 'k8s_audit';
      if (source !== 'k8s_audit' && source !== 'k8s_admission') throw new UsageError(`--source must be k8s_audit or k8s_admission, not '${source}'`);
      let minPriority;
      if (values['min-priority'] !== undefined) {
        minPriority = parsePriority(values['min-priority']);
        if (!minPriority) throw new UsageError(`--min-priority: unknown priority '${values['min-priority']}'`);
      }
      let maxEventBytes;
      if (values['max-event-bytes'] !== undefined) {
        maxEventBytes = Number(values['max-event-bytes']);
        if (!Number.isInteger(maxEventBytes) || maxEventBytes <= 0) throw new UsageError('--max-event-bytes must be a positive integer');
      }
      return runCommand({ rules, input: values.input, json: values.json ?? false, ruleMatching: matching, source, minPriority, maxEventBytes });
    }
    case 'check':
      return checkCommand(rules);
    case 'rules':
      return rulesCommand(rules);
    case 'fields':
      return fieldsCommand(values.source);
    default:
      throw new UsageError(`unknown command '${command}' (try: run, serve, consume, check, rules, fields)`);
  }
}

/** Run the CLI as a process: exit code 0 ok, 1 rule errors, 2 usage, 70 internal error. */
export function runCli(argv: string[] = process.argv.slice(2)): void {
  // Long-running commands may leave client sockets or timers behind after a clean stop.
  const exitNow = argv[0] === 'consume' || argv[0] === 'serve';
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
