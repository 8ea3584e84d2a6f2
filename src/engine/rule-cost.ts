/**
 * Per-rule evaluation cost, sampled: every rule counts its evaluations and
 * matches exactly, and times one evaluation in `every` with
 * process.hrtime.bigint (two clock reads per sample, so cheap enough to leave
 * on). A rule's time is its marginal cost in load order: fields an earlier
 * rule already extracted for the event are memoized and cost it nothing.
 *
 * The state is per worker (each worker thread has its own Ruleset); sum the
 * snapshots, or feed `onSample` into a histogram, to get a process view.
 */
import type { CompiledRule, EvalContext } from '../language/compiler';

export interface RuleCostStat {
  rule: string;
  source: string;
  /** Times the rule's condition ran (exact). */
  evaluations: number;
  /** Times it held (exact). */
  matches: number;
  /** Evaluations that were timed. */
  samples: number;
  /** Total time of the timed evaluations, ns. */
  sampledNs: number;
  /** sampledNs / samples (0 without samples). */
  meanNs: number;
  /** meanNs × evaluations: the rule's estimated share of evaluation time. */
  estimatedTotalNs: number;
}

export class RuleCost {
  private readonly evaluations: Float64Array;
  private readonly matches: Float64Array;
  private readonly samples: Float64Array;
  private readonly sampledNs: Float64Array;

  constructor(private readonly rules: CompiledRule[], private readonly every: number, private readonly onSample?: (rule: string, ns: number) => void) {
    const n = rules.length;
    this.evaluations = new Float64Array(n);
    this.matches = new Float64Array(n);
    this.samples = new Float64Array(n);
    this.sampledNs = new Float64Array(n);
  }

  /** Run the rule's predicate, counting it and timing it when its turn comes. */
  evaluate(rule: CompiledRule, ctx: EvalContext): boolean {
    const k = rule.order;
    const n = ++this.evaluations[k];
    let ok: boolean;
    if (this.every > 0 && n % this.every === 0) {
      const t0 = process.hrtime.bigint();
      ok = rule.predicate(ctx);
      const ns = Number(process.hrtime.bigint() - t0);
      this.samples[k]++;
      this.sampledNs[k] += ns;
      this.onSample?.(rule.name, ns);
    } else ok = rule.predicate(ctx);
    if (ok) this.matches[k]++;
    return ok;
  }

  snapshot(): RuleCostStat[] {
    return this.rules.map((r) => {
      const k = r.order;
      const samples = this.samples[k];
      const meanNs = samples > 0 ? this.sampledNs[k] / samples : 0;
      return {
        rule: r.name, source: r.source, evaluations: this.evaluations[k], matches: this.matches[k], samples,
        sampledNs: this.sampledNs[k], meanNs, estimatedTotalNs: meanNs * this.evaluations[k],
      };
    });
  }
}
