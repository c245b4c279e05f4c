/**
 * Contract: MQTT over WebSockets (docs/iot-hub-behaviour.md §8.3). `GET /$iothub/websocket` with the
 * subprotocol `mqtt` on the hub's TLS port reaches the same broker with the same authentication and
 * topic rules. The SDKs' MqttWs transports always dial port 443 (`wss://<HostName>:443/...`, a port in
 * HostName ends up in the path), so they are driven against a hub with standard ports on a loopback
 * address of its own, which needs root (as tests/local-hub/standard-ports.test.ts).
 */
import assert from 'node:assert/strict';
import * as https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { MqttWs } from 'azure-iot-device-mqtt';
import * as mqtt from 'mqtt';
import { createHubClient, createServiceClient } from '../../dynamic-providers/iothub-client';
import type { LocalHub } from '../../local-hub/index';
import { deviceSasToken, startTestHub } from '../support/local-hub-fixture';
import { waitFor, within } from '../support/runtime-wait';
import { closeAll, handleMethod, openSdkClient, type SdkClient } from './sdk-devices';

const isRoot = process.getuid?.() === 0;
/** Its own loopback address, so 443 and 8883 collide with nothing else on the machine. */
const ADDRESS = '127.0.0.11';

function keyOf(hub: LocalHub, deviceId: string, moduleId?: string): string {
  return /SharedAccessKey=([^;]+)/.exec(hub.deviceConnectionString(deviceId, moduleId))![1]!;
}

/** A raw mqtt.js client (what the SDK wraps) over wss to `url`; resolves with it or the CONNACK failure. */
function connectWs(
  url: string,
  ca: string,
  o: { clientId: string; username: string; password: string },
): Promise<{ client: mqtt.MqttClient } | { error: Error }> {
  const client = mqtt.connect(url, { ca, ...o, protocolVersion: 4, reconnectPeriod: 0, clean: true });
  return within(
    `a CONNACK over WebSockets for ${o.clientId}`,
    new Promise((resolve) => {
      client.once('connect', () => resolve({ client }));
      client.once('error', (error) => {
        client.end(true);
        resolve({ error });
      });
      client.once('close', () => resolve({ error: new Error('closed without CONNACK') }));
    }),
  );
}

