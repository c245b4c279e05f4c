/**
 * The three ways bench/fleet-configuration.ts makes one fleet-wide change, each on its own fleet of N connected
 * module clients (bench/fleet-clients.ts, which ack like the device runtime):
 *
 * - configuration: one Configuration through the project's provider operations (check, diff, then what the
 *   diff asks: a content change replaces, delete first, as `pulumi up` does), with `waitForConvergence` on
 *   100 % of the ring counted by an `ac = 200` metric of this value;
 * - raw aedes: bench/raw-aedes-server.ts publishes the same patches with `client.publish` and answers each
 *   ack 204 without storing it (the process and protocol floor);
 * - per-twin: N ModuleTwin resources updated through their provider operations (check, diff, update with
 *   `waitForAck`), `parallel` at a time like the engine's `--parallel` (unbounded by default, as the CLI).
 *
 * Each hub is its own process on a fresh data directory (the durable default), like the other benchmarks:
 * the configuration and the per-twin fleets do not share a hub, so neither pays for the other's state.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHubClient } from '../dynamic-providers/iothub-client';
import {
  configurationResourceProvider as configurations,
  moduleTwinProvider as twins,
} from '../dynamic-providers/provider-table';
import type { ConfigurationInputs, ConfigurationOutputs } from '../lib/resource-configuration-state';
import type { TwinInputs, TwinOutputs } from '../lib/resource-twin-state';
import { desiredPatchTopic } from '../local-hub/mqtt/iothub-topics';
import { spawnRawServer } from './fan-out';
import { now } from './fan-out-clients';
import { CallLog } from './fleet-call-log';
import { connectFleet, type Fleet, type FleetTimeline } from './fleet-clients';
import { FLEET_TAG, fleetModules, registerFleet } from './fleet-setup';
import { startHubProcess } from './hub-process';
import { runPool } from './pool';
import { type CpuMeter, startCpuMeter } from './process-cpu';
import type { RawServerMessage } from './raw-aedes-server';

export const PROPERTY = 'telemetryInterval';
/** Generous: a wait that times out is a broken run, reported as missing acks, not a figure. */
const WAIT_SECONDS = 600;

export interface RoundTimes {
  /** ms from the start of the change (the provider's check, or the raw trigger). */
  firstPatch: number;
  lastPatch: number;
  lastAck: number;
  /** When the provider operations returned (their convergence / ack waits satisfied); raw: NaN. */
  providerDone: number;
  missingAcks: number;
  cpu: Record<string, number>;
  /** The service calls the provider operations made, with when they were sent and answered. */
  calls?: string;
}

export interface FleetSide {
  label: string;
  /** Makes the change to `value` and waits until every module's ack landed. */
  round(value: number): Promise<RoundTimes>;
  close(): Promise<void>;
}

async function timeRound(
  fleet: Fleet,
  meter: () => CpuMeter,
  value: number,
  change: () => Promise<void>,
  log?: CallLog,
): Promise<RoundTimes> {
  const timeline = fleet.expect(PROPERTY, value);
  const cpu = meter();
  log?.start();
  const started = now();
  await change();
  const providerDone = now() - started;
  await timeline.waitForAll(WAIT_SECONDS * 1000);
  const times = summarize(timeline, started, providerDone, cpu.read());
  return log ? { ...times, calls: log.describe() } : times;
}

export function summarize(
  timeline: FleetTimeline,
  started: number,
  providerDone: number,
  cpu: Record<string, number>,
): RoundTimes {
  const patches = timeline.patchAt.filter((t): t is number => t !== undefined).map((t) => t - started);
  const acks = timeline.ackAt.filter((t): t is number => t !== undefined).map((t) => t - started);
  return {
    firstPatch: Math.min(...patches),
    lastPatch: Math.max(...patches),
    lastAck: Math.max(...acks),
    providerDone,
    missingAcks: timeline.size - acks.length,
    cpu,
  };
}

/** A fresh durable hub with the tagged fleet registered and connected. */
async function hubWithFleet(modules: number, prefix: string) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const hub = await startHubProcess({ dataDir }).catch((error) => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  let fleet: Fleet | undefined;
  const close = async () => {
    await fleet?.close();
    await hub.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const connection = {
      hubConnectionString: hub.serviceConnectionString(),
      hubCaCertificate: hub.caCertificate,
    };
    const ids = fleetModules(modules);
    const identities = await registerFleet(
      createHubClient(hub.serviceConnectionString('iothubowner'), { caCertificate: hub.caCertificate }),
      ids,
    );
    fleet = await connectFleet({ hostName: hub.hostName, caCertificate: hub.caCertificate }, identities);
    const meter = () => startCpuMeter({ hub: hub.pid, bench: 'self' });
    // The same cached client the provider operations use (iothub-client.ts), its calls logged.
    const log = new CallLog();
    log.wrap(createHubClient(connection.hubConnectionString, { caCertificate: hub.caCertificate }).registry, [
      'addConfiguration',
      'removeConfiguration',
      'updateConfiguration',
      'getConfiguration',
      'updateModuleTwin',
      'getModuleTwin',
    ]);
    return { hub, fleet, ids, connection, meter, log, close };
  } catch (error) {
    await close();
    throw error;
  }
}

const CONFIGURATION_ID = 'fleet-telemetry';
const RING = `tags.ring='${FLEET_TAG.ring}'`;

