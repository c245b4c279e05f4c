/**
 * The MQTT half of the fuzz suite: seed packets an IoT Hub device really sends (docs/iot-hub-behaviour.md §3.1,
 * §3.2), mutated by reliability-mutations.ts, and a worker that feeds them to the hub one at a time:
 *  - before authentication: a mutated CONNECT on a fresh connection, then end of stream;
 *  - after authentication: a mutated packet on a live session, then PINGREQ. A PINGRESP means the hub
 *    read the packet and carried on; a close means it refused it. Packets our own copy of aedes'
 *    parser sees as incomplete are followed by end of stream instead (the hub would wait for more).
 * Every wait is bounded; a connection the hub neither answers nor closes counts as `stalled`.
 */
import type { Packet } from 'mqtt-packet';
import {
  clientIdOf,
  deviceToken,
  encodeMqttPacket,
  type MqttEndpoint,
  mqttUsername,
  RawMqttSession,
} from './raw-mqtt';
import { deeplyNestedJson, mutateBytes, randomJsonValue, spliceBadUtf8 } from './reliability-mutations';
import type { Random } from './reliability-random';

const mqttPacket: typeof import('mqtt-packet') = require('mqtt-packet');

/** Bounds a single wait; generous because the CPU is shared (never asserted on). */
const WAIT_MS = 10_000;
const PINGREQ = encodeMqttPacket({ cmd: 'pingreq' });

export interface FuzzIdentity {
  deviceId: string;
  key: string;
}

export interface MqttFuzzStats {
  /** Mutated packets written to the hub. */
  sent: number;
  /** The hub answered: PINGRESP after a session packet, CONNACK (any code) to a CONNECT. */
  tolerated: number;
  /** The hub closed the connection without an answer (protocol error, forbidden topic …). */
  closed: number;
  /** Incomplete by construction: sent, then end of stream. */
  incomplete: number;
  /** Neither answered nor closed within the bound. */
  stalled: number;
  /** Pre-authentication CONNECTs that still authenticated after mutation. */
  acceptedConnects: number;
  /** Twin replies with a 5xx status (§3.3: bad input is a 400), and what was being sent as they arrived. */
  twinServerErrors: number;
  serverErrorSamples: string[];
}

export const emptyMqttStats = (): MqttFuzzStats => ({
  sent: 0,
  tolerated: 0,
  closed: 0,
  incomplete: 0,
  stalled: 0,
  acceptedConnects: 0,
  twinServerErrors: 0,
  serverErrorSamples: [],
});

function connectPacket(hub: MqttEndpoint, identity: FuzzIdentity): Packet {
  const clientId = clientIdOf(identity);
  return {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: 180,
    clientId,
    username: mqttUsername(hub.hostName, clientId),
    password: Buffer.from(deviceToken(hub.hostName, identity, identity.key)),
  };
}

/** Payloads: mostly random JSON, sometimes with invalid UTF-8 or nested far past the twin depth limit. */
function seedPayload(random: Random): Buffer {
  if (random.chance(0.1)) {
    return Buffer.from(
      deeplyNestedJson(random.pick([11, 100, 5000]), random.chance(0.5) ? 'array' : 'object'),
    );
  }
  const text = JSON.stringify(randomJsonValue(random, 3)) ?? 'null';
  return random.chance(0.2) ? spliceBadUtf8(random, text) : Buffer.from(text);
}

/** Mostly the identity's own topics (§3.2), sometimes topics it may not use. */
function seedTopic(random: Random, identity: FuzzIdentity): string {
  const events = `devices/${identity.deviceId}/messages/events/`;
  const rid = String(random.int(1_000_000));
  const own = [
    `${events}$.ct=application%2Fjson&k=${rid}`,
    `$iothub/twin/GET/?$rid=${rid}`,
    `$iothub/twin/PATCH/properties/reported/?$rid=${rid}`,
  ];
  const other = [
    '$iothub/twin/PATCH/properties/reported/',
    `$iothub/twin/res/200/?$rid=${rid}`,
    'devices/other/messages/events/',
    '#',
    '',
    `${events}${'%'.repeat(random.int(50))}`,
  ];
  return random.chance(0.7) ? random.pick(own) : random.pick(other);
}

