/**
 * Contract: four behaviours where the local hub used to differ from IoT Hub (docs/iot-hub-behaviour.md §8.2),
 * through the official SDKs: `"desired": null` clears desired and tells the device, a twin without
 * tags has no `tags`, a twin read back and edited is accepted as a PATCH (read-only parts ignored),
 * and a leaf device's `deviceScope` must be an existing Edge device's scope.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHubClient, type HubClient } from '../../dynamic-providers/iothub-client';
import type { LocalHub } from '../../local-hub/index';
import { connectRawMqtt, deviceSasToken, startTestHub } from '../support/local-hub-fixture';
import { waitFor, within } from '../support/runtime-wait';

const DEVICE = 'divergence-device';
const MODULE = 'divergence-module';
const DESIRED_TOPIC = '$iothub/twin/PATCH/properties/desired/';

let hub: LocalHub;
let service: HubClient;

before(async () => {
  hub = await startTestHub();
  service = createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificatePem });
  await service.registry.create({ deviceId: DEVICE });
  await service.registry.addModule({ deviceId: DEVICE, moduleId: MODULE } as any);
});

after(() => hub.close());

/** Plain JSON of a twin as the Registry returns it. */
async function readTwin(moduleId?: string): Promise<any> {
  const answer =
    moduleId === undefined
      ? await service.registry.getTwin(DEVICE)
      : await service.registry.getModuleTwin(DEVICE, moduleId);
  return JSON.parse(JSON.stringify(answer.responseBody));
}

describe('"properties": {"desired": null}', () => {
  test('clears every desired property, with a new $version and etag, and the device hears a null per key', async () => {
    // A raw connection of the module (the client the device SDK wraps) shows the patch as sent: the
    // SDK's Twin passes its listeners the patch after merging, with the nulls already removed.
    const key = /SharedAccessKey=([^;]+)/.exec(hub.deviceConnectionString(DEVICE, MODULE))![1]!;
    const password = deviceSasToken({ hostName: hub.hostName, deviceId: DEVICE, moduleId: MODULE, key });
    const connected = await connectRawMqtt(hub, { clientId: `${DEVICE}/${MODULE}`, password });
    assert.equal(connected.returnCode, 0);
    const device = connected.client!;
    const patches: Record<string, unknown>[] = [];
    device.on('message', (topic: string, payload: Buffer) => {
      if (topic.startsWith(DESIRED_TOPIC)) patches.push(JSON.parse(`${payload}`));
    });
    await within(
      'the SUBACK for desired patches',
      new Promise<void>((resolve, reject) =>
        device.subscribe(`${DESIRED_TOPIC}#`, { qos: 0 }, (e) => (e ? reject(e) : resolve())),
      ),
    );
    try {
      const set = { properties: { desired: { a: 1, nested: { b: { c: 2 } } } } };
      await service.registry.updateModuleTwin(DEVICE, MODULE, set as any, '*');
      const before = await readTwin(MODULE);

      const answer = await service.registry.updateModuleTwin(
        DEVICE,
        MODULE,
        { properties: { desired: null } } as any,
        before.etag,
      );
      const cleared = JSON.parse(JSON.stringify(answer.responseBody));
      assert.deepEqual(Object.keys(cleared.properties.desired).sort(), ['$metadata', '$version']);
      assert.equal(cleared.properties.desired.$version, before.properties.desired.$version + 1);
      assert.notEqual(cleared.etag, before.etag);
      assert.deepEqual(await readTwin(MODULE), cleared);

      const version = cleared.properties.desired.$version;
      const patch = await waitFor('the clearing patch on the device', () =>
        patches.find((p) => p['$version'] === version),
      );
      assert.deepEqual(patch, { a: null, nested: null, $version: version });
    } finally {
      device.end(true);
    }
  });
});

