/**
 * Contract: who may do what, with the official SDKs where they can express the attempt and a raw
 * mqtt.js client (the one the device SDK uses) for attempts the SDK never makes: tokens for another
 * identity and snooping on other identities' topics (docs/iot-hub-behaviour.md §1.5, §2, §3.5, §3.7).
 */
import * as assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { Client as DeviceClient, ModuleClient, X509AuthenticationProvider } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import type * as mqtt from 'mqtt';
import { createHubClient, type HubClient } from '../../dynamic-providers/iothub-client';
import type { LocalHub } from '../../local-hub/index';
import {
  certificateThumbprints,
  createSelfSignedClientCertificate,
  type PemKeyPair,
} from '../../local-hub/tls/certificates';
import { connectRawMqtt, deviceSasToken, startTestHub } from '../support/local-hub-fixture';
import { within } from '../support/runtime-wait';

const DEVICE = 'auth-device';
const MODULE = 'auth-module';
const OTHER = 'auth-other';
const DISABLED = 'auth-disabled';
const X509_MODULE = 'x509-module';

let hub: LocalHub;
let service: HubClient;
let registeredCertificate: PemKeyPair;

before(async () => {
  hub = await startTestHub();
  service = createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificatePem });
  const { registry } = service;
  await registry.create({ deviceId: DEVICE });
  await registry.addModule({ deviceId: DEVICE, moduleId: MODULE } as any);
  await registry.create({ deviceId: OTHER });
  await registry.create({ deviceId: DISABLED, status: 'disabled' } as any);
  await registry.addModule({ deviceId: DISABLED, moduleId: MODULE } as any);
  registeredCertificate = await createSelfSignedClientCertificate(`${DEVICE}/${X509_MODULE}`);
  await registry.addModule({
    deviceId: DEVICE,
    moduleId: X509_MODULE,
    authentication: {
      type: 'selfSigned',
      x509Thumbprint: {
        primaryThumbprint: certificateThumbprints(registeredCertificate.certificatePem).sha256,
      },
    },
  } as any);
});
after(() => hub.close());

function keyOf(deviceId: string, moduleId?: string): string {
  return /SharedAccessKey=([^;]+)/.exec(hub.deviceConnectionString(deviceId, moduleId))![1]!;
}

/** Opens a ModuleClient/Client and closes it again; resolves with the open error, or null. */
async function tryOpen(client: ModuleClient | DeviceClient): Promise<Error | null> {
  await within('setOptions({ ca })', client.setOptions({ ca: hub.caCertificatePem } as any));
  try {
    await within('the client to open or be refused', client.open());
  } catch (error) {
    return error as Error;
  }
  await within('the client to close', client.close());
  return null;
}

/**
 * CONNACK 5: every refusal that involves the identity's credentials (wrong or expired key, another
 * identity's key, a certificate that does not match), as IoT Hub answers (local-hub/mqtt/authenticate-connection.ts).
 */
const NOT_AUTHORIZED = 'Connection refused: Not authorized';

/** Refused by the hub's CONNACK (not, say, by a TLS failure), with the expected return code. */
function assertRefused(error: Error | null, what: string, connack: string): void {
  assert.ok(error, `${what} must be refused`);
  assert.equal(error.name, 'UnauthorizedError', `${what}: ${error.message}`);
  assert.ok(error.message.includes(connack), `${what}: expected "${connack}", got: ${error.message}`);
}

function deviceToken(deviceId: string, key: string, expiresAt?: number, moduleId?: string): string {
  return deviceSasToken({
    hostName: hub.hostName,
    deviceId,
    key,
    ...(moduleId ? { moduleId } : {}),
    ...(expiresAt ? { expiresAt } : {}),
  });
}

/** A raw MQTT connection (for attempts the SDK never makes): the client, or the CONNACK code. */
async function rawConnect(clientId: string, password: string): Promise<mqtt.MqttClient | number> {
  const result = await connectRawMqtt(hub, { clientId, password });
  return result.client ?? result.returnCode;
}

