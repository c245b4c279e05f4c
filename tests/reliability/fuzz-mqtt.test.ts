/**
 * Fuzz, MQTT side (issue #5): at least 5,000 mutated MQTT packets, before and after authentication,
 * from a seeded generator (the seed is printed; RELIABILITY_SEED replays it). Afterwards the official
 * device SDK still connects and works, and the hub's memory has not grown with the packet count.
 * Bounded: a fixed packet count, every wait capped (reliability-mqtt-fuzz.ts), loopback only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client as DeviceClient } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import type { LocalHub } from '../../local-hub/index';
import { RECENT_MESSAGES_PER_IDENTITY } from '../../local-hub/store';
import { startTestHub } from '../support/local-hub-fixture';
import { encodeMqttPacket, RawMqttSession } from '../support/raw-mqtt';
import { megabytes, settledMemory } from '../support/reliability-memory';
import {
  emptyMqttStats,
  type FuzzIdentity,
  fuzzConnectOnce,
  fuzzSessionPackets,
  type MqttFuzzStats,
  openAuthenticatedSession,
} from '../support/reliability-mqtt-fuzz';
import { deeplyNestedJson, encodeRemainingLength } from '../support/reliability-mutations';
import { createRandom, type Random, reliabilitySeed } from '../support/reliability-random';

const WORKERS = 4;
/** Per round and worker: mutated CONNECTs, then mutated packets on authenticated sessions. */
const CONNECTS_PER_ROUND = 25;
const SESSION_PACKETS_PER_ROUND = 225;
const MEASURED_ROUNDS = 4;
/** Generous: readings are noisy by a few MB; a per-packet leak over 4,000+ packets exceeds it. */
const ALLOWED_GROWTH_BYTES = 24 * 1024 * 1024;
/** IoT Hub's device-to-cloud message limit (docs/iot-hub-behaviour.md §5) plus room for topic and header. */
const MAX_REASONABLE_PACKET_BYTES = 256 * 1024 + 64 * 1024;

let hub: LocalHub;
const identities: FuzzIdentity[] = [];

before(async () => {
  hub = await startTestHub();
  for (let w = 0; w < WORKERS; w++) {
    const deviceId = `fuzz-${w}`;
    hub.state.createDevice(deviceId, {});
    identities.push({ deviceId, key: hub.state.getDevice(deviceId).authentication.symmetricKey.primaryKey! });
  }
});
after(() => hub.close());

async function fuzzRound(randoms: Random[], stats: MqttFuzzStats): Promise<void> {
  await Promise.all(
    identities.map(async (identity, w) => {
      for (let i = 0; i < CONNECTS_PER_ROUND; i++) await fuzzConnectOnce(randoms[w]!, hub, identity, stats);
      await fuzzSessionPackets(randoms[w]!, hub, identity, SESSION_PACKETS_PER_ROUND, stats);
    }),
  );
}

/** The official device SDK, end to end: connect, read the twin, report, and the hub stores it. */
async function assertDeviceSdkWorks(deviceId: string): Promise<void> {
  const client = DeviceClient.fromConnectionString(hub.deviceConnectionString(deviceId), Mqtt);
  await client.setOptions({ ca: hub.caCertificatePem } as any);
  await client.open();
  try {
    const twin = await client.getTwin();
    assert.equal(typeof twin.properties.desired.$version, 'number');
    await new Promise<void>((resolve, reject) =>
      twin.properties.reported.update({ afterFuzz: true }, (error?: Error) =>
        error ? reject(error) : resolve(),
      ),
    );
    assert.equal(hub.state.getTwin(deviceId, null).properties.reported['afterFuzz'], true);
  } finally {
    await client.close();
  }
}

