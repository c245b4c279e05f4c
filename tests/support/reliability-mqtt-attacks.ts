/**
 * Attacks on the device-facing MQTT endpoint (docs/iot-hub-behaviour.md §1.5 device tokens, §2 X.509 and status,
 * §3.1 CONNECT, §3.2 per-identity topics, §3.7 aedes hooks). CONNECT attempts must end in CONNACK 4
 * (bad credentials) or 5 (not authorized) — authenticate-connection.ts says which; snooping
 * subscriptions must be refused (SUBACK 128) and receive nothing; publishing on another identity's
 * or the hub's topics must close the connection and deliver nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type * as mqtt from 'mqtt';
import { createSasToken, encodeUriComponentStrict } from '../../lib/sas-token';
import { createSelfSignedClientCertificate } from '../../local-hub/tls/certificates';
import {
  clientIdOf,
  deviceToken,
  endRaw,
  type IdentityIds,
  mqttUsername,
  type RawConnectOptions,
  rawMqttConnect,
  subscribeRaw,
} from './raw-mqtt';
import {
  type AttackCase,
  type AttackStage,
  assertNothingSecret,
  expectConnectRefused,
  IDS,
  rememberToken,
  VICTIM_SECRET,
} from './reliability-attacks';
import { nowSeconds, serviceToken, wellKnownPolicy } from './reliability-rest';
import { within } from './runtime-wait';

function attack(name: string, run: (stage: AttackStage) => Promise<void>): AttackCase {
  return { name, transport: 'MQTT', run };
}

async function connectAs(stage: AttackStage, o: RawConnectOptions) {
  if (o.password) rememberToken(stage, o.password);
  return rawMqttConnect(stage.hub, o);
}

/** CONNECT as `ids` with this password; expects the refusal code. */
async function refusedConnect(
  stage: AttackStage,
  ids: IdentityIds,
  password: string | undefined,
  code: 4 | 5,
): Promise<void> {
  expectConnectRefused(
    await connectAs(stage, { clientId: clientIdOf(ids), ...(password === undefined ? {} : { password }) }),
    code,
  );
}

const token = (s: AttackStage, ids: IdentityIds, key: string, expiresAt?: number) =>
  deviceToken(s.hub.hostName, ids, key, expiresAt);

function credentialCases(): AttackCase[] {
  const { victim, victimModule, victimSibling, attacker, attackerModule, disabled, disabledModule, x509 } =
    IDS;
  return [
    attack('forged signature (random key)', (s) =>
      refusedConnect(s, victim, token(s, victim, randomBytes(32).toString('base64')), 5),
    ),
    attack("signed with another device's key", (s) =>
      refusedConnect(s, victim, token(s, victim, s.keys.attacker), 5),
    ),
    attack('expired token', (s) =>
      refusedConnect(s, victim, token(s, victim, s.keys.victim, nowSeconds() - 60), 5),
    ),
    attack('valid token for another device', (s) =>
      refusedConnect(s, victim, token(s, attacker, s.keys.attacker), 5),
    ),
    attack("valid token for another device's module", (s) =>
      refusedConnect(s, victimModule, token(s, attackerModule, s.keys.attackerModule), 5),
    ),
    attack('valid token for a sibling module of the same device', (s) =>
      refusedConnect(s, victimModule, token(s, victimSibling, s.keys.victimSibling), 5),
    ),
    attack("the device's key for one of its modules (device-scoped sr)", (s) =>
      refusedConnect(s, victimModule, token(s, victim, s.keys.victim), 5),
    ),
    attack('a DeviceConnect policy token (skn) on the device endpoint', (s) =>
      refusedConnect(
        s,
        victim,
        serviceToken(s.hub.hostName, wellKnownPolicy('device'), {
          sr: encodeUriComponentStrict(`${s.hub.hostName}/devices/victim`),
        }),
        5,
      ),
    ),
    attack('an owner policy token on the device endpoint', (s) =>
      refusedConnect(s, victim, serviceToken(s.hub.hostName, wellKnownPolicy('iothubowner')), 5),
    ),
    attack('a token whose sr has extra segments', (s) =>
      refusedConnect(
        s,
        victimModule,
        createSasToken({
          sr: encodeUriComponentStrict(`${s.hub.hostName}/devices/victim/modules/vm/x`),
          base64Key: s.keys.victimModule,
          expiresAt: nowSeconds() + 600,
        }),
        5,
      ),
    ),
    attack('a disabled device with its own valid key', (s) =>
      refusedConnect(s, disabled, token(s, disabled, s.keys.disabled), 5),
    ),
    attack('a module of a disabled device with its own valid key', (s) =>
      refusedConnect(s, disabledModule, token(s, disabledModule, s.keys.disabledModule), 5),
    ),
    attack('an unregistered device', (s) =>
      refusedConnect(s, { deviceId: 'ghost' }, token(s, { deviceId: 'ghost' }, s.keys.victim), 5),
    ),
    attack('X.509: a certificate whose thumbprint does not match', async (s) => {
      const stranger = await createSelfSignedClientCertificate(x509.deviceId);
      s.secrets.add(stranger.privateKeyPem);
      expectConnectRefused(
        await connectAs(s, {
          clientId: x509.deviceId,
          cert: stranger.certificatePem,
          key: stranger.privateKeyPem,
        }),
        5,
      );
    }),
    attack('X.509: no certificate and no password', (s) => refusedConnect(s, x509, undefined, 4)),
    attack('X.509 identity presenting a SAS token instead', (s) =>
      refusedConnect(s, x509, token(s, x509, s.keys.victim), 5),
    ),
    attack('SAS identity presenting only a client certificate', async (s) => {
      const { certificatePem, privateKeyPem } = s.x509Certificate;
      expectConnectRefused(
        await connectAs(s, { clientId: 'victim', cert: certificatePem, key: privateKeyPem }),
        5,
      );
    }),
  ];
}

