/**
 * Attack-matrix cases from issue #10: attacks over time and broker features rather than single
 * requests — wills, retained copies, persistent sessions, token expiry, id enumeration, oversized and
 * hostile client ids, log floods and an unbounded query. Each is refused or harmless, changes no
 * identity or twin, and leaks nothing (the matrix checks all three). Identities a case needs beyond
 * the stage's are created and deleted inside it.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type * as mqtt from 'mqtt';
import {
  deviceToken,
  endRaw,
  type IdentityIds,
  type RawConnectOptions,
  rawMqttConnect,
  subscribeRaw,
} from './raw-mqtt';
import {
  type AttackCase,
  type AttackStage,
  expectConnectRefused,
  rememberToken,
} from './reliability-attacks';
import { retainedTopics } from './reliability-broker-probe';
import { withApiVersion } from './reliability-rest';

const mqttCase = (name: string, run: (s: AttackStage) => Promise<void>): AttackCase => ({
  name,
  transport: 'MQTT',
  run,
});
const restCase = (name: string, run: (s: AttackStage) => Promise<void>): AttackCase => ({
  name,
  transport: 'REST',
  run,
});

function keyOf(s: AttackStage, deviceId: string): string {
  return s.hub.state.findIdentity(deviceId, null)!.authentication.symmetricKey.primaryKey!;
}

async function connectAs(s: AttackStage, ids: IdentityIds, key: string, o: Partial<RawConnectOptions> = {}) {
  const password = deviceToken(s.hub.hostName, ids, key);
  rememberToken(s, password);
  return rawMqttConnect(s.hub, { clientId: ids.deviceId, password, ...o });
}

function clientOf(result: Awaited<ReturnType<typeof rawMqttConnect>>): mqtt.MqttClient {
  if (result.kind !== 'connected') assert.fail(`expected a connection, got ${JSON.stringify(result)}`);
  return result.client;
}

/** Polls `check` every 20 ms for at most `ms`. */
async function within(ms: number, check: () => boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** Runs `body` with a throwaway device, deleted afterwards (the matrix's snapshot stays equal). */
async function withDevice(s: AttackStage, body: (deviceId: string) => Promise<void>): Promise<void> {
  const deviceId = `tmp-${randomUUID().slice(0, 8)}`;
  s.hub.state.createDevice(deviceId, {});
  s.secrets.add(keyOf(s, deviceId));
  try {
    await body(deviceId);
  } finally {
    if (s.hub.state.findIdentity(deviceId, null)) s.hub.state.deleteDevice(deviceId);
  }
}

function willCases(): AttackCase[] {
  return [
    mqttCase(
      'a will on its own twin topic is refused at CONNECT (it would write the twin later)',
      async (s) => {
        const will = { topic: '$iothub/twin/PATCH/properties/reported/?$rid=1', payload: '{"owned":true}' };
        expectConnectRefused(await connectAs(s, { deviceId: 'attacker' }, s.keys.attacker, { will }), 5);
      },
    ),
    mqttCase("a will on the victim's telemetry topic is refused at CONNECT", async (s) => {
      const will = { topic: 'devices/victim/messages/events/', payload: 'spoofed' };
      expectConnectRefused(await connectAs(s, { deviceId: 'attacker' }, s.keys.attacker, { will }), 5);
    }),
    mqttCase("a deleted identity's will is not published after the delete", (s) =>
      withDevice(s, async (deviceId) => {
        const will = { topic: `devices/${deviceId}/messages/events/`, payload: 'after revocation' };
        const client = clientOf(await connectAs(s, { deviceId }, keyOf(s, deviceId), { will }));
        const closed = once(client, 'close');
        s.hub.state.deleteDevice(deviceId);
        await closed;
        await endRaw(client);
        // The hub's disconnect handling (which would publish the will) ends with this log line.
        await within(5_000, () =>
          s.logLines.some((l) => l.includes('mqtt disconnected') && l.includes(deviceId)),
        );
        assert.deepEqual(s.hub.state.recentMessages(deviceId, null), [], 'the will was recorded');
      }),
    ),
  ];
}

function sessionCases(): AttackCase[] {
  return [
    mqttCase('retained twin requests and telemetry leave no retained copy in the broker', async (s) => {
      const client = clientOf(await connectAs(s, { deviceId: 'attacker' }, s.keys.attacker));
      try {
        for (let i = 0; i < 50; i++) client.publish(`$iothub/twin/GET/?$rid=pin${i}`, ' ', { retain: true });
        client.publish('devices/attacker/messages/events/', 'x', { retain: true, qos: 1 });
        await new Promise<void>((resolve, reject) =>
          client.publish('devices/attacker/messages/events/', 'sync', { qos: 1 }, (e) =>
            e ? reject(e) : resolve(),
          ),
        );
      } finally {
        await endRaw(client);
      }
      assert.deepEqual(await retainedTopics(s.broker), []);
    }),
    mqttCase('a persistent session does not pass to a new identity with a deleted id', (s) =>
      withDevice(s, async (deviceId) => {
        const first = clientOf(await connectAs(s, { deviceId }, keyOf(s, deviceId), { clean: false }));
        await subscribeRaw(first, ['$iothub/twin/PATCH/properties/desired/#']);
        await endRaw(first);
        s.hub.state.deleteDevice(deviceId);
        s.hub.state.createDevice(deviceId, {});
        s.secrets.add(keyOf(s, deviceId));
        const again = await connectAs(s, { deviceId }, keyOf(s, deviceId), { clean: false });
        const client = clientOf(again);
        await endRaw(client);
        assert.equal((again as { sessionPresent: boolean }).sessionPresent, false, 'sessionPresent');
      }),
    ),
    mqttCase('a connection is closed when its SAS token expires', async (s) => {
      const expiresAt = Math.floor(Date.now() / 1000) + 2;
      const password = deviceToken(s.hub.hostName, { deviceId: 'attacker' }, s.keys.attacker, expiresAt);
      rememberToken(s, password);
      const client = clientOf(await rawMqttConnect(s.hub, { clientId: 'attacker', password }));
      const closed = await Promise.race([
        once(client, 'close').then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 15_000).unref()),
      ]);
      await endRaw(client);
      assert.ok(closed, 'the connection outlived its token');
    }),
  ];
}

