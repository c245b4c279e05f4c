/**
 * Durability (docs/architecture.md, "Durable by default"): write through the
 * official SDKs to a hub child process, SIGKILL it, restart on the same data directory, and find every
 * acknowledged identity and twin back with the same keys, etags and versions, served with the same CA.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { ModuleClient } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { wellKnownServiceConnectionString } from '../../lib/local-hub-defaults';
import { type HubProcess, spawnHubProcess } from '../support/local-hub-fixture';

const dataDir = mkdtempSync(path.join(tmpdir(), 'hub-persist-'));
const children: HubProcess[] = [];
after(async () => {
  for (const child of children) {
    child.kill('SIGKILL');
    await child.waitExit();
  }
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<HubProcess> {
  const child = await spawnHubProcess({ dataDir });
  children.push(child);
  return child;
}

function serviceFor(child: HubProcess, caPem: string) {
  return createHubClient(wellKnownServiceConnectionString(undefined, child.hostName), {
    caCertificate: caPem,
  }).registry;
}

function body(result: { responseBody: unknown }): any {
  return result.responseBody;
}

/** What must survive: identity keys and etags; twin etag, versions, tags and properties (with $metadata). */
async function snapshot(registry: ReturnType<typeof serviceFor>) {
  const device = body(await registry.get('p-device'));
  const module = body(await registry.getModule('p-device', 'p-module'));
  const deviceTwin = body(await registry.getTwin('p-device'));
  const moduleTwin = body(await registry.getModuleTwin('p-device', 'p-module'));
  const twinPart = (twin: any) => ({
    etag: twin.etag,
    version: twin.version,
    tags: twin.tags,
    properties: twin.properties,
  });
  return {
    device: { etag: device.etag, generationId: device.generationId, authentication: device.authentication },
    module: { etag: module.etag, generationId: module.generationId, authentication: module.authentication },
    deviceTwin: twinPart(deviceTwin),
    moduleTwin: twinPart(moduleTwin),
  };
}

test('acknowledged identities and twins survive SIGKILL; the CA is reused', { timeout: 60_000 }, async () => {
  const first = await start();
  const registry = serviceFor(first, first.caPem);
  await registry.create({ deviceId: 'p-device' });
  await registry.addModule({ deviceId: 'p-device', moduleId: 'p-module' } as any);
  const deviceTwin = body(await registry.getTwin('p-device'));
  await registry.updateTwin('p-device', { tags: { site: 'lab' } }, deviceTwin.etag);
  const moduleTwin = body(await registry.getModuleTwin('p-device', 'p-module'));
  await registry.updateModuleTwin(
    'p-device',
    'p-module',
    { properties: { desired: { interval: 5 } } },
    moduleTwin.etag,
  );

  const moduleKey = body(await registry.getModule('p-device', 'p-module')).authentication.symmetricKey
    .primaryKey;
  const moduleConnection = (host: string) =>
    `HostName=${host};DeviceId=p-device;ModuleId=p-module;SharedAccessKey=${moduleKey}`;
  const client = ModuleClient.fromConnectionString(moduleConnection(first.hostName), Mqtt);
  await client.setOptions({ ca: first.caPem } as any);
  await client.open();
  const twin = await client.getTwin();
  await new Promise<void>((resolve, reject) =>
    twin.properties.reported.update({ applied: 5 }, (error?: Error) => (error ? reject(error) : resolve())),
  );
  const before = await snapshot(registry);
  assert.equal(before.moduleTwin.properties.reported.applied, 5);
  assert.equal(before.deviceTwin.tags.site, 'lab');

  first.kill('SIGKILL');
  assert.deepEqual(await first.waitExit(), { code: null, signal: 'SIGKILL' });
  await client.close().catch(() => {});

  const second = await start();
  assert.equal(second.caPem, first.caPem, 'the same CA file is served after the restart');
  // Trusting the first run's CA is enough to talk to the restarted hub.
  const after = await snapshot(serviceFor(second, first.caPem));
  assert.deepEqual(after, before);

  // The module reconnects with the key it had before and reads the same desired state.
  const again = ModuleClient.fromConnectionString(moduleConnection(second.hostName), Mqtt);
  await again.setOptions({ ca: first.caPem } as any);
  await again.open();
  try {
    const restored = await again.getTwin();
    assert.equal(restored.properties.desired['interval'], 5);
    assert.equal(restored.properties.desired.$version, before.moduleTwin.properties.desired.$version);
  } finally {
    await again.close();
  }

  second.kill('SIGTERM');
  assert.deepEqual(await second.waitExit(), { code: 0, signal: null }, 'SIGTERM closes cleanly and exits 0');
});
