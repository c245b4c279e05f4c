/**
 * Benchmark 1, provider overhead (issue #5): N device + module + twin lifecycles through the
 * providers, against a plain azure-iothub script doing the same hub calls at the same concurrency on
 * the same local hub (bench/provider-lifecycles.ts).
 *   (a) provider methods in-process / plain Registry        target ≤ 1.10×
 *   (b) through the real dynamic-provider host / plain Registry  target ≤ 1.5×
 * A diagnostic pass on a debug-logging hub counts HTTPS connections and requests per lifecycle, which
 * is what separates "Pulumi's per-call cost" from "reconnecting per call" (ours).
 *
 * Standalone: `tsx bench/provider-overhead.ts` (BENCH_QUICK=1 for small sizes).
 */
import * as https from 'node:https';
import * as tls from 'node:tls';
import { secret } from '../tests/support/host-secrets';
import { type ProviderHost, startProviderHost } from '../tests/support/provider-host';
import { benchSizes } from './bench-options';
import { type BenchResult, printRatios, ratioFigure, say } from './bench-result';
import { type BenchHub, startHubProcess } from './hub-process';
import { describeMachine } from './machine';
import { runPool, timed } from './pool';
import {
  DYNAMIC_TYPES,
  HUB_CALLS_PER_LIFECYCLE,
  type HubTarget,
  hostProviderLifecycle,
  inProcessProviderLifecycle,
  type Lifecycle,
  plainRegistryLifecycle,
  type SerializedProviders,
  serializedProviders,
} from './provider-lifecycles';
import { capturePulumiUpProviders } from './pulumi-up-providers';
import { formatSpread, pairedRatios, spreadOf } from './stats';

type Mode = 'baseline' | 'inProcess' | 'host';
const MODES: readonly Mode[] = ['baseline', 'inProcess', 'host'];
const LABELS: Record<Mode, string> = {
  baseline: 'plain Registry (one client, keep-alive)',
  inProcess: 'provider methods in-process',
  host: 'providers through the dynamic-provider host',
};

export interface ProviderOverheadOptions {
  lifecycles: number;
  concurrency: number;
  rounds: number;
}

function targetOf(hub: BenchHub): HubTarget {
  return { connectionString: hub.serviceConnectionString(), caCertificate: hub.caCertificate };
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

async function runMode(
  mode: Mode,
  tag: string,
  o: ProviderOverheadOptions,
  target: HubTarget,
  host: ProviderHost,
  providers: SerializedProviders,
): Promise<number> {
  // A new lifecycle function per run: the baseline's one Registry is part of what is measured.
  const lifecycle = lifecycleFor(mode, target, host, providers);
  return timed(() => runPool(o.lifecycles, o.concurrency, (i) => lifecycle(`po-${tag}-${mode}-${i}`)));
}

/**
 * The two per-call costs the lifecycle totals hide: building a TLS context that trusts Node's ~145
 * roots plus the hub CA (what dynamic-providers/iothub-client.ts passes as `ca`) vs the hub CA alone,
 * and one host round trip for a call that does no hub I/O (Check).
 */
async function perCallCosts(
  host: ProviderHost,
  providers: SerializedProviders,
  target: HubTarget,
): Promise<string[]> {
  const contextMs = (ca: string[]) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < 10; i++) tls.createSecureContext({ ca });
    return Number(process.hrtime.bigint() - started) / 1e6 / 10;
  };
  const withRoots = contextMs([...tls.rootCertificates, target.caCertificate]);
  const caOnly = contextMs([target.caCertificate]);
  // https.Agent keys its socket pool by a string that includes every `ca` PEM, built per request.
  const agentKeyMs = (ca: string[]) => {
    const agent = new https.Agent({ keepAlive: true });
    const started = process.hrtime.bigint();
    for (let i = 0; i < 200; i++)
      agent.getName({ host: '127.0.0.1', port: 8443, ca } as https.RequestOptions);
    return Number(process.hrtime.bigint() - started) / 1e6 / 200;
  };
  const keyWithRoots = agentKeyMs([...tls.rootCertificates, target.caCertificate]);
  const news = {
    hubConnectionString: secret(target.connectionString),
    hubCaCertificate: target.caCertificate,
    deviceId: 'check-only',
    __provider: providers.device,
  };
  const urn = `urn:pulumi:bench::iothub-as-code::${DYNAMIC_TYPES.device}::check-only`;
  const checks = 50;
  const checkMs = await timed(() => runPool(checks, 1, async () => void (await host.check(urn, {}, news))));
  return [
    `  TLS context per new connection: ${withRoots.toFixed(1)} ms with Node's ${tls.rootCertificates.length} roots + hub CA, ${caOnly.toFixed(2)} ms with the hub CA only`,
    `  https.Agent pool key per request with that \`ca\` list: ${keyWithRoots.toFixed(2)} ms (paid by every request, keep-alive or not)`,
    `  host round trip for Check (no hub I/O): ${(checkMs / checks).toFixed(2)} ms; serialized provider sizes: ` +
      `device ${kib(providers.device)}, module ${kib(providers.module)}, twin ${kib(providers.twin)} KiB (as ts-node compiles them for pulumi up; sent with every call)`,
  ];
}

