/**
 * Pure statistics for the benchmarks: medians, percentiles, spreads and the ratio line every
 * benchmark ends with. No I/O, so tests/unit/bench-stats.test.ts can pin the arithmetic.
 *
 * Why medians of interleaved rounds: the machine is shared (docs/benchmarks.md, "How they measure"), so a
 * single run says little; the median of several baseline/candidate rounds run alternately cancels
 * slow drifts, and the min–max spread shows how much the figure can be trusted.
 */

/** Nearest-rank percentile (p in [0, 100]) of unsorted samples; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile: p must be within 0..100, got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** The middle value (mean of the two middle values for an even count); NaN for no samples. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  count: number;
}

export function spreadOf(samples: readonly number[]): Spread {
  return {
    median: median(samples),
    min: samples.length === 0 ? Number.NaN : Math.min(...samples),
    max: samples.length === 0 ? Number.NaN : Math.max(...samples),
    count: samples.length,
  };
}

/**
 * Ratios of paired rounds (candidate[i] / baseline[i]), the figure the targets are about. Pairing
 * rounds that ran back to back is what makes interleaving pay off: both saw the same machine load.
 */
export function pairedRatios(candidate: readonly number[], baseline: readonly number[]): number[] {
  if (candidate.length !== baseline.length) {
    throw new Error(
      `pairedRatios: ${candidate.length} candidate rounds vs ${baseline.length} baseline rounds`,
    );
  }
  return candidate.map((value, i) => value / baseline[i]!);
}

/** `12.3 ms (11.9–13.0, n=5)`, with the given unit and decimals. */
export function formatSpread(spread: Spread, unit: string, decimals = 1): string {
  const f = (value: number) => value.toFixed(decimals);
  return `${f(spread.median)} ${unit} (${f(spread.min)}–${f(spread.max)}, n=${spread.count})`;
}

export type TargetDirection = 'at-most' | 'at-least';

export interface Target {
  direction: TargetDirection;
  value: number;
}

export function meetsTarget(ratio: number, target: Target): boolean {
  if (!Number.isFinite(ratio)) return false;
  return target.direction === 'at-most' ? ratio <= target.value : ratio >= target.value;
}

export function describeTarget(target: Target): string {
  return `${target.direction === 'at-most' ? '≤' : '≥'} ${target.value}×`;
}

/**
 * The last line of every benchmark: `ratio <name>: 1.23× (1.10–1.40) target ≤ 1.5× met`. Kept in one
 * place so run-all and docs/benchmarks.md read the same format.
 */
export function ratioLine(name: string, ratios: Spread, target: Target | null): string {
  const spread = ratios.count > 1 ? ` (${ratios.min.toFixed(2)}–${ratios.max.toFixed(2)})` : '';
  const verdict = target
    ? ` target ${describeTarget(target)} ${meetsTarget(ratios.median, target) ? 'met' : 'MISSED'}`
    : ' (no target)';
  return `ratio ${name}: ${ratios.median.toFixed(2)}×${spread}${verdict}`;
}
