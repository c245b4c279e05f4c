/**
 * Benchmark 1, provider overhead (issue #5): device + module + twin lifecycles through the
 * providers, against a plain azure-iothub script doing the same hub calls at the same concurrency on
 * the same local hub (bench/provider-lifecycles.ts), as two comparisons with their own sizes
 * (bench/bench-options.ts), because their candidates differ 30-fold in cost:
 *   (a) provider methods in-process / plain Registry             target ≤ 1.10×
 *       both ~2–3 ms per lifecycle: large rounds (seconds each), many of them, to decide 10%;
 *   (b) through the real dynamic-provider host / plain Registry  target ≤ 1.5×
 *       the host ~75 ms per lifecycle: rounds of ~15 s, few of them.
 * Each: a warm-up round per mode (not counted), then interleaved rounds, order rotated; the ratio is
 * the median of the per-round ratios (bench/provider-rounds.ts says why warm-up and priming matter).
 * The hub runs in its own process, in memory: the comparison is about the client side, and both
 * sides make the same hub calls.
 *
 * Diagnosis after the ratios: CPU per lifecycle per process, what the `__provider` text costs per
 * host call (bench/provider-text-cost.ts), and, on a debug-logging hub, TLS connections and requests
 * per lifecycle (bench/provider-overhead-diagnosis.ts).
 *
 * Standalone: `tsx bench/provider-overhead.ts` (BENCH_QUICK=1 for small sizes).
 */
import { type ProviderHost, startProviderHost } from '../tests/support/provider-host';
import { benchSizes } from './bench-options';
import { type BenchResult, printRatios, ratioFigure, say } from './bench-result';
import { startHubProcess } from './hub-process';
import { describeMachine } from './machine';
import {
  HUB_CALLS_PER_LIFECYCLE,
  type HubTarget,
  hostProviderLifecycle,
  inProcessProviderLifecycle,
  type Lifecycle,
  plainRegistryLifecycle,
  type SerializedProviders,
  serializedProviders,
} from './provider-lifecycles';
import { sequentialDiagnosis, tlsMicroCosts } from './provider-overhead-diagnosis';
import {
  cpuPerLifecycleByProcess,
  cpuRatios,
  describeCpuPerLifecycle,
  interleavedRounds,
  type RoundSample,
  type RoundsPlan,
  roundLines,
} from './provider-rounds';
import { measureProviderTextCost, providerTextCostLines } from './provider-text-cost';
import { capturePulumiUpProviders } from './pulumi-up-providers';
import { formatSpread, pairedRatios, spreadOf } from './stats';

type Mode = 'baseline' | 'inProcess' | 'host';
const MODES: readonly Mode[] = ['baseline', 'inProcess', 'host'];
const LABELS: Record<Mode, string> = {
  baseline: 'plain Registry (one client, keep-alive)',
  inProcess: 'provider methods in-process',
  host: 'providers through the dynamic-provider host',
};
const SHORT: Record<Mode, string> = { baseline: 'plain', inProcess: 'in-process', host: 'host' };

export interface ComparisonSize {
  lifecycles: number;
  rounds: number;
  /** Lifecycles of the uncounted warm-up round per mode. */
  warmUpLifecycles: number;
}

export interface ProviderOverheadOptions {
  concurrency: number;
  /** (a) in-process vs plain Registry. */
  inProcess: ComparisonSize;
  /** (b) dynamic-provider host vs plain Registry. */
  host: ComparisonSize;
  /** Check round trips per `__provider` text in the provider-text diagnosis. */
  providerTextChecks: number;
}

function lifecycleFor(
  mode: Mode,
  target: HubTarget,
  host: ProviderHost,
  providers: SerializedProviders,
): Lifecycle {
  switch (mode) {
    case 'baseline':
      return plainRegistryLifecycle(target);
    case 'inProcess':
      return inProcessProviderLifecycle(target);
    case 'host':
      return hostProviderLifecycle(target, host, providers);
  }
}

interface Setup {
  hubPid: number;
  target: HubTarget;
  host: ProviderHost;
  providers: SerializedProviders;
}

interface Comparison {
  /** Wall ms per round. */
  baseline: number[];
  candidate: number[];
  /** Median CPU ms per lifecycle of the candidate, per process. */
  candidateCpu: Record<string, number>;
}