/** The status an HTTPS upgrade request gets (101 when the hub switches protocols). */
function upgradeStatus(hub: LocalHub, path: string, protocol: string): Promise<number> {
  return within(
    `the answer to an upgrade of ${path}`,
    new Promise((resolve, reject) => {
      const request = https.request({
        host: '127.0.0.1',
        port: hub.port,
        path,
        ca: hub.caCertificatePem,
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': Buffer.from('0123456789abcdef').toString('base64'),
          'Sec-WebSocket-Protocol': protocol,
        },
      });
      request.on('upgrade', (response, socket) => {
        socket.destroy();
        resolve(response.statusCode ?? 0);
      });
      request.on('response', (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.end();
    }),
  );
}

describe('on the hub port', () => {
  let hub: LocalHub;
  before(async () => {
    hub = await startTestHub();
    const { registry } = createHubClient(hub.serviceConnectionString(), {
      caCertificate: hub.caCertificatePem,
    });
    await registry.create({ deviceId: 'ws-device' });
  });
  after(() => hub.close());

  test('the hub names its WebSocket endpoint', () => {
    assert.deepEqual(hub.webSocketUrls, [`wss://${hub.hostName}/$iothub/websocket`]);
  });

  test('upgrades /$iothub/websocket with subprotocol mqtt, and nothing else', async () => {
    assert.equal(await upgradeStatus(hub, '/$iothub/websocket', 'mqtt'), 101);
    assert.equal(await upgradeStatus(hub, '/$iothub/websocket', 'chat'), 400);
    assert.equal(await upgradeStatus(hub, '/elsewhere', 'mqtt'), 404);
  });

  test('the same authentication and topic rules as MQTT over TLS', async () => {
    const url = hub.webSocketUrls[0]!;
    const username = `${hub.hostName}/ws-device/?api-version=2021-04-12`;
    const password = deviceSasToken({
      hostName: hub.hostName,
      deviceId: 'ws-device',
      key: keyOf(hub, 'ws-device'),
    });
    const wrong = await connectWs(url, hub.caCertificatePem, {
      clientId: 'ws-device',
      username,
      password: `${password.slice(0, -3)}AAA`,
    });
    assert.ok('error' in wrong, 'a wrong token is refused');

    const connected = await connectWs(url, hub.caCertificatePem, {
      clientId: 'ws-device',
      username,
      password,
    });
    assert.ok('client' in connected, 'the right token connects');
    const { client } = connected;
    try {
      const granted = await within(
        'SUBACK',
        new Promise<number[]>((resolve, reject) =>
          client.subscribe(['$iothub/twin/res/#', 'devices/other/messages/devicebound/#'], (error, grants) =>
            error ? reject(error) : resolve(grants.map((g) => g.qos)),
          ),
        ),
      );
      assert.deepEqual(granted, [0, 128], "another identity's topic is refused");
      const replies: string[] = [];
      client.on('message', (topic) => replies.push(topic));
      client.publish('$iothub/twin/GET/?$rid=ws1', '');
      await waitFor('the twin reply over WebSockets', () =>
        replies.find((t) => t.startsWith('$iothub/twin/res/200/?$rid=ws1')),
      );
    } finally {
      client.end(true);
    }
  });
});

describe("the SDKs' MqttWs transports (port 443, --standard-ports)", {
  skip: !isRoot && 'binding 443 needs root',
}, () => {
  let hub: LocalHub;
  const clients: SdkClient[] = [];
  const bare = (connectionString: string) =>
    connectionString.replace(/HostName=[^;]+/, `HostName=${ADDRESS}`);

  before(async () => {
    hub = await startTestHub({ bindAddress: ADDRESS, hostNames: [ADDRESS], standardPorts: true });
    const { registry } = createHubClient(hub.serviceConnectionString(), {
      caCertificate: hub.caCertificatePem,
    });
    await registry.create({ deviceId: 'ws-sdk' });
    await registry.addModule({ deviceId: 'ws-sdk', moduleId: 'ws-module' } as any);
  });
  after(async () => {
    await closeAll(clients);
    await hub.close();
  });

  test('the hub names the 443 endpoint too', () => {
    assert.ok(hub.webSocketUrls.includes(`wss://${ADDRESS}/$iothub/websocket`));
  });

  for (const moduleId of [undefined, 'ws-module']) {
    test(`twins and methods of a ${moduleId ? 'module' : 'device'} over MqttWs`, async () => {
      const connectionString = bare(hub.deviceConnectionString('ws-sdk', moduleId));
      const client = await openSdkClient(connectionString, hub.caCertificatePem, MqttWs);
      clients.push(client);
      const twin = await within('the twin over MqttWs', client.getTwin());
      const patches: Record<string, unknown>[] = [];
      twin.on('properties.desired', (patch: Record<string, unknown>) => patches.push(patch));
      await within(
        'a reported update over MqttWs',
        new Promise<void>((resolve, reject) =>
          twin.properties.reported.update({ over: 'websockets' }, (e?: Error) => (e ? reject(e) : resolve())),
        ),
      );

      const service = createHubClient(bare(hub.serviceConnectionString()), {
        caCertificate: hub.caCertificatePem,
      });
      const serviceTwin = moduleId
        ? await service.registry.getModuleTwin('ws-sdk', moduleId)
        : await service.registry.getTwin('ws-sdk');
      assert.equal((serviceTwin.responseBody as any).properties.reported.over, 'websockets');
      const written = moduleId
        ? await service.registry.updateModuleTwin(
            'ws-sdk',
            moduleId,
            { properties: { desired: { ws: 1 } } } as any,
            '*',
          )
        : await service.registry.updateTwin('ws-sdk', { properties: { desired: { ws: 1 } } } as any, '*');
      const version = (written.responseBody as any).properties.desired.$version;
      await waitFor('the desired patch over MqttWs', () => patches.find((p) => p['$version'] === version));

      await handleMethod(client, 'ping', () => ({ status: 200, payload: { pong: true } }));
      const methods = createServiceClient(bare(hub.serviceConnectionString()), {
        caCertificate: hub.caCertificatePem,
      });
      const params = { methodName: 'ping', payload: null };
      const { result } = await within(
        'the method over MqttWs',
        moduleId
          ? methods.invokeDeviceMethod('ws-sdk', moduleId, params)
          : methods.invokeDeviceMethod('ws-sdk', params),
      );
      assert.deepEqual(result, { status: 200, payload: { pong: true } });
    });
  }
});
