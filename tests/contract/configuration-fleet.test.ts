/**
 * A fleet of 1,000 module twins (issue #12 "done when"): a Configuration created through the provider targets
 * them by tags, every one receives the content, the hub's metrics count them; a higher-priority configuration
 * wins on an overlapping subset; deleting it stops its targeting and the other's content applies again there
 * (docs/iot-hub-behaviour.md §8.4: each targeted twin gets the content of the highest-priority configuration
 * that targets it). The twins are created through the hub's bulk import (100 per transaction), then read
 * back through the official `azure-iothub` Registry (twin queries, configuration metrics).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Registry } from 'azure-iothub';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { configurationResourceProvider as provider } from '../../dynamic-providers/provider-table';
import type { ConfigurationInputs, ConfigurationOutputs } from '../../lib/resource-configuration-state';
import type { LocalHub } from '../../local-hub/index';
import { BULK_MAX_ENTRIES } from '../../local-hub/store';
import { startTestHub } from '../support/local-hub-fixture';
import { waitFor } from '../support/runtime-wait';

const DEVICES = 50;
const MODULES_PER_DEVICE = 20;
const FLEET = DEVICES * MODULES_PER_DEVICE;
/** Every tenth module is a canary: the overlapping subset the higher-priority configuration targets. */
const CANARIES = FLEET / 10;

let hub: LocalHub;
let registry: Registry;

before(async () => {
  hub = await startTestHub();
  registry = createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificatePem }).registry;
  const entries: Record<string, unknown>[] = [];
  for (let d = 0; d < DEVICES; d++) entries.push({ id: `fleet-d${d}`, importMode: 'create' });
  for (let n = 0; n < FLEET; n++) {
    entries.push({
      id: `fleet-d${n % DEVICES}`,
      moduleId: `agent-${Math.floor(n / DEVICES)}`,
      importMode: 'create',
      tags: { fleet: 'f1', canary: n % 10 === 0 },
    });
  }
  for (let i = 0; i < entries.length; i += BULK_MAX_ENTRIES) {
    const result = hub.state.bulk(entries.slice(i, i + BULK_MAX_ENTRIES));
    assert.equal(result.isSuccessful, true, JSON.stringify(result.errors.slice(0, 3)));
  }
});

after(async () => {
  await hub.close();
});

async function create(config: Record<string, unknown>): Promise<ConfigurationOutputs> {
  const { inputs, failures } = await provider.check!(
    {} as ConfigurationInputs,
    {
      hubConnectionString: hub.serviceConnectionString(),
      hubCaCertificate: hub.caCertificatePem,
      ...config,
    } as unknown as ConfigurationInputs,
  );
  assert.deepEqual(failures, []);
  return (await provider.create(inputs!)).outs as ConfigurationOutputs;
}

/** How many module twins a query returns, read page by page through the official Registry. */
async function countTwins(where: string): Promise<number> {
  const query = registry.createQuery(`SELECT * FROM devices.modules WHERE ${where}`, 1000);
  let count = 0;
  while (query.hasMoreResults) {
    const token = query.continuationToken as string | null;
    const { result } = await query.next(token as string);
    count += (result as unknown[]).length;
  }
  return count;
}

async function metrics(id: string): Promise<{ system: unknown; custom: Record<string, number> }> {
  const body = JSON.parse(JSON.stringify((await registry.getConfiguration(id)).responseBody));
  return { system: body.systemMetrics.results, custom: body.metrics.results };
}

const MODE_IS = (mode: string) =>
  `SELECT deviceId FROM devices.modules WHERE properties.desired.mode = '${mode}'`;

test('1,000 module twins: targeted by tags, all receive the content, metrics count them; priority wins on an overlap; delete stops targeting', async () => {
  const _eco = await create({
    configurationId: 'fleet-eco',
    moduleContent: { 'properties.desired.mode': 'eco' },
    targetCondition: "FROM devices.modules WHERE tags.fleet='f1'",
    priority: 1,
    metrics: { eco: MODE_IS('eco') },
  });
  assert.equal(await countTwins("properties.desired.mode = 'eco'"), FLEET, 'every twin received the content');
  assert.deepEqual(await metrics('fleet-eco'), {
    system: { targetedCount: FLEET, appliedCount: FLEET },
    custom: { eco: FLEET },
  });

  const canary = await create({
    configurationId: 'fleet-canary',
    moduleContent: { 'properties.desired.mode': 'turbo' },
    targetCondition: "FROM devices.modules WHERE tags.fleet='f1' AND tags.canary=true",
    priority: 10,
    metrics: { turbo: MODE_IS('turbo') },
  });
  assert.equal(await countTwins("properties.desired.mode = 'turbo'"), CANARIES, 'the higher priority wins');
  assert.equal(await countTwins("properties.desired.mode = 'eco'"), FLEET - CANARIES);
  assert.deepEqual(await metrics('fleet-canary'), {
    system: { targetedCount: CANARIES, appliedCount: CANARIES },
    custom: { turbo: CANARIES },
  });
  assert.deepEqual((await metrics('fleet-eco')).system, {
    targetedCount: FLEET,
    appliedCount: FLEET - CANARIES,
  });

  await provider.delete!('fleet-canary', canary);
  await assert.rejects(registry.getConfiguration('fleet-canary'), /not ?found/i);
  // No longer targeted by fleet-canary: a new canary module gets fleet-eco's content, not turbo.
  await registry.addModule({ deviceId: 'fleet-d0', moduleId: 'late-canary' } as any);
  await registry.updateModuleTwin(
    'fleet-d0',
    'late-canary',
    { tags: { fleet: 'f1', canary: true } } as any,
    '*',
  );
  await waitFor('the late canary to get fleet-eco', async () =>
    (await countTwins("moduleId = 'late-canary' AND properties.desired.mode = 'eco'")) === 1
      ? true
      : undefined,
  );
  // The earlier canaries are targeted by fleet-eco alone now: the hub re-evaluates targets after the delete
  // (IoT Hub periodically, the local hub at once), so fleet-eco's content applies to them again.
  await waitFor('fleet-eco to apply to the canaries again', async () =>
    (await countTwins("properties.desired.mode = 'eco'")) === FLEET + 1 ? true : undefined,
  );
  assert.equal(await countTwins("properties.desired.mode = 'turbo'"), 0);
  assert.deepEqual(await metrics('fleet-eco'), {
    system: { targetedCount: FLEET + 1, appliedCount: FLEET + 1 },
    custom: { eco: FLEET + 1 },
  });
});
