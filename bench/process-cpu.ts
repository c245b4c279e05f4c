/**
 * CPU time per process (Linux /proc), so a benchmark can say WHERE its time went: the bench process
 * itself (program, harness, clients), the dynamic-provider host, the hub. On a 2-core machine the
 * wall time of a concurrent run is bounded below by (sum of CPU) / 2, which is what the diagnoses
 * compare against the baseline's.
 */
import * as fs from 'node:fs';

const TICKS_PER_SECOND = 100;

/** utime + stime of a process, in ms; NaN when it is gone or /proc is unavailable. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** This process's own CPU time in ms (user + system). */
export function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Pids of this process's children whose command line contains `needle`. */
export function childPids(needle: string): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return pids;
  }
  for (const entry of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked: not ours to count.
    }
  }
  return pids;
}

export interface CpuMeter {
  /** CPU ms used by each watched process since the meter started. */
  read(): Record<string, number>;
}

/** Starts measuring the named processes (`self` is this process). */
export function startCpuMeter(pids: Record<string, number | 'self'>): CpuMeter {
  const sample = () =>
    Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => [name, pid === 'self' ? ownCpuMs() : cpuMsOf(pid)]),
    );
  const start = sample();
  return {
    read: () => {
      const now = sample();
      return Object.fromEntries(Object.keys(pids).map((name) => [name, now[name]! - start[name]!]));
    },
  };
}

export function describeCpu(used: Record<string, number>, per = 1, unit = 's'): string {
  const scale = unit === 's' ? 1000 : 1;
  return Object.entries(used)
    .map(([name, ms]) => `${name} ${(ms / scale / per).toFixed(unit === 's' ? 1 : 2)} ${unit}`)
    .join(', ');
}
