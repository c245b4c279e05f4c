/**
 * Sizes of every benchmark, full or quick (BENCH_QUICK=1: small sizes for smoke-checking that the
 * benchmarks still run; their ratios are not the recorded figures). One table, so docs/benchmarks.md
 * can state the sizes exactly.
 */
export interface BenchSizes {
  /** Interleaved baseline/candidate rounds per comparison. */
  rounds: number;
  /**
   * Rounds for the comparison whose candidate takes minutes today (scale without quotas): 2 keeps
   * `npm run bench` near 15 minutes on 2 shared cores and still shows a spread.
   */
  slowRounds: number;
  /** Lifecycles in flight at once in both provider-overhead comparisons (the engine's parallelism). */
  providerConcurrency: number;
  /**
   * Provider overhead (a), in-process vs plain Registry: lifecycles per round and interleaved rounds.
   * Both modes cost ~2–3 ms per lifecycle, so 1,000 lifecycles make rounds of a few seconds (a round
   * of 200 lasted 0.3–0.6 s and could not decide ≤ 1.10×), and 7 rounds give a median that a few
   * rounds disturbed by other processes cannot move. A full-size warm-up round per mode precedes
   * them, not counted (bench/provider-rounds.ts says why).
   */
  inProcessLifecycles: number;
  inProcessRounds: number;
  /**
   * Provider overhead (b), host vs plain Registry: the host costs ~75 ms per lifecycle, so 200
   * lifecycles are ~15 s per round and 3 rounds keep the comparison near a minute.
   */
  hostLifecycles: number;
  hostRounds: number;
  /**
   * Size of the uncounted warm-up round per mode before (b): the host's CPU per lifecycle settles
   * after ~200 lifecycles (−15%); 100 plus the per-round priming gets most of it for ~8 s, where a
   * full round would cost another ~15 s.
   */
  hostWarmUpLifecycles: number;
  /** Check round trips per `__provider` variant in the provider-text diagnosis (sequential, interleaved). */
  providerTextChecks: number;
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
  providerConcurrency: 16,
  inProcessLifecycles: 1000,
  inProcessRounds: 7,
  hostLifecycles: 200,
  hostRounds: 3,
  hostWarmUpLifecycles: 100,
  providerTextChecks: 400,
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
  providerConcurrency: 8,
  inProcessLifecycles: 40,
  inProcessRounds: 2,
  hostLifecycles: 20,
  hostRounds: 1,
  hostWarmUpLifecycles: 10,
  providerTextChecks: 40,
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
