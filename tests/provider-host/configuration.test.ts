/**
 * Tier 5: Configuration through the REAL dynamic provider host over gRPC, with the `__provider` the program
 * serialized for a `configurations:` entry, against a running local hub observed through the official
 * service SDK: Check reports IoT Hub's rules at their paths, Create applies the content to the modules the
 * tags target, Read shows drift, Diff plans an in-place update or a replace (content), Update and Delete.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Registry } from 'azure-iothub';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import type { PlainObject } from '../support/host-grpc';
import {
  captureDynamicResources,
  capturedNamed,
  localStackConfig,
  localUrn,
  type ProgramHub,
  startProgramHub,
} from '../support/host-program';
import { type ProviderHost, startProviderHost } from '../support/provider-host';
import { waitFor } from '../support/runtime-wait';

const NAME = 'configuration/ring0-agents';
const DEVICES = [
  { deviceId: 'host-cfg-1', modules: [{ moduleId: 'agent', tags: { ring: '0' } }] },
  { deviceId: 'host-cfg-2', modules: [{ moduleId: 'agent', tags: { ring: '1' } }] },
];
const CONFIGURATIONS = [
  {
    configurationId: 'ring0-agents',
    moduleContent: { 'properties.desired.telemetryInterval': 45 },
    targetCondition: "FROM devices.modules WHERE moduleId='agent' AND tags.ring='0'",
    priority: 3,
    labels: { ring: '0' },
  },
];

describe('Configuration in the real provider host', () => {
  let target: ProgramHub;
  let host: ProviderHost;
  let registry: Registry;
  let urn: string;
  let captured: PlainObject;
  let inputs: PlainObject;
  let created: { id: string; properties: PlainObject };

  const desiredOf = async (deviceId: string) =>
    JSON.parse(JSON.stringify((await registry.getModuleTwin(deviceId, 'agent')).responseBody)).properties
      .desired;

  before(async () => {
    target = await startProgramHub();
    const resources = await captureDynamicResources({
      ...localStackConfig(target, DEVICES),
      'iothub-as-code:configurations': CONFIGURATIONS,
    });
    host = await startProviderHost();
    registry = createHubClient(target.connectionString, {
      caCertificate: target.hub.caCertificatePem,
    }).registry;
    // The identities and their tags, as the program would have created them first.
    for (const name of [
      'device/host-cfg-1',
      'device/host-cfg-2',
      'module/host-cfg-1/agent',
      'module/host-cfg-2/agent',
      'module-twin/host-cfg-1/agent',
      'module-twin/host-cfg-2/agent',
    ]) {
      const r = capturedNamed(resources, name);
      const checked = await host.check(localUrn(r), {}, r.inputs);
      assert.deepEqual(checked.failures, [], name);
      await host.create(localUrn(r), checked.inputs);
    }
    const configuration = capturedNamed(resources, NAME);
    urn = localUrn(configuration);
    captured = configuration.inputs;
  });

  after(async () => {
    await host?.close();
    await target?.close();
  });

  test('Check reports every failure with its property path', async () => {
    const { failures } = await host.check(
      urn,
      {},
      {
        ...captured,
        configurationId: 'Ring 0',
        moduleContent: { 'tags.ring': 1, 'properties.desired.$x': 1 },
        priority: -1,
      },
    );
    const paths = failures.map((f) => f.property);
    for (const path of [
      'configurationId',
      'moduleContent["tags.ring"]',
      'moduleContent["properties.desired.$x"]',
      'priority',
    ]) {
      assert.ok(paths.includes(path), `paths: ${paths}`);
    }
  });

  test('Create applies the content to the modules the tags target', async () => {
    const checked = await host.check(urn, {}, captured);
    assert.deepEqual(checked.failures, []);
    inputs = checked.inputs;
    created = await host.create(urn, inputs);
    assert.equal(created.id, 'ring0-agents');
    assert.equal(typeof created.properties['etag'], 'string');
    await waitFor('ring 0 to get telemetryInterval 45', async () =>
      (await desiredOf('host-cfg-1')).telemetryInterval === 45 ? true : undefined,
    );
    assert.equal((await desiredOf('host-cfg-2')).telemetryInterval, undefined);
  });

  test('Read shows a priority changed elsewhere, Diff plans an update, Update restores it', async () => {
    const onHub = JSON.parse(JSON.stringify((await registry.getConfiguration('ring0-agents')).responseBody));
    await registry.updateConfiguration({ ...onHub, priority: 99 }, true);
    const read = await host.read(created.id, urn, created.properties, inputs);
    assert.equal(read.properties['priority'], 99);
    const diff = await host.diff(created.id, urn, read.properties, inputs, read.inputs);
    assert.equal(diff.changes, 'some');
    assert.deepEqual(diff.replaces, []);
    const updated = await host.update(created.id, urn, read.properties, inputs, read.inputs);
    assert.equal(updated.properties['priority'], 3);
    assert.equal(
      JSON.parse(JSON.stringify((await registry.getConfiguration('ring0-agents')).responseBody)).priority,
      3,
    );
    created = { id: created.id, properties: updated.properties };
  });

  test('Diff: new content is a replace, deleted first', async () => {
    const news = (
      await host.check(
        urn,
        {},
        { ...captured, moduleContent: { 'properties.desired.telemetryInterval': 60 } },
      )
    ).inputs;
    const diff = await host.diff(created.id, urn, created.properties, news, inputs);
    assert.deepEqual(diff.replaces, ['moduleContent']);
    assert.equal(diff.deleteBeforeReplace, true);
  });

  test('Delete removes it; a Read afterwards finds nothing', async () => {
    await host.delete(created.id, urn, created.properties);
    await assert.rejects(registry.getConfiguration('ring0-agents'));
    const read = await host.read(created.id, urn, created.properties, inputs);
    assert.ok(!read.id, 'gone: no id');
  });
});
