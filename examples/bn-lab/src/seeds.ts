/**
 * Judging an experiment over several seeds. One seed's run can show a difference that the next seed
 * reverses, so the report gives every figure as mean ± spread over the seeds, and a check "holds" over
 * the seeds only where its mean gap exceeds that spread — the seed-to-seed standard deviation, the
 * larger of the two compared figures' (a conservative choice: the same seed gives both networks the
 * same start, so their difference is often less noisy than either figure).
 */
import type { Check, Quantity, Unit } from './lab.js';
import { num, pct, steps } from './lab.js';

export interface Spread {
  /** Mean over the seeds whose value is not null. */
  mean: number;
  /** Sample standard deviation over those seeds (0 with fewer than two). */
  sd: number;
  /** How many seeds have a value. */
  n: number;
}

export function spreadOf(values: ReadonlyArray<number | null>): Spread {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const n = xs.length;
  const mean = n ? xs.reduce((s, v) => s + v, 0) / n : NaN;
  const sd = n < 2 ? 0 : Math.sqrt(xs.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  return { mean, sd, n };
}

/** One value in its unit: 0.951 → "95.1%", 1200 steps → "1,200", 0.5 ms → "0.5 ms". */
export function formatValue(x: number | null, unit: Unit): string {
  if (x === null) return 'never';
  switch (unit) {
    case 'pct': return pct(x);
    case 'steps': return steps(Math.round(x));
    case 'ms': return `${num(x)} ms`;
    case 'KiB': return `${num(x, 4)} KiB`;
    default: return num(x);
  }
}

/** A spread in its unit: a fraction's spread in percentage points. */
export function formatSpread(sd: number, unit: Unit): string {
  if (Math.abs(sd) < 1e-9) sd = 0; // rounding noise of a mean of equal values
  if (unit === 'pct') {
    const points = num(100 * sd, 2);
    return `${points} point${points === '1' || points === '-1' ? '' : 's'}`;
  }
  return formatValue(sd, unit);
}

/** "95.1% ± 0.4 points" (n seeds), or just the value when there is one seed. */
export function formatMean(s: Spread, unit: Unit): string {
  if (s.n === 0) return 'never';
  return s.n < 2 ? formatValue(s.mean, unit) : `${formatValue(s.mean, unit)} ± ${formatSpread(s.sd, unit)}`;
}

export interface QuantityOverSeeds { name: string; unit: Unit; spread: Spread; values: Array<number | null> }

/** The quantities of several runs of one experiment (the same names in each), seed by seed. */
export function quantitiesOverSeeds(runs: ReadonlyArray<readonly Quantity[]>): QuantityOverSeeds[] {
  return runs[0].map((q, i) => {
    const values = runs.map((r) => {
      if (r[i]?.name !== q.name) throw new Error(`bn-lab seeds: quantity ${i} is '${r[i]?.name}' in one run and '${q.name}' in another`);
      return r[i].value;
    });
    return { name: q.name, unit: q.unit, values, spread: spreadOf(values) };
  });
}

export interface VerdictOverSeeds {
  name: string;
  robust: boolean;
  /** Mean of a − b − margin over the seeds: the check holds where this exceeds the spread. */
  gap: number;
  /** The larger seed-to-seed standard deviation of a and b. */
  spread: number;
  holds: boolean;
  /** In how many seeds the check held on its own. */
  heldIn: number;
  seeds: number;
  detail: string;
}

/** The checks of several runs (same names, same order) judged together: holds when gap > spread. */
export function verdictsOverSeeds(runs: ReadonlyArray<readonly Check[]>): VerdictOverSeeds[] {
  return runs[0].map((c, i) => {
    const same = runs.map((r) => {
      if (r[i]?.name !== c.name) throw new Error(`bn-lab seeds: check ${i} is '${r[i]?.name}' in one run and '${c.name}' in another`);
      return r[i];
    });
    const { unit, margin = 0 } = c.compare;
    const a = spreadOf(same.map((x) => x.compare.a));
    const b = spreadOf(same.map((x) => x.compare.b));
    const gap = a.mean - b.mean - margin;
    const spread = Math.max(a.sd, b.sd);
    const holds = runs.length > 1 ? gap > spread : same[0].holds;
    const marginText = margin ? ` (margin ${formatSpread(margin, unit)})` : '';
    return {
      name: c.name, robust: c.robust, gap, spread, holds, seeds: runs.length,
      heldIn: same.filter((x) => x.holds).length,
      detail: `${formatMean(a, unit)} vs ${formatMean(b, unit)}; gap ${formatSpread(a.mean - b.mean, unit)}${marginText}, spread ${formatSpread(spread, unit)}`,
    };
  });
}
