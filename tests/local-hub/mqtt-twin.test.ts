/**
 * The device side of twins and telemetry over MQTT, with raw mqtt.js against an in-process hub:
 * reply topics and bodies (docs/iot-hub-behaviour.md §3.2, §3.3), error bodies the SDK recognises (§0.7), QoS rules,
 * desired patches only to the one subscribed connection (§0.9), GET before SUBSCRIBE (§3.8) and
 * telemetry property bags.
 */
import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import type { LocalHub } from '../../local-hub/index';
import { connectRawMqtt, deviceSasToken, startTestHub } from '../support/local-hub-fixture';
import { waitFor } from '../support/runtime-wait';

let hub: LocalHub;

before(async () => {
  hub = await startTestHub();
  hub.state.createDevice('twin-device', { deviceId: 'twin-device' });
  hub.state.createModule('twin-device', 'listener', { deviceId: 'twin-device', moduleId: 'listener' });
  hub.state.createModule('twin-device', 'bystander', { deviceId: 'twin-device', moduleId: 'bystander' });
});
after(() => hub.close());

async function connectModule(moduleId: string): Promise<MqttClient> {
  const key = hub.state.findIdentity('twin-device', moduleId)!.authentication.symmetricKey.primaryKey!;
  const password = deviceSasToken({ hostName: hub.hostName, deviceId: 'twin-device', moduleId, key });
  const result = await connectRawMqtt(hub, { clientId: `twin-device/${moduleId}`, password });
  assert.equal(result.returnCode, 0);
  return result.client!;
}

/** Every message a client receives, in order, with a way to wait for one. */
function inbox(client: MqttClient) {
  const messages: { topic: string; body: string }[] = [];
  client.on('message', (topic: string, payload: Buffer) =>
    messages.push({ topic, body: payload.toString() }),
  );
  return {
    messages,
    /** The first message whose topic matches; fails after the wait's deadline, listing what came. */
    waitFor(match: (topic: string) => boolean): Promise<{ topic: string; body: string }> {
      return waitFor(
        () => `a matching message; received: ${messages.map((m) => m.topic).join(', ') || 'nothing'}`,
        () => messages.find((m) => match(m.topic)),
      );
    },
  };
}

function subscribe(client: MqttClient, topic: string, qos: 0 | 1 | 2 = 0): Promise<number> {
  return new Promise((resolve, reject) =>
    client.subscribe(topic, { qos }, (error, granted) => (error ? reject(error) : resolve(granted[0]!.qos))),
  );
}

let counter = 0;
async function request(client: MqttClient, box: ReturnType<typeof inbox>, topic: string, body: string) {
  const rid = `r${++counter}`;
  client.publish(`${topic}?$rid=${rid}`, body);
  return box.waitFor((t) => t.startsWith('$iothub/twin/res/') && t.includes(`$rid=${rid}`));
}

