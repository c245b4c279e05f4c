/**
 * Tier 5: ModuleTwin through the REAL dynamic provider host over gRPC, with the `__provider` the
 * program serialized, against a running local hub observed through the official service SDK. The
 * twin owns only the leaves it declares (docs/twin-ownership.md): another writer's key survives.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PlainObject } from '../support/host-grpc';
import { type KindFixture, startKindFixture } from '../support/host-kind-fixture';
import { hubTwin, twinContent } from '../support/host-twins';

const DEVICE_ID = 'host-twin-device';
const MODULE_ID = 'host-twin-module';
const TWIN = `module-twin/${DEVICE_ID}/${MODULE_ID}`;

describe('ModuleTwin in the real provider host', () => {
  let f: KindFixture;
  let created: { id: string; properties: PlainObject };
  let inputs: PlainObject;
  const twin = () => hubTwin(f.registry, DEVICE_ID, MODULE_ID);

  before(async () => {
    f = await startKindFixture([
      {
        deviceId: DEVICE_ID,
        modules: [
          {
            moduleId: MODULE_ID,
            twin: { desired: { telemetryInterval: 122, limits: { max: 9 } }, tags: { site: 'lab' } },
          },
        ],
      },
    ]);
    for (const name of [`device/${DEVICE_ID}`, `module/${DEVICE_ID}/${MODULE_ID}`]) {
      await f.host.create(f.resource(name).urn, await f.checked(name));
    }
    // Another writer's key, set before the stack touches the twin.
    await f.registry.updateModuleTwin(
      DEVICE_ID,
      MODULE_ID,
      { properties: { desired: { otherWriter: 'keep' } } },
      '*',
    );
  });

  after(async () => {
    await f?.close();
  });

  test('Check reports every failure with its property path', async () => {
    const { urn, inputs: captured } = f.resource(TWIN);
    const news = {
      ...captured,
      desired: { 'bad.key': 1, ok: 'x'.repeat(5000) },
      tags: { 'has space': true },
      waitForAck: { timeoutSeconds: 0 },
    };
    const { failures } = await f.host.check(urn, {}, news);
    const paths = failures.map((failure) => failure.property);
    assert.ok(paths.includes('waitForAck.timeoutSeconds'), `paths: ${paths}`);
    assert.ok(
      paths.some((p) => p.startsWith('desired') && p.includes('bad.key')),
      `paths: ${paths}`,
    );
    assert.ok(
      paths.some((p) => p.startsWith('desired') && p.includes('ok')),
      `paths: ${paths}`,
    );
    assert.ok(
      paths.some((p) => p.startsWith('tags') && p.includes('has space')),
      `paths: ${paths}`,
    );
  });

  test('Create writes the declared leaves and leaves the other writer alone', async () => {
    inputs = await f.checked(TWIN);
    created = await f.host.create(f.resource(TWIN).urn, inputs);
    assert.equal(created.id, `${DEVICE_ID}/${MODULE_ID}`);
    const hub = await twin();
    assert.deepEqual(twinContent(hub.desired), {
      otherWriter: 'keep',
      telemetryInterval: 122,
      limits: { max: 9 },
    });
    assert.deepEqual(twinContent(hub.tags), { site: 'lab' });
    assert.deepEqual(created.properties['desired'], { telemetryInterval: 122, limits: { max: 9 } });
  });

  test('Read reports a leaf changed out of band, and the diff against the declaration shows it', async () => {
    const { urn } = f.resource(TWIN);
    await f.registry.updateModuleTwin(
      DEVICE_ID,
      MODULE_ID,
      { properties: { desired: { telemetryInterval: 5 } } },
      '*',
    );
    const read = await f.host.read(created.id, urn, created.properties, inputs);
    assert.equal(read.id, created.id);
    assert.deepEqual(read.properties['desired'], { telemetryInterval: 5, limits: { max: 9 } });
    assert.deepEqual(read.inputs?.['desired'], { telemetryInterval: 5, limits: { max: 9 } });
    const diff = await f.host.diff(created.id, urn, read.properties, inputs, read.inputs);
    assert.equal(diff.changes, 'some');
    created = { id: created.id, properties: read.properties };
  });

  test('Update changes a leaf, adds one and removes one; nobody else’s key is touched', async () => {
    const { urn } = f.resource(TWIN);
    const news = await f.checked(TWIN, { desired: { telemetryInterval: 60, mode: 'eco' } });
    const updated = await f.host.update(created.id, urn, created.properties, news, inputs);
    const hub = await twin();
    // limits.max was owned and is no longer declared: removed; otherWriter was never ours.
    assert.deepEqual(twinContent(hub.desired), { otherWriter: 'keep', telemetryInterval: 60, mode: 'eco' });
    assert.deepEqual(updated.properties['desired'], { telemetryInterval: 60, mode: 'eco' });
    created = { id: created.id, properties: updated.properties };
    inputs = news;
  });

  test('Delete releases only the owned leaves', async () => {
    await f.host.delete(created.id, f.resource(TWIN).urn, created.properties);
    const hub = await twin();
    assert.deepEqual(twinContent(hub.desired), { otherWriter: 'keep' });
    assert.deepEqual(twinContent(hub.tags), {});
  });

  test('Read of the twin of a deleted module returns no id', async () => {
    await f.registry.removeModule(DEVICE_ID, MODULE_ID);
    const read = await f.host.read(created.id, f.resource(TWIN).urn, created.properties, inputs);
    assert.equal(read.id, undefined);
  });
});
