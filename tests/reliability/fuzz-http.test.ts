/**
 * Fuzz, HTTP side (issue #5): at least 5,000 malformed service API requests — bad JSON, huge bodies,
 * bad encodings, wrong methods, unknown routes, odd headers and tokens, and mutated raw bytes — from
 * a seeded generator (the seed is printed; RELIABILITY_SEED replays it). Every answer is checked
 * (no 5xx, legacy error shape, no key in it); afterwards the official Registry and device SDK still
 * work and the hub's memory has not grown with the request count. Bounded by fixed counts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client as DeviceClient } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import {
  emptyHttpStats,
  fuzzRawRequest,
  fuzzWellFramed,
  type HttpFuzzStats,
} from '../support/reliability-http-fuzz';
import { megabytes, settledMemory } from '../support/reliability-memory';
import { createRandom, type Random, reliabilitySeed } from '../support/reliability-random';
import { createRestCaller, type RestCaller } from '../support/reliability-rest';

const KNOWN_DEVICES = ['victim-a', 'victim-b'];
/** Per round: well-framed requests over keep-alive, then raw mutated requests on fresh connections. */
const WELL_FRAMED_PER_ROUND = 900;
const RAW_PER_ROUND = 100;
const MEASURED_ROUNDS = 4;
const PARALLEL = 6;
/** Generous: readings are noisy by a few MB; a per-request leak over 4,000 requests exceeds it. */
const ALLOWED_GROWTH_BYTES = 24 * 1024 * 1024;

let hub: LocalHub;
let caller: RestCaller;
let secrets: string[];

before(async () => {
  hub = await startTestHub();
  caller = createRestCaller(hub, { maxSockets: PARALLEL });
  for (const deviceId of KNOWN_DEVICES) {
    hub.state.createDevice(deviceId, {});
    hub.state.createModule(deviceId, 'm1', {});
  }
  secrets = [
    ...WELL_KNOWN_POLICIES.flatMap((p) => [p.primaryKey, p.secondaryKey]),
    ...KNOWN_DEVICES.flatMap((d) => {
      const { primaryKey, secondaryKey } = hub.state.getDevice(d).authentication.symmetricKey;
      return [primaryKey!, secondaryKey!];
    }),
  ];
});
after(async () => {
  caller.close();
  await hub.close();
});

async function fuzzRound(random: Random, stats: HttpFuzzStats): Promise<void> {
  const o = {
    hostName: hub.hostName,
    knownDevices: KNOWN_DEVICES,
    secrets,
    count: WELL_FRAMED_PER_ROUND,
    parallel: PARALLEL,
  };
  await fuzzWellFramed(random, caller, o, stats);
  for (let i = 0; i < RAW_PER_ROUND; i++) await fuzzRawRequest(random, hub, secrets, stats);
}

/** The official Registry and device SDK, end to end, on identities created after the fuzz. */
async function assertOfficialClientsWork(): Promise<void> {
  const { registry } = createHubClient(hub.serviceConnectionString(), {
    caCertificate: hub.caCertificatePem,
  });
  await registry.create({ deviceId: 'after-fuzz' });
  const twin = (await registry.getTwin('after-fuzz')).responseBody;
  await registry.updateTwin('after-fuzz', { properties: { desired: { ok: 1 } } }, twin.etag);
  const client = DeviceClient.fromConnectionString(hub.deviceConnectionString('after-fuzz'), Mqtt);
  await client.setOptions({ ca: hub.caCertificatePem } as any);
  await client.open();
  try {
    assert.equal((await client.getTwin()).properties.desired['ok'], 1);
  } finally {
    await client.close();
  }
}

describe('HTTP fuzz', () => {
  test('5,000 malformed requests: no 5xx, no leak, clients still work, memory does not grow', async (t) => {
    const seed = reliabilitySeed();
    t.diagnostic(`seed ${seed} (replay: RELIABILITY_SEED=${seed})`);
    const random = createRandom(seed);
    const stats = emptyHttpStats();

    await fuzzRound(random, stats); // warm-up
    const baseline = await settledMemory();
    const readings: string[] = [];
    for (let round = 0; round < MEASURED_ROUNDS; round++) {
      await fuzzRound(random, stats);
      const reading = await settledMemory();
      readings.push(megabytes(reading.heapBytes + reading.bufferBytes));
    }
    caller.close();
    const final = await settledMemory();
    const growth = final.heapBytes + final.bufferBytes - (baseline.heapBytes + baseline.bufferBytes);
    t.diagnostic(`requests ${JSON.stringify({ ...stats, problems: stats.problems.length })}`);
    t.diagnostic(
      `memory: baseline ${megabytes(baseline.heapBytes + baseline.bufferBytes)}, rounds ${readings.join(', ')}, growth ${megabytes(growth)}`,
    );

    assert.ok(stats.sent >= 5000, `only ${stats.sent} malformed requests were sent`);
    assert.deepEqual(stats.problems, [], 'every answer: no 5xx, legacy error shape, no key');
    assert.equal(stats.stalled, 0, 'every raw connection was answered or closed');
    assert.ok((stats.byClass['4xx'] ?? 0) > stats.sent / 2, 'most malformed requests are refused with a 4xx');
    assert.ok(
      growth < ALLOWED_GROWTH_BYTES,
      `hub memory grew by ${megabytes(growth)} over the measured rounds`,
    );
    await assertOfficialClientsWork();
  });
});
