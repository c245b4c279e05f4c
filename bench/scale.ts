/**
 * Benchmark 2, scale (issue #5): D devices × M modules, each module with a twin, in one stack.
 *   (a) no quotas: the stack vs a seed script creating the same one after another;
 *       ratio = seed time / stack time, target ≥ 20×.
 *   (b) S1 quotas enforced by the local hub (units chosen so the run takes a few minutes): stack
 *       time vs the quota floor (bench/quota-floor.ts); target ≤ 1.10× with zero failed resources.
 * Hubs are `npm run hub` processes on fresh data directories (the durable default a user gets).
 *
 * Standalone: `tsx bench/scale.ts [a|b]` (BENCH_QUICK=1 for small sizes).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type ProviderHost, startProviderHost } from '../tests/support/provider-host';
import { benchSizes } from './bench-options';
import { type BenchResult, printRatios, type RatioFigure, ratioFigure, say } from './bench-result';
import { type BenchHub, type HubProcessOptions, startHubProcess } from './hub-process';
import { describeMachine } from './machine';
import { timed } from './pool';
import { childPids, describeCpu, startCpuMeter } from './process-cpu';
import { capturePulumiUpProviders, type ProviderTexts } from './pulumi-up-providers';
import { quotaFloor } from './quota-floor';
import { deployStack, type StackRun, type StackShape, seedScript } from './scale-stack';
import { describeCommitCost } from './sqlite-commit-cost';
import { formatSpread, spreadOf } from './stats';

export interface ScaleOptions extends StackShape {
  rounds: number;
  s1Units: number;
  parts: { a: boolean; b: boolean };
}

/** A hub process on a fresh data directory, removed afterwards. */
async function withHub<T>(
  o: Omit<HubProcessOptions, 'dataDir'>,
  work: (hub: BenchHub) => Promise<T>,
): Promise<T> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-'));
  const hub = await startHubProcess({ ...o, dataDir });
  try {
    return await work(hub);
  } finally {
    await hub.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const targetOf = (hub: BenchHub) => ({
  connectionString: hub.serviceConnectionString(),
  caCertificate: hub.caCertificate,
});

function expectComplete(run: StackRun, shape: StackShape): void {
  const expected = shape.devices * (1 + 2 * shape.modulesPerDevice);
  if (run.failed > 0 || run.created !== expected) {
    throw new Error(
      `stack run incomplete: ${run.created}/${expected} created, ${run.failed} failed: ${run.failures.join(' | ')}`,
    );
  }
}

interface Timed {
  ms: number;
  /** CPU ms per process during the run. */
  cpu: Record<string, number>;
}

async function timeSeed(shape: StackShape): Promise<Timed> {
  return withHub({}, async (hub) => {
    const meter = startCpuMeter({ bench: 'self', hub: hub.pid });
    const ms = await timed(() => seedScript(targetOf(hub), shape));
    return { ms, cpu: meter.read() };
  });
}

async function timeStack(host: ProviderHost, texts: ProviderTexts, shape: StackShape): Promise<Timed> {
  return withHub({}, async (hub) => {
    const meter = startCpuMeter({
      bench: 'self',
      host: childPids('dynamic-provider')[0] ?? Number.NaN,
      hub: hub.pid,
    });
    let run: StackRun | undefined;
    const ms = await timed(async () => {
      run = await deployStack(targetOf(hub), host, texts, shape);
    });
    const cpu = meter.read();
    expectComplete(run!, shape);
    return { ms, cpu };
  });
}

async function partA(o: ScaleOptions, texts: ProviderTexts): Promise<RatioFigure> {
  const shape = { devices: o.devices, modulesPerDevice: o.modulesPerDevice };
  say(`  ${describeCommitCost()}`);
  const host = await startProviderHost();
  const seed: Timed[] = [];
  const stack: Timed[] = [];
  try {
    for (let round = 0; round < o.rounds; round++) {
      // Alternate which goes first, so neither always meets the same machine load.
      const runs = [
        async () => seed.push(await timeSeed(shape)),
        async () => stack.push(await timeStack(host, texts, shape)),
      ];
      for (const run of round % 2 === 0 ? runs : runs.reverse()) await run();
    }
  } finally {
    await host.close();
  }
  const calls = shape.devices * (1 + 2 * shape.modulesPerDevice);
  const seconds = (runs: Timed[]) => formatSpread(spreadOf(runs.map((r) => r.ms / 1000)), 's', 2);
  say(
    `  (a) seed script, one call after another: ${seconds(seed)}; CPU per hub call (first round): ${describeCpu(seed[0]!.cpu, calls, 'ms')}`,
  );
  say(
    `  (a) stack through the provider host:     ${seconds(stack)}; CPU per resource (first round): ${describeCpu(stack[0]!.cpu, calls, 'ms')}`,
  );
  return ratioFigure(
    'scale.no-quota',
    seed.map((r, i) => r.ms / stack[i]!.ms),
    { direction: 'at-least', value: 20 },
    'seed script time / stack time (speed-up)',
  );
}

/** When the identity registry and twin writes were last accepted, relative to the run's start. */
function describeTimeline(requestLines: string[], startedAt: number): string {
  const last = (pattern: RegExp) => {
    const accepted = requestLines.filter((l) => pattern.test(l) && / status=20\d\b/.test(l));
    const line = accepted[accepted.length - 1];
    return line ? ((Date.parse(line.slice(0, line.indexOf(' '))) - startedAt) / 1000).toFixed(1) : '—';
  };
  const identityTimes = requestLines
    .filter((l) => / method=(PUT|DELETE|GET) path=\/devices\//.test(l) && / status=20\d\b/.test(l))
    .map((l) => (Date.parse(l.slice(0, l.indexOf(' '))) - startedAt) / 1000);
  const first = identityTimes.length > 0 ? Math.min(...identityTimes).toFixed(1) : '—';
  return (
    `first identity operation accepted at ${first} s, ` +
    `last identity create accepted at ${last(/ method=PUT path=\/devices\//)} s, ` +
    `last twin write accepted at ${last(/ method=PATCH path=\/twins\//)} s after the start\n` +
    `      identity operations accepted per 10 s: ${perWindow(identityTimes, 10).join(' ')}`
  );
}

/** How many of `times` (seconds) fall in each `window`-second slot from 0. */
function perWindow(times: number[], window: number): number[] {
  const counts: number[] = [];
  for (const t of times) {
    const slot = Math.max(0, Math.floor(t / window));
    while (counts.length <= slot) counts.push(0);
    counts[slot]!++;
  }
  return counts;
}

/** One stack run against a hub enforcing S1 × `units`, with what the hub saw printed. */
async function throttledRun(
  o: ScaleOptions,
  texts: ProviderTexts,
  shape: StackShape,
): Promise<{ ms: number; run: StackRun }> {
  // The providers retry throttled calls for up to an hour while the hub makes progress
  // (lib/retry-backoff.ts); the harness must not cut a call off sooner than `pulumi up` would.
  const host = await startProviderHost({ callDeadlineMs: 3_600_000 });
  try {
    return await withHub({ throttle: { tier: 'S1', units: o.s1Units }, logLevel: 'info' }, async (hub) => {
      const meter = startCpuMeter({
        bench: 'self',
        host: childPids('dynamic-provider')[0] ?? Number.NaN,
        hub: hub.pid,
      });
      const startedAt = Date.now();
      let run: StackRun | undefined;
      const ms = await timed(async () => {
        run = await deployStack(targetOf(hub), host, texts, shape);
      });
      const cpu = meter.read();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const requests = hub.lines().filter((l) => / INFO request /.test(l));
      const throttled = requests.filter((l) => / status=429\b/.test(l)).length;
      say(
        `  (b) stack: ${(ms / 1000).toFixed(1)} s; ${run!.created} resources created, ${run!.failed} failed; ` +
          `${requests.length} requests, ${throttled} answered 429 and retried; CPU ${describeCpu(cpu)}`,
      );
      say(`      ${describeTimeline(requests, startedAt)}`);
      for (const failure of run!.failures) say(`      failure: ${failure}`);
      return { ms, run: run! };
    });
  } finally {
    await host.close();
  }
}

async function partB(
  o: ScaleOptions,
  texts: ProviderTexts,
): Promise<{ figure: RatioFigure; notes: string[] }> {
  const shape = { devices: o.devices, modulesPerDevice: o.modulesPerDevice };
  const modules = shape.devices * shape.modulesPerDevice;
  const floor = quotaFloor('S1', o.s1Units, {
    identityRegistry: shape.devices + modules,
    twinUpdate: modules,
  });
  say(
    `  (b) S1 × ${o.s1Units} units: ${shape.devices + modules} identity operations, ${modules} twin updates; ` +
      `quota floor ${floor.seconds.toFixed(1)} s (${floor.bindingClass})`,
  );
  const { ms, run } = await throttledRun(o, texts, shape);
  const notes = [`scale.s1: ${run.failed} failed resources (target 0)`];
  // No floor at smoke sizes (everything fits in the first bucket): no meaningful ratio either.
  if (floor.seconds <= 0) notes.push('scale.s1: the quota floor is 0 s at these sizes; ratio not meaningful');
  const ratio =
    run.failed > 0 ? Number.POSITIVE_INFINITY : floor.seconds > 0 ? ms / 1000 / floor.seconds : Number.NaN;
  const meaning = `stack time / quota floor (${floor.seconds.toFixed(0)} s); ∞ when any resource failed`;
  return { figure: ratioFigure('scale.s1', [ratio], { direction: 'at-most', value: 1.1 }, meaning), notes };
}

export async function runScale(o: ScaleOptions = defaultOptions()): Promise<BenchResult> {
  say(
    `scale: ${o.devices} devices × ${o.modulesPerDevice} modules with twins (${o.devices * o.modulesPerDevice} modules), durable hub processes`,
  );
  const ratios: RatioFigure[] = [];
  const notes: string[] = [];
  const texts = await capturePulumiUpProviders();
  if (o.parts.a) ratios.push(await partA(o, texts));
  if (o.parts.b) {
    const b = await partB(o, texts);
    ratios.push(b.figure);
    notes.push(...b.notes);
  }
  const result: BenchResult = { benchmark: 'scale', ratios, notes };
  printRatios(result);
  return result;
}

function defaultOptions(parts = { a: true, b: true }): ScaleOptions {
  const sizes = benchSizes();
  return {
    devices: sizes.scaleDevices,
    modulesPerDevice: sizes.scaleModulesPerDevice,
    rounds: sizes.slowRounds,
    s1Units: sizes.scaleS1Units,
    parts,
  };
}

if (require.main === module) {
  const only = process.argv[2];
  say(describeMachine());
  runScale(defaultOptions({ a: only !== 'b', b: only !== 'a' })).catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  });
}
