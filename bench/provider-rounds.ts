/**
 * Interleaved rounds for the provider-overhead comparisons: a warm-up round per mode (not counted),
 * then `rounds` rounds of every mode, order rotated, each round timed (wall) and metered (CPU of the
 * bench process, the hub and, when running, the provider host).
 *
 * Why the warm-up is a real round: the hub and the SDK take over a thousand lifecycles to reach their
 * steady cost (measured from a cold start, bench + hub CPU per round of 200 plain lifecycles: 965,
 * 639, 436, 392, 366 ms, then ~270–330 ms from the 7th round on). With the former 20-lifecycle
 * warm-up, the FIRST timed round — always the baseline's, the rotation started with it — cost about
 * twice the CPU and wall time of the later ones (e.g. 995 ms with 870 ms CPU vs 497 ms with 385 ms):
 * the 2× spread of the baseline's rounds in docs/benchmarks.md.
 *
 * Why every timed round is primed with `concurrency` untimed lifecycles: the hub closes idle
 * keep-alive sockets after 5 s (Node's default `server.keepAliveTimeout`), so a mode whose previous
 * round was a 15 s round of ANOTHER mode would otherwise pay its 16 TLS reconnections inside its
 * timed round (measured: 40–50 ms, up to a tenth of a 200-lifecycle plain round), and the mode that
 * follows a short round would not.
 */
import * as fs from 'node:fs';
import { runPool, timed } from './pool';
import { childPids, startCpuMeter } from './process-cpu';
import type { Lifecycle } from './provider-lifecycles';
import { median } from './stats';

export interface RoundsPlan<Mode extends string> {
  modes: readonly Mode[];
  lifecycles: number;
  concurrency: number;
  rounds: number;
  /** Lifecycles of the uncounted warm-up round per mode. */
  warmUpLifecycles: number;
  /** Distinguishes device ids between comparisons on the same hub. */
  tag: string;
}

export interface RoundSample {
  wallMs: number;
  /** CPU ms used during the timed round, per process (`bench`, `hub`, `host`). */
  cpuMs: Record<string, number>;
  /** Position of the mode in its round (0 = ran first). */
  position: number;
  /** CPU ms the machine's OTHER processes used meanwhile (other helpers, on a shared machine). */
  othersCpuMs: number;
}

export type RoundsResult<Mode extends string> = Record<Mode, RoundSample[]>;

/** CPU ms (user + system) all processes of the machine used so far (Linux /proc/stat, 10 ms ticks); NaN elsewhere. */
function machineBusyMs(): number {
  try {
    const [user, nice, system] = fs
      .readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return (user! + nice! + system!) * 10;
  } catch {
    return Number.NaN;
  }
}

/** Meters this process, the hub and the dynamic-provider host (a child of this process, if any). */
function meterFor(hubPid: number) {
  const pids: Record<string, number | 'self'> = { bench: 'self', hub: hubPid };
  const hostPid = childPids('dynamic-provider')[0];
  if (hostPid !== undefined) pids['host'] = hostPid;
  return startCpuMeter(pids);
}

export async function interleavedRounds<Mode extends string>(
  plan: RoundsPlan<Mode>,
  lifecycleOf: (mode: Mode) => Lifecycle,
  hubPid: number,
): Promise<RoundsResult<Mode>> {
  const run = (mode: Mode, name: string, count: number) => {
    // A new lifecycle function per run, as a new `pulumi up` or script would make.
    const lifecycle = lifecycleOf(mode);
    return runPool(count, plan.concurrency, (i) => lifecycle(`po-${plan.tag}-${name}-${mode}-${i}`));
  };
  for (const mode of plan.modes) await run(mode, 'warm', plan.warmUpLifecycles);
  const samples = Object.fromEntries(
    plan.modes.map((mode) => [mode, [] as RoundSample[]]),
  ) as RoundsResult<Mode>;
  for (let round = 0; round < plan.rounds; round++) {
    // Rotate the order so no mode always runs first (or last) in a round.
    const order = plan.modes.map((_, i) => plan.modes[(i + round) % plan.modes.length]!);
    for (const [position, mode] of order.entries()) {
      await run(mode, `r${round}-prime`, plan.concurrency);
      const meter = meterFor(hubPid);
      const busyBefore = machineBusyMs();
      const wallMs = await timed(() => run(mode, `r${round}`, plan.lifecycles));
      const cpuMs = meter.read();
      const othersCpuMs = machineBusyMs() - busyBefore - Object.values(cpuMs).reduce((a, b) => a + b, 0);
      samples[mode].push({ wallMs, cpuMs, position, othersCpuMs: Math.max(0, othersCpuMs) });
    }
  }
  return samples;
}

/** Total CPU ms of a round, all metered processes. */
const cpuOf = (sample: RoundSample) => Object.values(sample.cpuMs).reduce((sum, ms) => sum + ms, 0);

/**
 * `round 2 (plain first): plain 2412 ms (CPU 2.6 s, others 0.3 s), in-process ... → 1.08×`: our CPU
 * (bench + hub + host) and the other processes' tell a round slowed by the machine's other load
 * from one that did more work.
 */
export function roundLines<Mode extends string>(
  result: RoundsResult<Mode>,
  modes: readonly Mode[],
  names: Record<Mode, string>,
  ratioOf: { candidate: Mode; baseline: Mode },
): string[] {
  const rounds = result[modes[0]!].length;
  const lines: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const first = modes.find((mode) => result[mode][round]!.position === 0)!;
    const parts = modes.map((mode) => {
      const sample = result[mode][round]!;
      const seconds = (ms: number) => (ms / 1000).toFixed(1);
      return `${names[mode]} ${sample.wallMs.toFixed(0)} ms (CPU ${seconds(cpuOf(sample))} s, others ${seconds(sample.othersCpuMs)} s)`;
    });
    const ratio = result[ratioOf.candidate][round]!.wallMs / result[ratioOf.baseline][round]!.wallMs;
    lines.push(`    round ${round + 1} (${names[first]} first): ${parts.join(', ')} → ${ratio.toFixed(2)}×`);
  }
  return lines;
}

/** Per-round ratios of total CPU (candidate / baseline): the work, whatever else the machine runs. */
export function cpuRatios<Mode extends string>(
  result: RoundsResult<Mode>,
  ratioOf: { candidate: Mode; baseline: Mode },
): number[] {
  return result[ratioOf.candidate].map((sample, i) => cpuOf(sample) / cpuOf(result[ratioOf.baseline][i]!));
}

/** Median CPU ms per lifecycle of each metered process (the host only where it worked). */
export function cpuPerLifecycleByProcess(
  samples: readonly RoundSample[],
  lifecycles: number,
): Record<string, number> {
  const names = Object.keys(samples[0]?.cpuMs ?? {});
  const perProcess = names.map(
    (name) => [name, median(samples.map((s) => s.cpuMs[name]!)) / lifecycles] as const,
  );
  return Object.fromEntries(perProcess.filter(([name, ms]) => ms > 0 || name !== 'host'));
}

/** e.g. `bench 1.02 + hub 1.10 = 2.12 ms`. */
export function describeCpuPerLifecycle(perProcess: Record<string, number>): string {
  const parts = Object.entries(perProcess);
  const total = parts.reduce((sum, [, ms]) => sum + ms, 0);
  return `${parts.map(([name, ms]) => `${name} ${ms.toFixed(2)}`).join(' + ')} = ${total.toFixed(2)} ms`;
}
