/**
 * `--standard-ports`: clients that cannot put a port in HostName (the Python device SDK always dials
 * 8883; docs/iot-hub-behaviour.md §3.8) reach the hub with a bare host name, on 443 (HTTPS) and 8883 (MQTTS).
 * The hub binds a loopback address of its own (127.0.0.3) so the fixed ports cannot collide with
 * anything else on the machine. Binding below 1024 needs root, which CI and these machines have; a
 * user without it gets a clear error naming the port, which the second branch asserts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModuleClient } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { startTestHub } from '../support/local-hub-fixture';

const ADDRESS = '127.0.0.3';
const isRoot = process.getuid?.() === 0;

test('with standard ports, a bare host name works for the service SDK (443) and the device SDK (8883)', async (t) => {
  if (!isRoot) {
    await assert.rejects(
      startTestHub({ bindAddress: ADDRESS, hostNames: [ADDRESS], standardPorts: true }),
      /443/,
    );
    return;
  }
  const hub = await startTestHub({ bindAddress: ADDRESS, hostNames: [ADDRESS], standardPorts: true });
  t.after(() => hub.close());

  // Service side: "HostName=127.0.0.3" with no port, so the client factory dials 443.
  const bare = hub
    .serviceConnectionString('iothubowner')
    .replace(`HostName=${hub.hostName}`, `HostName=${ADDRESS}`);
  assert.match(bare, /^HostName=127\.0\.0\.3;/);
  const { registry } = createHubClient(bare, { caCertificate: hub.caCertificatePem });
  await registry.create({ deviceId: 'std-ports' } as any);
  const module = (await registry.addModule({ deviceId: 'std-ports', moduleId: 'm1' } as any))
    .responseBody as any;

  // Device side: mqtts://127.0.0.3 with the SDK's default port, 8883.
  const key = module.authentication.symmetricKey.primaryKey as string;
  const client = ModuleClient.fromConnectionString(
    `HostName=${ADDRESS};DeviceId=std-ports;ModuleId=m1;SharedAccessKey=${key}`,
    Mqtt,
  );
  await client.setOptions({ ca: hub.caCertificatePem });
  await client.open();
  try {
    const twin = await client.getTwin();
    assert.equal(typeof twin.properties.desired.$version, 'number');
  } finally {
    await client.close();
  }
});
