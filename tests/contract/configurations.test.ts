/**
 * Contract: configurations (automatic device and module management, docs/iot-hub-behaviour.md §8.4) through
 * the official Registry: CRUD with etag concurrency, content round-tripping, application to targeted
 * twins (highest priority wins, pushed to a connected device), re-evaluation when tags change or
 * identities appear, system and custom metrics, module configurations, and persistence.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createHubClient, type HubClient } from '../../dynamic-providers/iothub-client';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import { waitFor, within } from '../support/runtime-wait';
import { closeAll, openSdkClient, type SdkClient } from './sdk-devices';

let hub: LocalHub;
let service: HubClient;
const clients: SdkClient[] = [];

const LOW = {
  id: 'settings-low',
  content: { deviceContent: { 'properties.desired.settings': { level: 'low', n: 1 } } },
  targetCondition: "tags.env='prod'",
  priority: 1,
  labels: { team: 'ops', purpose: 'contract' },
  metrics: { queries: { prodDevices: "SELECT deviceId FROM devices WHERE tags.env='prod'" } },
};
const HIGH = {
  id: 'settings-high',
  content: { deviceContent: { 'properties.desired.settings.level': 'high' } },
  targetCondition: "tags.env='prod' AND tags.tier='gold'",
  priority: 5,
};

before(async () => {
  hub = await startTestHub();
  service = createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificatePem });
  for (const [deviceId, tags] of [
    ['cfg-1', { env: 'prod' }],
    ['cfg-2', { env: 'dev' }],
    ['cfg-3', { env: 'prod', tier: 'gold' }],
  ] as const) {
    await service.registry.create({ deviceId });
    await service.registry.updateTwin(deviceId, { tags } as any, '*');
  }
});

after(async () => {
  await closeAll(clients);
  await hub.close();
});

async function desired(deviceId: string, moduleId?: string): Promise<any> {
  const twin = moduleId
    ? await service.registry.getModuleTwin(deviceId, moduleId)
    : await service.registry.getTwin(deviceId);
  return JSON.parse(JSON.stringify(twin.responseBody)).properties.desired;
}

function settingsOf(deviceId: string, expected: unknown): Promise<true> {
  return waitFor(`${deviceId}'s desired settings to be ${JSON.stringify(expected)}`, async () => {
    const settings = (await desired(deviceId))['settings'];
    return JSON.stringify(settings) === JSON.stringify(expected) ? true : undefined;
  });
}

async function configuration(id: string): Promise<any> {
  return JSON.parse(JSON.stringify((await service.registry.getConfiguration(id)).responseBody));
}

describe('configurations', () => {
  test('a new configuration round-trips and is applied to its targets, pushed to connected devices', async () => {
    const device = await openSdkClient(hub.deviceConnectionString('cfg-1'), hub.caCertificatePem);
    clients.push(device);
    const twin = await within('cfg-1 twin', device.getTwin());
    const patches: any[] = [];
    twin.on('properties.desired', (patch: any) => patches.push(patch));

    const created = JSON.parse(
      JSON.stringify((await service.registry.addConfiguration({ ...LOW } as any)).responseBody),
    );
    assert.deepEqual(created.content, LOW.content);
    assert.deepEqual(created.labels, LOW.labels);
    assert.equal(created.targetCondition, LOW.targetCondition);
    assert.equal(created.priority, 1);
    assert.deepEqual(created.metrics.queries, LOW.metrics.queries);
    assert.equal(typeof created.etag, 'string');

    await settingsOf('cfg-1', { level: 'low', n: 1 });
    await settingsOf('cfg-3', { level: 'low', n: 1 });
    assert.equal((await desired('cfg-2'))['settings'], undefined, 'not targeted');
    await waitFor('the applied content on the connected device', () =>
      patches.find((p) => p.settings?.level === 'low'),
    );
    await assert.rejects(service.registry.addConfiguration({ ...LOW } as any), {
      name: 'DeviceAlreadyExistsError',
    });
  });

  test('the highest priority wins, and the metrics say who is targeted and applied', async () => {
    await service.registry.addConfiguration({ ...HIGH } as any);
    await settingsOf('cfg-3', { level: 'high', n: 1 });
    await settingsOf('cfg-1', { level: 'low', n: 1 });
    const low = await configuration(LOW.id);
    assert.deepEqual(low.systemMetrics.results, { targetedCount: 2, appliedCount: 1 });
    assert.deepEqual(low.metrics.results, { prodDevices: 2 });
    const high = await configuration(HIGH.id);
    assert.deepEqual(high.systemMetrics.results, { targetedCount: 1, appliedCount: 1 });
  });

  test('re-evaluated when tags change and when identities appear', async () => {
    await service.registry.updateTwin('cfg-2', { tags: { env: 'prod' } } as any, '*');
    await settingsOf('cfg-2', { level: 'low', n: 1 });
    await service.registry.create({ deviceId: 'cfg-4' });
    await service.registry.updateTwin('cfg-4', { tags: { env: 'prod', tier: 'gold' } } as any, '*');
    await settingsOf('cfg-4', { level: 'high' });
    const low = await configuration(LOW.id);
    assert.deepEqual(low.metrics.results, { prodDevices: 4 });
  });

  test('etag concurrency: a stale etag is 412, the current one or * updates; content cannot change', async () => {
    const current = await configuration(LOW.id);
    const updated = JSON.parse(
      JSON.stringify((await service.registry.updateConfiguration({ ...current, priority: 2 })).responseBody),
    );
    assert.equal(updated.priority, 2);
    assert.notEqual(updated.etag, current.etag);
    await assert.rejects(service.registry.updateConfiguration({ ...current, priority: 3 }), {
      name: 'InvalidEtagError',
    });
    const forced = await service.registry.updateConfiguration({ ...current, labels: { team: 'x' } }, true);
    assert.deepEqual((forced.responseBody as any).labels, { team: 'x' });
    await assert.rejects(
      service.registry.updateConfiguration(
        { ...current, content: { deviceContent: { 'properties.desired.other': 1 } } },
        true,
      ),
      { name: 'ArgumentError' },
    );
  });

  test('list and delete', async () => {
    const all = (await service.registry.getConfigurations()).responseBody as any[];
    assert.deepEqual(all.map((c) => c.id).sort(), [HIGH.id, LOW.id]);
    await service.registry.removeConfiguration(HIGH.id);
    await assert.rejects(service.registry.getConfiguration(HIGH.id), (error: any) =>
      /ConfigurationNotFound/.test(String(error.responseBody)),
    );
  });

  test('a module configuration targets module twins', async () => {
    await service.registry.addModule({ deviceId: 'cfg-1', moduleId: 'agent' } as any);
    await service.registry.addConfiguration({
      id: 'agent-config',
      content: { moduleContent: { 'properties.desired.agent': { interval: 30 } } },
      targetCondition: "FROM devices.modules WHERE moduleId = 'agent'",
      priority: 1,
    } as any);
    await waitFor('the module twin to get the content', async () =>
      (await desired('cfg-1', 'agent'))['agent']?.interval === 30 ? true : undefined,
    );
    assert.equal((await desired('cfg-1'))['agent'], undefined, 'the device twin is not a module target');
    await assert.rejects(
      service.registry.addConfiguration({
        id: 'bad-module-config',
        content: { moduleContent: { 'properties.desired.x': 1 } },
        targetCondition: "tags.env='prod'",
      } as any),
      { name: 'ArgumentError' },
    );
  });
});

test('configurations persist like the registry', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hub-configurations-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startTestHub({ dataDir });
  const { registry } = createHubClient(first.serviceConnectionString(), {
    caCertificate: first.caCertificatePem,
  });
  await registry.addConfiguration({ ...LOW } as any);
  await first.close();
  const second = await startTestHub({ dataDir });
  t.after(() => second.close());
  const again = createHubClient(second.serviceConnectionString(), { caCertificate: second.caCertificatePem });
  const kept = (await again.registry.getConfiguration(LOW.id)).responseBody as any;
  assert.deepEqual(JSON.parse(JSON.stringify(kept.content)), LOW.content);
});
