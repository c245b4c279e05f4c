/**
 * Contract: a twin PATCH through the official Registry that writes neither tags nor desired properties
 * changes nothing — not the etag (or a provider holding it would get a needless 412), not the twin
 * `version` nor the desired `$version` (or a device would see a version it never got a patch for), and
 * nothing is pushed to the connected module. Checked against a module whose raw MQTT connection records
 * every desired notification, in order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type * as mqtt from 'mqtt';
import { createHubClient, type HubClient } from '../../dynamic-providers/iothub-client';
import type { LocalHub } from '../../local-hub/index';
import { connectRawMqtt, deviceSasToken, startTestHub } from '../support/local-hub-fixture';
import { waitFor, within } from '../support/runtime-wait';

const DEVICE = 'empty-patch-device';
const MODULE = 'empty-patch-module';
const DESIRED_TOPIC = '$iothub/twin/PATCH/properties/desired/';

/** Every body that names no tag and no desired property. */
const EMPTY_PATCHES: [string, unknown][] = [
  ['{}', {}],
  ['empty tags', { tags: {} }],
  ['empty properties', { properties: {} }],
  ['empty desired', { properties: { desired: {} } }],
  ['null desired', { properties: { desired: null } }],
  ['empty tags and desired', { tags: {}, properties: { desired: {} } }],
  ['only read-only root members (a twin read back)', { deviceId: DEVICE, moduleId: MODULE, etag: '"x"' }],
];

let hub: LocalHub;
let service: HubClient;
let module: mqtt.MqttClient;
const notifications: { version: string; body: Record<string, unknown> }[] = [];

interface TwinCounters {
  etag: string;
  version: number;
  desiredVersion: number;
}

function countersOf(twin: any): TwinCounters {
  return { etag: twin.etag, version: twin.version, desiredVersion: twin.properties.desired.$version };
}

async function moduleCounters(): Promise<TwinCounters> {
  return countersOf((await service.registry.getModuleTwin(DEVICE, MODULE)).responseBody);
}

before(async () => {
  hub = await startTestHub();
  service = createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificatePem });
  await service.registry.create({ deviceId: DEVICE });
  const added = await service.registry.addModule({ deviceId: DEVICE, moduleId: MODULE } as any);
  const key = (added.responseBody as any).authentication.symmetricKey.primaryKey as string;
  const clientId = `${DEVICE}/${MODULE}`;
  const password = deviceSasToken({ hostName: hub.hostName, deviceId: DEVICE, moduleId: MODULE, key });
  const connected = await connectRawMqtt(hub, { clientId, password });
  assert.equal(connected.returnCode, 0, 'the module connects');
  module = connected.client!;
  module.on('message', (topic: string, payload: Buffer) => {
    if (!topic.startsWith(DESIRED_TOPIC)) return;
    notifications.push({
      version: topic.slice(topic.indexOf('$version=') + 9),
      body: JSON.parse(`${payload}`),
    });
  });
  await within(
    'the SUBACK for the desired notifications',
    new Promise<void>((resolve, reject) =>
      module.subscribe(`${DESIRED_TOPIC}#`, { qos: 0 }, (error) => (error ? reject(error) : resolve())),
    ),
  );
});

after(async () => {
  module?.end(true);
  await hub.close();
});

describe('an empty twin PATCH', () => {
  test('leaves the module twin etag, version and desired $version alone and pushes nothing', async () => {
    const before = await moduleCounters();
    for (const [what, patch] of EMPTY_PATCHES) {
      const answer = await service.registry.updateModuleTwin(DEVICE, MODULE, patch as any, before.etag);
      assert.deepEqual(countersOf(answer.responseBody), before, `the answer to ${what}`);
      assert.deepEqual(await moduleCounters(), before, `the twin after ${what}`);
    }

    // Notifications reach the one connection in order: the first one must be this real write's.
    const written = countersOf(
      (
        await service.registry.updateModuleTwin(
          DEVICE,
          MODULE,
          { properties: { desired: { after: 1 } } },
          before.etag,
        )
      ).responseBody,
    );
    assert.equal(written.desiredVersion, before.desiredVersion + 1);
    await waitFor('the desired notification of the real write', () =>
      notifications.length > 0 ? true : undefined,
    );
    assert.deepEqual(notifications[0], {
      version: String(written.desiredVersion),
      body: { after: 1, $version: written.desiredVersion },
    });
  });

  test('leaves a device twin etag and versions alone', async () => {
    const read = async () => countersOf((await service.registry.getTwin(DEVICE)).responseBody);
    const before = await read();
    for (const [what, patch] of EMPTY_PATCHES) {
      const answer = await service.registry.updateTwin(DEVICE, patch as any, before.etag);
      assert.deepEqual(countersOf(answer.responseBody), before, `the answer to ${what}`);
    }
    assert.deepEqual(await read(), before);
  });
});
