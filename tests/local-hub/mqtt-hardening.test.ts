/**
 * MQTT weaknesses about time and broker features (issue #10): retained copies of twin requests
 * (item 2), wills and late packets of revoked connections (item 4), connections outliving their SAS
 * token (item 5), CONNACK codes that tell registered ids from unknown ones (item 6), persistent
 * sessions that survive deleting or re-keying the identity (item 7), and `connectionState` after
 * quick connect/close runs. Raw clients against an in-process hub; every wait is bounded.
 */
import * as assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import {
  deviceToken,
  encodeMqttPacket,
  endRaw,
  type IdentityIds,
  mqttUsername,
  type RawConnectOptions,
  type RawConnectResult,
  RawMqttSession,
  rawMqttConnect,
  subscribeRaw,
} from '../support/raw-mqtt';
import { type BrokerProbe, installBrokerProbe, retainedTopics } from '../support/reliability-broker-probe';

let hub: LocalHub;
let probe: BrokerProbe;

before(async () => {
  probe = await installBrokerProbe();
  hub = await startTestHub();
});
after(async () => {
  probe.uninstall();
  await hub.close();
});

const keyOf = (deviceId: string): string =>
  hub.state.findIdentity(deviceId, null)!.authentication.symmetricKey.primaryKey!;

function connect(
  ids: IdentityIds,
  o: Partial<RawConnectOptions> & { key?: string; expiresAt?: number } = {},
) {
  const { key, expiresAt, ...rest } = o;
  return rawMqttConnect(hub, {
    clientId: ids.deviceId,
    password: deviceToken(hub.hostName, ids, key ?? keyOf(ids.deviceId), expiresAt),
    ...rest,
  });
}

function connectedClient(result: RawConnectResult): MqttClient {
  if (result.kind !== 'connected') assert.fail(`expected a connection, got ${JSON.stringify(result)}`);
  return result.client;
}

/** A twin GET round trip: once answered, everything the hub did for earlier packets is done. */
async function roundTrip(client: MqttClient): Promise<void> {
  const rid = randomUUID();
  const answered = new Promise<void>((resolve) => client.on('message', (t) => t.includes(rid) && resolve()));
  client.publish(`$iothub/twin/GET/?$rid=${rid}`, ' ');
  await withTimeout(answered, 10_000, 'the twin GET reply');
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `check` every 20 ms for at most `ms`; false when it never held. */
async function within(ms: number, check: () => boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

function rekey(deviceId: string): void {
  const current = hub.state.getDevice(deviceId);
  const fresh = () => randomBytes(32).toString('base64');
  hub.state.updateDevice(
    deviceId,
    {
      deviceId,
      authentication: { type: 'sas', symmetricKey: { primaryKey: fresh(), secondaryKey: fresh() } },
    },
    current.etag,
  );
}

describe('item 2: nothing published on an IoT Hub topic is retained', () => {
  test('retained twin GETs, reported patches and telemetry leave no retained copy', async () => {
    hub.state.createDevice('retainer', {});
    const client = connectedClient(await connect({ deviceId: 'retainer' }));
    try {
      await subscribeRaw(client, ['$iothub/twin/res/#']);
      for (let i = 0; i < 20; i++) {
        client.publish(`$iothub/twin/GET/?$rid=r${i}`, ' ', { retain: true });
        client.publish(`$iothub/twin/PATCH/properties/reported/?$rid=p${i}`, '{"n":1}', { retain: true });
      }
      client.publish('devices/retainer/messages/events/', 'hello', { retain: true, qos: 1 });
      await roundTrip(client);
    } finally {
      await endRaw(client);
    }
    const broker = probe.brokers.at(-1)!;
    assert.deepEqual(await retainedTopics(broker), [], 'the broker kept retained copies');
  });
});

describe('item 4: nothing from a revoked connection is written', () => {
  test('a will on a twin topic is refused at CONNECT (the will would write the twin)', async () => {
    hub.state.createDevice('will-twin', {});
    const result = await connect(
      { deviceId: 'will-twin' },
      { will: { topic: '$iothub/twin/PATCH/properties/reported/?$rid=w', payload: '{"hijacked":true}' } },
    );
    if (result.kind === 'connected') {
      // The old behaviour: the will is accepted and written when the connection is revoked.
      const closed = once(result.client, 'close');
      rekey('will-twin');
      await withTimeout(closed, 10_000, 'the revoked connection closing');
      await within(2_000, () => hub.state.getDevice('will-twin').connectionState === 'Disconnected');
      const reported = hub.state.getTwin('will-twin', null).properties.reported as Record<string, unknown>;
      await endRaw(result.client);
      assert.fail(
        `the will was accepted at CONNECT; after re-keying, reported.hijacked=${reported['hijacked']}`,
      );
    }
    assert.deepEqual(result, { kind: 'refused', returnCode: 5 });
  });

  for (const [how, revoke] of [
    ['re-keyed', (id: string) => rekey(id)],
    [
      'disabled',
      (id: string) => {
        const current = hub.state.getDevice(id);
        hub.state.updateDevice(id, { deviceId: id, status: 'disabled' }, current.etag);
      },
    ],
    [
      'bulk-disabled',
      (id: string) => {
        hub.state.bulk([{ id, importMode: 'update', status: 'disabled' }]);
      },
    ],
  ] as const) {
    test(`the telemetry will of a ${how} device is not published`, async () => {
      const deviceId = `will-${how}`;
      hub.state.createDevice(deviceId, {});
      const client = connectedClient(
        await connect(
          { deviceId },
          { will: { topic: `devices/${deviceId}/messages/events/`, payload: 'last words' } },
        ),
      );
      await roundTrip(client);
      const closed = once(client, 'close');
      revoke(deviceId);
      await withTimeout(closed, 10_000, 'the revoked connection closing');
      await endRaw(client);
      assert.ok(
        await within(5_000, () => hub.state.getDevice(deviceId).connectionState === 'Disconnected'),
        'the hub recorded the disconnect',
      );
      const messages = hub.state.recentMessages(deviceId, null).map((m) => m.body.toString('utf8'));
      assert.deepEqual(messages, [], 'the will was published after revocation');
    });
  }

  test('the telemetry will of a connection that drops on its own is still published (IoT Hub does)', async () => {
    hub.state.createDevice('will-ok', {});
    const client = connectedClient(
      await connect(
        { deviceId: 'will-ok' },
        { will: { topic: 'devices/will-ok/messages/events/', payload: 'bye' } },
      ),
    );
    await roundTrip(client);
    (client as unknown as { stream: { destroy(): void } }).stream.destroy();
    await endRaw(client);
    assert.ok(
      await within(5_000, () => hub.state.recentMessages('will-ok', null).length === 1),
      'the will reached telemetry',
    );
  });
});

describe('item 5: a connection ends when its SAS token expires', () => {
  test('the hub closes an MQTT connection at its token expiry', async () => {
    hub.state.createDevice('expiring', {});
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    const client = connectedClient(await connect({ deviceId: 'expiring' }, { expiresAt }));
    const closed = once(client, 'close');
    try {
      await withTimeout(closed, 15_000, 'the hub closing the connection after the token expired');
    } finally {
      await endRaw(client);
    }
  });
});

describe('item 6: CONNACK does not tell registered ids from unknown ones', () => {
  test('an unknown id and a registered id with a wrong key get the same answer', async () => {
    hub.state.createDevice('enum-known', {});
    hub.state.createDevice('enum-disabled', { status: 'disabled' });
    hub.state.createDevice('enum-x509', {
      authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: 'AB'.repeat(32) } },
    });
    const wrongKey = randomBytes(32).toString('base64');
    const answers: Record<string, RawConnectResult> = {};
    for (const deviceId of ['enum-unknown', 'enum-known', 'enum-disabled', 'enum-x509']) {
      answers[deviceId] = await connect({ deviceId }, { key: wrongKey });
    }
    const codes = Object.fromEntries(Object.entries(answers).map(([id, r]) => [id, JSON.stringify(r)]));
    assert.equal(new Set(Object.values(codes)).size, 1, JSON.stringify(codes));
  });
});

