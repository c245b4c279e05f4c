/**
 * What the real-CLI benchmarks (bench/real-cli.ts) share: a hub process on a fresh data directory (the
 * CA file the program reads lives there), stacks of this project's program run by the real Pulumi CLI
 * through the Automation API (tests/support/cli-stack.ts, scripts/pulumi-engine.ts), and the split of an
 * operation's time that a missed target is explained by:
 *  - wall time before the hub saw the first request (CLI start, program, provider host start, first
 *    Check/Diff), between the first and the last request (the hub calls, at the hub's latency), and
 *    after the last (final checkpoint, CLI exit);
 *  - CPU per process: this process (the inline program and the Automation API's language server),
 *    the CLI (engine, state), the dynamic-provider host, the hub.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  type CliStack,
  createCliStack,
  killProcessesIn,
  processesIn,
  WORK_ROOT,
} from '../tests/support/cli-stack';
import { type BenchHub, type HubProcessOptions, startHubProcess } from './hub-process';
import { cpuMsOf, ownCpuMs } from './process-cpu';

export interface CliHub extends BenchHub {
  dataDir: string;
  caCertificatePath: string;
}

/** A hub process (info log: one line per request, for the timeline) on a fresh data directory. */
export async function startCliHub(o: Omit<HubProcessOptions, 'dataDir' | 'logLevel'>): Promise<CliHub> {
  fs.mkdirSync(WORK_ROOT, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(WORK_ROOT, 'bench-hub-'));
  const hub = await startHubProcess({ ...o, dataDir, logLevel: 'info' });
  return { ...hub, dataDir, caCertificatePath: path.join(dataDir, 'ca.pem') };
}

export async function closeCliHub(hub: CliHub): Promise<void> {
  await hub.close();
  fs.rmSync(hub.dataDir, { recursive: true, force: true });
}

/** A hub for the duration of `work`, then closed and its data directory removed. */
export async function withCliHub<T>(
  o: Omit<HubProcessOptions, 'dataDir' | 'logLevel'>,
  work: (hub: CliHub) => Promise<T>,
): Promise<T> {
  const hub = await startCliHub(o);
  try {
    return await work(hub);
  } finally {
    await closeCliHub(hub);
  }
}

/** A stack of index.ts on `hub` with these devices, for the duration of `work`; then its folder and hosts go. */
export async function withCliStack<T>(
  name: string,
  hub: CliHub,
  devicesYaml: string,
  work: (stack: CliStack) => Promise<T>,
): Promise<T> {
  const stack = await createCliStack(name, hub, devicesYaml);
  try {
    return await work(stack);
  } finally {
    killProcessesIn(stack.workDir);
    stack.remove();
  }
}

/**
 * `iothub-as-code:devices` YAML (four-space indent, as createCliStack takes it) for a devices list of
 * plain ids and desired properties (bench/scale-stack.ts devicesConfig).
 */
