/**
 * `kestrel consume -c kestrel.yaml`: run the Kafka pipeline until SIGTERM/SIGINT.
 * Exit codes: 0 clean stop, 1 rules or runtime failure, 2 bad config, usage or environment (a missing topic).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load';
import type { KestrelConfig } from '../config/types';
import { fromKestrelConfig } from './legacy-bridge';
import { runService } from './service-command';

export const CONSUME_HELP = `Usage: kestrel consume -c FILE

  -c, --config   kestrel.yaml (see docs/kafka.md); environment variables
                 KESTREL_KAFKA_BROKERS, KESTREL_KAFKA_GROUP, KESTREL_INPUT_TOPICS,
                 KESTREL_OUTPUT_TOPIC, KESTREL_KAFKA_SASL_USERNAME/PASSWORD and
                 KESTREL_METRICS_PORT override it.
`;


export async function consumeMain(argv: string[], err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, allowPositionals: false, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    err.write(`kestrel: ${(e as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(CONSUME_HELP);
    return 0;
  }
  if (!values.config) {
    err.write(`kestrel: consume needs -c FILE\n${CONSUME_HELP}`);
    return 2;
  }
  let cfg: KestrelConfig;
  try {
    cfg = loadConfig(values.config);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err.write(`kestrel: ${e.message}\n`);
    return 2;
  }
  return consumeCommand(cfg, err);
}

export async function consumeCommand(cfg: KestrelConfig, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  return runService(fromKestrelConfig(cfg), err);
}
