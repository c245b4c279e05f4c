/**
 * `npm run bench`: the five benchmarks of issue #5, the real-CLI one of issue #9 (bench/real-cli.ts:
 * `pulumi up`/`preview`/`destroy` through the real CLI) and the fleet-wide configuration one of issue #12
 * (bench/fleet-configuration.ts) in sequence, then a summary table (markdown, so
 * it can go into docs/benchmarks.md as is). Not part of `npm test`: benchmarks print ratios against a
 * baseline measured in the same run and assert nothing (docs/benchmarks.md).
 *
 *   npm run bench                      all seven
 *   npm run bench -- real-cli          only the real-CLI ratios (a)–(d)
 *   npm run bench -- fleet-configuration   one change to 1,000 modules (or: npx tsx bench/fleet-configuration.ts --modules 1000)
 *   npm run bench -- scale fan-out     only those
 *   BENCH_QUICK=1 npm run bench        small sizes, to check that they still run
 */
import { isQuick } from './bench-options';
import { type BenchResult, say, summaryLine } from './bench-result';
import { runFanOut } from './fan-out';
import { runFleetConfiguration } from './fleet-configuration';
import { runFootprint } from './footprint';
import { describeMachine } from './machine';
import { runProgramLoad } from './program-load';
import { runProviderOverhead } from './provider-overhead';
import { runRealCli } from './real-cli';
import { runScale } from './scale';
import { describeTarget, meetsTarget } from './stats';

const BENCHMARKS: Record<string, () => Promise<BenchResult>> = {
  'provider-overhead': () => runProviderOverhead(),
  scale: () => runScale(),
  'fan-out': () => runFanOut(),
  'program-load': () => runProgramLoad(),
  footprint: () => runFootprint(),
  'real-cli': () => runRealCli(),
  'fleet-configuration': () => runFleetConfiguration(),
};

function selected(args: readonly string[]): string[] {
  if (args.length === 0) return Object.keys(BENCHMARKS);
  const unknown = args.filter((name) => !(name in BENCHMARKS));
  if (unknown.length > 0) {
    throw new Error(
      `unknown benchmark(s) ${unknown.join(', ')}; valid: ${Object.keys(BENCHMARKS).join(', ')}`,
    );
  }
  return [...args];
}

function summaryTable(results: readonly BenchResult[]): string[] {
  const rows = ['| ratio | median (min–max) | target | verdict | meaning |', '|---|---|---|---|---|'];
  for (const result of results) {
    for (const f of result.ratios) {
      const spread = `${f.ratios.median.toFixed(2)}× (${f.ratios.min.toFixed(2)}–${f.ratios.max.toFixed(2)})`;
      const target = f.target ? describeTarget(f.target) : '—';
      const verdict = f.target ? (meetsTarget(f.ratios.median, f.target) ? 'met' : 'MISSED') : '—';
      rows.push(`| ${f.name} | ${spread} | ${target} | ${verdict} | ${f.meaning} |`);
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const names = selected(process.argv.slice(2));
  say(`# npm run bench${isQuick() ? ' (BENCH_QUICK=1: smoke sizes, not recorded figures)' : ''}`);
  say(describeMachine());
  const results: BenchResult[] = [];
  const failed: string[] = [];
  for (const name of names) {
    say('');
    const started = Date.now();
    try {
      results.push(await BENCHMARKS[name]!());
    } catch (error) {
      // One broken benchmark must not hide the others' figures.
      failed.push(name);
      say(`${name} FAILED: ${(error as Error).stack ?? error}`);
    }
    say(`(${name}: ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  say('');
  say(`## Summary (${describeMachine()})`);
  for (const row of summaryTable(results)) say(row);
  for (const note of results.flatMap((r) => r.notes)) say(`- ${note}`);
  if (failed.length > 0) {
    say(`FAILED benchmarks: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
  // Each benchmark's own last line, again, as the run's last lines.
  for (const result of results) say(summaryLine(result));
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