export function devicesYamlOf(
  devices: readonly {
    deviceId: string;
    modules: readonly { moduleId: string; twin: { desired: Record<string, unknown> } }[];
  }[],
): string {
  const lines: string[] = [];
  for (const device of devices) {
    lines.push(`    - deviceId: ${device.deviceId}`, '      modules:');
    for (const module of device.modules) {
      lines.push(`        - moduleId: ${module.moduleId}`, '          twin:', '            desired:');
      for (const [key, value] of Object.entries(module.twin.desired)) {
        lines.push(`              ${key}: ${JSON.stringify(value)}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** CPU ms of this process's reaped children (utime + stime of waited-for descendants). */
function reapedChildrenCpuMs(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

export interface HubTimeline {
  requests: number;
  /** Answered 429 (throttled, retried by the providers). */
  throttled: number;
  /** Answered with another status ≥ 400. */
  errors: number;
  /** Requests per `METHOD kind` (kind: device, module, twin, other). */
  byKind: Record<string, number>;
  /** Seconds from the operation's start to the first and the last request the hub logged. */
  firstS: number;
  lastS: number;
}

export interface OperationTiming {
  wallMs: number;
  /** CPU ms per process during the operation. */
  cpu: { bench: number; cli: number; host: number; hub: number };
  hub: HubTimeline;
  /** CPU ms per CLI command line seen in the work folder (sampled: short commands may be missing). */
  cliCommands: Record<string, number>;
}

function kindOf(requestPath: string): string {
  if (/^\/twins\//.test(requestPath)) return 'twin';
  if (/^\/devices\/[^/]+\/modules\//.test(requestPath)) return 'module';
  if (/^\/devices\/[^/]+$/.test(requestPath)) return 'device';
  return 'other';
}

/** The hub's request lines (info level) since `startedAt`, as a timeline. */
export function hubTimeline(lines: readonly string[], startedAt: number): HubTimeline {
  const timeline: HubTimeline = {
    requests: 0,
    throttled: 0,
    errors: 0,
    byKind: {},
    firstS: Number.NaN,
    lastS: Number.NaN,
  };
  for (const line of lines) {
    if (!/ INFO request /.test(line)) continue;
    const at = (Date.parse(line.slice(0, line.indexOf(' '))) - startedAt) / 1000;
    const method = / method=(\S+)/.exec(line)?.[1] ?? '?';
    const status = Number(/ status=(\d+)/.exec(line)?.[1]);
    const kind = `${method} ${kindOf(/ path=(\S+)/.exec(line)?.[1] ?? '')}`;
    timeline.requests++;
    if (status === 429) timeline.throttled++;
    else if (status >= 400) timeline.errors++;
    timeline.byKind[kind] = (timeline.byKind[kind] ?? 0) + 1;
    if (!(timeline.firstS <= at)) timeline.firstS = at;
    if (!(timeline.lastS >= at)) timeline.lastS = at;
  }
  return timeline;
}

/**
 * Times one operation (`work`) against `hub`: wall time, the hub's timeline, and CPU per process. The
 * provider host (a grandchild, started in the stack's work folder) is sampled every 100 ms while it
 * runs; the CLI's own CPU is what the reaped children used minus the host's.
 */
export async function timeOperation(
  hub: BenchHub,
  workDir: string | null,
  work: () => Promise<void>,
): Promise<OperationTiming> {
  hub.clearLines();
  const hosts = new Map<number, number>();
  const clis = new Map<number, { command: string; cpu: number }>();
  const sample = () => {
    if (workDir === null) return;
    for (const pid of processesIn(workDir)) {
      const cpu = cpuMsOf(pid);
      if (!Number.isFinite(cpu)) continue;
      const command = commandOf(pid);
      if (hosts.has(pid) || /pulumi-resource-pulumi-nodejs|dynamic-provider|provider-host/.test(command)) {
        hosts.set(pid, Math.max(hosts.get(pid) ?? 0, cpu));
      } else if (/\/pulumi /.test(command)) {
        const words = command.split(' ').slice(1, 3).join(' ');
        clis.set(pid, { command: words, cpu: Math.max(clis.get(pid)?.cpu ?? 0, cpu) });
      }
    }
  };
  const sampler = setInterval(sample, 100);
  const startedAt = Date.now();
  const started = process.hrtime.bigint();
  const cpu0 = { bench: ownCpuMs(), children: reapedChildrenCpuMs(), hub: cpuMsOf(hub.pid) };
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  // The CLI is reaped by now (the Automation API waits for it); its host was reaped by the CLI.
  const children = reapedChildrenCpuMs() - cpu0.children;
  const host = [...hosts.values()].reduce((a, b) => a + b, 0);
  const hubCpu = cpuMsOf(hub.pid) - cpu0.hub;
  // The hub writes its last lines asynchronously: give them a moment.
  await new Promise((resolve) => setTimeout(resolve, 150));
  return {
    wallMs,
    cpu: { bench: ownCpuMs() - cpu0.bench, cli: Math.max(0, children - host), host, hub: hubCpu },
    hub: hubTimeline(hub.lines(), startedAt),
    cliCommands: [...clis.values()].reduce<Record<string, number>>((acc, { command, cpu }) => {
      acc[command] = (acc[command] ?? 0) + cpu;
      return acc;
    }, {}),
  };
}

/** One line: wall, the hub-call window, CPU per process, requests by kind. */
export function describeOperation(label: string, t: OperationTiming): string {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const wallS = t.wallMs / 1000;
  const window = Number.isFinite(t.hub.firstS)
    ? `before the first hub request ${t.hub.firstS.toFixed(2)} s, requests over ${(t.hub.lastS - t.hub.firstS).toFixed(2)} s, after the last ${(wallS - t.hub.lastS).toFixed(2)} s`
    : 'no hub request';
  const kinds = Object.entries(t.hub.byKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  return (
    `${label}: ${wallS.toFixed(2)} s (${window}); CPU s: bench ${s(t.cpu.bench)}, CLI ${s(t.cpu.cli)}, ` +
    `provider host ${s(t.cpu.host)}, hub ${s(t.cpu.hub)}; ${t.hub.requests} requests` +
    `${t.hub.throttled ? ` (${t.hub.throttled} answered 429)` : ''}${t.hub.errors ? ` (${t.hub.errors} errors)` : ''}` +
    `${kinds ? ` [${kinds}]` : ''}` +
    (Object.keys(t.cliCommands).length > 0
      ? `; CLI CPU s by command (sampled): ${Object.entries(t.cliCommands)
          .map(([command, ms]) => `${command} ${s(ms)}`)
          .join(', ')}`
      : '')
  );
}

/** Deletes bench work folders and stops any provider host left in them (after a failed run). */
export function cleanUpWorkFolders(prefixes: readonly string[]): void {
  if (!fs.existsSync(WORK_ROOT)) return;
  for (const entry of fs.readdirSync(WORK_ROOT)) {
    if (!prefixes.some((prefix) => entry.startsWith(prefix))) continue;
    const dir = path.join(WORK_ROOT, entry);
    // Only folders this process made: their names carry its pid.
    if (!entry.includes(`-${process.pid}-`)) continue;
    killProcessesIn(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