function enumerationCases(): AttackCase[] {
  const wrongKey = () => randomBytes(32).toString('base64');
  return [
    mqttCase(
      'an unknown id, a wrong key and a disabled device with a wrong key all answer CONNACK 5',
      async (s) => {
        for (const deviceId of ['no-such-device', 'victim', 'disabled']) {
          expectConnectRefused(await connectAs(s, { deviceId }, wrongKey()), 5);
        }
      },
    ),
    mqttCase('a 64 KB client id is refused with CONNACK 2 and logged short', async (s) => {
      const clientId = 'x'.repeat(65_000);
      expectConnectRefused(
        await rawMqttConnect(s.hub, { clientId, password: 'SharedAccessSignature sr=x' }),
        2,
      );
      const longest = Math.max(...s.logLines.map((line) => line.length));
      assert.ok(longest < 4_000, `a ${longest}-character log line`);
    }),
    mqttCase('a client id with terminal escape sequences reaches the log escaped', async (s) => {
      const clientId = 'evil\u001b[2J\u001b]0;owned\u0007';
      expectConnectRefused(await connectAs(s, { deviceId: clientId }, wrongKey()), 5);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
      const raw = s.logLines.filter((line) => /[\u0000-\u001f\u007f-\u009f]/.test(line));
      assert.deepEqual(raw, [], 'a log line carries raw control characters');
    }),
    mqttCase('a SUBSCRIBE with 5,000 snooping filters is refused without flooding the log', async (s) => {
      const client = clientOf(await connectAs(s, { deviceId: 'attacker' }, s.keys.attacker));
      const before = s.logLines.length;
      try {
        const granted = await subscribeRaw(
          client,
          Array.from({ length: 5_000 }, (_, i) => `devices/victim/${i}`),
        );
        assert.ok(granted.every((qos) => qos === 128));
      } finally {
        await endRaw(client);
      }
      assert.ok(s.logLines.length - before < 500, `${s.logLines.length - before} log lines`);
    }),
  ];
}

function queryCases(): AttackCase[] {
  return [
    restCase('a 12,000-term AND chain in a query is a 400, not a stack overflow', async (s) => {
      const chain = Array.from({ length: 12_000 }, (_, i) => `a=${i}`).join(' AND ');
      const reply = await s.rest.request({
        method: 'POST',
        path: withApiVersion('/devices/query'),
        body: { query: `SELECT * FROM devices WHERE ${chain}` },
      });
      assert.equal(reply.status, 400, reply.text.slice(0, 200));
    }),
  ];
}

export function hardeningAttackCases(): AttackCase[] {
  return [...willCases(), ...sessionCases(), ...enumerationCases(), ...queryCases()];
}
