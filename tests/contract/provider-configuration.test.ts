/**
 * The Configuration provider in-process against the real local hub, through the official Registry: a module
 * configuration targets modules by tags and is applied to them (metrics count them, custom metrics included),
 * the condition, priority, labels and metrics are updated in place with the etag (a 412 re-read), a higher
 * priority wins, drift made elsewhere is read back and diffed (content drift replaces), deleting stops
 * targeting, and the interplay with a ModuleTwin owning a leaf the configuration also sets
 * (docs/twin-ownership.md).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { configurationResourceProvider, moduleTwinProvider } from '../../dynamic-providers/provider-table';
import type { ConfigurationInputs, ConfigurationOutputs } from '../../lib/resource-configuration-state';
import type { TwinInputs, TwinOutputs } from '../../lib/resource-twin-state';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import { checkedInputs } from '../support/provider-check';
import { waitFor } from '../support/runtime-wait';

const provider = configurationResourceProvider;
let hub: LocalHub;

before(async () => {
  hub = await startTestHub();
});
after(async () => {
  await hub.close();
});

function registry() {
  return createHubClient(hub.serviceConnectionString('iothubowner'), { caCertificate: hub.caCertificatePem })
    .registry;
}

function checked(config: Record<string, unknown>): Promise<ConfigurationInputs> {
  return checkedInputs<ConfigurationInputs>(provider, hub, config);
}

async function moduleWithTags(
  deviceId: string,
  moduleId: string,
  tags: Record<string, unknown>,
): Promise<void> {
  await registry()
    .create({ deviceId } as any)
    .catch(() => undefined);
  await registry().addModule({ deviceId, moduleId } as any);
  await registry().updateModuleTwin(deviceId, moduleId, { tags } as any, '*');
}

async function desiredOf(deviceId: string, moduleId: string): Promise<any> {
  const twin = await registry().getModuleTwin(deviceId, moduleId);
  return JSON.parse(JSON.stringify(twin.responseBody)).properties.desired;
}

async function hubConfiguration(id: string): Promise<any> {
  return JSON.parse(JSON.stringify((await registry().getConfiguration(id)).responseBody));
}

/** The state a refresh would build for `id` (the previous inputs give the connection and content kind). */
async function current(id: string, kind: 'moduleContent' | 'deviceContent' = 'moduleContent') {
  const previous = {
    hubConnectionString: hub.serviceConnectionString(),
    hubCaCertificate: hub.caCertificatePem,
    configurationId: id,
    [kind]: {},
  } as unknown as ConfigurationOutputs;
  return (await provider.read!(id, previous)).props as ConfigurationOutputs;
}

const RING0 = "FROM devices.modules WHERE moduleId='agent' AND tags.ring=0";