describe('MQTT fuzz', () => {
  test('5,000+ mutated packets: no stall, the SDK still works, memory does not grow with the count', async (t) => {
    const seed = reliabilitySeed();
    t.diagnostic(`seed ${seed} (replay: RELIABILITY_SEED=${seed})`);
    const randoms = identities.map((_, w) => createRandom((seed + w * 0x9e3779b9) >>> 0));
    const stats = emptyMqttStats();

    await fuzzRound(randoms, stats); // warm-up: code paths, caches and pools reach steady state
    const baseline = await settledMemory();
    const readings: string[] = [];
    for (let round = 0; round < MEASURED_ROUNDS; round++) {
      await fuzzRound(randoms, stats);
      const reading = await settledMemory();
      readings.push(megabytes(reading.heapBytes + reading.bufferBytes));
    }
    const final = await settledMemory();
    const growth = final.heapBytes + final.bufferBytes - (baseline.heapBytes + baseline.bufferBytes);
    t.diagnostic(`packets ${JSON.stringify(stats)}`);
    t.diagnostic(
      `memory: baseline ${megabytes(baseline.heapBytes + baseline.bufferBytes)}, rounds ${readings.join(', ')}, growth ${megabytes(growth)}`,
    );

    assert.ok(stats.sent >= 5000, `only ${stats.sent} mutated packets were sent`);
    assert.equal(stats.stalled, 0, 'every complete packet is answered or its connection closed');
    assert.ok(stats.tolerated > 0 && stats.closed > 0, 'the mutations reached both outcomes');
    assert.ok(
      growth < ALLOWED_GROWTH_BYTES,
      `hub memory grew by ${megabytes(growth)} over the measured rounds`,
    );
    // Telemetry that got through is kept only up to the per-identity bound.
    for (const { deviceId } of identities) {
      assert.ok(hub.state.recentMessages(deviceId, null).length <= RECENT_MESSAGES_PER_IDENTITY);
    }
    for (const { deviceId } of identities) await assertDeviceSdkWorks(deviceId);
    // Last, so a failure here does not hide the checks above: bad input is a 400, never a 5xx.
    assert.deepEqual(stats.serverErrorSamples, [], `${stats.twinServerErrors} twin requests answered 5xx`);
  });

  test('a reported patch nested thousands of levels deep is refused as bad input, not a server error', async () => {
    // The REST API bounds nesting before the recursive twin rules run (rest/request-body.ts); the
    // MQTT twin PATCH must too: docs/iot-hub-behaviour.md §3.3 lists 400 for a malformed reported patch.
    const session = await openAuthenticatedSession(hub, identities[1]!);
    try {
      const replies: string[] = [];
      session.onPacket = (packet) => {
        if (packet.cmd === 'publish') replies.push(packet.topic);
      };
      const payload = Buffer.from(deeplyNestedJson(5000, 'object'));
      session.write(
        encodeMqttPacket({
          cmd: 'publish',
          topic: '$iothub/twin/PATCH/properties/reported/?$rid=deep',
          payload,
          qos: 0,
          retain: false,
          dup: false,
        }),
      );
      assert.equal(await session.waitFor('publish', 1, 10_000), 'received');
      assert.match(replies[0]!, /^\$iothub\/twin\/res\/400\/\?\$rid=deep/);
    } finally {
      session.destroy();
    }
  });

  test('a packet announcing more than IoT Hub allows is refused before the hub buffers it', async () => {
    // Pre-authentication: a CONNECT whose remaining length says 64 MB. IoT Hub messages are at most
    // 256 KB (docs/iot-hub-behaviour.md §5), so a hub that reads on instead of closing can be made to hold up to
    // 256 MB per unauthenticated connection.
    const session = await RawMqttSession.open(hub);
    const before = await settledMemory();
    session.write(Buffer.concat([Buffer.from([0x10]), encodeRemainingLength(64 * 1024 * 1024)]));
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let sent = 0;
    while (sent < 8 * 1024 * 1024 && !session.isClosed) {
      if (!session.socket.write(chunk)) {
        await Promise.race([new Promise((resolve) => session.socket.once('drain', resolve)), session.closed]);
      }
      sent += chunk.length;
    }
    const held = (await settledMemory()).bufferBytes - before.bufferBytes;
    const closedByHub = await session.waitClosed(5_000);
    assert.ok(
      closedByHub,
      `the hub kept reading a CONNECT announced as 64 MB (${megabytes(sent)} sent, ${megabytes(held)} more ` +
        `buffer memory held by the process); expected it to close the connection past ${megabytes(MAX_REASONABLE_PACKET_BYTES)}`,
    );
    // And an authenticated session still works afterwards.
    (await openAuthenticatedSession(hub, identities[0]!)).destroy();
  });
});
