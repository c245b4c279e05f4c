/**
 * The facts docs/benchmarks.md records next to every figure: date, Node version, CPU model, cores,
 * and the load average when the run started (the machine is shared, so load explains spread).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

export interface MachineFacts {
  date: string;
  node: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  loadAverage: string;
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) return match[1]!.trim();
  } catch {
    // Not Linux: fall back to what Node reports.
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

export function machineFacts(): MachineFacts {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpuModel: cpuModel(),
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}

export function describeMachine(facts: MachineFacts = machineFacts()): string {
  return (
    `${facts.date} | node ${facts.node} | ${facts.cpuModel} | ${facts.cores} cores | ` +
    `${facts.memoryGiB} GiB | load ${facts.loadAverage}`
  );
}
