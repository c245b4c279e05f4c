/**
 * Benchmark 5, footprint (issue #5): the hub's memory with D devices and M modules with twins, and
 * its restart-to-ready time on that data, each against the same hub on an empty data directory
 * (ratios, no target). The data is written through the hub's own store (HubState) on tmpfs, where
 * fsync is free, then copied to a disk directory, so the measured hub opens exactly what a hub that
 * had served those writes would leave behind. Ready = the `listening on` banner (`npm run hub`).
 * Memory = RSS right after ready, then the peak after reading every twin through the query API.
 *
 * Standalone: `tsx bench/footprint.ts` (BENCH_QUICK=1 for small sizes).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHubClient } from '../dynamic-providers/iothub-client';
import { startLocalHub } from '../local-hub/index';
import { benchSizes } from './bench-options';
import { type BenchResult, printRatios, ratioFigure, say } from './bench-result';
import { type BenchHub, memoryOf, startHubProcess } from './hub-process';
import { describeMachine } from './machine';
import { timed } from './pool';
import { formatSpread, pairedRatios, spreadOf } from './stats';

export interface FootprintOptions {
  devices: number;
  modules: number;
  rounds: number;
}

/** tmpfs when there is one: the population run then costs seconds instead of one fsync per write. */
function scratchRoot(): string {
  return fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
}

/** D devices, M modules spread over them, every module twin with desired properties and tags. */
async function populate(dataDir: string, o: FootprintOptions): Promise<void> {
  const hub = await startLocalHub({ port: 0, dataDir, logLevel: 'silent' });
  try {
    for (let d = 0; d < o.devices; d++) hub.state.createDevice(`fp-d${d}`, { deviceId: `fp-d${d}` });
    for (let m = 0; m < o.modules; m++) {
      const deviceId = `fp-d${m % o.devices}`;
      const moduleId = `fp-m${Math.floor(m / o.devices)}`;
      hub.state.createModule(deviceId, moduleId, { deviceId, moduleId });
      const patch = {
        tags: { site: `site-${m % 17}` },
        properties: { desired: { telemetryInterval: 30, mode: 'eco', thresholds: { high: 80, low: 10 } } },
      };
      hub.state.patchTwin(deviceId, moduleId, patch, '*');
    }
  } finally {
    await hub.close();
  }
}

/** Reads every device and module twin through the service query API (pages of 1000). */
async function readAllTwins(hub: BenchHub): Promise<number> {
  const { registry } = createHubClient(hub.serviceConnectionString('iothubowner'), {
    caCertificate: hub.caCertificate,
  });
  let count = 0;
  for (const source of ['devices', 'devices.modules']) {
    const query = registry.createQuery(`SELECT * FROM ${source}`, 1000);
    while (query.hasMoreResults) count += (await query.nextAsTwin()).result.length;
  }
  return count;
}

interface Sample {
  readyMs: number;
  /** Reading every twin through the query API (pages of 1000). */
  readMs: number;
  readyRssMiB: number;
  peakRssMiB: number;
  twins: number;
}

async function measure(dataDir: string): Promise<Sample> {
  const hub = await startHubProcess({ dataDir });
  try {
    const ready = memoryOf(hub.pid);
    let twins = 0;
    const readMs = await timed(async () => {
      twins = await readAllTwins(hub);
    });
    return {
      readyMs: hub.readyMs,
      readMs,
      readyRssMiB: ready.rssMiB,
      peakRssMiB: memoryOf(hub.pid).peakMiB,
      twins,
    };
  } finally {
    await hub.close();
  }
}

function copyDir(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) fs.copyFileSync(path.join(from, name), path.join(to, name));
}

/** Populates once, then restarts the empty and the full hub alternately, `rounds` times each. */
async function collectSamples(o: FootprintOptions): Promise<{ empty: Sample[]; full: Sample[] }> {
  const scratch = fs.mkdtempSync(path.join(scratchRoot(), 'bench-footprint-'));
  const disk = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-footprint-'));
  const samples = { empty: [] as Sample[], full: [] as Sample[] };
  try {
    const populateMs = await timed(() => populate(scratch, o));
    copyDir(scratch, path.join(disk, 'full'));
    const bytes = fs
      .readdirSync(scratch)
      .reduce((sum, f) => sum + fs.statSync(path.join(scratch, f)).size, 0);
    say(
      `  populated through HubState on tmpfs in ${(populateMs / 1000).toFixed(1)} s; data directory ${(bytes / 2 ** 20).toFixed(1)} MiB`,
    );
    // The empty hub gets its CA once, as any hub's first start does; then both only restart.
    await (await startHubProcess({ dataDir: path.join(disk, 'empty') })).close();
    for (let round = 0; round < o.rounds; round++) {
      const order = round % 2 === 0 ? (['empty', 'full'] as const) : (['full', 'empty'] as const);
      for (const which of order) samples[which].push(await measure(path.join(disk, which)));
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.rmSync(disk, { recursive: true, force: true });
  }
  return samples;
}

function describeSamples(label: string, samples: readonly Sample[]): string {
  const of = (pick: (s: Sample) => number, unit: string, decimals = 1) =>
    formatSpread(spreadOf(samples.map(pick)), unit, decimals);
  return (
    `  ${label}: restart-to-ready ${of((s) => s.readyMs, 'ms', 0)}; RSS at ready ${of((s) => s.readyRssMiB, 'MiB')}; ` +
    `peak after reading ${samples[0]!.twins} twins ${of((s) => s.peakRssMiB, 'MiB')} (reading took ${of((s) => s.readMs / 1000, 's', 2)})`
  );
}

export async function runFootprint(o: FootprintOptions = defaultOptions()): Promise<BenchResult> {
  say(
    `footprint: ${o.devices} devices + ${o.modules} modules with twins vs an empty hub, ${o.rounds} restarts each`,
  );
  const { empty, full } = await collectSamples(o);
  say(describeSamples('empty hub', empty));
  say(describeSamples('with data', full));
  const ratio = (pick: (s: Sample) => number) => pairedRatios(full.map(pick), empty.map(pick));
  const result: BenchResult = {
    benchmark: 'footprint',
    ratios: [
      ratioFigure(
        'footprint.ready',
        ratio((s) => s.readyMs),
        null,
        'restart-to-ready with data / empty',
      ),
      ratioFigure(
        'footprint.memory',
        ratio((s) => s.peakRssMiB),
        null,
        'peak RSS with data (after reading every twin) / empty',
      ),
    ],
    notes: [],
  };
  printRatios(result);
  return result;
}

function defaultOptions(): FootprintOptions {
  const sizes = benchSizes();
  return { devices: sizes.footprintDevices, modules: sizes.footprintModules, rounds: sizes.rounds };
}

if (require.main === module) {
  say(describeMachine());
  runFootprint().catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  });
}