/** Malformed user names, client ids and passwords around an otherwise valid victim token. */
function malformedCases(): AttackCase[] {
  const valid = (s: AttackStage) => token(s, IDS.victim, s.keys.victim);
  const variants: [string, (s: AttackStage) => RawConnectOptions][] = [
    [
      'user name without api-version',
      (s) => ({ clientId: 'victim', username: `${s.hub.hostName}/victim/?foo=1` }),
    ],
    [
      'user name naming another client id',
      (s) => ({ clientId: 'victim', username: mqttUsername(s.hub.hostName, 'attacker') }),
    ],
    [
      'user name naming another hub host',
      () => ({ clientId: 'victim', username: mqttUsername('other-hub.azure-devices.net', 'victim') }),
    ],
    ['neither user name nor password', () => ({ clientId: 'victim', username: null, password: undefined })],
    [
      'user name without the "/?" query part',
      (s) => ({ clientId: 'victim', username: `${s.hub.hostName}/victim` }),
    ],
    [
      'client id with three segments',
      (s) => ({ clientId: 'victim/vm/x', username: mqttUsername(s.hub.hostName, 'victim/vm/x') }),
    ],
    ['password that is not a SAS token', () => ({ clientId: 'victim', password: 'hunter2' })],
    [
      'SAS token with a broken se',
      (s) => ({ clientId: 'victim', password: valid(s).replace(/se=\d+/, 'se=soon') }),
    ],
  ];
  return variants.map(([name, options]) =>
    attack(`malformed CONNECT: ${name}`, async (s) => {
      expectConnectRefused(await connectAs(s, { password: valid(s), ...options(s) }), 4);
    }),
  );
}

/** A connected raw client of `ids`, collecting every PUBLISH it receives. */
async function connected(
  s: AttackStage,
  ids: IdentityIds,
  key: string,
): Promise<{ client: mqtt.MqttClient; received: string[] }> {
  const result = await connectAs(s, { clientId: clientIdOf(ids), password: token(s, ids, key) });
  assert.equal(result.kind, 'connected', `${clientIdOf(ids)} must connect with its own key`);
  const client = (result as { client: mqtt.MqttClient }).client;
  const received: string[] = [];
  client.on('message', (topic, payload) => received.push(`${topic} ${payload.toString('utf8')}`));
  return { client, received };
}

/** The victim's twin traffic (a desired notification and a GET reply, both carrying VICTIM_SECRET). */
async function victimTraffic(s: AttackStage, victim: mqtt.MqttClient): Promise<void> {
  const notified = new Promise<void>((resolve) =>
    victim.on('message', (topic) => topic.includes('/desired/') && resolve()),
  );
  // Same content: the registry snapshot stays equal, the notification still goes out (§3.3).
  s.hub.state.patchTwin('victim', null, { properties: { desired: { secret: VICTIM_SECRET } } }, '*');
  await Promise.all([roundTrip(victim), within("the victim's desired notification", notified)]);
}

