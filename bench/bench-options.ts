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
  /** Fleet-wide configuration (issue #12 item 5): connected modules one change reaches, per side. */
  fleetModules: number;
  /**
   * Its interleaved rounds: a configuration or raw round lasts well under a second at 1,000 modules, so a
   * busy machine moves single rounds by 2×; 5 rounds (the per-twin side's ~10 s each dominate) keep the
   * median steady.
   */
  fleetRounds: number;
  programLoadRuns: number;
  footprintDevices: number;
  footprintModules: number;
  /** Real CLI (a): device+module+twin lifecycles per round (up, edit up, destroy) and rounds. */
  realCliLifecycles: number;
  realCliRounds: number;
  /**
   * Real CLI: `--parallel` of every up/destroy, and the raw SDK baseline's calls in flight in (a).
   * (b) and (c) use the scale sizes above (the same 1,000 modules with twins).
   */
  realCliParallel: number;
  /** Round-trip latency the hub adds in (a), (b) and (c) (`--latency-ms`). */
  realCliLatencyMs: number;
  /** Real CLI (d): fresh-process previews per program, interleaved. */
  realCliPreviewRuns: number;
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
  fleetModules: 1000,
  fleetRounds: 5,
  programLoadRuns: 5,
  footprintDevices: 10_000,
  footprintModules: 10_000,
  realCliLifecycles: 200,
  realCliRounds: 3,
  realCliParallel: 16,
  realCliLatencyMs: 40,
  realCliPreviewRuns: 5,
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
  fleetModules: 50,
  fleetRounds: 1,
  programLoadRuns: 2,
  footprintDevices: 300,
  footprintModules: 300,
  realCliLifecycles: 10,
  realCliRounds: 1,
  realCliParallel: 8,
  realCliLatencyMs: 40,
  realCliPreviewRuns: 1,
};

export function isQuick(): boolean {
  return process.env['BENCH_QUICK'] === '1';
}

/** BENCH_S1_UNITS=<n> overrides the S1 units (e.g. to see where the providers' retry budget runs out). */
/** BENCH_CLI_PARALLEL=<n> overrides the real-CLI benchmarks' `--parallel` (and the baseline's concurrency). */
export function benchSizes(): BenchSizes {
  let sizes = isQuick() ? QUICK : FULL;
  const units = Number(process.env['BENCH_S1_UNITS']);
  if (Number.isInteger(units) && units >= 1 && units <= 200) sizes = { ...sizes, scaleS1Units: units };
  const parallel = Number(process.env['BENCH_CLI_PARALLEL']);
  if (Number.isInteger(parallel) && parallel >= 1 && parallel <= 1024)
    sizes = { ...sizes, realCliParallel: parallel };
  return sizes;
}
