/** Latency summaries and distributions (milliseconds). */

export interface Summary {
  n: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values as ArrayLike<number>).sort();
}

export function summarize(values: ArrayLike<number>): Summary {
  const s = sortedCopy(values);
  let sum = 0;
  for (const v of s) sum += v;
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    n: s.length,
    min: r(s[0] ?? NaN),
    mean: r(s.length ? sum / s.length : NaN),
    p50: r(percentile(s, 50)),
    p90: r(percentile(s, 90)),
    p95: r(percentile(s, 95)),
    p99: r(percentile(s, 99)),
    p999: r(percentile(s, 99.9)),
    max: r(s[s.length - 1] ?? NaN),
  };
}

/**
 * A compact CDF for charts and the JSON: at most `points` [latency, fraction] pairs, denser in the tail
 * (quantiles spaced evenly on a log scale of 1 - q, so p99 and p99.9 stay visible).
 */
export function cdf(values: ArrayLike<number>, points = 120): [number, number][] {
  const s = sortedCopy(values);
  if (s.length === 0) return [];
  const out: [number, number][] = [];
  const seen = new Set<number>();
  const maxTail = Math.log10(s.length);
  for (let i = 0; i <= points; i++) {
    // q runs 0 → 1 - 1/n, linear in the body and logarithmic in the tail
    const q =
      i < points / 2
        ? (i / (points / 2)) * 0.9
        : 1 - 0.1 * 10 ** (-((i - points / 2) / (points / 2)) * (maxTail - 1));
    const idx = Math.min(s.length - 1, Math.max(0, Math.floor(q * s.length)));
    if (seen.has(idx)) continue;
    seen.add(idx);
    out.push([Math.round(s[idx]! * 1000) / 1000, Math.round(((idx + 1) / s.length) * 1e6) / 1e6]);
  }
  return out;
}

export const round = (x: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
