/**
 * Benchmarks through the real Pulumi CLI (issue #9 item 4): this project's program run by `pulumi up`,
 * `preview` and `destroy` (Automation API with index.ts as an inline program, scripts/pulumi-engine.ts),
 * the dynamic-provider host the CLI starts, and the local hub in its own process (bench/hub-process.ts)
 * adding a round-trip latency to every REST request (`--latency-ms`), as a distant hub would.
 *
 *   (a) lifecycles: N device+module+twin lifecycles (up creating them, up editing every twin's desired
 *       properties, destroy) vs the raw azure-iothub SDK making the same calls at the same concurrency
 *       (`--parallel` P against P calls in flight) at 40 ms RTT; ratio = CLI time / SDK time, ≤ 1.5×.
 *   (b) scale: 1,000 modules with twins (bench/scale-stack.ts shape) at 40 ms RTT, no quotas: `pulumi up`
 *       vs the seed-style script making the calls one after another; ratio = seed / up, ≥ 10×.
 *   (c) the same `pulumi up` on a hub enforcing S1 quotas: time / quota floor (bench/quota-floor.ts),
 *       ≤ 1.10× with 0 failed resources.
 *   (d) `pulumi preview` of the unchanged local stack (stacks/Pulumi.local.yaml's devices, after an up)
 *       vs the preview of an empty program (bench/empty-program.ts), each in a fresh process as
 *       `npm run pulumi -- preview` runs it; ratio ≤ 1.5×.
 * Each operation's time is split (bench/real-cli-stack.ts): before the first hub request, the request
 * window, after the last; CPU of this process, the CLI, the provider host and the hub.
 *
 * Standalone: `tsx bench/real-cli.ts [a|b|c|d ...]` (BENCH_QUICK=1 for small sizes).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHubClient } from '../dynamic-providers/iothub-client';
import { type CliStack, fleetYaml } from '../tests/support/cli-stack';
import { benchSizes, isQuick } from './bench-options';
import { type BenchResult, printRatios, type RatioFigure, ratioFigure, say } from './bench-result';
import { describeMachine } from './machine';
import { runPool } from './pool';
import { quotaFloor } from './quota-floor';
import {
  type CliHub,
  cleanUpWorkFolders,
  describeOperation,
  devicesYamlOf,
  type OperationTiming,
  timeOperation,
  withCliHub,
  withCliStack,
} from './real-cli-stack';
import { devicesConfig, type StackShape, seedScript } from './scale-stack';
import { formatSpread, pairedRatios, spreadOf } from './stats';

const PROJECT_ROOT = path.resolve(__dirname, '..');
const STACK_PREFIX = 'rt-';

type Part = 'a' | 'b' | 'c' | 'd';

export interface RealCliOptions {
  parts: readonly Part[];
  lifecycles: number;
  rounds: number;
  slowRounds: number;
  parallel: number;
  latencyMs: number;
  shape: StackShape;
  s1Units: number;
  previewRuns: number;
}

const hubTarget = (hub: CliHub) => ({
  connectionString: hub.serviceConnectionString(),
  caCertificate: hub.caCertificate,
});

const sum = (timings: readonly OperationTiming[]) => timings.reduce((total, t) => total + t.wallMs, 0);

/** Throws when the engine did not do all of the work (a ratio of partial work means nothing). */
function expectChanges(
  what: string,
  changes: Record<string, number> | undefined,
  op: string,
  expected: number,
): void {
  const done = changes?.[op] ?? 0;
  if (done !== expected) {
    throw new Error(`${what}: expected ${expected} ${op}s, the engine reported ${JSON.stringify(changes)}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// (a) lifecycles

const MODULE_ID = 'mod0';
const desiredOf = (generation: number) => () => ({
  telemetryInterval: 10 * generation,
  mode: `bench-${generation}`,
});
const deviceIdOf = (i: number) => `dev${i}`;
/** The providers ask the hub to generate SAS keys (docs/iot-hub-behaviour.md §2); so does the baseline. */
const GENERATED_SAS = {
  type: 'sas',
  symmetricKey: { primaryKey: '', secondaryKey: '' },
  x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
};

interface LifecycleRound {
  /** up (create), up (edit desired), destroy. */
  ops: [OperationTiming, OperationTiming, OperationTiming];
}

/** The same hub calls as the stack's three operations, `parallel` lifecycles in flight. */
async function rawLifecycles(o: RealCliOptions): Promise<LifecycleRound> {
  return withCliHub({ latencyMs: o.latencyMs }, async (hub) => {
    const { registry } = createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificate });
    const etags: string[] = [];
    const create = await timeOperation(hub, null, () =>
      runPool(o.lifecycles, o.parallel, async (i) => {
        const deviceId = deviceIdOf(i);
        await registry.create({
          deviceId,
          status: 'enabled',
          authentication: GENERATED_SAS,
          capabilities: { iotEdge: false },
        } as any);
        await registry.addModule({ deviceId, moduleId: MODULE_ID, authentication: GENERATED_SAS } as any);
        const twin = await registry.updateModuleTwin(
          deviceId,
          MODULE_ID,
          { properties: { desired: desiredOf(1)() } },
          '*',
        );
        etags[i] = (twin.responseBody as unknown as { etag: string }).etag;
      }),
    );
    const edit = await timeOperation(hub, null, () =>
      runPool(o.lifecycles, o.parallel, async (i) => {
        await registry.updateModuleTwin(
          deviceIdOf(i),
          MODULE_ID,
          { properties: { desired: desiredOf(2)() } },
          etags[i]!,
        );
      }),
    );
    const destroy = await timeOperation(hub, null, () =>
      runPool(o.lifecycles, o.parallel, async (i) => {
        await registry.removeModule(deviceIdOf(i), MODULE_ID);
        await registry.delete(deviceIdOf(i));
      }),
    );
    return { ops: [create, edit, destroy] };
  });
}

async function cliLifecycles(o: RealCliOptions): Promise<LifecycleRound> {
  const n = o.lifecycles;
  return withCliHub({ latencyMs: o.latencyMs }, (hub) =>
    withCliStack(`${STACK_PREFIX}lifecycles`, hub, fleetYaml(n, 1, desiredOf(1)), async (stack) => {
      const create = await timeOperation(hub, stack.workDir, async () => {
        const result = await stack.stack.up({ parallel: o.parallel, color: 'never' });
        // Per lifecycle: device, module, twin; plus the stack itself.
        expectChanges('up (create)', result.summary.resourceChanges, 'create', 3 * n + 1);
      });
      stack.setDevicesYaml(fleetYaml(n, 1, desiredOf(2)));
      const edit = await timeOperation(hub, stack.workDir, async () => {
        const result = await stack.stack.up({ parallel: o.parallel, color: 'never' });
        expectChanges('up (edit)', result.summary.resourceChanges, 'update', n);
      });
      const destroy = await timeOperation(hub, stack.workDir, async () => {
        const result = await stack.stack.destroy({ parallel: o.parallel, color: 'never' });
        expectChanges('destroy', result.summary.resourceChanges, 'delete', 3 * n + 1);
      });
      return { ops: [create, edit, destroy] };
    }),
  );
}

async function partA(o: RealCliOptions): Promise<RatioFigure[]> {
  say(
    `  (a) ${o.lifecycles} device+module+twin lifecycles (up, edit up, destroy), --parallel ${o.parallel} ` +
      `vs the raw SDK with ${o.parallel} lifecycles in flight, hub at ${o.latencyMs} ms RTT; ${o.rounds} rounds, interleaved`,
  );
  const raw: LifecycleRound[] = [];
  const cli: LifecycleRound[] = [];
  for (let round = 0; round < o.rounds; round++) {
    const runs = [async () => raw.push(await rawLifecycles(o)), async () => cli.push(await cliLifecycles(o))];
    for (const run of round % 2 === 0 ? runs : runs.reverse()) await run();
    const labels = ['create', 'edit', 'destroy'];
    for (const [i, t] of cli[round]!.ops.entries())
      say(`    round ${round + 1} pulumi ${describeOperation(labels[i]!, t)}`);
    for (const [i, t] of raw[round]!.ops.entries())
      say(`    round ${round + 1} raw SDK ${describeOperation(labels[i]!, t)}`);
  }
  const seconds = (values: number[]) => formatSpread(spreadOf(values.map((ms) => ms / 1000)), 's', 2);
  say(`  (a) raw SDK, three phases: ${seconds(raw.map((r) => sum(r.ops)))}`);
  say(`  (a) pulumi up + up + destroy: ${seconds(cli.map((r) => sum(r.ops)))}`);
  const perOp = (i: number, name: string) =>
    ratioFigure(
      `real-cli.lifecycles.${name}`,
      pairedRatios(
        cli.map((r) => r.ops[i]!.wallMs),
        raw.map((r) => r.ops[i]!.wallMs),
      ),
      null,
      `diagnostic: pulumi ${name === 'destroy' ? 'destroy' : `up (${name})`} / the same SDK calls`,
    );
  return [
    perOp(0, 'create'),
    perOp(1, 'edit'),
    perOp(2, 'destroy'),
    ratioFigure(
      'real-cli.lifecycles',
      pairedRatios(
        cli.map((r) => sum(r.ops)),
        raw.map((r) => sum(r.ops)),
      ),
      { direction: 'at-most', value: 1.5 },
      `pulumi up + edit up + destroy / raw SDK, same calls, ${o.parallel} in flight, ${o.latencyMs} ms RTT`,
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------
// (b) and (c): 1,000 modules with twins

const resourcesOf = (shape: StackShape) => shape.devices * (1 + 2 * shape.modulesPerDevice);

async function seedRun(o: RealCliOptions): Promise<OperationTiming> {
  return withCliHub({ latencyMs: o.latencyMs }, (hub) =>
    timeOperation(hub, null, () => seedScript(hubTarget(hub), o.shape)),
  );
}

/** One `pulumi up` of the scale stack from empty; failures are counted from the engine's summary. */
async function stackUp(
  hub: CliHub,
  stack: CliStack,
  o: RealCliOptions,
): Promise<{ timing: OperationTiming; created: number; failure: string | null }> {
  let created = 0;
  let failure: string | null = null;
  const timing = await timeOperation(hub, stack.workDir, async () => {
    try {
      const result = await stack.stack.up({ parallel: o.parallel, color: 'never' });
      created = (result.summary.resourceChanges?.['create'] ?? 0) - 1;
    } catch (error) {
      failure = (error as Error).message.split('\n').slice(-12).join(' | ');
    }
  });
  return { timing, created, failure };
}

async function scaleUp(o: RealCliOptions): Promise<OperationTiming> {
  return withCliHub({ latencyMs: o.latencyMs }, (hub) =>
    withCliStack(`${STACK_PREFIX}scale`, hub, devicesYamlOf(devicesConfig(o.shape) as any), async (stack) => {
      const { timing, created, failure } = await stackUp(hub, stack, o);
      if (failure !== null || created !== resourcesOf(o.shape)) {
        throw new Error(`pulumi up incomplete: ${created}/${resourcesOf(o.shape)} created; ${failure ?? ''}`);
      }
      return timing;
    }),
  );
}

async function partB(o: RealCliOptions): Promise<RatioFigure> {
  say(
    `  (b) ${o.shape.devices} devices × ${o.shape.modulesPerDevice} modules with twins (${resourcesOf(o.shape)} resources), ` +
      `hub at ${o.latencyMs} ms RTT, no quotas: pulumi up --parallel ${o.parallel} vs the seed script ` +
      `(${resourcesOf(o.shape)} calls one after another); ${o.slowRounds} rounds, interleaved`,
  );
  const seed: OperationTiming[] = [];
  const up: OperationTiming[] = [];
  for (let round = 0; round < o.slowRounds; round++) {
    const runs = [async () => seed.push(await seedRun(o)), async () => up.push(await scaleUp(o))];
    for (const run of round % 2 === 0 ? runs : runs.reverse()) await run();
    say(`    round ${round + 1} seed script ${describeOperation('', seed[round]!)}`);
    say(`    round ${round + 1} pulumi up ${describeOperation('', up[round]!)}`);
  }
  return ratioFigure(
    'real-cli.scale',
    pairedRatios(
      seed.map((t) => t.wallMs),
      up.map((t) => t.wallMs),
    ),
    { direction: 'at-least', value: 10 },
    `seed script time / pulumi up time (speed-up), ${o.latencyMs} ms RTT`,
  );
}

async function partC(o: RealCliOptions): Promise<{ figure: RatioFigure; notes: string[] }> {
  const modules = o.shape.devices * o.shape.modulesPerDevice;
  const floor = quotaFloor('S1', o.s1Units, {
    identityRegistry: o.shape.devices + modules,
    twinUpdate: modules,
  });
  say(
    `  (c) the same stack on a hub enforcing S1 × ${o.s1Units} units (${o.latencyMs} ms RTT): ` +
      `${o.shape.devices + modules} identity operations, ${modules} twin updates; quota floor ` +
      `${floor.seconds.toFixed(1)} s (${floor.bindingClass})`,
  );
  const { timing, created, failure } = await withCliHub(
    { latencyMs: o.latencyMs, throttle: { tier: 'S1', units: o.s1Units } },
    (hub) =>
      withCliStack(`${STACK_PREFIX}s1`, hub, devicesYamlOf(devicesConfig(o.shape) as any), (stack) =>
        stackUp(hub, stack, o),
      ),
  );
  const failed = resourcesOf(o.shape) - created;
  say(`    pulumi up ${describeOperation('', timing)}`);
  say(`    ${created} resources created, ${failed} failed${failure ? `: ${failure}` : ''}`);
  const notes = [`real-cli.s1: ${failed} failed resources (target 0)`];
  if (floor.seconds <= 0)
    notes.push('real-cli.s1: the quota floor is 0 s at these sizes; ratio not meaningful');
  const ratio =
    failed > 0
      ? Number.POSITIVE_INFINITY
      : floor.seconds > 0
        ? timing.wallMs / 1000 / floor.seconds
        : Number.NaN;
  return {
    figure: ratioFigure(
      'real-cli.s1',
      [ratio],
      { direction: 'at-most', value: 1.1 },
      `pulumi up time / quota floor (${floor.seconds.toFixed(0)} s); ∞ when any resource failed`,
    ),
    notes,
  };
}

// ---------------------------------------------------------------------------------------------------
// (d) preview

const CHILD = path.join(__dirname, 'real-cli-preview-child.ts');
const PROGRAMS = {
  local: path.join(PROJECT_ROOT, 'index.ts'),
  empty: path.join(__dirname, 'empty-program.ts'),
} as const;

/** The devices of the README's local stack, as stacks/Pulumi.local.yaml declares them. */
export function localStackDevicesYaml(): string {
  const text = fs.readFileSync(path.join(PROJECT_ROOT, 'stacks', 'Pulumi.local.yaml'), 'utf8');
  const key = '  iothub-as-code:devices:\n';
  const start = text.indexOf(key);
  if (start === -1) throw new Error('stacks/Pulumi.local.yaml declares no iothub-as-code:devices');
  const lines: string[] = [];
  for (const line of text.slice(start + key.length).split('\n')) {
    if (/^ {0,3}\S/.test(line)) break;
    lines.push(line);
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

interface ChildRun {
  wallMs: number;
  openMs: number;
  operationMs: number;
  changes: Record<string, number>;
}

function runChild(operation: 'up' | 'preview', stack: CliStack, program: string): Promise<ChildRun> {
  const started = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, operation, stack.workDir, stack.name, program],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return reject(new Error(`pulumi ${operation} (${stack.name}) failed:\n${err}\n${out}`));
      const line = JSON.parse(out.trim().split('\n').pop()!) as {
        openMs: number;
        doneMs: number;
        changes: Record<string, number>;
      };
      resolve({ wallMs, openMs: line.openMs, operationMs: line.doneMs - line.openMs, changes: line.changes });
    });
  });
}

async function partD(o: RealCliOptions): Promise<RatioFigure> {
  say(
    `  (d) pulumi preview of the unchanged local stack (stacks/Pulumi.local.yaml's devices, after an up) vs an ` +
      `empty program's, each in a fresh process as npm run pulumi -- preview; ${o.previewRuns} runs each after one unrecorded, interleaved`,
  );
  return withCliHub({}, (hub) =>
    withCliStack(`${STACK_PREFIX}local`, hub, localStackDevicesYaml(), (local) =>
      withCliStack(`${STACK_PREFIX}empty`, hub, '', async (empty) => {
        const stacks = { local, empty } as const;
        for (const name of ['local', 'empty'] as const) await runChild('up', stacks[name], PROGRAMS[name]);
        const runs: Record<'local' | 'empty', ChildRun[]> = { local: [], empty: [] };
        for (const name of ['local', 'empty'] as const)
          await runChild('preview', stacks[name], PROGRAMS[name]);
        for (let i = 0; i < o.previewRuns; i++) {
          const order: ('local' | 'empty')[] = i % 2 === 0 ? ['local', 'empty'] : ['empty', 'local'];
          for (const name of order) runs[name].push(await runChild('preview', stacks[name], PROGRAMS[name]));
        }
        for (const name of ['local', 'empty'] as const) {
          const r = runs[name];
          say(
            `    ${name === 'local' ? 'local stack  ' : 'empty program'}: process ${formatSpread(spreadOf(r.map((x) => x.wallMs)), 'ms', 0)}; ` +
              `of which tsx + Automation API + engine open ${formatSpread(spreadOf(r.map((x) => x.openMs)), 'ms', 0)}, ` +
              `preview ${formatSpread(spreadOf(r.map((x) => x.operationMs)), 'ms', 0)}; changes ${JSON.stringify(r[0]!.changes)}`,
          );
        }
        return ratioFigure(
          'real-cli.preview',
          pairedRatios(
            runs.local.map((r) => r.wallMs),
            runs.empty.map((r) => r.wallMs),
          ),
          { direction: 'at-most', value: 1.5 },
          'pulumi preview of the unchanged local stack / of an empty program (fresh process each)',
        );
      }),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------

export async function runRealCli(o: RealCliOptions = defaultOptions()): Promise<BenchResult> {
  say(
    `real-cli: the real Pulumi CLI (Automation API, index.ts inline), hub processes on fresh data directories; parts ${o.parts.join(', ')}`,
  );
  const ratios: RatioFigure[] = [];
  const notes: string[] = [];
  try {
    if (o.parts.includes('a')) ratios.push(...(await partA(o)));
    if (o.parts.includes('b')) ratios.push(await partB(o));
    if (o.parts.includes('c')) {
      const c = await partC(o);
      ratios.push(c.figure);
      notes.push(...c.notes);
    }
    if (o.parts.includes('d')) ratios.push(await partD(o));
  } finally {
    cleanUpWorkFolders([STACK_PREFIX]);
  }
  const result: BenchResult = { benchmark: 'real-cli', ratios, notes };
  printRatios(result);
  return result;
}

function defaultOptions(parts: readonly Part[] = ['a', 'b', 'c', 'd']): RealCliOptions {
  const sizes = benchSizes();
  return {
    parts,
    lifecycles: sizes.realCliLifecycles,
    rounds: sizes.realCliRounds,
    slowRounds: sizes.slowRounds,
    parallel: sizes.realCliParallel,
    latencyMs: sizes.realCliLatencyMs,
    shape: { devices: sizes.scaleDevices, modulesPerDevice: sizes.scaleModulesPerDevice },
    s1Units: sizes.scaleS1Units,
    previewRuns: sizes.realCliPreviewRuns,
  };
}

if (require.main === module) {
  const wanted = process.argv.slice(2);
  const bad = wanted.filter((p) => !['a', 'b', 'c', 'd'].includes(p));
  if (bad.length > 0) {
    process.stderr.write(`unknown part(s) ${bad.join(', ')}; valid: a b c d\n`);
    process.exit(2);
  }
  say(`${describeMachine()}${isQuick() ? ' (BENCH_QUICK=1)' : ''}`);
  runRealCli(defaultOptions(wanted.length > 0 ? (wanted as Part[]) : undefined)).catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  });
}
