/**
 * What every benchmark returns to run-all (and prints itself when run standalone): its figures, one
 * or more ratios with their targets, and the ratio line as the last thing printed.
 */
import { describeTarget, meetsTarget, ratioLine, type Spread, spreadOf, type Target } from './stats';

export interface RatioFigure {
  /** e.g. `provider-overhead.in-process`. */
  name: string;
  ratios: Spread;
  target: Target | null;
  /** What the ratio compares, e.g. "provider methods / plain Registry". */
  meaning: string;
}

export interface BenchResult {
  benchmark: string;
  ratios: RatioFigure[];
  /** Non-ratio facts worth the summary (e.g. failed resources: 0). */
  notes: string[];
}

export function ratioFigure(
  name: string,
  ratios: readonly number[],
  target: Target | null,
  meaning: string,
): RatioFigure {
  return { name, ratios: spreadOf(ratios), target, meaning };
}

/** Lines printed by the benchmark itself as it goes (figures), flushed immediately. */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * Prints every ratio (diagnostics first), then ONE last line with the ratios that have targets:
 * `ratio <benchmark>: <name> 1.04× (target ≤ 1.1× met); ...` — the line run-all and the docs quote.
 */
export function printRatios(result: BenchResult): void {
  const ordered = [...result.ratios.filter((f) => !f.target), ...result.ratios.filter((f) => f.target)];
  for (const figure of ordered)
    say(`  ${ratioLine(figure.name, figure.ratios, figure.target)} — ${figure.meaning}`);
  say(summaryLine(result));
}

export function summaryLine(result: BenchResult): string {
  const withTargets = result.ratios.filter((f) => f.target);
  const shown = withTargets.length > 0 ? withTargets : result.ratios;
  const parts = shown.map((f) => {
    const verdict = f.target
      ? ` (target ${describeTarget(f.target)} ${meetsTarget(f.ratios.median, f.target) ? 'met' : 'MISSED'})`
      : '';
    return `${f.name.replace(`${result.benchmark}.`, '')} ${f.ratios.median.toFixed(2)}×${verdict}`;
  });
  return `ratio ${result.benchmark}: ${parts.join('; ')}`;
}
