/**
 * `kestrel start -c kestrel.yaml`: the service from one config file (inputs,
 * rules, engine, shaping, outputs; deploy/kestrel.reference.yaml documents
 * every key). `serve` and `consume` are the same service with a preset input.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/fields';
import { loadServiceConfig } from '../config/load';
import type { ServiceConfig } from '../config/types';
import { DEFAULT_RULES_DIR } from './common';
import { runService } from './service-command';

export const START_HELP = `Usage: kestrel start -c FILE

Runs the Kestrel service: every input of the config (Kafka topics, the audit
webhook, kube-audit-rest, a file or stdin) through the rule workers, alert
shaping and every output, each behind its own circuit breaker. SIGHUP reloads
the rules; SIGTERM drains in-flight work and exits.

  -c, --config FILE   the service config (deploy/kestrel.reference.yaml lists
                      every key); consume-era and serve-era files are accepted.
                      Environment: KESTREL_KAFKA_BROKERS, KESTREL_KAFKA_GROUP,
                      KESTREL_INPUT_TOPICS, KESTREL_OUTPUT_TOPIC,
                      KESTREL_KAFKA_SASL_USERNAME/PASSWORD, KESTREL_METRICS_PORT
                      and KESTREL_LOG_LEVEL override it.
  -h, --help          this help

Exit codes: 0 stopped cleanly (or every input finished), 1 the rules did not
load or the pipeline failed, 2 a configuration, usage or environment error
(a missing file or topic, a busy port).
`;

/** Parse `-c FILE` (and -h) for start/consume; writes the usage error itself. */
export function configArg(argv: string[], help: string, err: NodeJS.WritableStream): string | number {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, allowPositionals: false, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    err.write(`kestrel: ${(e as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (!values.config) {
    err.write(`kestrel: needs -c FILE\n${help}`);
    return 2;
  }
  return values.config;
}

/** Load a config file; a mistake is one line naming the key, exit 2. */
export function loadOrExit(file: string, err: NodeJS.WritableStream): ServiceConfig | number {
  try {
    return loadServiceConfig(file, process.env, { defaultRulesDir: DEFAULT_RULES_DIR });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err.write(`kestrel: ${e.message}\n`);
    return 2;
  }
}

export async function startMain(argv: string[], err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const file = configArg(argv, START_HELP, err);
  if (typeof file === 'number') return file;
  const cfg = loadOrExit(file, err);
  return typeof cfg === 'number' ? cfg : runService(cfg, err);
}