function subscribe(client: mqtt.MqttClient, topics: string[]): Promise<mqtt.ISubscriptionGrant[]> {
  return within(
    `a SUBACK for ${topics.join(', ')}`,
    new Promise((resolve, reject) =>
      client.subscribe(topics, { qos: 0 }, (error, granted) => (error ? reject(error) : resolve(granted))),
    ),
  );
}

describe('refused credentials', () => {
  test('a wrong key', async () => {
    const wrong = randomBytes(32).toString('base64');
    const cs = `HostName=${hub.hostName};DeviceId=${DEVICE};ModuleId=${MODULE};SharedAccessKey=${wrong}`;
    assertRefused(await tryOpen(ModuleClient.fromConnectionString(cs, Mqtt)), 'a wrong key', NOT_AUTHORIZED);
  });

  test("the device's key for one of its modules (a module needs its own key)", async () => {
    const cs = `HostName=${hub.hostName};DeviceId=${DEVICE};ModuleId=${MODULE};SharedAccessKey=${keyOf(DEVICE)}`;
    assertRefused(
      await tryOpen(ModuleClient.fromConnectionString(cs, Mqtt)),
      'a device key for a module',
      NOT_AUTHORIZED,
    );
  });

  test('an expired token', async () => {
    const expired = deviceToken(DEVICE, keyOf(DEVICE, MODULE), Math.floor(Date.now() / 1000) - 60, MODULE);
    assertRefused(
      await tryOpen(ModuleClient.fromSharedAccessSignature(expired, Mqtt)),
      'an expired token',
      NOT_AUTHORIZED,
    );
  });

  test('a valid token scoped to another device', async () => {
    const otherToken = deviceToken(OTHER, keyOf(OTHER));
    assert.equal(await rawConnect(DEVICE, otherToken), 5, 'CONNACK 5: not authorized for this identity');
    // The same token does open its own device's connection, so the refusal is about scope alone.
    const own = await rawConnect(OTHER, otherToken);
    assert.notEqual(typeof own, 'number');
    (own as mqtt.MqttClient).end(true);
  });

  test('a disabled device and a module of a disabled device', async () => {
    assertRefused(
      await tryOpen(DeviceClient.fromConnectionString(hub.deviceConnectionString(DISABLED), Mqtt)),
      'a disabled device',
      NOT_AUTHORIZED,
    );
    const moduleCs = hub.deviceConnectionString(DISABLED, MODULE);
    assertRefused(
      await tryOpen(ModuleClient.fromConnectionString(moduleCs, Mqtt)),
      'a module of a disabled device',
      NOT_AUTHORIZED,
    );
  });

  test('an unregistered identity', async () => {
    const cs = `HostName=${hub.hostName};DeviceId=nobody;SharedAccessKey=${randomBytes(32).toString('base64')}`;
    assertRefused(
      await tryOpen(DeviceClient.fromConnectionString(cs, Mqtt)),
      'an unknown device',
      NOT_AUTHORIZED,
    );
  });

  test('a policy without the needed right: registryRead cannot write', async () => {
    const readOnly = createHubClient(hub.serviceConnectionString('registryRead'), {
      caCertificate: hub.caCertificatePem,
    });
    assert.equal((await readOnly.registry.get(DEVICE)).responseBody.deviceId, DEVICE, 'reading is allowed');
    await assert.rejects(readOnly.registry.create({ deviceId: 'written-by-reader' }), {
      name: 'UnauthorizedError',
    });
    await assert.rejects(service.registry.get('written-by-reader'), { name: 'DeviceNotFoundError' });
  });
});

