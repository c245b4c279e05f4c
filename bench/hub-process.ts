/**
 * The local hub as the benchmarks use it: its own process (`local-hub/cli.ts`, what `npm run hub`
 * runs), so the hub and the client side each get a core, as they do when a user runs `npm run hub`
 * next to `pulumi up`. In memory or on a data directory, optionally throttled; port 0; everything it
 * prints is kept, so a diagnostic run at `--log-level debug` can count connections and requests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROGRAM_POLICY_NAME, wellKnownServiceConnectionString } from '../lib/local-hub-defaults';

const PROJECT_ROOT = path.resolve(__dirname, '..');
const CLI = path.join(PROJECT_ROOT, 'local-hub', 'cli.ts');

export interface HubProcessOptions {
  /** Omit for an in-memory hub. */
  dataDir?: string;
  throttle?: { tier: 'S1' | 'S2' | 'S3' | 'F1'; units: number };
  /** Default 'warn' (nothing per request). */
  logLevel?: 'debug' | 'info' | 'warn';
  /** `--latency-ms`: round-trip latency added to every service REST answer (default 0). */
  latencyMs?: number;
}

export interface BenchHub {
  hostName: string;
  caCertificate: string;
  pid: number;
  /** Milliseconds from spawn to the `listening on` banner. */
  readyMs: number;
  serviceConnectionString(policy?: string): string;
  /** Lines printed so far (stdout and stderr). */
  lines(): string[];
  clearLines(): void;
  /** SIGTERM (clean close) and wait for exit. */
  close(): Promise<void>;
}

/**
 * Opt-in diagnostics: `BENCH_HUB_CPU_PROF_DIR=<dir>` runs every hub child under `node --cpu-prof`,
 * writing `<dir>/*.cpuprofile` when the hub exits (its SIGTERM path ends with `process.exit`);
 * `BENCH_HUB_CPU_PROF_INTERVAL=<µs>` samples more often than V8's 1000 µs default.
 */
function profilingArgs(): string[] {
  const dir = process.env['BENCH_HUB_CPU_PROF_DIR'];
  if (!dir) return [];
  const interval = process.env['BENCH_HUB_CPU_PROF_INTERVAL'];
  return [
    '--cpu-prof',
    `--cpu-prof-dir=${path.resolve(dir)}`,
    ...(interval ? [`--cpu-prof-interval=${interval}`] : []),
  ];
}

function cliArgs(o: HubProcessOptions): string[] {
  const args = [
    ...profilingArgs(),
    '--import',
    'tsx',
    CLI,
    '--port',
    '0',
    '--log-level',
    o.logLevel ?? 'warn',
  ];
  args.push(...(o.dataDir === undefined ? ['--in-memory'] : ['--data-dir', o.dataDir]));
  if (o.throttle) args.push('--throttle', o.throttle.tier, '--units', String(o.throttle.units));
  if (o.latencyMs) args.push('--latency-ms', String(o.latencyMs));
  return args;
}

export async function startHubProcess(o: HubProcessOptions = {}): Promise<BenchHub> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, cliArgs(o), { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stdout = '';
  let pending = '';
  const collect = (chunk: string) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop()!;
    lines.push(...parts);
  };
  child.stderr!.setEncoding('utf8').on('data', collect);
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    collect(chunk);
  });
  const hostName = await waitForBanner(child, () => stdout);
  const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
  const caCertificate =
    o.dataDir === undefined ? pemFromBanner(stdout) : fs.readFileSync(path.join(o.dataDir, 'ca.pem'), 'utf8');
  return {
    hostName,
    caCertificate,
    pid: child.pid!,
    readyMs,
    serviceConnectionString: (policy = PROGRAM_POLICY_NAME) =>
      wellKnownServiceConnectionString(policy, hostName),
    lines: () => [...lines],
    clearLines: () => {
      lines.length = 0;
    },
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function waitForBanner(child: ChildProcess, stdout: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      // The banner is complete once the connection strings follow the CA.
      const match = /listening on (\S+)/.exec(stdout());
      if (match && /Service connection strings/.test(stdout())) {
        child.stdout!.off('data', check);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code, signal) =>
      reject(
        new Error(`the hub process exited (code ${code}, signal ${signal}) before listening:\n${stdout()}`),
      ),
    );
  });
}

function pemFromBanner(stdout: string): string {
  const match = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(stdout);
  if (!match) throw new Error('the in-memory hub printed no CA certificate in its banner');
  return `${match[0].replace(/^\s+/gm, '')}\n`;
}

/** Resident set size and its peak, in MiB, from /proc (Linux). */
export function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}