function configurationArgs(connection: object, value: number, wait: boolean): Record<string, unknown> {
  const args: Record<string, unknown> = {
    ...connection,
    configurationId: CONFIGURATION_ID,
    moduleContent: { [`properties.desired.${PROPERTY}`]: value },
    targetCondition: `FROM devices.modules WHERE ${RING}`,
    priority: 10,
    // Counts only this value's acks on the ring (docs/stack-config.md: name the value in the success metric).
    metrics: {
      acked: `SELECT deviceId FROM devices.modules WHERE ${RING} AND properties.reported.${PROPERTY}.value = ${value} AND properties.reported.${PROPERTY}.ac = 200`,
    },
  };
  if (wait) {
    args['waitForConvergence'] = {
      minimum: { percent: 100 },
      successMetric: 'acked',
      timeoutSeconds: WAIT_SECONDS,
    };
  }
  return args;
}

async function checked<T>(
  provider: { check?: (olds: T, news: T) => Promise<{ inputs?: T; failures?: unknown[] }> },
  olds: T,
  args: Record<string, unknown>,
): Promise<T> {
  const { inputs, failures } = await provider.check!(olds, args as T);
  if (failures && failures.length > 0) throw new Error(`check failed: ${JSON.stringify(failures)}`);
  return inputs!;
}

/**
 * (a) One Configuration: created at `initial`; each round is the content change `pulumi up` would make.
 * `wait` false (diagnostic) drops `waitForConvergence`: what its metric polls cost the fleet's acks.
 */
export async function configurationSide(modules: number, initial: number, wait = true): Promise<FleetSide> {
  const base = await hubWithFleet(modules, 'bench-fleet-config-');
  try {
    const first = await checked(
      configurations,
      {} as ConfigurationInputs,
      configurationArgs(base.connection, initial, wait),
    );
    let olds = (await configurations.create(first)).outs as ConfigurationOutputs;
    return {
      label: `configuration (provider: check, diff, replace; ${wait ? 'waitForConvergence 100 %' : 'NO convergence wait [diagnostic]'})`,
      round: (value) =>
        timeRound(
          base.fleet,
          base.meter,
          value,
          async () => {
            const news = await checked(configurations, olds, configurationArgs(base.connection, value, wait));
            const diff = await configurations.diff!(CONFIGURATION_ID, olds, news);
            if (diff.replaces && diff.replaces.length > 0) {
              await configurations.delete!(CONFIGURATION_ID, olds);
              olds = (await configurations.create(news)).outs as ConfigurationOutputs;
            } else {
              olds = (await configurations.update!(CONFIGURATION_ID, olds, news))
                .outs as ConfigurationOutputs;
            }
          },
          base.log,
        ),
      close: base.close,
    };
  } catch (error) {
    await base.close();
    throw error;
  }
}

function twinArgs(connection: object, id: { deviceId: string; moduleId: string }, value: number) {
  return {
    ...connection,
    ...id,
    desired: { [PROPERTY]: value },
    tags: {},
    waitForAck: { timeoutSeconds: WAIT_SECONDS, onTimeout: 'fail' },
  };
}

/** (c) N ModuleTwin resources, created at `initial`; each round updates all of them, `parallel` at a time. */
export async function perTwinSide(modules: number, initial: number, parallel: number): Promise<FleetSide> {
  const base = await hubWithFleet(modules, 'bench-fleet-twins-');
  try {
    const states: TwinOutputs[] = new Array(modules);
    await runPool(modules, 16, async (i) => {
      const inputs = await checked(twins, {} as TwinInputs, twinArgs(base.connection, base.ids[i]!, initial));
      states[i] = (await twins.create(inputs)).outs as TwinOutputs;
    });
    const inFlight = parallel > 0 ? parallel : modules;
    return {
      label: `per-twin (${modules} ModuleTwin updates with waitForAck, ${parallel > 0 ? parallel : 'unbounded'} in flight)`,
      round: (value) =>
        timeRound(
          base.fleet,
          base.meter,
          value,
          () =>
            runPool(modules, inFlight, async (i) => {
              const id = `${base.ids[i]!.deviceId}/${base.ids[i]!.moduleId}`;
              const news = await checked(twins, states[i]!, twinArgs(base.connection, base.ids[i]!, value));
              const diff = await twins.diff!(id, states[i]!, news);
              if (!diff.changes) return;
              states[i] = (await twins.update!(id, states[i]!, news)).outs as TwinOutputs;
            }),
          base.log,
        ),
      close: base.close,
    };
  } catch (error) {
    await base.close();
    throw error;
  }
}

/** (b) The raw broker: the same N patches published directly, acks answered without a store. */
export async function rawSide(modules: number): Promise<FleetSide> {
  const { child, port, caPem } = await spawnRawServer();
  const identities = fleetModules(modules);
  const fleet = await connectFleet({ hostName: `127.0.0.1:${port}`, caCertificate: caPem }, identities);
  const send = (message: RawServerMessage) =>
    new Promise<void>((resolve) => {
      child.once('message', () => resolve());
      child.send(message);
    });
  let version = 1;
  return {
    label: 'raw aedes (same TLS, client.publish, acks answered 204 unstored)',
    round: (value) => {
      version += 1;
      const items = identities.map(({ deviceId, moduleId }) => ({
        clientId: `${deviceId}/${moduleId}`,
        topic: desiredPatchTopic(version),
        payload: JSON.stringify({ [PROPERTY]: value, $version: version }),
      }));
      const meter = () => startCpuMeter({ aedes: child.pid!, bench: 'self' });
      return timeRound(fleet, meter, value, () => send({ cmd: 'publish', items }));
    },
    close: async () => {
      await fleet.close();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ cmd: 'close' } satisfies RawServerMessage);
      await exited;
    },
  };
}
