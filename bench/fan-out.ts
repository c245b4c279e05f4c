/**
 * Benchmark 3, fan-out (issue #5): N connected modules each receive a desired update made through
 * the service API (one azure-iothub Registry, keep-alive, `concurrency` updates in flight), against
 * raw aedes publishing the same payloads to the same kind of clients over the same TLS
 * (bench/raw-aedes-server.ts). Throughput = patches received / (last receipt − first send);
 * latency = receipt − the send of that update (raw: − the one trigger). Target: hub throughput
 * ≥ 0.5× raw. The hub runs as its own process on a fresh data directory (the durable default); an
 * in-memory hub is measured alongside as a diagnostic.
 *
 * Standalone: `tsx bench/fan-out.ts` (BENCH_QUICK=1 for small sizes).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MqttClient } from 'mqtt';
import { createHubClient } from '../dynamic-providers/iothub-client';
import { desiredPatchTopic } from '../local-hub/mqtt/iothub-topics';
import { deviceSasToken } from '../tests/support/local-hub-fixture';
import { benchSizes } from './bench-options';
import { type BenchResult, printRatios, ratioFigure, say } from './bench-result';
import { type ClientIdentity, closeClients, connectClients, now, Receipts } from './fan-out-clients';
import { type BenchHub, startHubProcess } from './hub-process';
import { describeMachine } from './machine';
import { runPool } from './pool';
import { describeCpu, startCpuMeter } from './process-cpu';
import type { RawServerMessage } from './raw-aedes-server';
import { median, percentile } from './stats';

const MODULES_PER_DEVICE = 50;
const RECEIPT_TIMEOUT_MS = 120_000;

export interface FanOutOptions {
  clients: number;
  concurrency: number;
  rounds: number;
}

interface RoundResult {
  throughput: number;
  latencies: number[];
  lost: number;
  /** CPU ms per delivered patch, per process (broker/hub side and this process). */
  cpuPerPatch: Record<string, number>;
  /** Hub only: receipt − the service API's answer (negative: the patch arrived first). */
  afterAnswer?: number[];
}

interface Side {
  label: string;
  round(round: number): Promise<RoundResult>;
  close(): Promise<void>;
}

const patchOf = (seq: number, round: number) => ({ fanOut: { seq, round } });
const idsOf = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    deviceId: `fan-d${String(Math.floor(i / MODULES_PER_DEVICE)).padStart(3, '0')}`,
    moduleId: `m${String(i % MODULES_PER_DEVICE).padStart(2, '0')}`,
  }));

function summarize(receipts: Receipts, sent: number[], n: number, cpu: Record<string, number>): RoundResult {
  const latencies: number[] = [];
  let last = 0;
  for (let i = 0; i < n; i++) {
    const at = receipts.get(i);
    if (at === undefined) continue;
    latencies.push(at - sent[i]!);
    last = Math.max(last, at);
  }
  const first = Math.min(...sent);
  const cpuPerPatch = Object.fromEntries(
    Object.entries(cpu).map(([k, ms]) => [k, ms / Math.max(1, latencies.length)]),
  );
  return {
    throughput: (latencies.length / (last - first)) * 1000,
    latencies,
    lost: n - latencies.length,
    cpuPerPatch,
  };
}

type Registry = ReturnType<typeof createHubClient>['registry'];
type ModuleId = { deviceId: string; moduleId: string };

/** Creates the devices and modules; each module's SAS token is what its MQTT client connects with. */
async function registerModules(
  registry: Registry,
  hub: BenchHub,
  ids: readonly ModuleId[],
): Promise<ClientIdentity[]> {
  const identities: ClientIdentity[] = new Array(ids.length);
  for (const deviceId of new Set(ids.map((id) => id.deviceId))) await registry.create({ deviceId } as any);
  await runPool(ids.length, 16, async (i) => {
    const { deviceId, moduleId } = ids[i]!;
    const created = (await registry.addModule({ deviceId, moduleId } as any)).responseBody as any;
    const key = created.authentication.symmetricKey.primaryKey as string;
    identities[i] = {
      deviceId,
      moduleId,
      password: deviceSasToken({ hostName: hub.hostName, deviceId, moduleId, key }),
    };
  });
  return identities;
}

