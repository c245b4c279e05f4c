/**
 * Contract: direct methods with the official SDKs, unmodified (docs/iot-hub-behaviour.md §8.1). The service
 * side is azure-iothub's `Client.invokeDeviceMethod` (built by createServiceClient), the device side
 * azure-iot-device over MQTT. Covers payloads null, "" and {}, modules, both timeouts, the right
 * (ServiceConnect), a token renewal, isolation between identities and the direct-method throttle.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NoRetry } from 'azure-iot-common';
import { Mqtt } from 'azure-iot-device-mqtt';
import type { Client as ServiceClient } from 'azure-iothub';
import { createHubClient, createServiceClient, type HubClient } from '../../dynamic-providers/iothub-client';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import { waitFor, within } from '../support/runtime-wait';
import {
  closeAll,
  handleMethod,
  type MethodCall,
  nextRenewal,
  openSdkClient,
  type SdkClient,
  sendRawMethodAnswer,
} from './sdk-devices';

const DEVICE = 'methods-device';
const MODULE = 'methods-module';
const OTHER = 'methods-other';
const OFFLINE = 'methods-offline';
const FORGER = 'methods-forger';
const RENEWING = 'renewing-module';
const VICTIM = 'victim-module';

let hub: LocalHub;
let service: HubClient;
let methods: ServiceClient;
const clients: SdkClient[] = [];

before(async () => {
  hub = await startTestHub();
  service = createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificatePem });
  for (const deviceId of [DEVICE, OTHER, OFFLINE]) await service.registry.create({ deviceId });
  await service.registry.addModule({ deviceId: DEVICE, moduleId: MODULE } as any);
  methods = createServiceClient(hub.serviceConnectionString('service'), {
    caCertificate: hub.caCertificatePem,
  });
});

after(async () => {
  await closeAll(clients);
  await hub.close();
});

async function open(deviceId: string, moduleId?: string): Promise<SdkClient> {
  const client = await openSdkClient(hub.deviceConnectionString(deviceId, moduleId), hub.caCertificatePem);
  clients.push(client);
  return client;
}

/** The error of an invocation that must fail, with the hub's error body. */
async function invokeFails(
  deviceId: string,
  params: Record<string, unknown>,
  client: ServiceClient = methods,
): Promise<Error & { responseBody?: string }> {
  try {
    await within('the method invocation to fail', client.invokeDeviceMethod(deviceId, params as any));
  } catch (error) {
    return error as Error & { responseBody?: string };
  }
  assert.fail(`invoking ${JSON.stringify(params)} on ${deviceId} must fail`);
}