const SUBSCRIBE_FILTERS = [
  '$iothub/twin/res/#',
  '$iothub/twin/PATCH/properties/desired/#',
  '#',
  '+/+',
  'devices/x/messages/devicebound/#',
];

/** The seeds: what the device SDK sends after CONNECT, with hostile but well-framed content mixed in. */
function sessionSeed(random: Random, identity: FuzzIdentity): Packet {
  const messageId = random.between(1, 65535);
  switch (random.int(8)) {
    case 0:
    case 1:
    case 2: {
      const qos = random.pick([0, 1, 1, 2] as const);
      const topic = seedTopic(random, identity);
      return {
        cmd: 'publish',
        topic,
        payload: seedPayload(random),
        qos,
        retain: random.chance(0.1),
        dup: false,
        ...(qos > 0 ? { messageId } : {}),
      };
    }
    case 3:
      return {
        cmd: 'subscribe',
        messageId,
        subscriptions: [{ topic: random.pick(SUBSCRIBE_FILTERS), qos: random.pick([0, 1, 2] as const) }],
      };
    case 4:
      return { cmd: 'unsubscribe', messageId, unsubscriptions: [seedTopic(random, identity)] };
    case 5:
      return { cmd: random.pick(['puback', 'pubrec', 'pubrel', 'pubcomp'] as const), messageId };
    case 6:
      return random.chance(0.5) ? { cmd: 'pingreq' } : { cmd: 'disconnect' };
    default:
      // A second CONNECT on a live session is a protocol violation (MQTT 3.1.1 §3.1.0-2).
      return {
        cmd: 'connect',
        clientId: identity.deviceId,
        protocolVersion: 4,
        protocolId: 'MQTT',
        clean: true,
        keepalive: 0,
      };
  }
}

/** Well-framed packets are sometimes sent as they are (content fuzz), mostly byte-mutated (framing fuzz). */
function mutatedSessionPacket(random: Random, identity: FuzzIdentity): Buffer {
  const seed = encodeMqttPacket(sessionSeed(random, identity));
  return random.chance(0.25) ? seed : mutateBytes(random, seed);
}

function mutatedConnect(random: Random, hub: MqttEndpoint, identity: FuzzIdentity): Buffer {
  const packet = connectPacket(hub, identity) as Packet & Record<string, unknown>;
  if (random.chance(0.3)) {
    const variants: Record<string, unknown>[] = [
      { protocolId: 'MQIsdp', protocolVersion: 3 },
      { protocolVersion: 5 },
      { clientId: '' },
      { clientId: `${identity.deviceId}/a/b` },
      { username: `${hub.hostName}/${identity.deviceId}` },
      { password: Buffer.from('SharedAccessSignature sr=&sig=&se=') },
      { will: { topic: '#', payload: Buffer.from('x'), qos: 1, retain: true } },
      { keepalive: 65535, clean: false },
    ];
    Object.assign(packet, random.pick(variants));
    return encodeMqttPacket(packet as Packet);
  }
  return mutateBytes(random, encodeMqttPacket(packet));
}

/** How aedes' parser (same mqtt-packet) would read these bytes: incomplete means it waits for more. */
function isIncomplete(bytes: Buffer): boolean {
  // A mutation can truncate to nothing: no bytes, nothing for the hub to answer.
  if (bytes.length === 0) return true;
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let failed = false;
  parser.on('error', () => {
    failed = true;
  });
  const leftover = parser.parse(bytes);
  // Mid-packet (e.g. a header byte without its length) shows as a parser state other than the first.
  const midPacket = (parser as unknown as { _stateCounter: number })._stateCounter !== 0;
  return !failed && (leftover > 0 || midPacket);
}

