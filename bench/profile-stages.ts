/**
 * Per-stage table of a `node --cpu-prof` profile of `kestrel run` (made by
 * `npm run bench:run -- --cpu-prof DIR`). Every sample is charged to the
 * innermost frame on its stack that belongs to a stage, and GC to GC.
 * JSON.parse does not show as a frame of its own: it is the self time of the
 * function calling it (decodeDocument before the JSON Lines fast path,
 * parseWholeLine after), counted as `JSON.parse`.
 *
 *   node dist/bench/profile-stages.js FILE.cpuprofile... | LABEL=FILE,FILE,...
 *
 * LABEL=FILE,FILE averages several profiles of the same run into one column
 * (profiles taken on a busy machine vary from run to run).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export const STAGES = ['startup', 'read', 'splitter', 'JSON.parse', 'decode', 'evaluate', 'alertJson', 'write', 'GC', 'other'] as const;
type Stage = (typeof STAGES)[number];

/** The stage a frame belongs to, or undefined when it only inherits its caller's. */
function stageOf(fn: string, url: string): Stage | undefined {
  if (fn === '(garbage collector)') return 'GC';
  if (/\/decode\/documents\.js$/.test(url)) return 'splitter';
  if (/\/decode\/(events|audit)\.js$/.test(url)) return 'decode';
  if (/\/engine\/alert\.js$/.test(url)) return fn === 'alertText' || fn === 'formatTime' ? undefined : 'alertJson';
  if (/\/(engine\/(ruleset|rule-index)|language\/(compiler|operators|glob|values)|fields\/[^/]+)\.js$/.test(url)) return 'evaluate';
  if (/\/cli\/run\.js$/.test(url)) return fn === 'runCommand' ? undefined : fn === 'handle' ? 'other' : undefined;
  if (fn === 'writeWithBackpressure' || /internal\/(fs\/streams|streams\/writable)|net\.js/.test(url) && /write/i.test(fn)) return 'write';
  if (/internal\/fs\/streams/.test(url) || fn === 'ReadFileContext' || /\bread\b/i.test(fn) && /internal\/fs/.test(url)) return 'read';
  if (fn === 'loadRuleset' || /\/language\/(reader|collector|parser)\.js$/.test(url) || /internal\/modules\//.test(url)) return 'startup';
  return undefined;
}

export function stageTable(file: string): Map<Stage, number> {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const stageCache = new Map<number, Stage>();
  const stageFor = (id: number): Stage => {
    const cached = stageCache.get(id);
    if (cached) return cached;
    const n = byId.get(id)!;
    const own = stageOf(n.callFrame.functionName, n.callFrame.url);
    const up = parent.get(id);
    const s: Stage = own ?? (up === undefined ? 'other' : stageFor(up));
    stageCache.set(id, s);
    return s;
  };
  const ms = new Map<Stage, number>(STAGES.map((s) => [s, 0]));
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i])!;
    const fn = n.callFrame.functionName;
    if (fn === '(idle)' || fn === '(program)') continue;
    const s = fn === 'parseWholeLine' || fn === 'decodeDocument' ? 'JSON.parse' : stageFor(n.id);
    ms.set(s, ms.get(s)! + (p.timeDeltas[i] ?? 0) / 1000);
  }
  return ms;
}

/** Average stage times of several profiles. */
function averaged(files: string[]): Map<Stage, number> {
  const sum = new Map<Stage, number>(STAGES.map((s) => [s, 0]));
  for (const f of files) for (const [s, ms] of stageTable(f)) sum.set(s, sum.get(s)! + ms / files.length);
  return sum;
}

const USAGE = 'usage: node dist/bench/profile-stages.js FILE.cpuprofile... | LABEL=FILE,FILE,...  (profiles from npm run bench:run -- --cpu-prof DIR)';

if (require.main === module) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (args.length === 0) {
    process.stderr.write(`profile-stages: no profile given\n${USAGE}\n`);
    process.exit(2);
  }
  const missing = args.flatMap((arg) => (arg.includes('=') ? arg.slice(arg.indexOf('=') + 1).split(',') : [arg])).filter((f) => !existsSync(f));
  if (missing.length > 0) {
    process.stderr.write(`profile-stages: no such file: ${missing.join(', ')}\n${USAGE}\n`);
    process.exit(2);
  }
  const columns = args.map((arg) => {
    const eq = arg.indexOf('=');
    return eq > 0 ? { label: arg.slice(0, eq), files: arg.slice(eq + 1).split(',') } : { label: basename(arg, '.cpuprofile'), files: [arg] };
  });
  const tables = columns.map((c) => averaged(c.files));
  const total = tables.map((t) => [...t.values()].reduce((a, b) => a + b, 0));
  process.stdout.write(`| stage | ${columns.map((c) => c.label).join(' | ')} |\n|---|${columns.map(() => '---:').join('|')}|\n`);
  for (const s of STAGES) {
    process.stdout.write(`| ${s} | ${tables.map((t, i) => `${Math.round(t.get(s)!)} ms (${((100 * t.get(s)!) / total[i]).toFixed(0)} %)`).join(' | ')} |\n`);
  }
  process.stdout.write(`| total CPU | ${total.map((t) => `${Math.round(t)} ms`).join(' | ')} |\n`);
}
