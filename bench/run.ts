/**
 * End-to-end benchmark of what users run: `kestrel run -i FILE --json`, as a
 * child process (startup, rule loading, reading, splitting, decoding,
 * evaluation, alert formatting and writing the alerts to a file all count),
 * against the floor any JavaScript engine pays for the same file in this
 * process: read it whole, split it on newlines, JSON.parse every line.
 *
 * Options: USAGE below (`npm run bench:run -- --help`).
 *
 * Two seeded mixes from bench/generator.ts: `quiet` (mostly routine reads and
 * controller writes, ~4 % of events alert) and `heavy` (attack-heavy, ~25 %
 * alert). Each round times the floor and the CLI on the same file; the best
 * of R rounds is kept for both. Process startup (node + rule loading on an
 * empty input) is measured separately and reported; it is part of the CLI
 * figure, as users pay it. The sha256 of the alert output is printed so that
 * two builds can be compared byte for byte (--cli runs another build's
 * bin/kestrel.js, e.g. one of main, on the same files). --baseline FILE also
 * runs another build's bin/kestrel.js in every round, right after this one
 * (then before it, alternately), so that both are compared with the same
 * floors on a machine whose load changes from minute to minute. --run-arg
 * adds an argument to this build's `kestrel run` (e.g. --run-arg=--threads
 * --run-arg=2), not to the baseline's.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs } from './args';
import { AuditEventGenerator, Prng, type GeneratedEvent } from './generator';

const ROOT = resolve(__dirname, '../..');
let CLI = join(ROOT, 'bin/kestrel.js');
const UPSTREAM_RULES = resolve(ROOT, '../shared/conformance/upstream-latest/k8s_audit_rules.yaml');

/** How likely a generated event is to be kept in a mix (the rest are dropped). */
interface Mix {
  name: 'quiet' | 'heavy';
  describe: string;
  keep: (e: GeneratedEvent) => number;
}

/** Scenarios that make upstream rules fire: the suspicious class and humans' writes. */
const alerting = (e: GeneratedEvent) => e.cls === 'suspicious' || e.scenario.startsWith('human-');

export const MIXES: Mix[] = [
  { name: 'quiet', describe: 'mostly routine reads, ~4 % alerting', keep: (e) => (alerting(e) ? 0.4 : 1) },
  { name: 'heavy', describe: 'attack-heavy, ~25 % alerting', keep: (e) => (alerting(e) ? 1 : e.cls === 'read' ? 0.2 : 0.5) },
];

/** `count` JSON lines of `mix`, deterministic for `seed`. */
export function mixText(mix: Mix, count: number, seed: number): string {
  const gen = new AuditEventGenerator(seed);
  const pick = new Prng(seed ^ 0x5eed);
  const parts: string[] = [];
  while (parts.length < count) {
    const e = gen.nextTagged();
    if (pick.float() < mix.keep(e)) parts.push(JSON.stringify(e.event));
  }
  return parts.join('\n') + '\n';
}

/** The floor: read the whole file, split on newlines, JSON.parse each line. */
function floor(file: string): number {
  const text = readFileSync(file, 'utf8');
  let n = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    JSON.parse(line);
    n++;
  }
  return n;
}

interface CliRun {
  seconds: number;
  /** User + system CPU seconds of the child, when /usr/bin/time is there to tell. */
  cpu?: number;
  stderr: string;
  code: number | null;
}

const TIME = '/usr/bin/time';

/**
 * Run the CLI as users do, stdout to `outFile`; timed from spawn to exit.
 * On a shared machine wall time depends on the neighbours: the child's CPU
 * time (through /usr/bin/time when present) is reported beside it.
 */
