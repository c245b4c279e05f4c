/**
 * Sizes of every benchmark, full or quick (BENCH_QUICK=1: small sizes for smoke-checking that the
 * benchmarks still run; their ratios are not the recorded figures). One table, so docs/benchmarks.md
 * can state the sizes exactly.
 */
export interface BenchSizes {
  /** Interleaved baseline/candidate rounds per comparison. */
  rounds: number;
  /**
   * Rounds for the two comparisons whose candidate takes minutes today (provider overhead, scale
   * without quotas): 2 keeps `npm run bench` near 15 minutes on 2 shared cores and still shows a spread.
   */
  slowRounds: number;
  providerLifecycles: number;
  providerConcurrency: number;
  scaleDevices: number;
  scaleModulesPerDevice: number;
  /** S1 units for the throttled scale run (chosen so it takes a few minutes). */
  scaleS1Units: number;
  fanOutClients: number;
  programLoadRuns: number;
  footprintDevices: number;
  footprintModules: number;
}

const FULL: BenchSizes = {
  rounds: 3,
  slowRounds: 2,
  providerLifecycles: 200,
  providerConcurrency: 16,
  scaleDevices: 100,
  scaleModulesPerDevice: 10,
  scaleS1Units: 4,
  fanOutClients: 1000,
  programLoadRuns: 5,
  footprintDevices: 10_000,
  footprintModules: 10_000,
};

const QUICK: BenchSizes = {
  rounds: 1,
  slowRounds: 1,
  providerLifecycles: 20,
  providerConcurrency: 8,
  scaleDevices: 5,
  scaleModulesPerDevice: 4,
  scaleS1Units: 1,
  fanOutClients: 50,
  programLoadRuns: 2,
  footprintDevices: 300,
  footprintModules: 300,
};

export function isQuick(): boolean {
  return process.env['BENCH_QUICK'] === '1';
}

/** BENCH_S1_UNITS=<n> overrides the S1 units (e.g. to see where the providers' retry budget runs out). */
export function benchSizes(): BenchSizes {
  const sizes = isQuick() ? QUICK : FULL;
  const units = Number(process.env['BENCH_S1_UNITS']);
  return Number.isInteger(units) && units >= 1 && units <= 200 ? { ...sizes, scaleS1Units: units } : sizes;
}
