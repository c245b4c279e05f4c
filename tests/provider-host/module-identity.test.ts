/**
 * Tier 5: ModuleIdentity through the REAL dynamic provider host over gRPC, with the `__provider` the
 * program serialized, against a running local hub observed through the official service SDK.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PlainObject } from '../support/host-grpc';
import { assertHubNotFound, type KindFixture, startKindFixture } from '../support/host-kind-fixture';
import { reveal } from '../support/host-secrets';
import { ProviderHostError } from '../support/provider-host';

const DEVICE_ID = 'host-mod-device';
const MODULE = `module/${DEVICE_ID}/host-module`;
const ADOPTED = `module/${DEVICE_ID}/host-adopt-module`;

describe('ModuleIdentity in the real provider host', () => {
  let f: KindFixture;
  let created: { id: string; properties: PlainObject };
  let inputs: PlainObject;

  before(async () => {
    f = await startKindFixture([
      { deviceId: DEVICE_ID, modules: [{ moduleId: 'host-module' }, { moduleId: 'host-adopt-module' }] },
    ]);
    // The module's device, made by the program's own DeviceIdentity through the same host.
    await f.host.create(f.resource(`device/${DEVICE_ID}`).urn, await f.checked(`device/${DEVICE_ID}`));
  });

  after(async () => {
    await f?.close();
  });

  test('Check reports every failure with its property path', async () => {
    const { urn, inputs: captured } = f.resource(MODULE);
    const news = {
      ...captured,
      moduleId: 'bad/module',
      authentication: { type: 'selfSigned', primaryThumbprint: 'not-hex' },
      adopt: 'yes',
    };
    const { failures } = await f.host.check(urn, {}, news);
    assert.deepEqual(failures.map((failure) => failure.property).sort(), [
      'adopt',
      'authentication.primaryThumbprint',
      'moduleId',
    ]);
  });

  test('Create registers the module on its device; its connection string carries the hub key', async () => {
    inputs = await f.checked(MODULE);
    created = await f.host.create(f.resource(MODULE).urn, inputs);
    assert.equal(created.id, `${DEVICE_ID}/host-module`);
    const module = (await f.registry.getModule(DEVICE_ID, 'host-module')).responseBody;
    const props = reveal(created.properties);
    assert.equal(props['primaryKey'], module.authentication?.symmetricKey?.primaryKey);
    assert.match(
      String(props['moduleConnectionString']),
      new RegExp(`;DeviceId=${DEVICE_ID};ModuleId=host-module;SharedAccessKey=`),
    );
  });

  test('Read returns the hub view with inputs that diff as unchanged', async () => {
    const { urn } = f.resource(MODULE);
    const read = await f.host.read(created.id, urn, created.properties, inputs);
    assert.equal(read.id, created.id);
    assert.equal(read.properties['moduleId'], 'host-module');
    const same = await f.host.diff(created.id, urn, read.properties, read.inputs!);
    assert.equal(same.changes, 'none');
  });

  test('Update sets managedBy on the hub and keeps the keys', async () => {
    const { urn } = f.resource(MODULE);
    const news = await f.checked(MODULE, { managedBy: 'IotEdge' });
    const diff = await f.host.diff(created.id, urn, created.properties, news, inputs);
    assert.equal(diff.changes, 'some');
    const updated = await f.host.update(created.id, urn, created.properties, news, inputs);
    const module = (await f.registry.getModule(DEVICE_ID, 'host-module')).responseBody;
    assert.equal(module.managedBy, 'IotEdge');
    assert.equal(module.authentication?.symmetricKey?.primaryKey, reveal(created.properties)['primaryKey']);
    created = { id: created.id, properties: updated.properties };
    inputs = news;
  });

  test('Delete removes the module; Read of the deleted module returns no id', async () => {
    const { urn } = f.resource(MODULE);
    await f.host.delete(created.id, urn, created.properties);
    await assertHubNotFound(f.registry.getModule(DEVICE_ID, 'host-module'), 'deleted module');
    const read = await f.host.read(created.id, urn, created.properties, inputs);
    assert.equal(read.id, undefined);
  });

  test('Create of an existing module fails naming adopt; with adopt it takes the module over', async () => {
    await f.registry.addModule({ deviceId: DEVICE_ID, moduleId: 'host-adopt-module' } as any);
    const existing = (await f.registry.getModule(DEVICE_ID, 'host-adopt-module')).responseBody;
    const { urn } = f.resource(ADOPTED);
    await assert.rejects(f.host.create(urn, await f.checked(ADOPTED)), (error: unknown) => {
      assert.ok(error instanceof ProviderHostError);
      assert.match(error.message, /adopt/);
      return true;
    });
    const adopted = await f.host.create(urn, await f.checked(ADOPTED, { adopt: true }));
    assert.equal(reveal(adopted.properties)['primaryKey'], existing.authentication?.symmetricKey?.primaryKey);
  });
});