const kib = (text: string) => (Buffer.byteLength(text) / 1024).toFixed(0);

interface Diagnosis {
  lines: string[];
  /** Sequential wall time per lifecycle, per mode. */
  perLifecycleMs: Record<Mode, number>;
}

/**
 * Five lifecycles per mode, one at a time, on a debug-logging hub: what the hub saw (TLS connections,
 * requests, time in its handlers) and the wall time per lifecycle (latency, not throughput).
 */
async function diagnose(host: ProviderHost, providers: SerializedProviders): Promise<Diagnosis> {
  const hub = await startHubProcess({ logLevel: 'debug' });
  const sample = 5;
  const lines: string[] = [];
  const perLifecycleMs = { baseline: 0, inProcess: 0, host: 0 };
  try {
    for (const mode of MODES) {
      const lifecycle = lifecycleFor(mode, targetOf(hub), host, providers);
      await lifecycle(`diag-${mode}-warm`);
      hub.clearLines();
      perLifecycleMs[mode] =
        (await timed(() => runPool(sample, 1, (i) => lifecycle(`diag-${mode}-${i}`)))) / sample;
      // The hub logs asynchronously to a pipe: give the last lines a moment to arrive.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const logged = hub.lines();
      const connections = logged.filter((l) => / DEBUG connection .*protocol=http/.test(l)).length;
      const requests = logged.filter((l) => / INFO request /.test(l));
      const hubMs = requests.reduce((sum, l) => sum + Number(/ ms=([\d.]+)/.exec(l)?.[1] ?? 0), 0);
      lines.push(
        `  ${LABELS[mode]}: ${perLifecycleMs[mode].toFixed(1)} ms per lifecycle; ${(connections / sample).toFixed(1)} TLS connections, ` +
          `${(requests.length / sample).toFixed(1)} requests, ${(hubMs / sample).toFixed(1)} ms in hub handlers per lifecycle`,
      );
    }
  } finally {
    await hub.close();
  }
  return { lines, perLifecycleMs };
}

/** Warm-up, then `rounds` rounds of every timed mode, order rotated; total ms per mode and round. */
async function timeModes(
  o: ProviderOverheadOptions,
  target: HubTarget,
  host: ProviderHost,
  providers: SerializedProviders,
): Promise<Record<Mode, number[]>> {
  const times: Record<Mode, number[]> = { baseline: [], inProcess: [], host: [] };
  // Warm-up: JIT, module loading in the host, first TLS contexts; not recorded.
  for (const mode of MODES) {
    await runMode(mode, 'warm', { ...o, lifecycles: Math.min(20, o.lifecycles) }, target, host, providers);
  }
  for (let round = 0; round < o.rounds; round++) {
    // Rotate the order so no mode always runs first (or last) in a round.
    const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
    for (const mode of order) times[mode].push(await runMode(mode, `r${round}`, o, target, host, providers));
  }
  for (const mode of MODES) {
    const perLifecycle = times[mode].map((ms) => ms / o.lifecycles);
    say(
      `  ${LABELS[mode]}: ${formatSpread(spreadOf(times[mode]), 'ms')} total; ${formatSpread(spreadOf(perLifecycle), 'ms', 2)} per lifecycle`,
    );
  }
  return times;
}

export async function runProviderOverhead(
  o: ProviderOverheadOptions = defaultOptions(),
): Promise<BenchResult> {
  say(
    `provider-overhead: ${o.lifecycles} lifecycles × ${HUB_CALLS_PER_LIFECYCLE} hub calls, concurrency ${o.concurrency}, ${o.rounds} interleaved rounds`,
  );
  const hub = await startHubProcess();
  const host = await startProviderHost();
  let times: Record<Mode, number[]>;
  let diagnosis: Diagnosis;
  try {
    const target = targetOf(hub);
    const providers = serializedProviders(await capturePulumiUpProviders());
    times = await timeModes(o, target, host, providers);
    for (const line of await perCallCosts(host, providers, target)) say(line);
    say('  diagnosis, 5 sequential lifecycles per mode on a debug-logging hub:');
    diagnosis = await diagnose(host, providers);
    for (const line of diagnosis.lines) say(line);
  } finally {
    await host.close();
    await hub.close();
  }
  const figures = [
    ratioFigure(
      'provider-overhead.in-process',
      pairedRatios(times.inProcess, times.baseline),
      { direction: 'at-most', value: 1.1 },
      'provider methods in-process / plain Registry',
    ),
    ratioFigure(
      'provider-overhead.host',
      pairedRatios(times.host, times.baseline),
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
    lifecycles: sizes.providerLifecycles,
    concurrency: sizes.providerConcurrency,
    rounds: sizes.slowRounds,
  };
}

if (require.main === module) {
  say(describeMachine());
  runProviderOverhead().catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  });
}
