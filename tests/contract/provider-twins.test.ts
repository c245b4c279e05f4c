/**
 * The ModuleTwin and DeviceTwin providers in-process against the real local hub: ownership by leaf
 * (other writers' keys survive update and delete), drift read and restored, 412 handled, and the
 * acknowledgement wait driven by a real ModuleClient (azure-iot-device over MQTT).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { ModuleClient, type Twin } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { deviceTwinProvider, moduleTwinProvider } from '../../dynamic-providers/provider-table';
import type { TwinInputs, TwinOutputs } from '../../lib/resource-twin-state';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import { checkedInputs } from '../support/provider-check';
import { waitFor, within } from '../support/runtime-wait';

let hub: LocalHub;
const hubLog: string[] = [];
before(async () => {
  hub = await startTestHub({ logLevel: 'info', logWrite: (line) => hubLog.push(line) });
});
after(async () => {
  await hub.close();
});

function checked(kind: 'module' | 'device', config: Record<string, unknown>): Promise<TwinInputs> {
  return checkedInputs<TwinInputs>(kind === 'module' ? moduleTwinProvider : deviceTwinProvider, hub, config);
}

function registry() {
  return createHubClient(hub.serviceConnectionString('iothubowner'), { caCertificate: hub.caCertificatePem })
    .registry;
}

async function createModule(deviceId: string, moduleId: string): Promise<void> {
  await registry().create({ deviceId } as any);
  await registry().addModule({ deviceId, moduleId } as any);
}

async function moduleTwin(deviceId: string, moduleId: string): Promise<any> {
  return JSON.parse(JSON.stringify((await registry().getModuleTwin(deviceId, moduleId)).responseBody));
}

describe('ModuleTwin provider', () => {
  test('owns only its leaves: other writers survive create, update and delete', async () => {
    await createModule('tw-own', 'm1');
    const other = { tags: { owner: 'ops' }, properties: { desired: { other: 1, a: { foreign: true } } } };
    await registry().updateModuleTwin('tw-own', 'm1', other, '*');
    const inputs = await checked('module', {
      deviceId: 'tw-own',
      moduleId: 'm1',
      desired: { a: { b: 1 }, c: 'x' },
      tags: { env: 'dev' },
    });

    const created = await moduleTwinProvider.create(inputs);
    assert.equal(created.id, 'tw-own/m1');
    assert.deepEqual(created.outs!.desired, { a: { b: 1 }, c: 'x' });
    assert.deepEqual(created.outs!.tags, { env: 'dev' });
    let twin = await moduleTwin('tw-own', 'm1');
    assert.equal(created.outs!.desiredVersion, twin.properties.desired.$version);
    assert.deepEqual(
      [twin.properties.desired.other, twin.properties.desired.a],
      [1, { foreign: true, b: 1 }],
    );

    const read = await moduleTwinProvider.read!(created.id, created.outs!);
    assert.deepEqual(read.inputs, inputs, 'refresh must not invent a diff');
    assert.equal((await moduleTwinProvider.diff!(created.id, read.props!, inputs)).changes, false);

    const news = { ...inputs, desired: { a: { b: 2 } }, tags: {} };
    const { outs } = await moduleTwinProvider.update!(created.id, read.props!, news);
    twin = await moduleTwin('tw-own', 'm1');
    assert.equal('c' in twin.properties.desired, false, 'a leaf removed from config is nulled');
    assert.deepEqual(twin.properties.desired.a, { foreign: true, b: 2 });
    assert.equal(twin.properties.desired.other, 1);
    assert.deepEqual(twin.tags, { owner: 'ops' });

    await moduleTwinProvider.delete!(created.id, outs!);
    twin = await moduleTwin('tw-own', 'm1');
    assert.deepEqual(twin.properties.desired.a, { foreign: true });
    assert.equal(twin.properties.desired.other, 1);
    assert.deepEqual(twin.tags, { owner: 'ops' });
  });

  test('an out-of-band change of an owned leaf is read as drift and restored, also past a stale etag', async () => {
    await createModule('tw-drift', 'm1');
    const inputs = await checked('module', {
      deviceId: 'tw-drift',
      moduleId: 'm1',
      desired: { mode: 'auto' },
    });
    const created = await moduleTwinProvider.create(inputs);
    await registry().updateModuleTwin('tw-drift', 'm1', { properties: { desired: { mode: 'manual' } } }, '*');

    const read = await moduleTwinProvider.read!(created.id, created.outs!);
    assert.deepEqual(read.props!.desired, { mode: 'manual' });
    assert.deepEqual((read.inputs as TwinInputs).desired, { mode: 'manual' });
    assert.equal((await moduleTwinProvider.diff!(created.id, read.props!, inputs)).changes, true);

    // The outputs of create carry the etag from before the other writer: the PATCH gets 412, re-reads, retries.
    const logStart = hubLog.length;
    await moduleTwinProvider.update!(created.id, created.outs!, inputs);
    assert.equal((await moduleTwin('tw-drift', 'm1')).properties.desired.mode, 'auto');
    assert.ok(
      hubLog.slice(logStart).some((l) => /\bstatus=412\b/.test(l)),
      'the stale etag was not exercised',
    );
  });

  test('read with inputs only (the import resource option) reports the owned leaves', async () => {
    await createModule('tw-import', 'm1');
    await registry().updateModuleTwin('tw-import', 'm1', { properties: { desired: { a: 1, b: 2 } } }, '*');
    const inputs = await checked('module', { deviceId: 'tw-import', moduleId: 'm1', desired: { a: 1 } });
    const read = await moduleTwinProvider.read!('tw-import/m1', inputs as TwinOutputs);
    assert.equal(read.id, 'tw-import/m1');
    assert.deepEqual(read.inputs, inputs);
    assert.equal((await moduleTwinProvider.diff!('tw-import/m1', read.props!, inputs)).changes, false);
  });

  test('a twin whose module was deleted reads as gone, and delete is then a no-op', async () => {
    await createModule('tw-gone', 'm1');
    const { id, outs } = await moduleTwinProvider.create(
      await checked('module', { deviceId: 'tw-gone', moduleId: 'm1', desired: { a: 1 } }),
    );
    await registry().removeModule('tw-gone', 'm1');
    assert.deepEqual(await moduleTwinProvider.read!(id, outs!), {});
    await moduleTwinProvider.delete!(id, outs!);
  });
  test('the serialized provider, loaded as the Pulumi host loads it, writes and releases leaves', async () => {
    await createModule('tw-serialized', 'm1');
    const serialized = await pulumi.runtime.serializeFunction(() => moduleTwinProvider, {
      allowSecrets: true,
    });
    const requireFromString = createRequire(require.resolve('@pulumi/pulumi'))('require-from-string');
    const loaded: pulumi.dynamic.ResourceProvider = requireFromString(serialized.text).handler();
    const inputs = await checked('module', { deviceId: 'tw-serialized', moduleId: 'm1', desired: { a: 1 } });
    const created = await loaded.create(inputs);
    assert.equal((await moduleTwin('tw-serialized', 'm1')).properties.desired.a, 1);
    await loaded.delete!(created.id, created.outs);
    assert.equal('a' in (await moduleTwin('tw-serialized', 'm1')).properties.desired, false);
  });
});

describe('DeviceTwin provider', () => {
  test('create, read, update and delete own only the declared leaves', async () => {
    await registry().create({ deviceId: 'dtw' } as any);
    await registry().updateTwin('dtw', { tags: { site: 'hq' } }, '*');
    const inputs = await checked('device', { deviceId: 'dtw', desired: { fw: '1.0' }, tags: { ring: 1 } });
    const { id, outs } = await deviceTwinProvider.create(inputs);
    assert.equal(id, 'dtw');
    const read = await deviceTwinProvider.read!(id, outs!);
    assert.deepEqual(read.inputs, inputs);
    const { outs: updated } = await deviceTwinProvider.update!(id, read.props!, {
      ...inputs,
      desired: { fw: '1.1' },
    });
    let twin = (await registry().getTwin('dtw')).responseBody as any;
    assert.equal(twin.properties.desired.fw, '1.1');
    assert.deepEqual(twin.tags, { site: 'hq', ring: 1 });
    await deviceTwinProvider.delete!(id, updated!);
    twin = (await registry().getTwin('dtw')).responseBody as any;
    assert.equal('fw' in twin.properties.desired, false);
    assert.deepEqual(twin.tags, { site: 'hq' });
  });
});

/** A module that acknowledges every desired key PnP-style, answering with `answer(key, value)`. */
async function startAcker(
  deviceId: string,
  moduleId: string,
  answer: (value: unknown) => { ac: number; ad?: string },
) {
  const client = ModuleClient.fromConnectionString(hub.deviceConnectionString(deviceId, moduleId), Mqtt);
  // setOptions is asynchronous (the SDK first tries `ca` as a file path): await it before open.
  await within('setOptions({ ca })', client.setOptions({ ca: hub.caCertificatePem }));
  await within('the acking module to open', client.open());
  const twin: Twin = await within('the acking module twin', client.getTwin());
  const seen: Record<string, unknown>[] = [];
  twin.on('properties.desired', (desired: Record<string, unknown>) => {
    seen.push(desired);
    const patch: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(desired)) {
      if (!key.startsWith('$')) patch[key] = { value, av: desired['$version'], ...answer(value) };
    }
    twin.properties.reported.update(patch, () => {});
  });
  // The desired subscription is live once a write made after it arrives. The subscription is made
  // in the background by the SDK, so a write can precede it and be missed: write again until seen.
  let round = 0;
  try {
    await waitFor('the acking module to receive a desired patch (its subscription is live)', async () => {
      if (seen.some((d) => 'warmup' in d)) return true;
      if (round++ % 10 === 0) {
        await registry().updateModuleTwin(
          deviceId,
          moduleId,
          { properties: { desired: { warmup: round } } },
          '*',
        );
      }
      return undefined;
    });
  } catch (error) {
    await within('the acking module to close', client.close());
    throw error;
  }
  return client;
}