/** A raw session of `identity` past CONNACK 0 (it must be able to connect). */
export async function openAuthenticatedSession(
  hub: MqttEndpoint,
  identity: FuzzIdentity,
): Promise<RawMqttSession> {
  const session = await RawMqttSession.open(hub);
  session.write(encodeMqttPacket(connectPacket(hub, identity)));
  const outcome = await session.waitFor('connack', 1, WAIT_MS);
  const connack = session.received.find((p) => p.cmd === 'connack') as { returnCode?: number } | undefined;
  if (outcome !== 'received' || connack?.returnCode !== 0) {
    session.destroy();
    throw new Error(
      `fuzz identity ${identity.deviceId} could not connect (${outcome}, CONNACK ${connack?.returnCode})`,
    );
  }
  return session;
}

/** One mutated CONNECT on a fresh connection, then end of stream. */
export async function fuzzConnectOnce(
  random: Random,
  hub: MqttEndpoint,
  identity: FuzzIdentity,
  stats: MqttFuzzStats,
): Promise<void> {
  const session = await RawMqttSession.open(hub);
  const bytes = mutatedConnect(random, hub, identity);
  session.write(bytes);
  stats.sent++;
  // A complete CONNECT is answered (CONNACK) or refused by closing; an incomplete one waits for more.
  const answer = isIncomplete(bytes) ? 'incomplete' : await session.waitFor('connack', 1, WAIT_MS);
  session.end();
  const closedByHub = await session.waitClosed(WAIT_MS);
  const connack = session.received.find((p) => p.cmd === 'connack') as { returnCode?: number } | undefined;
  if (connack?.returnCode === 0) stats.acceptedConnects++;
  if (answer === 'incomplete') stats.incomplete++;
  if (answer === 'timeout' || !closedByHub) stats.stalled++;
  else if (answer !== 'incomplete') stats[connack ? 'tolerated' : 'closed']++;
}

/** A `$iothub/twin/res/5xx/` reply means the hub failed on input it should have refused as bad. */
function noteServerError(stats: MqttFuzzStats, packet: Packet, sent: Buffer): void {
  if (packet.cmd !== 'publish' || !/^\$iothub\/twin\/res\/5\d\d\//.test(packet.topic)) return;
  stats.twinServerErrors++;
  if (stats.serverErrorSamples.length < 5) {
    stats.serverErrorSamples.push(
      `${packet.topic} (arrived while sending ${sent.length} bytes: ${JSON.stringify(sent.toString('latin1').slice(0, 60))}…)`,
    );
  }
}

/** `count` mutated packets on authenticated sessions of `identity`, reconnecting whenever the hub closes one. */
export async function fuzzSessionPackets(
  random: Random,
  hub: MqttEndpoint,
  identity: FuzzIdentity,
  count: number,
  stats: MqttFuzzStats,
): Promise<void> {
  let session: RawMqttSession | undefined;
  try {
    for (let i = 0; i < count; i++) {
      if (!session || session.isClosed) session = await openAuthenticatedSession(hub, identity);
      const bytes = mutatedSessionPacket(random, identity);
      session.onPacket = (packet) => noteServerError(stats, packet, bytes);
      session.write(bytes);
      stats.sent++;
      if (isIncomplete(bytes)) {
        session.end();
        await session.waitClosed(WAIT_MS);
        stats.incomplete++;
        session = undefined;
        continue;
      }
      const pings = session.count('pingresp');
      session.write(PINGREQ);
      const outcome = await session.waitFor('pingresp', pings + 1, WAIT_MS);
      if (outcome === 'received') stats.tolerated++;
      else if (outcome === 'closed') stats.closed++;
      else {
        stats.stalled++;
        session.destroy();
        session = undefined;
      }
    }
  } finally {
    session?.destroy();
  }
}