describe('Configuration provider', () => {
  test('create targets modules by tags; the hub applies it and counts targeted, applied and custom metrics', async () => {
    await moduleWithTags('cfgp-1', 'agent', { ring: 0 });
    await moduleWithTags('cfgp-2', 'agent', { ring: 0 });
    await moduleWithTags('cfgp-3', 'agent', { ring: 1 });
    const inputs = await checked({
      configurationId: 'agent-ring0',
      moduleContent: {
        'properties.desired.telemetryInterval': 30,
        'properties.desired.mode': { level: 'eco' },
      },
      targetCondition: RING0,
      priority: 10,
      labels: { ring: '0' },
      metrics: {
        acked: 'SELECT deviceId FROM devices.modules WHERE properties.reported.telemetryInterval.ac = 200',
      },
    });
    const { id, outs: created } = await provider.create(inputs);
    const outs = created!;
    assert.equal(id, 'agent-ring0');
    assert.equal(typeof outs.etag, 'string');
    assert.notEqual(outs.etag, '');
    assert.deepEqual(outs.moduleContent, inputs.moduleContent);
    assert.equal(outs.deviceContent, undefined, 'no undefined key in outputs');
    assert.ok(!Object.values(outs).includes(undefined));
    for (const deviceId of ['cfgp-1', 'cfgp-2']) {
      const desired = await waitFor(`${deviceId} to get the content`, async () => {
        const d = await desiredOf(deviceId, 'agent');
        return d.telemetryInterval === 30 ? d : undefined;
      });
      assert.deepEqual(desired.mode, { level: 'eco' });
    }
    assert.equal((await desiredOf('cfgp-3', 'agent')).telemetryInterval, undefined, 'ring 1 is not targeted');
    const onHub = await hubConfiguration('agent-ring0');
    assert.deepEqual(onHub.systemMetrics.results, { targetedCount: 2, appliedCount: 2 });
    assert.deepEqual(onHub.metrics.results, { acked: 0 });
    assert.deepEqual(onHub.labels, { ring: '0' });
  });

  test('read reports the hub view; an unchanged stack has no diff', async () => {
    assert.equal((await current('agent-ring0')).configurationId, 'agent-ring0');
    // Inputs-only read (after an import-like refresh): content kind taken from the previous inputs.
    const again = await provider.read!('agent-ring0', {
      ...(await checked({
        configurationId: 'agent-ring0',
        moduleContent: {
          'properties.desired.telemetryInterval': 30,
          'properties.desired.mode': { level: 'eco' },
        },
        targetCondition: RING0,
      })),
    } as ConfigurationOutputs);
    const props = again.props as ConfigurationOutputs;
    assert.equal(props.priority, 10);
    assert.deepEqual(props.metrics, {
      acked: 'SELECT deviceId FROM devices.modules WHERE properties.reported.telemetryInterval.ac = 200',
    });
    const diff = await provider.diff!('agent-ring0', props, again.inputs as ConfigurationInputs);
    assert.equal(diff.changes, false);
  });

  test('update in place with the etag: condition, priority, labels, metrics; a 412 re-reads', async () => {
    const state = (
      await provider.read!('agent-ring0', {
        ...(await checked({
          configurationId: 'agent-ring0',
          moduleContent: { 'properties.desired.x': 1 },
          targetCondition: RING0,
        })),
      } as ConfigurationOutputs)
    ).props as ConfigurationOutputs;
    // Someone else writes in between: the stored etag is stale.
    const onHub = await hubConfiguration('agent-ring0');
    await registry().updateConfiguration({ ...onHub, labels: { ring: '0', touched: 'yes' } }, false);
    const news = { ...(state as ConfigurationInputs), priority: 20, labels: { ring: '0', owner: 'stack' } };
    delete (news as any).etag;
    const diff = await provider.diff!('agent-ring0', state, news);
    assert.deepEqual(diff.replaces, []);
    assert.equal(diff.changes, true);
    const outs = (await provider.update!('agent-ring0', state, news)).outs!;
    assert.equal(outs.priority, 20);
    assert.deepEqual(outs.labels, { ring: '0', owner: 'stack' }, 'the stack owns the whole object');
    assert.notEqual(outs.etag, state.etag);
    const widened = { ...news, targetCondition: "FROM devices.modules WHERE moduleId='agent'" };
    await provider.update!('agent-ring0', outs, widened);
    await waitFor('ring 1 to be targeted too', async () =>
      (await desiredOf('cfgp-3', 'agent')).telemetryInterval === 30 ? true : undefined,
    );
    // Back to ring 0 for the next tests; a twin no longer targeted keeps its values (docs/iot-hub-behaviour.md §8.4).
    const narrowed = await provider.update!('agent-ring0', { ...outs, ...widened, etag: '' }, news);
    assert.equal(narrowed.outs!.targetCondition, RING0);
    assert.equal((await desiredOf('cfgp-3', 'agent')).telemetryInterval, 30);
  });

  test('drift made elsewhere is read back: condition and priority update, content replaces', async () => {
    const before = await current('agent-ring0');
    const declared = { ...(before as ConfigurationInputs) };
    delete (declared as any).etag;
    const onHub = await hubConfiguration('agent-ring0');
    await registry().updateConfiguration(
      { ...onHub, priority: 3, targetCondition: 'FROM devices.modules WHERE tags.ring=9' },
      true,
    );
    const drifted = (await provider.read!('agent-ring0', before)).props as ConfigurationOutputs;
    assert.equal(drifted.priority, 3);
    const diff = await provider.diff!('agent-ring0', drifted, declared);
    assert.deepEqual(diff.replaces, []);
    assert.equal(diff.changes, true);
    const restored = { outs: (await provider.update!('agent-ring0', drifted, declared)).outs! };
    assert.equal(restored.outs.priority, before.priority);
    assert.equal(restored.outs.targetCondition, before.targetCondition);

    const contentChanged = { ...declared, moduleContent: { 'properties.desired.telemetryInterval': 60 } };
    const replace = await provider.diff!('agent-ring0', restored.outs, contentChanged);
    assert.deepEqual(replace.replaces, ['moduleContent']);
    assert.equal(replace.deleteBeforeReplace, true);
  });

  test('a higher priority wins on the twins both target', async () => {
    const high = await checked({
      configurationId: 'agent-urgent',
      moduleContent: { 'properties.desired.telemetryInterval': 5 },
      targetCondition: "FROM devices.modules WHERE moduleId='agent' AND deviceId='cfgp-2'",
      priority: 50,
    });
    await provider.create(high);
    await waitFor('cfgp-2 to get the higher priority', async () =>
      (await desiredOf('cfgp-2', 'agent')).telemetryInterval === 5 ? true : undefined,
    );
    assert.equal((await desiredOf('cfgp-1', 'agent')).telemetryInterval, 30);
    const ring0 = await hubConfiguration('agent-ring0');
    assert.deepEqual(ring0.systemMetrics.results, { targetedCount: 2, appliedCount: 1 });
  });

  test('delete stops targeting (new identities are not touched), twice is fine, read of a gone one is empty', async () => {
    const props = await current('agent-urgent');
    await provider.delete!('agent-urgent', props);
    await provider.delete!('agent-urgent', props);
    assert.deepEqual(await provider.read!('agent-urgent', props), {});
    const ring0 = await current('agent-ring0');
    await provider.delete!('agent-ring0', ring0);
    await moduleWithTags('cfgp-4', 'agent', { ring: 0 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await desiredOf('cfgp-4', 'agent')).telemetryInterval, undefined);
    assert.equal((await desiredOf('cfgp-1', 'agent')).telemetryInterval, 30, 'applied values stay');
  });

  test('creating an id that exists names it and says what to do, without the key', async () => {
    const inputs = await checked({
      configurationId: 'taken',
      deviceContent: { 'properties.desired.a': 1 },
      targetCondition: '*',
    });
    await provider.create(inputs);
    await assert.rejects(provider.create(inputs), (error: Error) => {
      assert.match(
        error.message,
        /Configuration "taken" on hub .*: create failed: .*already exists on the hub/,
      );
      assert.doesNotMatch(error.message, /SharedAccessKey=/);
      return true;
    });
  });
});