/** A twin GET round trip of `client`: once answered, everything sent to it before has arrived. */
async function roundTrip(client: mqtt.MqttClient): Promise<void> {
  const rid = randomUUID();
  const answered = new Promise<void>((resolve) =>
    client.on('message', (topic) => topic.includes(rid) && resolve()),
  );
  client.publish(`$iothub/twin/GET/?$rid=${rid}`, ' ');
  await within(`the answer to twin GET $rid=${rid}`, answered);
}

/** §3.7: only the identity's own filters are granted; the victim's traffic never reaches the spy. */
async function snoopingSubscriptions(s: AttackStage): Promise<void> {
  const spy = await connected(s, IDS.attacker, s.keys.attacker);
  const victim = await connected(s, IDS.victim, s.keys.victim);
  try {
    await subscribeRaw(victim.client, ['$iothub/twin/res/#', '$iothub/twin/PATCH/properties/desired/#']);
    const filters = [
      'devices/victim/messages/devicebound/#',
      'devices/victim/modules/vm/inputs/#',
      '#',
      '$iothub/#',
      'devices/+/messages/devicebound/#',
      '$iothub/twin/res/#',
    ];
    assert.deepEqual(await subscribeRaw(spy.client, filters), [128, 128, 128, 128, 128, 0]);
    await victimTraffic(s, victim.client);
    await roundTrip(spy.client);
    assert.equal(
      spy.received.length,
      1,
      `the spy received ${spy.received.length} messages, not only its own reply`,
    );
    assertNothingSecret(s, spy.received.join('\n'));
  } finally {
    await Promise.all([endRaw(spy.client), endRaw(victim.client)]);
  }
}

/** §0.9, §3.2: a device publishes only on its own topics; anything else closes it and goes nowhere. */
async function forbiddenPublish(s: AttackStage, topic: string): Promise<void> {
  const victim = await connected(s, IDS.victimModule, s.keys.victimModule);
  const spy = await connected(s, IDS.attacker, s.keys.attacker);
  try {
    const victimFilters = [
      '$iothub/twin/res/#',
      '$iothub/twin/PATCH/properties/desired/#',
      'devices/victim/modules/vm/inputs/#',
    ];
    await subscribeRaw(victim.client, victimFilters);
    const closed = once(spy.client, 'close');
    spy.client.publish(topic, JSON.stringify({ secret: 'spoofed' }), { qos: 1 });
    await closed;
    const recorded =
      s.hub.state.recentMessages('victim', null).length + s.hub.state.recentMessages('victim', 'vm').length;
    assert.equal(recorded, 0, 'telemetry was recorded for the victim');
    await roundTrip(victim.client);
    assert.equal(victim.received.length, 1, `the victim received ${victim.received.join(' | ')}`);
  } finally {
    await Promise.all([endRaw(spy.client), endRaw(victim.client)]);
  }
}

const FORBIDDEN_PUBLISHES: [string, string][] = [
  ['telemetry as the victim', 'devices/victim/messages/events/'],
  ["telemetry as the victim's module", 'devices/victim/modules/vm/messages/events/'],
  [
    'a desired-properties patch (hub-to-device twin topic)',
    '$iothub/twin/PATCH/properties/desired/?$version=99',
  ],
  ['a forged twin response', '$iothub/twin/res/200/?$rid=1'],
  ["a message to the victim module's input", 'devices/victim/modules/vm/inputs/in1'],
];

function topicCases(): AttackCase[] {
  return [
    attack(
      "subscriptions to other identities' topics are refused and receive nothing",
      snoopingSubscriptions,
    ),
    ...FORBIDDEN_PUBLISHES.map(([name, topic]) =>
      attack(`publishing ${name} closes the connection and delivers nothing`, (s) =>
        forbiddenPublish(s, topic),
      ),
    ),
    attack('publishing with QoS 2 closes the connection', async (s) => {
      const spy = await connected(s, IDS.attacker, s.keys.attacker);
      const closed = once(spy.client, 'close');
      spy.client.publish('devices/attacker/messages/events/', 'x', { qos: 2 });
      await closed;
      await endRaw(spy.client);
    }),
  ];
}

export function mqttAttackCases(): AttackCase[] {
  return [...credentialCases(), ...malformedCases(), ...topicCases()];
}
