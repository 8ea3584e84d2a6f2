/**
 * `kestrel serve`: the service with one webhook input (kube-apiserver's audit
 * webhook, kube-audit-rest AdmissionReviews), configured by flags and/or a
 * config file (-c; serve-era files are accepted). Flags win over the file.
 * The webhook port also answers /healthz, /readyz and /metrics.
 */
import pino, { type Logger } from 'pino';
import { ConfigError } from '../config/fields';
import { FlagError, SERVE_HELP, servePreset } from '../config/presets';
import type { ServiceConfig } from '../config/types';
import type { Output } from '../pipeline/outputs';
import { alertFilter } from '../pipeline/selection';
import { Service } from '../pipeline/service';
import { BreakerSink } from '../sinks/breaker';
import type { AlertSink } from '../sinks/types';
import { DEFAULT_RULES_DIR, UsageError } from './common';
import { runService } from './service-command';

export interface ServeHandle {
  port: number;
  service: Service;
  /** The running ruleset (its hash is the version /readyz reports). */
  holder: { readonly hash: string };
  /** Reload the rules (what SIGHUP does). */
  reload(): ReturnType<Service['reload']>;
  close(): Promise<void>;
}

export interface ServeHooks {
  /** Extra outputs (tests: a capturing sink). */
  sinks?: { sink: AlertSink }[];
  logger?: Logger;
}

/** An AlertSink as an output (tests), behind a breaker like every output. */
export function outputOf(sink: AlertSink): Output {
  const guarded = new BreakerSink(sink, { timeoutMs: 30_000, errorThresholdPercentage: 50, resetTimeoutMs: 1_000, volumeThreshold: 1 });
  return { name: sink.name, select: alertFilter({ minPriority: sink.minPriority }), send: (a) => guarded.send(a), breaker: guarded.breaker, close: () => guarded.close() };
}

/** Start the service in-process (tests); resolves once every input is up. */
export async function startServe(cfg: ServiceConfig, hooks: ServeHooks = {}): Promise<ServeHandle> {
  const service = await Service.start(cfg, { extraOutputs: (hooks.sinks ?? []).map(({ sink }) => outputOf(sink)), logger: hooks.logger ?? pino({ level: 'silent' }) });
  return {
    port: Object.values(service.ports.inputs)[0],
    service,
    holder: { get hash() { return service.rulesetHash; } },
    reload: () => service.reload(),
    close: async () => void (await service.stop()),
  };
}

/** The serve preset from flags; flag and config mistakes are usage errors (one line, exit 2). */
export function serveConfig(argv: string[]): ServiceConfig | 'help' {
  try {
    return servePreset(argv, DEFAULT_RULES_DIR);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof FlagError) throw new UsageError(e.message);
    throw e;
  }
}

export async function serveCommand(argv: string[]): Promise<number> {
  const cfg = serveConfig(argv);
  if (cfg === 'help') {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  return runService(cfg);
}
