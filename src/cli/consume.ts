/**
 * `kestrel consume -c kestrel.yaml`: the service, as it was started before
 * `kestrel start` existed. The file may be in the service layout or the
 * consume-era one; either way it is the same runtime.
 */
import { configArg, loadOrExit } from './start';
import { runService } from './service-command';

export const CONSUME_HELP = `Usage: kestrel consume -c FILE

Runs the service from FILE, like kestrel start (its consume-era layout, with
kafka.input_topics, sinks and dlq, is still accepted). See docs/kafka.md.

  -c, --config   the config file; environment variables KESTREL_KAFKA_BROKERS,
                 KESTREL_KAFKA_GROUP, KESTREL_INPUT_TOPICS, KESTREL_OUTPUT_TOPIC,
                 KESTREL_KAFKA_SASL_USERNAME/PASSWORD, KESTREL_METRICS_PORT and
                 KESTREL_LOG_LEVEL override it.
  -h, --help     this help
`;

export async function consumeMain(argv: string[], err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const file = configArg(argv, CONSUME_HELP, err);
  if (typeof file === 'number') return file;
  const cfg = loadOrExit(file, err);
  return typeof cfg === 'number' ? cfg : runService(cfg, err);
}
