/**
 * Engine benchmark: on the same generated events, in one process, compare
 * (a) plain JSON.parse of every event with (b) Kestrel's decode + evaluation
 * of the whole upstream k8s_audit ruleset. Prints events/s and the ratio b/a.
 *
 * Options: USAGE below (`npm run bench:engine -- --help`).
 */
import { resolve } from 'node:path';
import { decodeDocument } from '../src/decode/events';
import { loadRuleset } from '../src/engine/load';
import { formatDiagnostic } from '../src/language/diagnostics';
import { benchArgs } from './args';
import { generate } from './generator';

const USAGE = 'usage: npm run bench:engine -- [--events N] [--rounds R] [--seed S] [--rules FILE]...';
const values = benchArgs('bench:engine', USAGE, {
  events: { type: 'string', default: '50000' },
  rounds: { type: 'string', default: '5' },
  seed: { type: 'string', default: '1' },
  rules: { type: 'string', multiple: true },
});
const count = Number(values.events);
const rounds = Number(values.rounds);
const rules = values.rules ?? [resolve(__dirname, '../../../shared/conformance/upstream-latest/k8s_audit_rules.yaml')];

const { ruleset, diagnostics } = loadRuleset(rules);
if (!ruleset) {
  process.stderr.write(diagnostics.map(formatDiagnostic).join('\n') + '\n');
  process.exit(1);
}
const lines = generate(count, Number(values.seed));
const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);

function baseline(): number {
  let keys = 0;
  for (const l of lines) keys += (JSON.parse(l) as { verb?: string }).verb ? 1 : 0;
  return keys;
}

function kestrel(): number {
  let alerts = 0;
  for (const l of lines) {
    const d = decodeDocument(l, 'k8s_audit');
    if (!d.ok) continue;
    for (const ev of d.events) alerts += ruleset!.evaluate(ev).length;
  }
  return alerts;
}

function time(fn: () => number): { seconds: number; result: number } {
  const t0 = process.hrtime.bigint();
  const result = fn();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, result };
}

// Warm up both paths (JIT), then alternate rounds and keep each one's median.
time(baseline);
time(kestrel);
const a: number[] = [];
const b: number[] = [];
let alerts = 0;
for (let r = 0; r < rounds; r++) {
  a.push(time(baseline).seconds);
  const k = time(kestrel);
  b.push(k.seconds);
  alerts = k.result;
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const rateA = count / median(a);
const rateB = count / median(b);
const rules_n = ruleset.compiledRules().filter((r) => r.enabled).length;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
process.stdout.write(
  `events: ${fmt(count)} (seed ${values.seed}, ${(bytes / count / 1024).toFixed(1)} KiB average, ${(bytes / 1e6).toFixed(1)} MB), rules: ${rules_n} enabled, rounds: ${rounds}\n` +
    `(a) JSON.parse                 ${fmt(rateA).padStart(10)} events/s  ${(bytes / median(a) / 1e6).toFixed(0)} MB/s\n` +
    `(b) decode + evaluate (Kestrel) ${fmt(rateB).padStart(9)} events/s  ${(bytes / median(b) / 1e6).toFixed(0)} MB/s  alerts per pass: ${fmt(alerts)}\n` +
    `ratio b/a: ${(rateB / rateA).toFixed(2)}\n`,
);