/** One round: every module's desired update through the service API, `concurrency` in flight. */
async function hubRound(
  o: FanOutOptions,
  hub: BenchHub,
  registry: Registry,
  ids: readonly ModuleId[],
  receipts: Receipts,
  round: number,
): Promise<RoundResult> {
  receipts.reset();
  const sent: number[] = new Array(ids.length);
  const answered: number[] = new Array(ids.length);
  const meter = startCpuMeter({ hub: hub.pid, bench: 'self' });
  await runPool(ids.length, o.concurrency, async (i) => {
    sent[i] = now();
    const { deviceId, moduleId } = ids[i]!;
    await registry.updateModuleTwin(deviceId, moduleId, { properties: { desired: patchOf(i, round) } }, '*');
    answered[i] = now();
  });
  await receipts.waitFor(ids.length, RECEIPT_TIMEOUT_MS);
  const result = summarize(receipts, sent, ids.length, meter.read());
  const afterAnswer = answered.map((at, i) => (receipts.get(i) ?? Number.NaN) - at).filter(Number.isFinite);
  return { ...result, afterAnswer };
}

async function hubSide(o: FanOutOptions, durable: boolean): Promise<Side> {
  const dataDir = durable ? fs.mkdtempSync(path.join(os.tmpdir(), 'bench-fan-')) : undefined;
  const hub = await startHubProcess(dataDir ? { dataDir } : {});
  const clients: MqttClient[] = [];
  const close = async () => {
    await closeClients(clients);
    await hub.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const { registry } = createHubClient(hub.serviceConnectionString('iothubowner'), {
      caCertificate: hub.caCertificate,
    });
    const ids = idsOf(o.clients);
    const identities = await registerModules(registry, hub, ids);
    const receipts = new Receipts();
    const endpoint = { hostName: hub.hostName, caCertificate: hub.caCertificate };
    clients.push(...(await connectClients(endpoint, identities, receipts)));
    // Open the Registry's keep-alive sockets before timing (TLS set-up is not the fan-out path).
    await runPool(o.concurrency, o.concurrency, async (i) => {
      const { deviceId, moduleId } = ids[i % ids.length]!;
      await registry.getModuleTwin(deviceId, moduleId);
    });
    return {
      label: durable ? 'hub (durable, data directory)' : 'hub (in memory) [diagnostic]',
      round: (round) => hubRound(o, hub, registry, ids, receipts, round),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export function spawnRawServer(): Promise<{ child: ChildProcess; port: number; caPem: string }> {
  const script = path.join(__dirname, 'raw-aedes-server.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const newline = out.indexOf('\n');
      if (newline >= 0)
        resolve({ child, ...(JSON.parse(out.slice(0, newline)) as { port: number; caPem: string }) });
    });
    child.once('exit', (code) =>
      reject(new Error(`raw aedes server exited with code ${code} before listening`)),
    );
  });
}