function runCli(args: string[], outFile: string, nodeArgs: string[] = [], cli = CLI): Promise<CliRun> {
  const fd = openSync(outFile, 'w');
  const cpuFile = `${outFile}.cpu`;
  const command = [process.execPath, ...nodeArgs, cli, ...args];
  const timed = existsSync(TIME) ? [TIME, '-f', '%U %S', '-o', cpuFile, ...command] : command;
  const t0 = process.hrtime.bigint();
  return new Promise((res, rej) => {
    const child = spawn(timed[0], timed.slice(1), { stdio: ['ignore', fd, 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', rej);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      closeSync(fd);
      let cpu: number | undefined;
      if (timed !== command) {
        const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        if (Number.isFinite(user + sys)) cpu = user + sys;
      }
      res({ seconds, stderr, code, cpu });
    });
  });
}

/** Wall and CPU seconds of `fn` in this process. */
function time(fn: () => void): { seconds: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  fn();
  const c = process.cpuUsage(c0);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6 };
}

const USAGE = `usage: npm run bench:run -- [--events N] [--rounds R] [--seed S] [--rules FILE]...
                            [--mix quiet|heavy]... [--cpu-prof DIR] [--keep DIR] [--cli FILE] [--baseline FILE]
                            [--run-arg ARG]...`;

