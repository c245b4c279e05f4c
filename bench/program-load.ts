/**
 * Benchmark 4, program load (issue #5): evaluating index.ts under mocks (the local seed stack) vs an
 * empty Pulumi program (bench/empty-program.ts), each cold in its own process, compiled the way
 * `pulumi up` compiles a TypeScript program: ts-node registered exactly as @pulumi/pulumi's run.js
 * does (tests/support/ts-node-register.cjs), which type-checks unless PULUMI_NODEJS_TRANSPILE_ONLY or
 * the tsconfig's noCheck says otherwise (bench/program-load-child.ts). Ratio = process wall time,
 * index.ts / empty; target ≤ 1.5×. Diagnostics: the same pair transpile-only (how much is
 * type-checking), the part spent evaluating the program itself, and the closure serialization of
 * the provider objects.
 *
 * Standalone: `tsx bench/program-load.ts` (BENCH_QUICK=1 for fewer runs).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createCertificateAuthority } from '../local-hub/tls/certificates';
import { benchSizes } from './bench-options';
import { type BenchResult, printRatios, ratioFigure, say } from './bench-result';
import { describeMachine } from './machine';
import { formatSpread, pairedRatios, spreadOf } from './stats';

const PROJECT_ROOT = path.resolve(__dirname, '..');
const CHILD = path.join(__dirname, 'program-load-child.ts');
const TS_NODE_BOOTSTRAP = path.join(PROJECT_ROOT, 'tests', 'support', 'ts-node-register.cjs');
const PROGRAMS = {
  empty: path.join(__dirname, 'empty-program.ts'),
  index: path.join(PROJECT_ROOT, 'index.ts'),
} as const;
type Program = keyof typeof PROGRAMS;
/**
 * `check`: as a plain `pulumi up` runs this project (tsconfig has no noCheck); `transpile`:
 * PULUMI_NODEJS_TRANSPILE_ONLY=true, as `npm start` runs it (scripts/start.ts).
 */
type Compile = 'check' | 'transpile';
const VARIANTS: readonly { program: Program; compile: Compile }[] = [
  { program: 'empty', compile: 'check' },
  { program: 'index', compile: 'check' },
  { program: 'empty', compile: 'transpile' },
  { program: 'index', compile: 'transpile' },
];
const variantKey = (v: { program: Program; compile: Compile }) => `${v.program}/${v.compile}`;

interface LoadRun {
  wallMs: number;
  /** Program evaluation only: require + exports + registrations settled. */
  evaluateMs: number;
  resources: number;
}

function childEnv(compile: Compile): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A plain `node` as run.js is; no loader inherited, and run.js's own switches only where asked.
  delete env['NODE_OPTIONS'];
  delete env['PULUMI_NODEJS_TSCONFIG_PATH'];
  delete env['PULUMI_NODEJS_TRANSPILE_ONLY'];
  if (compile === 'transpile') env['PULUMI_NODEJS_TRANSPILE_ONLY'] = 'true';
  return env;
}

function runChild(
  args: string[],
  compile: Compile,
): Promise<{ wallMs: number; line: Record<string, unknown> }> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [TS_NODE_BOOTSTRAP, path.relative(PROJECT_ROOT, CHILD), ...args], {
    cwd: PROJECT_ROOT,
    env: childEnv(compile),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0)
        return reject(new Error(`program-load-child ${args[0]} failed (exit ${code}):\n${err}`));
      resolve({ wallMs, line: JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown> });
    });
  });
}

async function loadOnce(program: Program, compile: Compile, caPath: string): Promise<LoadRun> {
  const { wallMs, line } = await runChild([PROGRAMS[program], caPath], compile);
  const { startMs, doneMs, resources } = line as { startMs: number; doneMs: number; resources: number };
  return { wallMs, evaluateMs: doneMs - startMs, resources };
}

/** Cold closure serialization of the three providers the seed stack registers, in a fresh process. */
async function serializationMs(): Promise<number[]> {
  return ((await runChild(['--serialize'], 'transpile')).line as { serializeMs: number[] }).serializeMs;
}

/** Every variant `runs` times, order rotated, after one unrecorded run each. */
async function loadAll(runs: number): Promise<Map<string, LoadRun[]>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-program-'));
  const caPath = path.join(dir, 'ca.pem');
  fs.writeFileSync(caPath, (await createCertificateAuthority('Bench program CA')).certificatePem);
  const results = new Map<string, LoadRun[]>(VARIANTS.map((v) => [variantKey(v), []]));
  try {
    // One unrecorded run of each variant: disk caches warm, as on any machine after the first run.
    for (const v of VARIANTS) await loadOnce(v.program, v.compile, caPath);
    for (let i = 0; i < runs; i++) {
      for (let j = 0; j < VARIANTS.length; j++) {
        const v = VARIANTS[(i + j) % VARIANTS.length]!;
        results.get(variantKey(v))!.push(await loadOnce(v.program, v.compile, caPath));
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

function describeVariant(v: (typeof VARIANTS)[number], runs: readonly LoadRun[]): string {
  const name = v.program === 'empty' ? 'empty program' : 'index.ts     ';
  const how = v.compile === 'check' ? 'type-checked, as a plain pulumi up' : 'transpile-only, as npm start';
  return (
    `  ${name} (${how}): process ${formatSpread(spreadOf(runs.map((x) => x.wallMs)), 'ms', 0)}; ` +
    `evaluation ${formatSpread(spreadOf(runs.map((x) => x.evaluateMs)), 'ms', 0)}; ${runs[0]!.resources} resources`
  );
}

export async function runProgramLoad(runs = benchSizes().programLoadRuns): Promise<BenchResult> {
  say(
    `program-load: index.ts (local seed stack) vs an empty program, compiled by ts-node as pulumi up does, ${runs} cold runs each, interleaved`,
  );
  const results = await loadAll(runs);
  for (const v of VARIANTS) say(describeVariant(v, results.get(variantKey(v))!));
  const serialize = await serializationMs();
  say(
    `  Pulumi's closure serialization of the 3 provider objects (cold, fresh process): ${serialize.reduce((a, b) => a + b, 0).toFixed(0)} ms ` +
      `(DeviceIdentity ${serialize[0]!.toFixed(0)}, ModuleIdentity ${serialize[1]!.toFixed(0)}, ModuleTwin ${serialize[2]!.toFixed(0)})`,
  );
  const wall = (key: string) => results.get(key)!.map((r) => r.wallMs);
  const result: BenchResult = {
    benchmark: 'program-load',
    ratios: [
      ratioFigure(
        'program-load.transpile-only',
        pairedRatios(wall('index/transpile'), wall('empty/transpile')),
        null,
        'diagnostic: the same pair with PULUMI_NODEJS_TRANSPILE_ONLY=true',
      ),
      ratioFigure(
        'program-load',
        pairedRatios(wall('index/check'), wall('empty/check')),
        { direction: 'at-most', value: 1.5 },
        'index.ts process time / empty program process time (ts-node as pulumi up runs it)',
      ),
    ],
    notes: [],
  };
  printRatios(result);
  return result;
}

if (require.main === module) {
  say(describeMachine());
  runProgramLoad().catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  });
}