describe('direct methods', () => {
  let calls: MethodCall[];

  before(async () => {
    const device = await open(DEVICE);
    calls = await handleMethod(device, 'echo', (call) => ({ status: 201, payload: call.payload }));
  });

  test('any JSON payload reaches the device and its answer comes back as {status, payload}', async () => {
    for (const payload of [null, '', {}, { nested: { n: 1 }, list: [1, 'two', null] }, 0, false]) {
      const { result } = await within(
        `echo of ${JSON.stringify(payload)}`,
        methods.invokeDeviceMethod(DEVICE, { methodName: 'echo', payload, responseTimeoutInSeconds: 30 }),
      );
      assert.deepEqual(result, { status: 201, payload }, `the answer to ${JSON.stringify(payload)}`);
      assert.deepEqual(calls.at(-1)?.payload, payload, 'what the device received');
    }
    // IoT Hub's request ids are hexadecimal.
    assert.ok(calls.every((call) => /^[0-9a-f]+$/.test(call.requestId)));
  });

  test('a module method goes to the module connection only', async () => {
    const moduleClient = await open(DEVICE, MODULE);
    const moduleCalls = await handleMethod(moduleClient, 'echo', () => ({ status: 200, payload: 'module' }));
    const before = calls.length;
    const { result } = await within(
      'the module method',
      methods.invokeDeviceMethod(DEVICE, MODULE, { methodName: 'echo', payload: { m: 1 } }),
    );
    assert.deepEqual(result, { status: 200, payload: 'module' });
    assert.equal(moduleCalls.length, 1);
    assert.equal(calls.length, before, 'the device itself got nothing');
  });

  test('an offline identity is 404 DeviceNotOnline, at once or after the connect timeout', async () => {
    for (const connectTimeoutInSeconds of [0, 1]) {
      const error = await invokeFails(OFFLINE, { methodName: 'echo', connectTimeoutInSeconds });
      assert.match(error.responseBody ?? '', /ErrorCode:DeviceNotOnline;/);
      assert.equal((error as any).response?.statusCode, 404);
    }
    const unknown = await invokeFails('methods-nobody', { methodName: 'echo' });
    assert.equal(unknown.name, 'DeviceNotFoundError');
  });

  test('an identity that connects within the connect timeout gets the call', async () => {
    const pending = methods.invokeDeviceMethod(OFFLINE, {
      methodName: 'late',
      payload: 'hello',
      connectTimeoutInSeconds: 60,
    });
    const device = await open(OFFLINE);
    await handleMethod(device, 'late', (call) => ({ status: 200, payload: `${call.payload} back` }));
    const { result } = await within('the call that waited for the device', pending);
    assert.deepEqual(result, { status: 200, payload: 'hello back' });
  });

  test('no answer within the response timeout is 504 GatewayTimeout', async () => {
    const device = await open(OTHER);
    const silent = await handleMethod(device, 'silent', () => undefined);
    const error = await invokeFails(OTHER, { methodName: 'silent', responseTimeoutInSeconds: 5 });
    assert.equal(error.name, 'GatewayTimeoutError');
    assert.match(error.responseBody ?? '', /ErrorCode:GatewayTimeout;/);
    assert.equal(silent.length, 1, 'the device did get the request');
  });

  test('the right is ServiceConnect', async () => {
    const noServiceConnect = createServiceClient(hub.serviceConnectionString('registryReadWrite'), {
      caCertificate: hub.caCertificatePem,
    });
    const error = await invokeFails(DEVICE, { methodName: 'echo' }, noServiceConnect);
    assert.equal(error.name, 'UnauthorizedError');
  });

  test('methods keep working after the device renews its SAS token', async () => {
    await service.registry.addModule({ deviceId: DEVICE, moduleId: RENEWING } as any);
    // A 6-second token renewed 3 seconds early: the SDK reconnects with a new token every 3 seconds
    // (§3.4), and the session keeps the subscription to method requests.
    const module = await openSdkClient(
      hub.deviceConnectionString(DEVICE, RENEWING),
      hub.caCertificatePem,
      Mqtt,
      { lifetimeSeconds: 6, marginSeconds: 3 },
    );
    clients.push(module);
    await handleMethod(module, 'echo', () => ({ status: 200, payload: 'renewed' }));
    await nextRenewal(module);
    const { result } = await within(
      'the call after the renewal',
      methods.invokeDeviceMethod(DEVICE, RENEWING, { methodName: 'echo', connectTimeoutInSeconds: 30 }),
    );
    assert.deepEqual(result, { status: 200, payload: 'renewed' });
  });

  test('another identity cannot answer a call that is not its own, even knowing the request id', async () => {
    await service.registry.addModule({ deviceId: OTHER, moduleId: VICTIM } as any);
    await service.registry.create({ deviceId: FORGER });
    const victim = await open(OTHER, VICTIM);
    const forger = await open(FORGER);
    const victimCalls = await handleMethod(victim, 'slow', () => undefined);
    const pending = methods.invokeDeviceMethod(OTHER, VICTIM, { methodName: 'slow' });
    const call = await waitFor('the victim to receive the call', () => victimCalls[0]);
    await sendRawMethodAnswer(forger, call.requestId, 200, 'forged');
    await call.send(202, 'genuine');
    const { result } = await within('the victim call', pending);
    assert.deepEqual(result, { status: 202, payload: 'genuine' });
  });
});

test('direct methods are throttled like IoT Hub (8 KB units of the tier quota)', async (t) => {
  const throttled = await startTestHub({ throttle: { tier: 'F1', units: 1 } });
  t.after(() => throttled.close());
  const { registry } = createHubClient(throttled.serviceConnectionString(), {
    caCertificate: throttled.caCertificatePem,
  });
  await registry.create({ deviceId: OFFLINE });
  const client = createServiceClient(throttled.serviceConnectionString(), {
    caCertificate: throttled.caCertificatePem,
  });
  client.setRetryPolicy(new NoRetry());
  // 120 KB counts as 15 operations against F1's 20 a second (160 KB/s): the bucket is empty after two.
  const payload = 'x'.repeat(120 * 1024);
  const outcomes = await within(
    'five large invocations',
    Promise.all(
      Array.from({ length: 5 }, () =>
        client.invokeDeviceMethod(OFFLINE, { methodName: 'big', payload }).then(
          () => 'ok',
          (error: Error) => error.name,
        ),
      ),
    ),
  );
  assert.ok(outcomes.includes('ThrottlingError'), `some are throttled: ${outcomes.join(', ')}`);
  assert.ok(!outcomes.includes('ok'), 'the device is offline: none succeeds');
});