/** One comparison: rounds of `candidate` and the baseline; prints per mode and per round. */
async function compare(
  candidate: 'inProcess' | 'host',
  size: ComparisonSize,
  concurrency: number,
  setup: Setup,
): Promise<Comparison> {
  const modes = ['baseline', candidate] as const;
  say(
    `  (${candidate === 'inProcess' ? 'a' : 'b'}) ${LABELS[candidate]} vs ${LABELS.baseline}: ${size.lifecycles} lifecycles × ` +
      `${HUB_CALLS_PER_LIFECYCLE} hub calls, concurrency ${concurrency}, ${size.rounds} interleaved rounds after a ` +
      `${size.warmUpLifecycles}-lifecycle warm-up round per mode, each round primed with ${concurrency} untimed lifecycles`,
  );
  const plan: RoundsPlan<(typeof modes)[number]> = { modes, concurrency, ...size, tag: candidate };
  const result = await interleavedRounds(
    plan,
    (mode) => lifecycleFor(mode, setup.target, setup.host, setup.providers),
    setup.hubPid,
  );
  for (const mode of modes) say(modeLine(mode, result[mode], size.lifecycles));
  const ratioOf = { candidate, baseline: 'baseline' } as const;
  for (const line of roundLines(result, modes, SHORT, ratioOf)) say(line);
  const cpu = spreadOf(cpuRatios(result, ratioOf));
  say(
    `    CPU ratio (all processes, per round, ${SHORT[candidate]} / plain): ${cpu.median.toFixed(2)}× ` +
      `(${cpu.min.toFixed(2)}–${cpu.max.toFixed(2)}) — the wall ratio approaches it when the cores are saturated`,
  );
  return {
    baseline: result.baseline.map((s) => s.wallMs),
    candidate: result[candidate].map((s) => s.wallMs),
    candidateCpu: cpuPerLifecycleByProcess(result[candidate], size.lifecycles),
  };
}

function modeLine(mode: Mode, samples: readonly RoundSample[], lifecycles: number): string {
  const totals = samples.map((s) => s.wallMs);
  const perLifecycle = totals.map((ms) => ms / lifecycles);
  return (
    `    ${LABELS[mode]}: ${formatSpread(spreadOf(totals), 'ms', 0)} total; ` +
    `${formatSpread(spreadOf(perLifecycle), 'ms', 2)} per lifecycle; CPU per lifecycle ${describeCpuPerLifecycle(cpuPerLifecycleByProcess(samples, lifecycles))}`
  );
}

async function diagnosis(setup: Setup, checks: number, viaHost: Comparison): Promise<void> {
  for (const line of tlsMicroCosts(setup.target)) say(line);
  const cost = await measureProviderTextCost(setup.host, setup.target, setup.providers.device, checks);
  // The harness plays the engine: its CPU and the host's are what the text's copies cost.
  const hostLifecycleCpu = (viaHost.candidateCpu['bench'] ?? 0) + (viaHost.candidateCpu['host'] ?? 0);
  for (const line of providerTextCostLines(cost, hostLifecycleCpu)) say(line);
  say('  diagnosis, 5 sequential lifecycles per mode on a debug-logging hub:');
  const sequential = await sequentialDiagnosis(MODES, LABELS, (mode, target) =>
    lifecycleFor(mode, target, setup.host, setup.providers),
  );
  for (const line of sequential.lines) say(line);
}

export async function runProviderOverhead(
  o: ProviderOverheadOptions = defaultOptions(),
): Promise<BenchResult> {
  say(`provider-overhead: two comparisons on one in-memory hub process, concurrency ${o.concurrency}`);
  const hub = await startHubProcess();
  const host = await startProviderHost();
  let inProcess: Comparison;
  let viaHost: Comparison;
  try {
    const target = { connectionString: hub.serviceConnectionString(), caCertificate: hub.caCertificate };
    const providers = serializedProviders(await capturePulumiUpProviders());
    const setup: Setup = { hubPid: hub.pid, target, host, providers };
    inProcess = await compare('inProcess', o.inProcess, o.concurrency, setup);
    viaHost = await compare('host', o.host, o.concurrency, setup);
    await diagnosis(setup, o.providerTextChecks, viaHost);
  } finally {
    await host.close();
    await hub.close();
  }
  const figures = [
    ratioFigure(
      'provider-overhead.in-process',
      pairedRatios(inProcess.candidate, inProcess.baseline),
      { direction: 'at-most', value: 1.1 },
      'provider methods in-process / plain Registry',
    ),
    ratioFigure(
      'provider-overhead.host',
      pairedRatios(viaHost.candidate, viaHost.baseline),
      { direction: 'at-most', value: 1.5 },
      'dynamic-provider host over gRPC / plain Registry',
    ),
  ];
  const result: BenchResult = { benchmark: 'provider-overhead', ratios: figures, notes: [] };
  printRatios(result);
  return result;
}

function defaultOptions(): ProviderOverheadOptions {
  const sizes = benchSizes();
  return {
    concurrency: sizes.providerConcurrency,
    inProcess: {
      lifecycles: sizes.inProcessLifecycles,
      rounds: sizes.inProcessRounds,
      // A full round: (a) is cheap, and the hub needs hundreds of lifecycles to reach its steady cost.
      warmUpLifecycles: sizes.inProcessLifecycles,
    },
    host: {
      lifecycles: sizes.hostLifecycles,
      rounds: sizes.hostRounds,
      warmUpLifecycles: sizes.hostWarmUpLifecycles,
    },
    providerTextChecks: sizes.providerTextChecks,
  };
}

if (require.main === module) {
  say(describeMachine());
  runProviderOverhead().catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  });
}
