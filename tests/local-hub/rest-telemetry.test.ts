/**
 * `GET /local-hub/telemetry` (docs/local-hub-web-view.md, the contract): a real ModuleClient's sendEvent /
 * sendOutputEvent lands in the window; filters, `after`/`next`, the long poll; ServiceConnect required (401
 * in the legacy shape otherwise, expired tokens included); every bad parameter a 400 naming it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Message } from 'azure-iot-device';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import type { LocalHub } from '../../local-hub/index';
import { closeAll, openSdkClient, type SdkClient } from '../contract/sdk-devices';
import { hubGet, serviceToken } from '../support/hub-https';
import { startTestHub } from '../support/local-hub-fixture';
import { within } from '../support/runtime-wait';

const DEVICE = 'telemetry-device';
const MODULE = 'telemetry-module';
const API = 'api-version=2021-04-12';

let hub: LocalHub;
let owner: string;
const clients: SdkClient[] = [];

before(async () => {
  hub = await startTestHub();
  owner = serviceToken(hub, 'service');
  const service = createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificatePem });
  await service.registry.create({ deviceId: DEVICE });
  await service.registry.addModule({ deviceId: DEVICE, moduleId: MODULE } as any);
});

after(async () => {
  await closeAll(clients);
  await hub.close();
});

const read = (query: string, authorization: string | null = owner) =>
  hubGet(hub, `/local-hub/telemetry?${API}${query}`, authorization);

describe('GET /local-hub/telemetry', () => {
  test("a ModuleClient's events land in the window, readable with filters, after and next", async () => {
    const module = await openSdkClient(hub.deviceConnectionString(DEVICE, MODULE), hub.caCertificatePem);
    const device = await openSdkClient(hub.deviceConnectionString(DEVICE), hub.caCertificatePem);
    clients.push(module, device);
    const json = new Message(JSON.stringify({ temperature: 21.5 }));
    json.contentType = 'application/json';
    json.contentEncoding = 'utf-8';
    json.properties.add('unit', 'celsius');
    await within('the module to send an output event', (module as any).sendOutputEvent('telemetry', json));
    await within('the module to send an event', module.sendEvent(new Message(Buffer.from([0xff, 0x00]))));
    await within('the device to send an event', device.sendEvent(new Message('hello')));

    const all = await read(`&deviceId=${DEVICE}`);
    assert.equal(all.status, 200, all.text);
    const [first, second, third] = all.json.messages;
    assert.equal(all.json.messages.length, 3);
    assert.deepEqual(
      { ...first, enqueuedTimeUtc: undefined, properties: undefined },
      {
        sequence: first.sequence,
        deviceId: DEVICE,
        moduleId: MODULE,
        enqueuedTimeUtc: undefined,
        properties: undefined,
        body: { temperature: 21.5 },
        bodyEncoding: 'json',
      },
    );
    assert.ok(!Number.isNaN(Date.parse(first.enqueuedTimeUtc)), first.enqueuedTimeUtc);
    assert.equal(first.properties.unit, 'celsius');
    assert.equal(first.properties['$.on'], 'telemetry');
    assert.equal(first.properties['$.ct'], 'application/json');
    assert.deepEqual([second.moduleId, second.body, second.bodyEncoding], [MODULE, '/wA=', 'base64']);
    assert.deepEqual([third.moduleId, third.body, third.bodyEncoding], [undefined, 'hello', 'utf8']);
    assert.ok('moduleId' in third === false, 'device messages carry no moduleId');
    assert.ok(first.sequence < second.sequence && second.sequence < third.sequence);
    assert.equal(all.json.next, third.sequence);

    const moduleOnly = await read(`&deviceId=${DEVICE}&moduleId=${MODULE}`);
    assert.deepEqual(
      moduleOnly.json.messages.map((m: any) => m.sequence),
      [first.sequence, second.sequence],
    );
    const afterFirst = await read(`&deviceId=${DEVICE}&after=${first.sequence}`);
    assert.deepEqual(
      afterFirst.json.messages.map((m: any) => m.sequence),
      [second.sequence, third.sequence],
    );
    const none = await read(`&after=${all.json.next}`);
    assert.deepEqual(none.json, { messages: [], next: all.json.next });
  });

  test('long poll: an empty window answers when a message arrives', async () => {
    const device = await openSdkClient(hub.deviceConnectionString(DEVICE), hub.caCertificatePem);
    clients.push(device);
    const { next } = (await read('')).json;
    const polling = read(`&deviceId=${DEVICE}&after=${next}&waitMs=30000`);
    // The poll is registered once the hub has its request; a message sent before that is also found by
    // the poll's first read, so the order does not matter.
    await within('the device to send', device.sendEvent(new Message('{"late":true}')));
    const reply = await polling;
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(
      reply.json.messages.map((m: any) => [m.body, m.bodyEncoding]),
      [[{ late: true }, 'json']],
    );
  });

  test('long poll: an empty list when the wait ends', async () => {
    const { next } = (await read('')).json;
    const reply = await read(`&deviceId=nobody-sends&after=${next}&waitMs=1`);
    assert.deepEqual([reply.status, reply.json.messages], [200, []]);
  });

  test('needs ServiceConnect: no token, a registry-only policy, a wrong key, an expired token are 401', async () => {
    const refused = [
      null,
      serviceToken(hub, 'registryReadWrite'),
      serviceToken(hub, 'service', { key: Buffer.alloc(32, 7).toString('base64') }),
      serviceToken(hub, 'service', { expiresAt: Math.floor(Date.now() / 1000) - 10 }),
    ];
    for (const authorization of refused) {
      const reply = await read('', authorization);
      assert.equal(reply.status, 401, reply.text);
      assert.equal(reply.headers['iothub-errorcode'], 'IotHubUnauthorizedAccess');
      assert.match(reply.json.Message, /^ErrorCode:IotHubUnauthorizedAccess;/);
    }
    assert.equal((await read('', serviceToken(hub, 'iothubowner'))).status, 200);
  });

  test('bad parameters are 400 naming what was wrong', async () => {
    const cases: [string, RegExp][] = [
      ['&waitMs=30001', /waitMs="30001" must be an integer from 0 to 30000/],
      ['&waitMs=-1', /waitMs="-1" must be an integer from 0 to 30000/],
      ['&waitMs=soon', /waitMs="soon"/],
      ['&after=1.5', /after="1.5" must be an integer/],
      ['&deviceId=a%2Fb', /deviceId: device id contains invalid characters "\/"/],
      ['&deviceId=d&moduleId=', /moduleId: module id is empty/],
      ['&moduleId=m', /moduleId needs deviceId/],
    ];
    for (const [query, expected] of cases) {
      const reply = await read(query);
      assert.equal(reply.status, 400, `${query}: ${reply.text}`);
      assert.equal(reply.headers['iothub-errorcode'], 'ArgumentInvalid');
      assert.match(reply.json.Message, expected, query);
    }
    const both = await read('&waitMs=99999&after=x');
    assert.match(both.json.Message, /after=.*\| waitMs=/, 'every problem at once');
  });
});

describe('a long poll and its token', () => {
  test('does not outlast the token it was authorized with', async () => {
    const { next } = (await read('')).json;
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    // A 30 s wait with a token that expires in about 2 s: answered (empty) when the token expires. The
    // request's bound (15 s, half the wait) is what fails if the poll ignored the expiry.
    const reply = await hubGet(
      hub,
      `/local-hub/telemetry?${API}&deviceId=nobody-sends&after=${next}&waitMs=30000`,
      serviceToken(hub, 'service', { expiresAt }),
      15_000,
    );
    assert.deepEqual([reply.status, reply.json.messages], [200, []]);
  });
});