describe('twin requests', () => {
  let client: MqttClient;
  let box: ReturnType<typeof inbox>;
  before(async () => {
    client = await connectModule('listener');
    box = inbox(client);
  });
  after(() => {
    client.end(true);
  });

  test('a GET sent before subscribing to the response topic is still answered (§3.8)', async () => {
    const reply = await request(client, box, '$iothub/twin/GET/', ' ');
    assert.match(reply.topic, /^\$iothub\/twin\/res\/200\/\?\$rid=r\d+$/);
    const twin = JSON.parse(reply.body);
    assert.deepEqual(Object.keys(twin).sort(), ['desired', 'reported'], 'no properties wrapper (§3.3)');
    assert.equal(twin.desired.$version, 1);
  });

  test('a reported patch answers 204 with the new $version and lands in the twin', async () => {
    assert.equal(await subscribe(client, '$iothub/twin/res/#'), 0);
    const reply = await request(
      client,
      box,
      '$iothub/twin/PATCH/properties/reported/',
      '{"fw":"2.0","nested":{"a":1}}',
    );
    const version = hub.state.getTwin('twin-device', 'listener').properties.reported.$version;
    assert.equal(reply.topic, `$iothub/twin/res/204/?$rid=r${counter}&$version=${version}`);
    assert.equal(reply.body, '');
    const reported = hub.state.getDeviceFacingTwin('twin-device', 'listener').reported;
    assert.equal(reported['fw'], '2.0');
    assert.deepEqual(reported['nested'], { a: 1 });
  });

  test('malformed JSON answers 400 with {"errorCode":400004,...}; the connection stays open', async () => {
    const reply = await request(client, box, '$iothub/twin/PATCH/properties/reported/', '{not json');
    assert.match(reply.topic, /^\$iothub\/twin\/res\/400\//);
    const body = JSON.parse(reply.body);
    assert.equal(body.errorCode, 400004);
    assert.match(body.message, /not valid JSON/);
    assert.equal(
      (await request(client, box, '$iothub/twin/GET/', ' ')).topic.startsWith('$iothub/twin/res/200/'),
      true,
    );
  });

  test('a patch the store rejects (a $-key) answers 400 with the store message', async () => {
    const reply = await request(client, box, '$iothub/twin/PATCH/properties/reported/', '{"$bad":1}');
    assert.match(reply.topic, /^\$iothub\/twin\/res\/400\//);
    assert.equal(JSON.parse(reply.body).errorCode, 400004);
  });
});

describe('desired patches reach only the subscribed connection', () => {
  test('the subscriber gets the patch on its topic; a connection that did not subscribe does not', async () => {
    const listener = await connectModule('listener');
    const bystander = await connectModule('bystander');
    const listenerBox = inbox(listener);
    const bystanderBox = inbox(bystander);
    try {
      assert.equal(await subscribe(listener, '$iothub/twin/PATCH/properties/desired/#'), 0);
      await subscribe(bystander, '$iothub/twin/res/#');
      const twin = hub.state.getTwin('twin-device', 'listener');
      const updated = hub.state.patchTwin(
        'twin-device',
        'listener',
        { properties: { desired: { rate: 7 } } },
        twin.etag,
      );
      const version = updated.properties.desired.$version;
      const patch = await listenerBox.waitFor((t) => t.startsWith('$iothub/twin/PATCH/properties/desired/'));
      assert.equal(patch.topic, `$iothub/twin/PATCH/properties/desired/?$version=${version}`);
      assert.deepEqual(JSON.parse(patch.body), { rate: 7, $version: version });

      // The bystander's patch is also delivered only if it subscribed: it did not.
      const other = hub.state.getTwin('twin-device', 'bystander');
      hub.state.patchTwin('twin-device', 'bystander', { properties: { desired: { rate: 9 } } }, other.etag);
      const own = await request(bystander, bystanderBox, '$iothub/twin/GET/', ' ');
      assert.equal(JSON.parse(own.body).desired.rate, 9, 'the GET sees the update');
      assert.deepEqual(
        bystanderBox.messages.map((m) => m.topic),
        [own.topic],
        'no desired patch was pushed to a connection that did not subscribe',
      );
    } finally {
      listener.end(true);
      bystander.end(true);
    }
  });
});

describe('QoS and telemetry', () => {
  test('a QoS 2 subscription is granted as QoS 1; a subscription outside the identity is refused (128)', async () => {
    const client = await connectModule('listener');
    try {
      assert.equal(await subscribe(client, 'devices/twin-device/modules/listener/inputs/#', 2), 1);
      assert.equal(await subscribe(client, 'devices/twin-device/modules/bystander/inputs/#', 1), 128);
    } finally {
      client.end(true);
    }
  });

  test('telemetry with a property bag is acknowledged (QoS 1) and recorded, decoded', async () => {
    const client = await connectModule('listener');
    try {
      const topic =
        'devices/twin-device/modules/listener/messages/events/%24.on=out1&%24.ct=application%2Fjson&k=v%20w';
      await new Promise<void>((resolve, reject) =>
        client.publish(topic, '{"t":21}', { qos: 1 }, (error) => (error ? reject(error) : resolve())),
      );
      const [message] = hub.state.recentMessages('twin-device', 'listener');
      assert.ok(message, 'recorded');
      assert.deepEqual(message.properties, { '$.on': 'out1', '$.ct': 'application/json', k: 'v w' });
      assert.equal(message.body.toString(), '{"t":21}');
    } finally {
      client.end(true);
    }
  });

  test('a QoS 2 publish closes the connection (IoT Hub has no QoS 2, §3.2)', async () => {
    const client = await connectModule('bystander');
    const closed = once(client, 'close');
    client.publish('devices/twin-device/modules/bystander/messages/events/', 'x', { qos: 2 });
    await closed;
    client.end(true);
    assert.equal(hub.state.recentMessages('twin-device', 'bystander').length, 0);
  });
});
