/**
 * Tier 5: DeviceTwin through the REAL dynamic provider host over gRPC, with the `__provider` the
 * program serialized, against a running local hub observed through the official service SDK. The
 * twin owns only the leaves it declares (docs/twin-ownership.md): another writer's keys survive.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PlainObject } from '../support/host-grpc';
import { type KindFixture, startKindFixture } from '../support/host-kind-fixture';
import { hubTwin, twinContent } from '../support/host-twins';

const DEVICE_ID = 'host-device-twin';
const TWIN = `device-twin/${DEVICE_ID}`;

describe('DeviceTwin in the real provider host', () => {
  let f: KindFixture;
  let created: { id: string; properties: PlainObject };
  let inputs: PlainObject;
  const twin = () => hubTwin(f.registry, DEVICE_ID);

  before(async () => {
    f = await startKindFixture([
      {
        deviceId: DEVICE_ID,
        twin: { desired: { firmware: '1.0.0' }, tags: { site: 'lab', floor: 2 } },
        modules: [],
      },
    ]);
    await f.host.create(f.resource(`device/${DEVICE_ID}`).urn, await f.checked(`device/${DEVICE_ID}`));
    await f.registry.updateTwin(
      DEVICE_ID,
      { tags: { owner: 'ops' }, properties: { desired: { otherWriter: 1 } } },
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
      desired: { $version: 3 },
      tags: { 'a.b': 1 },
      waitForAck: { timeoutSeconds: 5 },
    };
    const { failures } = await f.host.check(urn, {}, news);
    const paths = failures.map((failure) => failure.property);
    assert.ok(paths.includes('waitForAck'), `a device twin has no ack wait; paths: ${paths}`);
    assert.ok(
      paths.some((p) => p.startsWith('desired') && p.includes('$version')),
      `paths: ${paths}`,
    );
    assert.ok(
      paths.some((p) => p.startsWith('tags') && p.includes('a.b')),
      `paths: ${paths}`,
    );
  });

  test('Create writes the declared desired and tag leaves next to the other writer', async () => {
    inputs = await f.checked(TWIN);
    created = await f.host.create(f.resource(TWIN).urn, inputs);
    assert.equal(created.id, DEVICE_ID);
    const hub = await twin();
    assert.deepEqual(twinContent(hub.desired), { otherWriter: 1, firmware: '1.0.0' });
    assert.deepEqual(twinContent(hub.tags), { owner: 'ops', site: 'lab', floor: 2 });
    assert.deepEqual(created.properties['tags'], { site: 'lab', floor: 2 });
  });

  test('Read reports a tag changed out of band; the declaration then diffs', async () => {
    const { urn } = f.resource(TWIN);
    await f.registry.updateTwin(DEVICE_ID, { tags: { floor: 7 } }, '*');
    const read = await f.host.read(created.id, urn, created.properties, inputs);
    assert.equal(read.id, DEVICE_ID);
    assert.deepEqual(read.properties['tags'], { site: 'lab', floor: 7 });
    const diff = await f.host.diff(created.id, urn, read.properties, inputs, read.inputs);
    assert.equal(diff.changes, 'some');
    created = { id: created.id, properties: read.properties };
  });

  test('Update restores the drifted tag, drops one and changes the desired leaf', async () => {
    const { urn } = f.resource(TWIN);
    const news = await f.checked(TWIN, { desired: { firmware: '1.1.0' }, tags: { floor: 2 } });
    const updated = await f.host.update(created.id, urn, created.properties, news, inputs);
    const hub = await twin();
    assert.deepEqual(twinContent(hub.desired), { otherWriter: 1, firmware: '1.1.0' });
    assert.deepEqual(twinContent(hub.tags), { owner: 'ops', floor: 2 });
    created = { id: created.id, properties: updated.properties };
    inputs = news;
  });

  test('Delete releases the owned leaves only; Read after the device is gone returns no id', async () => {
    const { urn } = f.resource(TWIN);
    await f.host.delete(created.id, urn, created.properties);
    const hub = await twin();
    assert.deepEqual(twinContent(hub.desired), { otherWriter: 1 });
    assert.deepEqual(twinContent(hub.tags), { owner: 'ops' });
    await f.registry.delete(DEVICE_ID);
    const read = await f.host.read(created.id, urn, created.properties, inputs);
    assert.equal(read.id, undefined);
  });
});