describe('Configuration and ModuleTwin owning the same leaf (docs/twin-ownership.md)', () => {
  test('the last writer wins; the twin sees the configuration as drift and restores its value once', async () => {
    await moduleWithTags('cfgp-mix', 'agent', { site: 'mix' });
    const twinInputs = (
      await moduleTwinProvider.check!(
        {} as TwinInputs,
        {
          hubConnectionString: hub.serviceConnectionString(),
          hubCaCertificate: hub.caCertificatePem,
          deviceId: 'cfgp-mix',
          moduleId: 'agent',
          desired: { telemetryInterval: 7 },
        } as unknown as TwinInputs,
      )
    ).inputs!;
    const twin = await moduleTwinProvider.create(twinInputs);
    await provider.create(
      await checked({
        configurationId: 'site-mix',
        moduleContent: { 'properties.desired.telemetryInterval': 99, 'properties.desired.other': 1 },
        targetCondition: "FROM devices.modules WHERE tags.site='mix'",
      }),
    );
    await waitFor('the configuration to overwrite the twin resource leaf', async () =>
      (await desiredOf('cfgp-mix', 'agent')).telemetryInterval === 99 ? true : undefined,
    );
    // The ModuleTwin's refresh shows the configuration's value as drift on its own leaf ...
    const refreshed = await moduleTwinProvider.read!('cfgp-mix/agent', twin.outs as TwinOutputs);
    assert.deepEqual((refreshed.props as TwinOutputs).desired, { telemetryInterval: 99 });
    const diff = await moduleTwinProvider.diff!('cfgp-mix/agent', refreshed.props as TwinOutputs, twinInputs);
    assert.equal(diff.changes, true);
    // ... and the next up writes its own value back; the configuration, already applied, does not re-apply.
    await moduleTwinProvider.update!('cfgp-mix/agent', refreshed.props as TwinOutputs, twinInputs);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const desired = await desiredOf('cfgp-mix', 'agent');
    assert.equal(desired.telemetryInterval, 7);
    assert.equal(desired.other, 1, 'the leaves only the configuration sets stay');
    const metrics = (await hubConfiguration('site-mix')).systemMetrics.results;
    assert.deepEqual(metrics, { targetedCount: 1, appliedCount: 1 }, 'still counted as applied');
  });
});