async function rawSide(o: FanOutOptions): Promise<Side> {
  const { child, port, caPem } = await spawnRawServer();
  const endpoint = { hostName: `127.0.0.1:${port}`, caCertificate: caPem };
  const receipts = new Receipts();
  const ids = idsOf(o.clients);
  const clients = await connectClients(endpoint, ids, receipts);
  const send = (message: RawServerMessage) =>
    new Promise<void>((resolve) => {
      child.once('message', () => resolve());
      child.send(message);
    });
  return {
    label: 'raw aedes (same TLS, client.publish)',
    round: async (round) => {
      receipts.reset();
      // The same bytes the hub sends: the patch plus `$version` (a fresh twin is at 1 and the warm-up
      // round -1 writes 2, so round r writes r + 3).
      const version = round + 3;
      const items = ids.map(({ deviceId, moduleId }, i) => ({
        clientId: `${deviceId}/${moduleId}`,
        topic: desiredPatchTopic(version),
        payload: JSON.stringify({ ...patchOf(i, round), $version: version }),
      }));
      const meter = startCpuMeter({ aedes: child.pid!, bench: 'self' });
      const trigger = now();
      await send({ cmd: 'publish', items });
      await receipts.waitFor(ids.length, RECEIPT_TIMEOUT_MS);
      return summarize(receipts, new Array(ids.length).fill(trigger), ids.length, meter.read());
    },
    close: async () => {
      await closeClients(clients);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ cmd: 'close' } satisfies RawServerMessage);
      await exited;
    },
  };
}

function describeRounds(label: string, results: RoundResult[]): string {
  const throughputs = results.map((r) => r.throughput);
  const all = results.flatMap((r) => r.latencies);
  const lost = results.reduce((sum, r) => sum + r.lost, 0);
  const afterAnswer = results.flatMap((r) => r.afterAnswer ?? []);
  const split =
    afterAnswer.length > 0
      ? `; receipt − service API answer p50 ${percentile(afterAnswer, 50).toFixed(1)} ms, p99 ${percentile(afterAnswer, 99).toFixed(1)} ms`
      : '';
  return (
    `  ${label}: ${median(throughputs).toFixed(0)} patches/s (${Math.min(...throughputs).toFixed(0)}–${Math.max(...throughputs).toFixed(0)}), ` +
    `latency p50 ${percentile(all, 50).toFixed(1)} ms, p99 ${percentile(all, 99).toFixed(1)} ms${lost > 0 ? `, ${lost} LOST` : ''}${split}; ` +
    `CPU per patch (first round) ${describeCpu(results[0]!.cpuPerPatch, 1, 'ms')}`
  );
}

export async function runFanOut(o: FanOutOptions = defaultOptions()): Promise<BenchResult> {
  say(
    `fan-out: ${o.clients} connected modules, ${o.concurrency} service updates in flight, ${o.rounds} interleaved rounds`,
  );
  const sides: Side[] = [];
  const results: RoundResult[][] = [];
  try {
    sides.push(await rawSide(o), await hubSide(o, true), await hubSide(o, false));
    // One warm-up round per side (JIT, buffers), not recorded.
    for (const side of sides) {
      await side.round(-1);
      results.push([]);
    }
    for (let round = 0; round < o.rounds; round++) {
      for (let i = 0; i < sides.length; i++) {
        const index = (i + round) % sides.length;
        results[index]!.push(await sides[index]!.round(round));
      }
    }
  } finally {
    for (const side of sides) await side.close();
  }
  for (const [i, side] of sides.entries()) say(describeRounds(side.label, results[i]!));
  const raw = results[0]!.map((r) => r.throughput);
  const result: BenchResult = {
    benchmark: 'fan-out',
    ratios: [
      ratioFigure(
        'fan-out.in-memory',
        results[2]!.map((r, i) => r.throughput / raw[i]!),
        null,
        'diagnostic: in-memory hub throughput / raw aedes',
      ),
      ratioFigure(
        'fan-out.throughput',
        results[1]!.map((r, i) => r.throughput / raw[i]!),
        { direction: 'at-least', value: 0.5 },
        'hub throughput (service API → MQTT) / raw aedes throughput',
      ),
    ],
    notes: [],
  };
  printRatios(result);
  return result;
}

function defaultOptions(): FanOutOptions {
  const sizes = benchSizes();
  return { clients: sizes.fanOutClients, concurrency: 64, rounds: sizes.rounds };
}

if (require.main === module) {
  say(describeMachine());
  runFanOut().catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  });
}
