/**
 * Faults: 50 desired updates while the hub process is SIGKILLed and restarted twice on the same data
 * directory and port. The runtime must reconnect by itself (the restarted hub has lost the MQTT session, so
 * the SDK's own reconnect alone would never receive another patch), end at the last $version with its ack,
 * and never apply an older version after a newer one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { startDeviceRuntime } from '../../device-runtime/index';
import type { AppliedEvent, ConnectedEvent } from '../../device-runtime/runtime-events';
import { createHubClient, type HubClient } from '../../dynamic-providers/iothub-client';
import { buildDeviceConnectionString } from '../../lib/connection-string';
import { wellKnownServiceConnectionString } from '../../lib/local-hub-defaults';
import { type HubProcess, spawnHubProcess } from '../support/local-hub-fixture';
import { waitFor, within } from '../support/runtime-wait';

const DEVICE = 'fault-device';
const MODULE = 'fault-module';
const UPDATES = 50;
const KILL_BEFORE = new Set([15, 35]);
/** Waits span hub restarts, so they get twice the default patience. */
const WAIT_MS = 60_000;

function serviceFor(hub: HubProcess): HubClient {
  return createHubClient(wellKnownServiceConnectionString(undefined, hub.hostName), {
    caCertificate: hub.caPem,
  });
}

async function killAndRestart(hub: HubProcess, dataDir: string): Promise<HubProcess> {
  hub.kill('SIGKILL');
  const exit = await hub.waitExit();
  assert.equal(exit.signal, 'SIGKILL');
  return spawnHubProcess({ dataDir, port: hub.port });
}

test('50 updates across two hub kill -9 restarts end at the last version, in order', {
  timeout: 180_000,
}, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'runtime-faults-'));
  let hub = await spawnHubProcess({ dataDir });
  t.after(() => {
    hub.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  let service = serviceFor(hub);
  await service.registry.create({ deviceId: DEVICE });
  await service.registry.addModule({ deviceId: DEVICE, moduleId: MODULE } as Parameters<
    HubClient['registry']['addModule']
  >[0]);
  const module = (await service.registry.getModule(DEVICE, MODULE)).responseBody as unknown as {
    authentication: { symmetricKey: { primaryKey: string } };
  };
  const connectionString = buildDeviceConnectionString({
    hostName: hub.hostName,
    deviceId: DEVICE,
    moduleId: MODULE,
    sharedAccessKey: module.authentication.symmetricKey.primaryKey,
  });

  const runtime = await startDeviceRuntime({
    connectionString,
    ca: hub.caPem,
    env: {},
    config: {
      telemetryIntervalSeconds: 60,
      operationTimeoutSeconds: 5,
      reconnectMinDelaySeconds: 0.1,
      reconnectMaxDelaySeconds: 1,
    },
  });
  t.after(() => within('the runtime to stop', runtime.stop()));
  const applied: AppliedEvent[] = [];
  const connections: ConnectedEvent[] = [];
  runtime.on('applied', (event) => applied.push(event));
  runtime.on('connected', (event) => connections.push(event));
  await waitFor('the first connection', () => (runtime.current.connected ? true : undefined), WAIT_MS);

  let lastVersion = 0;
  let kills = 0;
  for (let i = 1; i <= UPDATES; i++) {
    if (KILL_BEFORE.has(i)) {
      // Each kill must hit a live connection: wait until the runtime is back from the previous one
      // (the updates written meanwhile reached a runtime that was still reconnecting).
      const wanted = ++kills;
      await waitFor(
        `connection #${wanted}`,
        () => (runtime.current.connected && connections.length >= wanted ? true : undefined),
        WAIT_MS,
      );
      hub = await killAndRestart(hub, dataDir);
      service = serviceFor(hub);
    }
    const result = await service.registry.updateModuleTwin(
      DEVICE,
      MODULE,
      { properties: { desired: { telemetryInterval: 100 + i } } },
      '*',
    );
    lastVersion = (result.responseBody as unknown as { properties: { desired: { $version: number } } })
      .properties.desired.$version;
  }

  const ack = await waitFor(
    `the ack of version ${lastVersion}`,
    async () => {
      const twin = await service.registry.getModuleTwin(DEVICE, MODULE);
      const reported = (twin.responseBody as unknown as { properties: { reported: Record<string, unknown> } })
        .properties.reported;
      const current = reported['telemetryInterval'] as { av: number } | undefined;
      return current && current.av >= lastVersion ? current : undefined;
    },
    WAIT_MS,
  );
  assert.deepEqual(ack, { value: 100 + UPDATES, ac: 200, av: lastVersion });
  assert.equal(runtime.current.version, lastVersion);
  assert.equal(runtime.telemetryIntervalSeconds, 100 + UPDATES);

  const versions = applied.map((event) => event.version);
  for (let i = 1; i < versions.length; i++) {
    assert.ok(versions[i]! > versions[i - 1]!, `applied out of order: ${versions.join(', ')}`);
  }
  assert.equal(versions.at(-1), lastVersion);
  // Every applied value is the one written at that version (value 100 + i was written as version v0 + i).
  const offset = lastVersion - UPDATES;
  for (const event of applied) assert.equal(event.value, 100 + event.version - offset);
  // Reconnected by itself after each kill: a new client each time (the old session was gone).
  assert.ok(connections.filter((c) => !c.resumed).length >= 3, JSON.stringify(connections));
});
