/**
 * Contract: the unmodified official SDKs against the local hub (issue #2 "Done when"). The service
 * side is `azure-iothub`'s Registry through the project's client factory (docs/iot-hub-behaviour.md §4); the device
 * side is `azure-iot-device` ModuleClient over `azure-iot-device-mqtt`, trusting the hub's CA with
 * `setOptions({ ca })` (§3.6). Both use the one `HostName=127.0.0.1:<port>`.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ModuleClient, type Twin } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import { createHubClient, type HubClient } from '../../dynamic-providers/iothub-client';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import { within } from '../support/runtime-wait';

const DEVICE = 'seed-device';
const MODULE = 'seed-module';
const BASE64_32_BYTES = /^[A-Za-z0-9+/]{43}=$/;

let hub: LocalHub;
let service: HubClient;

before(async () => {
  hub = await startTestHub();
  service = createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificatePem });
});
after(() => hub.close());

function body<T>(result: { responseBody: unknown }): T {
  return result.responseBody as T;
}

interface Keys {
  primaryKey: string;
  secondaryKey: string;
}

function keysOf(identity: any): Keys {
  return identity.authentication.symmetricKey;
}

/**
 * Records every desired-property event of a twin from now on. A patch notification carries the patch
 * (with `$version`); a GET emits the whole document, so tests wait for a specific `$version`.
 */
function recordDesired(twin: Twin) {
  const seen: any[] = [];
  const waiters: { match: (patch: any) => boolean; resolve: (patch: any) => void }[] = [];
  const listener = (patch: any) => {
    seen.push(patch);
    for (const waiter of [...waiters]) {
      if (waiter.match(patch)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(patch);
      }
    }
  };
  twin.on('properties.desired', listener);
  return {
    waitForVersion(version: number): Promise<any> {
      const match = (patch: any) => patch.$version === version;
      const earlier = seen.find(match);
      if (earlier) return Promise.resolve(earlier);
      const seenVersions = () => seen.map((patch) => patch.$version).join(', ') || 'none';
      return within(
        () => `a desired notification with $version ${version} (received $version: ${seenVersions()})`,
        new Promise((resolve) => waiters.push({ match, resolve })),
      );
    },
    stop: () => twin.removeListener('properties.desired', listener),
  };
}

describe('seed flow: identities with hub-generated keys', () => {
  let deviceKeys: Keys;
  let moduleKeys: Keys;

  test('create a device and a module without keys: the hub generates 32-byte keys', async () => {
    const device = body<any>(await service.registry.create({ deviceId: DEVICE }));
    assert.equal(device.deviceId, DEVICE);
    deviceKeys = keysOf(device);
    assert.match(deviceKeys.primaryKey, BASE64_32_BYTES);
    assert.match(deviceKeys.secondaryKey, BASE64_32_BYTES);
    assert.notEqual(deviceKeys.primaryKey, deviceKeys.secondaryKey);

    const module = body<any>(await service.registry.addModule({ deviceId: DEVICE, moduleId: MODULE } as any));
    assert.equal(module.moduleId, MODULE);
    moduleKeys = keysOf(module);
    assert.match(moduleKeys.primaryKey, BASE64_32_BYTES);
    assert.notEqual(moduleKeys.primaryKey, deviceKeys.primaryKey);
  });

  test('get returns both with the same keys', async () => {
    const device = body<any>(await service.registry.get(DEVICE));
    assert.deepEqual(keysOf(device), deviceKeys);
    assert.equal(device.status, 'enabled');
    const module = body<any>(await service.registry.getModule(DEVICE, MODULE));
    assert.equal(module.deviceId, DEVICE);
    assert.deepEqual(keysOf(module), moduleKeys);
  });

  test('re-creating either is DeviceAlreadyExistsError (every 409, docs/iot-hub-behaviour.md §0.2)', async () => {
    await assert.rejects(service.registry.create({ deviceId: DEVICE }), { name: 'DeviceAlreadyExistsError' });
    await assert.rejects(service.registry.addModule({ deviceId: DEVICE, moduleId: MODULE } as any), {
      name: 'DeviceAlreadyExistsError',
    });
  });

  test('deviceConnectionString carries the identity primary key and the one address', () => {
    assert.equal(
      hub.deviceConnectionString(DEVICE, MODULE),
      `HostName=${hub.hostName};DeviceId=${DEVICE};ModuleId=${MODULE};SharedAccessKey=${moduleKeys.primaryKey}`,
    );
  });
});