async function main(): Promise<number> {
  const values = benchArgs('bench:run', USAGE, {
    events: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    rules: { type: 'string', multiple: true },
    mix: { type: 'string', multiple: true },
    'cpu-prof': { type: 'string' },
    keep: { type: 'string' },
    cli: { type: 'string' },
    baseline: { type: 'string' },
    'run-arg': { type: 'string', multiple: true },
  });
  if (values.cli) CLI = resolve(values.cli);
  const baseline = values.baseline ? resolve(values.baseline) : undefined;
  const count = Number(values.events);
  const rounds = Number(values.rounds);
  const seed = Number(values.seed);
  let rules = values.rules;
  let rulesNote = '(given)';
  if (!rules?.length) {
    const upstream = existsSync(UPSTREAM_RULES);
    rules = upstream ? [UPSTREAM_RULES] : [join(ROOT, 'rules')];
    rulesNote = upstream ? '(upstream k8s_audit rules from ../shared)' : "(Kestrel's rules/: ../shared/conformance is absent)";
  }
  const cores = availableParallelism();
  const dir = values.keep ? resolve(values.keep) : mkdtempSync(join(tmpdir(), 'kestrel-bench-run-'));
  const mixes = MIXES.filter((m) => !values.mix?.length || values.mix.includes(m.name));
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const runArgs = values['run-arg']?.length ? ` run ... ${values['run-arg'].join(' ')}` : '';
  process.stdout.write(`bench:run: ${fmt(count)} events per mix, best of ${rounds}, seed ${seed}, rules ${rules.join(' ')} ${rulesNote}; ${CLI}${runArgs}; alerts written to a file in ${dir}\n`);

  try {
    // Startup: node, module loading and rule compilation, on an empty input.
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    const ruleArgs = rules.flatMap((r) => ['-r', r]);
    const extra = values['run-arg'] ?? [];
    let startup = Infinity;
    let startupCpu = Infinity;
    let baseStartup = Infinity;
    let baseStartupCpu = Infinity;
    for (let r = 0; r < rounds; r++) {
      const run = await runCli(['run', '-i', empty, '--json', ...ruleArgs, ...extra], join(dir, 'empty.out'));
      startup = Math.min(startup, run.seconds);
      startupCpu = Math.min(startupCpu, run.cpu ?? NaN);
      if (baseline) {
        const b = await runCli(['run', '-i', empty, '--json', ...ruleArgs], join(dir, 'empty.out'), [], baseline);
        baseStartup = Math.min(baseStartup, b.seconds);
        baseStartupCpu = Math.min(baseStartupCpu, b.cpu ?? NaN);
      }
    }
    process.stdout.write(`bench:run startup (empty input, rules loaded): ${(startup * 1000).toFixed(0)} ms, CPU ${(startupCpu * 1000).toFixed(0)} ms\n`);
    if (baseline) process.stdout.write(`bench:run baseline ${baseline} startup: ${(baseStartup * 1000).toFixed(0)} ms, CPU ${(baseStartupCpu * 1000).toFixed(0)} ms\n`);

    for (const mix of mixes) {
      const file = join(dir, `${mix.name}.jsonl`);
      const text = mixText(mix, count, seed);
      writeFileSync(file, text);
      const outFile = join(dir, `${mix.name}.alerts.json`);
      const args = ['run', '-i', file, '--json', ...ruleArgs];
      const ownArgs = [...args, ...extra];
      let bestFloor = Infinity;
      let bestCli = Infinity;
      let floorCpu = Infinity;
      let cliCpu = Infinity;
      let bestBase = Infinity;
      let baseCpu = Infinity;
      const baseOut = join(dir, `${mix.name}.baseline.alerts.json`);
      floor(file); // warm the JIT and the page cache
      for (let r = 0; r < rounds; r++) {
        const f = time(() => floor(file));
        bestFloor = Math.min(bestFloor, f.seconds);
        floorCpu = Math.min(floorCpu, f.cpu);
        const runBase = async () => {
          if (!baseline) return;
          const b = await runCli(args, baseOut, [], baseline);
          if (b.code !== 0) throw new Error(`baseline kestrel run exited ${b.code}: ${b.stderr}`);
          bestBase = Math.min(bestBase, b.seconds);
          baseCpu = Math.min(baseCpu, b.cpu ?? NaN);
        };
        if (r % 2 === 1) await runBase();
        const run = await runCli(ownArgs, outFile);
        if (run.code !== 0) throw new Error(`kestrel run exited ${run.code}: ${run.stderr}`);
        bestCli = Math.min(bestCli, run.seconds);
        cliCpu = Math.min(cliCpu, run.cpu ?? NaN);
        if (r % 2 === 0) await runBase();
      }
      const out = readFileSync(outFile);
      const alerts = out.length === 0 ? 0 : out.toString('utf8').split('\n').length - 1;
      const sha = createHash('sha256').update(out).digest('hex').slice(0, 16);
      const floorRate = count / bestFloor;
      const cliRate = count / bestCli;
      const steady = count / Math.max(bestCli - startup, 1e-9);
      process.stdout.write(
        `bench:run ${mix.name}: ${(text.length / count / 1024).toFixed(1)} KiB/event, ${fmt(alerts)} alerts (${((100 * alerts) / count).toFixed(1)} %), output sha256 ${sha}; ` +
          `without startup kestrel ${fmt(steady)} ev/s (ratio ${(steady / floorRate).toFixed(2)}); ` +
          `CPU floor ${floorCpu.toFixed(2)} s, kestrel ${cliCpu.toFixed(2)} s (ratio ${(floorCpu / cliCpu).toFixed(2)})\n`,
      );
      process.stdout.write(`bench:run ${mix.name}: floor ${fmt(floorRate)} ev/s, kestrel run ${fmt(cliRate)} ev/s, ratio ${(cliRate / floorRate).toFixed(2)} (cores ${cores})\n`);
      if (baseline) {
        const bSha = createHash('sha256').update(readFileSync(baseOut)).digest('hex').slice(0, 16);
        const bRate = count / bestBase;
        process.stdout.write(
          `bench:run ${mix.name} baseline: output sha256 ${bSha} (${bSha === sha ? 'same' : 'DIFFERENT'}); kestrel run ${fmt(bRate)} ev/s, ratio ${(bRate / floorRate).toFixed(2)}; ` +
            `CPU ${baseCpu.toFixed(2)} s (ratio ${(floorCpu / baseCpu).toFixed(2)})\n`,
        );
      }
      if (values['cpu-prof']) {
        const profDir = resolve(values['cpu-prof']);
        await runCli(ownArgs, outFile, ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-name', `${mix.name}.cpuprofile`]);
        process.stdout.write(`bench:run ${mix.name}: CPU profile in ${join(profDir, `${mix.name}.cpuprofile`)}\n`);
      }
    }
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`bench:run: ${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
