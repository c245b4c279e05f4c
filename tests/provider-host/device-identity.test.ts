/**
 * Tier 5: DeviceIdentity through the REAL dynamic provider host over gRPC, with the `__provider` the
 * program serialized, against a running local hub observed through the official service SDK.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PlainObject } from '../support/host-grpc';
import { assertHubNotFound, type KindFixture, startKindFixture } from '../support/host-kind-fixture';
import { isSecret, reveal } from '../support/host-secrets';
import { ProviderHostError } from '../support/provider-host';

const DEVICE = 'device/host-device';
const ADOPTED = 'device/host-adopt';

describe('DeviceIdentity in the real provider host', () => {
  let f: KindFixture;
  let created: { id: string; properties: PlainObject };
  let inputs: PlainObject;

  before(async () => {
    f = await startKindFixture([
      { deviceId: 'host-device', modules: [] },
      { deviceId: 'host-adopt', modules: [] },
    ]);
  });

  after(async () => {
    await f?.close();
  });

  test('Check reports every failure with its property path', async () => {
    const { urn, inputs: captured } = f.resource(DEVICE);
    const news = {
      ...captured,
      deviceId: 'bad id',
      status: 'paused',
      statusReason: 'x'.repeat(129),
      iotEdge: 'yes',
    };
    const { failures } = await f.host.check(urn, {}, news);
    const paths = failures.map((failure) => failure.property).sort();
    assert.deepEqual(paths, ['deviceId', 'iotEdge', 'status', 'statusReason']);
    assert.ok(failures.every((failure) => failure.reason.length > 0));
  });

  test('Create registers the device with generated keys, returned in its outputs', async () => {
    inputs = await f.checked(DEVICE);
    created = await f.host.create(f.resource(DEVICE).urn, inputs);
    assert.equal(created.id, 'host-device');
    const device = (await f.registry.get('host-device')).responseBody;
    assert.equal(device.status, 'enabled');
    const props = reveal(created.properties);
    assert.equal(props['primaryKey'], device.authentication?.symmetricKey?.primaryKey);
    assert.match(String(props['deviceConnectionString']), /;DeviceId=host-device;SharedAccessKey=/);
    assert.ok(
      isSecret(created.properties['hubConnectionString']),
      'the connection string output stays secret',
    );
  });

  test('Read returns the hub view with inputs that diff as unchanged; a new deviceId means replace', async () => {
    const { urn } = f.resource(DEVICE);
    const read = await f.host.read(created.id, urn, created.properties, inputs);
    assert.equal(read.id, 'host-device');
    assert.equal(read.properties['status'], 'enabled');
    assert.ok(read.inputs, 'read returns inputs so refresh does not invent a diff');
    const same = await f.host.diff(created.id, urn, read.properties, read.inputs);
    assert.equal(same.changes, 'none');
    const renamed = await f.host.diff(created.id, urn, read.properties, {
      ...inputs,
      deviceId: 'other-device',
    });
    assert.ok(renamed.replaces.includes('deviceId'), `replaces: ${renamed.replaces}`);
  });

  test('Update disables the device and keeps its keys', async () => {
    const { urn } = f.resource(DEVICE);
    const news = await f.checked(DEVICE, { status: 'disabled', statusReason: 'maintenance' });
    const diff = await f.host.diff(created.id, urn, created.properties, news, inputs);
    assert.deepEqual({ changes: diff.changes, replaces: diff.replaces }, { changes: 'some', replaces: [] });
    const updated = await f.host.update(created.id, urn, created.properties, news, inputs);
    const device = (await f.registry.get('host-device')).responseBody;
    assert.equal(device.status, 'disabled');
    assert.equal(device.statusReason, 'maintenance');
    assert.equal(device.authentication?.symmetricKey?.primaryKey, reveal(created.properties)['primaryKey']);
    assert.equal(updated.properties['status'], 'disabled');
    created = { id: created.id, properties: updated.properties };
    inputs = news;
  });

  test('Read reports a change made out of band', async () => {
    const device = (await f.registry.get('host-device')).responseBody;
    await f.registry.update({ ...device, status: 'enabled' } as any);
    const read = await f.host.read(created.id, f.resource(DEVICE).urn, created.properties, inputs);
    assert.equal(read.properties['status'], 'enabled');
    assert.equal(read.inputs?.['status'], 'enabled');
  });

  test('Delete removes the device; Read of the deleted device returns no id; Delete again is a no-op', async () => {
    const { urn } = f.resource(DEVICE);
    await f.host.delete(created.id, urn, created.properties);
    await assertHubNotFound(f.registry.get('host-device'), 'deleted device');
    const read = await f.host.read(created.id, urn, created.properties, inputs);
    assert.equal(read.id, undefined);
    await f.host.delete(created.id, urn, created.properties);
  });

  test('Create of an existing device fails naming adopt; with adopt it takes the device over', async () => {
    await f.registry.create({ deviceId: 'host-adopt', status: 'enabled' } as any);
    const existingKey = (await f.registry.get('host-adopt')).responseBody.authentication?.symmetricKey
      ?.primaryKey;
    const { urn } = f.resource(ADOPTED);
    await assert.rejects(f.host.create(urn, await f.checked(ADOPTED)), (error: unknown) => {
      assert.ok(error instanceof ProviderHostError);
      assert.match(error.message, /already exists/);
      assert.match(error.message, /adopt/);
      assert.ok(!error.message.includes(f.target.connectionString.split('SharedAccessKey=')[1]!));
      return true;
    });
    const adopted = await f.host.create(urn, await f.checked(ADOPTED, { adopt: true }));
    assert.equal(adopted.id, 'host-adopt');
    assert.equal(reveal(adopted.properties)['primaryKey'], existingKey, 'adopt keeps the existing keys');
  });
});