describe('seed flow: module twin between the Registry and a connected ModuleClient', () => {
  let client: ModuleClient;
  let twin: Twin;

  before(async () => {
    client = ModuleClient.fromConnectionString(hub.deviceConnectionString(DEVICE, MODULE), Mqtt);
    await within('setOptions({ ca })', client.setOptions({ ca: hub.caCertificatePem } as any));
    await within('the module client to open', client.open());
    twin = await within('the module twin', client.getTwin());
    // Adding a listener subscribes in the background with no completion signal. Enabling first and
    // waiting for its SUBACK guarantees the module is subscribed BEFORE the service updates the twin;
    // the listener added afterwards finds the subscription in place (two concurrent subscribes would
    // trip an SDK bug: "finalCallback is not a function").
    await within(
      'the desired-properties subscription (SUBACK)',
      new Promise<void>((resolve, reject) =>
        (twin as any).enableTwinDesiredPropertiesUpdates((error?: Error) =>
          error ? reject(error) : resolve(),
        ),
      ),
    );
    twin.on('properties.desired', () => {});
  });
  after(() => within('the module client to close', client.close()));

  test('a module connected before the update receives telemetryInterval 122 with the right $version', async () => {
    const before = body<any>(await service.registry.getModuleTwin(DEVICE, MODULE));
    const desired = recordDesired(twin);
    const updated = body<any>(
      await service.registry.updateModuleTwin(
        DEVICE,
        MODULE,
        { properties: { desired: { telemetryInterval: 122 } } },
        before.etag,
      ),
    );
    assert.notEqual(updated.etag, before.etag, 'every successful update changes the etag');
    assert.equal(updated.properties.desired.telemetryInterval, 122);
    assert.equal(updated.properties.desired.$version, before.properties.desired.$version + 1);
    const patch = await desired.waitForVersion(updated.properties.desired.$version);
    desired.stop();
    assert.deepEqual(patch, { telemetryInterval: 122, $version: updated.properties.desired.$version });
    assert.equal(twin.properties.desired['telemetryInterval'], 122);
  });

  test('a stale etag is InvalidEtagError and changes nothing', async () => {
    const stale = body<any>(await service.registry.getModuleTwin(DEVICE, MODULE)).etag;
    await service.registry.updateModuleTwin(
      DEVICE,
      MODULE,
      { properties: { desired: { mode: 'a' } } },
      stale,
    );
    await assert.rejects(
      service.registry.updateModuleTwin(DEVICE, MODULE, { properties: { desired: { mode: 'b' } } }, stale),
      { name: 'InvalidEtagError' },
    );
    const current = body<any>(await service.registry.getModuleTwin(DEVICE, MODULE));
    assert.equal(current.properties.desired.mode, 'a');
  });

  test('null removes a desired key and the module sees the null', async () => {
    const current = body<any>(await service.registry.getModuleTwin(DEVICE, MODULE));
    const desired = recordDesired(twin);
    const updated = body<any>(
      await service.registry.updateModuleTwin(
        DEVICE,
        MODULE,
        { properties: { desired: { telemetryInterval: null } } },
        current.etag,
      ),
    );
    assert.equal('telemetryInterval' in updated.properties.desired, false);
    const patch = await desired.waitForVersion(updated.properties.desired.$version);
    desired.stop();
    assert.deepEqual(patch, { telemetryInterval: null, $version: updated.properties.desired.$version });
    assert.equal('telemetryInterval' in twin.properties.desired, false, 'the SDK pruned the deleted key');
  });

  test('reported properties sent by the module are visible to the service', async () => {
    // `update` is callback-only in azure-iot-device 1.18 (without a callback it throws after the reply).
    await within(
      'the answer to the reported PATCH',
      new Promise<void>((resolve, reject) =>
        twin.properties.reported.update({ firmware: '1.2.3', telemetryInterval: 122 }, (error?: Error) =>
          error ? reject(error) : resolve(),
        ),
      ),
    );
    const serviceTwin = body<any>(await service.registry.getModuleTwin(DEVICE, MODULE));
    assert.equal(serviceTwin.properties.reported.firmware, '1.2.3');
    assert.equal(serviceTwin.properties.reported.telemetryInterval, 122);
    // A second GET from the device sees its own report and the current desired version.
    const again = await within('a second module twin', client.getTwin());
    await within(
      'the answer to the second twin GET',
      new Promise<void>((resolve, reject) =>
        again.get((error?: Error) => (error ? reject(error) : resolve())),
      ),
    );
    assert.equal(again.properties.reported['firmware'], '1.2.3');
    assert.equal(again.properties.desired.$version, serviceTwin.properties.desired.$version);
  });
});

describe('seed flow: device twin tags', () => {
  test('tags written with the etag round-trip and are not sent to devices', async () => {
    const before = body<any>(await service.registry.getTwin(DEVICE));
    const updated = body<any>(
      await service.registry.updateTwin(DEVICE, { tags: { site: 'lab', rack: { row: 3 } } }, before.etag),
    );
    assert.deepEqual(updated.tags, { site: 'lab', rack: { row: 3 } });
    const read = body<any>(await service.registry.getTwin(DEVICE));
    assert.deepEqual(read.tags, { site: 'lab', rack: { row: 3 } });
    assert.equal(
      read.properties.desired.$version,
      before.properties.desired.$version,
      'tags are not desired',
    );
  });
});