describe('ModuleTwin waitForAck', () => {
  test('waits for the acknowledgement, fails with the device description, warns or fails on timeout', async (t) => {
    await createModule('ack-dev', 'm1');
    const acker = await startAcker('ack-dev', 'm1', (value) =>
      value === 0 ? { ac: 400, ad: 'interval must be positive' } : { ac: 200 },
    );
    const config = {
      deviceId: 'ack-dev',
      moduleId: 'm1',
      desired: { interval: 5 },
      waitForAck: { timeoutSeconds: 20 },
    };
    let outs: TwinOutputs;
    try {
      const inputs = await checked('module', config);
      outs = (await moduleTwinProvider.create(inputs)).outs!;
      const reported = (await moduleTwin('ack-dev', 'm1')).properties.reported;
      assert.ok(reported.interval.av >= outs.desiredVersion && reported.interval.ac === 200);

      const rejected = await checked('module', { ...config, desired: { interval: 0 } });
      await assert.rejects(moduleTwinProvider.update!('ack-dev/m1', outs, rejected), (err: any) => {
        assert.match(
          err.message,
          /^ModuleTwin "ack-dev\/m1" on hub .*rejected.*interval \(ac 400: interval must be positive\)/,
        );
        assert.equal(err.id, 'ack-dev/m1', 'the write happened: reported as an initialization failure');
        assert.deepEqual(err.properties.desired, { interval: 0 });
        return true;
      });
      outs = (await moduleTwinProvider.read!('ack-dev/m1', outs)).props!;
    } finally {
      await within('the acking module to close', acker.close());
    }

    const warn = t.mock.method(console, 'warn', () => {});
    const quiet = await checked('module', {
      ...config,
      desired: { interval: 7 },
      waitForAck: { timeoutSeconds: 1, onTimeout: 'warn' },
    });
    const warned = await moduleTwinProvider.update!('ack-dev/m1', outs, quiet);
    assert.match(
      String(warn.mock.calls[0]?.arguments[0]),
      /did not acknowledge desired \$version \d+ within 1s \(still pending: interval\)/,
    );
    const strict = await checked('module', {
      ...config,
      desired: { interval: 8 },
      waitForAck: { timeoutSeconds: 1 },
    });
    await assert.rejects(
      moduleTwinProvider.update!('ack-dev/m1', warned.outs!, strict),
      /did not acknowledge/,
    );
  });
});
