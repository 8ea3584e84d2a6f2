/**
 * Running the service as a process: startup errors as one line (exit 2 for
 * configuration and environment, 1 for rules), signals (the first SIGTERM or
 * SIGINT drains and exits 0, a second exits at once; SIGHUP reloads rules),
 * and supervision (a fatal pipeline error exits 1 once drained, and never
 * later than shutdown_timeout_ms + 5 s).
 */
import type { ServiceConfig } from '../config/types';
import { Service, StartupFailure, type ServiceOptions } from '../pipeline/service';
import { printDiagnostics } from './common';

const HARD_STOP_MARGIN_MS = 5_000;

export async function runService(cfg: ServiceConfig, err: NodeJS.WritableStream = process.stderr, opts: ServiceOptions = {}): Promise<number> {
  let signalled: string | undefined;
  let wake: (sig: string) => void = () => {};
  const stopSignal = new Promise<string>((r) => (wake = r));
  let svc: Service | undefined;
  const onSignal = (sig: string) => {
    if (signalled) {
      svc?.logger.warn({ signal: sig }, 'second signal: exiting now');
      process.exit(130);
    }
    signalled = sig;
    wake(sig);
  };
  const onTerm = () => onSignal('SIGTERM');
  const onInt = () => onSignal('SIGINT');
  // Installed before anything starts: a SIGHUP must never hit the default action (exit).
  const onHup = () => void svc?.reload();
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  process.on('SIGHUP', onHup);
  try {
    try {
      svc = await Service.start(cfg, {
        ...opts,
        abortStart: stopSignal,
        onDiagnostics: (d) => printDiagnostics(d, err),
      });
    } catch (e) {
      if (!(e instanceof StartupFailure)) throw e;
      err.write(`kestrel: ${e.message}\n`);
      return e.code;
    }
    const running = svc;
    const outcome = await Promise.race([
      stopSignal.then((sig) => ({ kind: 'signal' as const, sig })),
      running.failed.then((e) => ({ kind: 'failed' as const, e })),
      running.inputsFinished.then(() => ({ kind: 'done' as const })),
    ]);
    const code = outcome.kind === 'failed' ? 1 : 0;
    if (outcome.kind === 'signal') running.logger.info({ signal: outcome.sig }, 'stopping: draining in-flight work');
    if (outcome.kind === 'done') running.logger.info('every input finished: draining');
    // Whatever happens while draining, the process ends in bounded time.
    setTimeout(() => {
      running.logger.error('shutdown did not finish in time; exiting');
      process.exit(code || 1);
    }, cfg.shutdownTimeoutMs + HARD_STOP_MARGIN_MS).unref();
    await running.stop(cfg.shutdownTimeoutMs);
    return code;
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    process.off('SIGHUP', onHup);
  }
}