describe('tags', () => {
  /** The twin as the hub sent it: the service SDK's Twin class adds `tags: {}` itself when absent. */
  function wireTwin(): Promise<Record<string, unknown>> {
    const path = `/twins/${encodeURIComponent(DEVICE)}?api-version=2021-04-12`;
    return within(
      'GET twin over the service REST client',
      new Promise((resolve, reject) =>
        service.rest.executeApiCall('GET', path, {}, undefined, (error: Error | undefined, body: any) =>
          error ? reject(error) : resolve(body),
        ),
      ),
    );
  }

  test('a twin with no tags has no tags member; one with tags has them', async () => {
    assert.equal('tags' in (await wireTwin()), false, 'a fresh twin');
    await service.registry.updateTwin(DEVICE, { tags: { site: 'lab' } } as any, '*');
    assert.deepEqual((await wireTwin())['tags'], { site: 'lab' });
    await service.registry.updateTwin(DEVICE, { tags: { site: null } } as any, '*');
    assert.equal('tags' in (await wireTwin()), false, 'after its last tag was removed');
  });
});

describe('a PATCH with a twin read back and edited', () => {
  test('applies only tags and desired and ignores the read-only parts', async () => {
    await service.registry.updateTwin(
      DEVICE,
      { properties: { desired: { keep: 1, change: 'old' } } } as any,
      '*',
    );
    const readBack = await readTwin();
    const reportedBefore = readBack.properties.reported;
    readBack.tags = { owner: 'cli' };
    readBack.properties.desired.change = 'new';
    readBack.status = 'disabled';
    readBack.connectionState = 'Connected';

    const answer = await service.registry.updateTwin(DEVICE, readBack, readBack.etag);
    const written = JSON.parse(JSON.stringify(answer.responseBody));
    assert.deepEqual(written.tags, { owner: 'cli' });
    assert.equal(written.properties.desired.keep, 1);
    assert.equal(written.properties.desired.change, 'new');
    assert.deepEqual(written.properties.reported, reportedBefore, 'reported untouched');
    assert.equal(written.status, 'enabled', 'status is not a twin property');
    assert.equal(written.properties.desired.$version, readBack.properties.desired.$version + 1);
    assert.equal((await service.registry.get(DEVICE)).responseBody.status, 'enabled');
  });

  test('a bare reported section is still refused: only the device writes reported', async () => {
    await assert.rejects(
      service.registry.updateTwin(DEVICE, { properties: { reported: { a: 1 } } } as any, '*'),
      (error: Error) => error.name === 'ArgumentError' && /properties\.reported/.test(error.message),
    );
  });
});

describe('deviceScope of a leaf device', () => {
  let edge: any;
  let otherEdge: any;

  before(async () => {
    edge = (await service.registry.create({ deviceId: 'scope-edge', capabilities: { iotEdge: true } } as any))
      .responseBody;
    otherEdge = (
      await service.registry.create({ deviceId: 'scope-edge-2', capabilities: { iotEdge: true } } as any)
    ).responseBody;
  });

  test("must be an existing Edge device's scope", async () => {
    const leaf = (
      await service.registry.create({ deviceId: 'scope-leaf', deviceScope: edge.deviceScope } as any)
    ).responseBody as any;
    assert.equal(leaf.deviceScope, edge.deviceScope);
    assert.deepEqual(leaf.parentScopes, [edge.deviceScope]);
    for (const scope of [
      'nonsense',
      'ms-azure-iot-edge://scope-leaf-1',
      'ms-azure-iot-edge://nobody-637000000000000000',
    ]) {
      await assert.rejects(
        service.registry.create({ deviceId: `scope-bad-${scope.length}`, deviceScope: scope } as any),
        (error: Error) => error.name === 'ArgumentError' && /deviceScope/.test(error.message),
        `scope ${scope}`,
      );
    }
  });

  test('cannot be changed at will; it can move to another Edge device, stay, or go', async () => {
    const leaf = (await service.registry.get('scope-leaf')).responseBody as any;
    await assert.rejects(
      service.registry.update({ ...leaf, deviceScope: 'ms-azure-iot-edge://invented-1' }),
      (error: Error) => error.name === 'ArgumentError' && /deviceScope/.test(error.message),
    );
    const kept = (await service.registry.update({ ...leaf, status: 'disabled' })).responseBody as any;
    assert.equal(kept.deviceScope, edge.deviceScope, 'an update of the identity read back keeps its scope');
    const moved = (await service.registry.update({ ...kept, deviceScope: otherEdge.deviceScope }))
      .responseBody as any;
    assert.deepEqual(moved.parentScopes, [otherEdge.deviceScope]);
    const gone = (await service.registry.update({ ...moved, deviceScope: null })).responseBody as any;
    assert.equal(gone.deviceScope, null);
    assert.deepEqual(gone.parentScopes, []);
  });
});