describe('X.509 modules (selfSigned thumbprints)', () => {
  function x509Module(certificate: PemKeyPair): ModuleClient {
    const provider = new X509AuthenticationProvider({
      host: hub.hostName,
      deviceId: DEVICE,
      moduleId: X509_MODULE,
      x509: { cert: certificate.certificatePem, key: certificate.privateKeyPem },
    } as any);
    return ModuleClient.fromAuthenticationProvider(provider, Mqtt);
  }

  test('a certificate that does not match the registered thumbprint is refused', async () => {
    const stranger = await createSelfSignedClientCertificate(`${DEVICE}/${X509_MODULE}`);
    assertRefused(await tryOpen(x509Module(stranger)), 'a non-matching certificate', NOT_AUTHORIZED);
  });

  test('the registered certificate connects and can read its twin', async () => {
    const client = x509Module(registeredCertificate);
    await within('setOptions({ ca })', client.setOptions({ ca: hub.caCertificatePem } as any));
    await within('the X.509 module to open', client.open());
    try {
      const twin = await within('the X.509 module twin', client.getTwin());
      assert.equal(typeof twin.properties.desired.$version, 'number');
    } finally {
      await within('the X.509 module to close', client.close());
    }
  });
});

describe('no snooping on other identities', () => {
  test("a device cannot subscribe to or receive a module's twin traffic", async () => {
    const snooper = (await rawConnect(OTHER, deviceToken(OTHER, keyOf(OTHER)))) as mqtt.MqttClient;
    const victim = ModuleClient.fromConnectionString(hub.deviceConnectionString(DEVICE, MODULE), Mqtt);
    await victim.setOptions({ ca: hub.caCertificatePem } as any);
    try {
      const received: string[] = [];
      snooper.on('message', (topic) => received.push(topic));
      const granted = await subscribe(snooper, [
        '#',
        '$iothub/#',
        `devices/${DEVICE}/modules/${MODULE}/inputs/#`,
        `devices/${DEVICE}/messages/devicebound/#`,
        '$iothub/twin/res/#',
        '$iothub/twin/PATCH/properties/desired/#',
      ]);
      assert.deepEqual(
        granted.map((g) => g.qos),
        [128, 128, 128, 128, 0, 0],
        'only its own twin filters are granted',
      );

      // The victim's twin traffic: a GET, a reported patch and a desired notification.
      await within('the victim module to open', victim.open());
      const twin = await within('the victim module twin', victim.getTwin());
      await within(
        "the victim's desired-properties subscription",
        new Promise<void>((resolve, reject) =>
          (twin as any).enableTwinDesiredPropertiesUpdates((e?: Error) => (e ? reject(e) : resolve())),
        ),
      );
      const delivered = within(
        'the desired notification carrying "secret" at the victim',
        new Promise((resolve) => twin.on('properties.desired', (p: any) => p.secret && resolve(p))),
      );
      const etag = (await service.registry.getModuleTwin(DEVICE, MODULE)).responseBody.etag;
      await service.registry.updateModuleTwin(
        DEVICE,
        MODULE,
        { properties: { desired: { secret: 'x' } } },
        etag,
      );
      await delivered;

      // The snooper's own GET is answered after all of that; nothing else may have reached it.
      const rid = randomUUID();
      const ownReply = within(
        "the answer to the snooper's own twin GET",
        new Promise<string>((resolve) =>
          snooper.on('message', (topic) => topic.includes(rid) && resolve(topic)),
        ),
      );
      snooper.publish(`$iothub/twin/GET/?$rid=${rid}`, ' ');
      assert.match(await ownReply, /^\$iothub\/twin\/res\/200\//);
      assert.deepEqual(received, [await ownReply], 'the snooper received only its own reply');
    } finally {
      snooper.end(true);
      await within('the victim module to close', victim.close());
    }
  });

  test("publishing to another identity's topic closes the connection", async () => {
    const client = (await rawConnect(OTHER, deviceToken(OTHER, keyOf(OTHER)))) as mqtt.MqttClient;
    const closed = within('the hub to close the spoofing connection', once(client, 'close'));
    client.publish(`devices/${DEVICE}/messages/events/`, 'spoofed', { qos: 1 });
    await closed;
    client.end(true);
    assert.equal(hub.state.recentMessages(DEVICE, null).length, 0, 'nothing was recorded for the victim');
  });
});
