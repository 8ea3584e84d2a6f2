/**
 * Checks across sections of a ServiceConfig (run after every layout and after
 * the serve flags), each failing with one line that names the key to change.
 * Keys are named as in the service layout: `inputs[1].port`, `outputs[0].name`.
 */
import { ConfigError } from './fields';
import type { ServiceConfig } from './types';
import { envList, envString, type Env } from './values';

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '']);

/** Two listeners collide on the same port when either listens on every address or both on the same one. */
function sameListener(a: { host: string; port: number }, b: { host: string; port: number }): boolean {
  if (a.port === 0 || b.port === 0 || a.port !== b.port) return false;
  return a.host === b.host || WILDCARD_HOSTS.has(a.host) || WILDCARD_HOSTS.has(b.host);
}

function kafkaUsers(cfg: ServiceConfig): string[] {
  const users: string[] = [];
  cfg.inputs.forEach((i, n) => {
    if (i.type === 'kafka') users.push(`inputs[${n}] (a kafka input)`);
    if (i.type === 'webhook' && i.forwardTopic) users.push(`inputs[${n}].forward_topic`);
  });
  cfg.outputs.forEach((o, n) => {
    if (o.type === 'kafka') users.push(`outputs[${n}] (a kafka output)`);
  });
  if (cfg.deadLetters) users.push('dead_letters');
  return users;
}

export function checkServiceConfig(cfg: ServiceConfig): void {
  if (cfg.inputs.length === 0) throw new ConfigError('inputs', 'must be a non-empty list of inputs (type: kafka, webhook or file)');
  const onlyForwarding = cfg.inputs.every((i) => i.type === 'webhook' && i.forwardTopic);
  if (cfg.outputs.length === 0 && !onlyForwarding) throw new ConfigError('outputs', 'must be a non-empty list of outputs (type: kafka, http, file or stdout)');

  const users = kafkaUsers(cfg);
  if (users.length > 0 && !cfg.kafka) throw new ConfigError('kafka', `is required by ${users[0]}; set kafka.brokers (or KESTREL_KAFKA_BROKERS)`);

  for (const [list, key] of [[cfg.inputs, 'inputs'], [cfg.outputs, 'outputs']] as const) {
    list.forEach((item, n) => {
      const first = list.findIndex((o) => o.name === item.name);
      if (first !== n) throw new ConfigError(`${key}[${n}].name`, `"${item.name}" is already the name of ${key}[${first}]`);
    });
  }

  const listeners: { key: string; host: string; port: number }[] = [];
  cfg.inputs.forEach((i, n) => {
    if (i.type === 'webhook') listeners.push({ key: `inputs[${n}]`, host: i.host, port: i.port });
  });
  for (const [n, l] of listeners.entries()) {
    const other = listeners.slice(0, n).find((o) => sameListener(o, l));
    if (other) throw new ConfigError(`${l.key}.port`, `${l.host}:${l.port} is already the address of ${other.key}; put both paths in one webhook input`);
  }
  if (cfg.metrics) {
    const other = listeners.find((o) => sameListener(o, cfg.metrics!));
    if (other) throw new ConfigError('metrics.port', `${cfg.metrics.host}:${cfg.metrics.port} is already the address of ${other.key} (whose port also answers /metrics, /healthz and /readyz)`);
  }

  if (cfg.correlation?.mode === 'kafka' && !cfg.inputs.some((i) => i.type === 'kafka')) {
    throw new ConfigError('correlation.mode', 'kafka needs a kafka input (the correlation stage is a consumer group beside it; use local for webhook and file inputs)');
  }

  if (cfg.delivery.guarantee === 'exactly_once') {
    if (!cfg.outputs.some((o) => o.type === 'kafka')) throw new ConfigError('delivery.guarantee', 'exactly_once needs a kafka output (alerts and offsets are committed in one Kafka transaction)');
    // A webhook that forwards to a Kafka topic is fine: its events are consumed and committed like the others.
    const other = cfg.inputs.findIndex((i) => i.type !== 'kafka' && !(i.type === 'webhook' && i.forwardTopic));
    if (other >= 0) throw new ConfigError('delivery.guarantee', `exactly_once needs every input to be kafka (or a webhook with forward_topic); inputs[${other}] is ${cfg.inputs[other].type}`);
  }
}

/**
 * Environment overrides of inputs and outputs: KESTREL_KAFKA_GROUP (every
 * kafka input), KESTREL_INPUT_TOPICS (the one kafka input), KESTREL_OUTPUT_TOPIC
 * (the one kafka output). Brokers, SASL, metrics port and log level are read
 * with their sections.
 */
export function applyEnvironment(cfg: ServiceConfig, env: Env): void {
  const group = envString(env, 'KESTREL_KAFKA_GROUP');
  const kafkaInputs = cfg.inputs.flatMap((i, n) => (i.type === 'kafka' ? [{ i, n }] : []));
  if (group !== undefined) for (const { i } of kafkaInputs) i.groupId = group;

  const topics = envList(env, 'KESTREL_INPUT_TOPICS');
  if (topics !== undefined) {
    if (kafkaInputs.length !== 1) throw new ConfigError('KESTREL_INPUT_TOPICS', `sets the topics of the one kafka input, but there are ${kafkaInputs.length}${kafkaInputs.length ? ` (${kafkaInputs.map(({ n }) => `inputs[${n}]`).join(', ')}); set their topics in the file` : ''}`);
    kafkaInputs[0].i.topics = topics;
  }

  const outputTopic = envString(env, 'KESTREL_OUTPUT_TOPIC');
  if (outputTopic !== undefined) {
    const kafkaOutputs = cfg.outputs.flatMap((o, n) => (o.type === 'kafka' ? [{ o, n }] : []));
    if (kafkaOutputs.length !== 1) throw new ConfigError('KESTREL_OUTPUT_TOPIC', `sets the topic of the one kafka output, but there are ${kafkaOutputs.length}${kafkaOutputs.length ? ` (${kafkaOutputs.map(({ n }) => `outputs[${n}]`).join(', ')}); set their topics in the file` : ''}`);
    kafkaOutputs[0].o.topic = outputTopic;
  }
}