describe('item 7: deleting or re-keying an identity drops its stored session', () => {
  async function persistentSession(deviceId: string): Promise<void> {
    const client = connectedClient(await connect({ deviceId }, { clean: false }));
    await subscribeRaw(client, ['$iothub/twin/PATCH/properties/desired/#']);
    await endRaw(client);
    await within(5_000, () => hub.state.getDevice(deviceId).connectionState === 'Disconnected');
  }

  test('a new identity with the id of a deleted one gets no session', async () => {
    hub.state.createDevice('session-deleted', {});
    await persistentSession('session-deleted');
    hub.state.deleteDevice('session-deleted');
    hub.state.createDevice('session-deleted', {});
    const result = await connect({ deviceId: 'session-deleted' }, { clean: false });
    const client = connectedClient(result);
    await endRaw(client);
    assert.equal(
      (result as { sessionPresent: boolean }).sessionPresent,
      false,
      'sessionPresent after delete',
    );
  });

  test('a re-keyed identity connects without its old session', async () => {
    hub.state.createDevice('session-rekeyed', {});
    await persistentSession('session-rekeyed');
    rekey('session-rekeyed');
    const result = await connect({ deviceId: 'session-rekeyed' }, { clean: false });
    const client = connectedClient(result);
    await endRaw(client);
    assert.equal(
      (result as { sessionPresent: boolean }).sessionPresent,
      false,
      'sessionPresent after re-key',
    );
  });
});

describe('connectionState after quick connect/close runs', () => {
  test('20 runs of CONNECT then an immediate socket close leave the device Disconnected', async () => {
    hub.state.createDevice('quick', {});
    let stuck = 0;
    for (let run = 0; run < 20; run++) {
      const session = await RawMqttSession.open(hub);
      const connectPacket = encodeMqttPacket({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 60,
        clientId: 'quick',
        username: mqttUsername(hub.hostName, 'quick'),
        password: Buffer.from(deviceToken(hub.hostName, { deviceId: 'quick' }, keyOf('quick'))),
      });
      // The socket goes away while the hub is still handling CONNECT: its disconnect handling then
      // ran before the end of CONNECT handling, which marked the device Connected for good.
      session.write(connectPacket);
      setTimeout(() => session.destroy(), 1);
      await session.waitClosed(10_000);
      const settled = await within(
        2_000,
        () => hub.state.getDevice('quick').connectionState === 'Disconnected',
      );
      if (!settled) stuck += 1;
    }
    assert.equal(stuck, 0, `${stuck} of 20 runs left connectionState "Connected"`);
  });
});
