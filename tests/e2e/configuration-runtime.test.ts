/**
 * A Configuration reaches running device runtimes: the provider creates a module configuration targeting
 * modules by tags, the hub applies it to their twins, each runtime applies `telemetryInterval` and acknowledges
 * it (IoT Plug and Play), and a custom metric over the acks counts them, the convergence signal of a fleet
 * (what the local stack's ring0-telemetry configuration and fleetModule do under `npm start`).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type DeviceRuntime, startDeviceRuntime } from '../../device-runtime/index';
import { createHubClient, type HubClient } from '../../dynamic-providers/iothub-client';
import { configurationResourceProvider } from '../../dynamic-providers/provider-table';
import type { ConfigurationInputs } from '../../lib/resource-configuration-state';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import { waitFor, within } from '../support/runtime-wait';

const MODULES = [
  ['ring0-a', '0'],
  ['ring0-b', '0'],
  ['ring1-a', '1'],
] as const;

let hub: LocalHub;
let service: HubClient;
const runtimes: DeviceRuntime[] = [];

before(async () => {
  hub = await startTestHub();
  service = createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificatePem });
  for (const [deviceId, ring] of MODULES) {
    await service.registry.create({ deviceId });
    await service.registry.addModule({ deviceId, moduleId: 'agent' } as any);
    await service.registry.updateModuleTwin(deviceId, 'agent', { tags: { ring } } as any, '*');
    const runtime = await startDeviceRuntime({
      connectionString: hub.deviceConnectionString(deviceId, 'agent'),
      ca: hub.caCertificatePem,
      env: {},
      config: { operationTimeoutSeconds: 10, reconnectMinDelaySeconds: 0.1 },
    });
    runtimes.push(runtime);
  }
});

after(async () => {
  await Promise.all(runtimes.map((r) => within('a runtime to stop', r.stop())));
  await hub.close();
});

test('a configuration targeted by tags is applied and acknowledged by the runtimes; a metric counts the acks', async () => {
  const { inputs, failures } = await configurationResourceProvider.check!(
    {} as ConfigurationInputs,
    {
      hubConnectionString: hub.serviceConnectionString(),
      hubCaCertificate: hub.caCertificatePem,
      configurationId: 'ring0-telemetry',
      moduleContent: { 'properties.desired.telemetryInterval': 60 },
      targetCondition: "FROM devices.modules WHERE tags.ring='0'",
      priority: 10,
      metrics: {
        acked: 'SELECT deviceId FROM devices.modules WHERE properties.reported.telemetryInterval.ac = 200',
      },
    } as unknown as ConfigurationInputs,
  );
  assert.deepEqual(failures, []);
  await configurationResourceProvider.create(inputs!);

  await waitFor('both ring 0 runtimes to run at 60 s', () =>
    runtimes[0]!.telemetryIntervalSeconds === 60 && runtimes[1]!.telemetryIntervalSeconds === 60
      ? true
      : undefined,
  );
  assert.notEqual(runtimes[2]!.telemetryIntervalSeconds, 60, 'ring 1 is not targeted');
  const results = await waitFor('the hub to count two acks', async () => {
    const configuration = JSON.parse(
      JSON.stringify((await service.registry.getConfiguration('ring0-telemetry')).responseBody),
    );
    return configuration.metrics.results.acked === 2 ? configuration : undefined;
  });
  assert.deepEqual(results.systemMetrics.results, { targetedCount: 2, appliedCount: 2 });
});
