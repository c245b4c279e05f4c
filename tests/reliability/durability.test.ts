/**
 * Durability (issue #5; docs/architecture.md "Durable by default": a write that was acknowledged survives a
 * kill -9). The hub runs as a child process on a data directory; 1,000 identity and twin writes go to
 * it concurrently over its REST API, and it is SIGKILLed while they are in flight. After a restart on
 * the same directory, every write that had been acknowledged (a complete 200 answer) must be there,
 * exactly as acknowledged. The test prints how many were lost, which must be 0.
 * Bounded: fixed write count, one kill, one restart; every process is stopped by the test.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { type HubProcess, spawnHubProcess } from '../support/local-hub-fixture';
import { createRestCaller, type RestCaller, withApiVersion } from '../support/reliability-rest';
import { within } from '../support/runtime-wait';

const WRITES = 1000;
/** The kill lands once this many writes are acknowledged: the rest are queued or in flight. */
const KILL_AFTER_ACKS = 400;
const SEED_DEVICES = 25;
const PARALLEL_CONNECTIONS = 32;

type Write =
  | { kind: 'device'; deviceId: string }
  | { kind: 'module'; deviceId: string; moduleId: string }
  | { kind: 'twin'; deviceId: string; moduleId?: string; key: string; value: number };

/** What the hub acknowledged: the key it generated, or the twin version it reported. */
interface Acknowledged {
  write: Write;
  primaryKey?: string;
  twinVersion?: number;
}

const seedId = (i: number) => `seed-${i % SEED_DEVICES}`;

/** Four kinds, interleaved, so every kind is in flight when the kill lands. */
function plannedWrites(): Write[] {
  return Array.from({ length: WRITES }, (_, i): Write => {
    switch (i % 4) {
      case 0:
        return { kind: 'device', deviceId: `dur-${i}` };
      case 1:
        return { kind: 'module', deviceId: seedId(i), moduleId: `dm-${i}` };
      case 2:
        return { kind: 'twin', deviceId: seedId(i), key: `w${i}`, value: i };
      default:
        return { kind: 'twin', deviceId: seedId(i), moduleId: 'm', key: `w${i}`, value: i };
    }
  });
}

function resourcePath(write: Write): string {
  if (write.kind === 'device') return `/devices/${write.deviceId}`;
  if (write.kind === 'module') return `/devices/${write.deviceId}/modules/${write.moduleId}`;
  return write.moduleId ? `/twins/${write.deviceId}/modules/${write.moduleId}` : `/twins/${write.deviceId}`;
}

async function send(caller: RestCaller, write: Write): Promise<Acknowledged | undefined> {
  const isTwin = write.kind === 'twin';
  const body = isTwin
    ? { tags: { [write.key]: write.value }, properties: { desired: { [write.key]: write.value } } }
    : {};
  const reply = await caller.request({
    method: isTwin ? 'PATCH' : 'PUT',
    path: withApiVersion(resourcePath(write)),
    body,
  });
  if (reply.status !== 200) return undefined;
  const answer = JSON.parse(reply.text);
  return isTwin
    ? { write, twinVersion: answer.properties.desired.$version }
    : { write, primaryKey: answer.authentication.symmetricKey.primaryKey };
}

/** Why an acknowledged write is missing or different after the restart, or undefined when intact. */
async function checkPresent(caller: RestCaller, ack: Acknowledged): Promise<string | undefined> {
  const reply = await caller.request({ method: 'GET', path: withApiVersion(resourcePath(ack.write)) });
  if (reply.status !== 200) return `${resourcePath(ack.write)}: GET answered ${reply.status}`;
  const found = JSON.parse(reply.text);
  if (ack.write.kind !== 'twin') {
    const key = found.authentication?.symmetricKey?.primaryKey;
    return key === ack.primaryKey ? undefined : `${resourcePath(ack.write)}: the acknowledged key changed`;
  }
  const { key, value } = ack.write;
  if (found.properties.desired[key] !== value || found.tags?.[key] !== value) {
    return `${resourcePath(ack.write)}: ${key} is missing`;
  }
  if (found.properties.desired.$version < ack.twinVersion!) {
    return `${resourcePath(ack.write)}: desired $version went back to ${found.properties.desired.$version}`;
  }
  return undefined;
}

async function landedAnyway(caller: RestCaller, write: Write): Promise<boolean> {
  const reply = await caller.request({ method: 'GET', path: withApiVersion(resourcePath(write)) });
  if (reply.status !== 200) return false;
  return write.kind !== 'twin' || JSON.parse(reply.text).properties.desired[write.key] === write.value;
}

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

async function stop(hub: HubProcess | undefined): Promise<void> {
  if (!hub) return;
  const exited = hub.waitExit();
  hub.kill('SIGKILL');
  await within('the killed hub process to exit', exited);
}

const callerFor = (hub: HubProcess, maxSockets: number): RestCaller =>
  createRestCaller({ hostName: hub.hostName, caCertificatePem: hub.caPem }, { maxSockets });

/** The devices and modules the twin writes target, acknowledged before the storm. */
async function createSeeds(caller: RestCaller): Promise<void> {
  for (let i = 0; i < SEED_DEVICES; i++) {
    for (const target of [`/devices/seed-${i}`, `/devices/seed-${i}/modules/m`]) {
      const reply = await caller.request({ method: 'PUT', path: withApiVersion(target), body: {} });
      assert.equal(reply.status, 200, `seeding ${target}: ${reply.text.slice(0, 200)}`);
    }
  }
}

/** Every write at once; SIGKILL as soon as KILL_AFTER_ACKS are acknowledged. Returns the acknowledged. */
async function writeUntilKilled(hub: HubProcess, writes: readonly Write[]): Promise<Acknowledged[]> {
  const caller = callerFor(hub, PARALLEL_CONNECTIONS);
  await createSeeds(caller);
  const acknowledged: Acknowledged[] = [];
  const killed = hub.waitExit();
  await Promise.allSettled(
    writes.map(async (write) => {
      const ack = await send(caller, write);
      if (!ack) return;
      acknowledged.push(ack);
      if (acknowledged.length === KILL_AFTER_ACKS) hub.kill('SIGKILL');
    }),
  );
  caller.close();
  assert.equal((await killed).signal, 'SIGKILL', 'the hub was killed, not stopped');
  return acknowledged;
}

test('SIGKILL during 1,000 concurrent identity and twin writes loses no acknowledged write', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-durability-'));
  let first: HubProcess | undefined;
  let second: HubProcess | undefined;
  try {
    first = await spawnHubProcess({ dataDir });
    const writes = plannedWrites();
    const acknowledged = await writeUntilKilled(first, writes);
    assert.ok(acknowledged.length < WRITES, 'the kill landed while writes were still in flight');

    second = await spawnHubProcess({ dataDir });
    const checker = callerFor(second, 8);
    const problems = (await mapLimited(acknowledged, 8, (ack) => checkPresent(checker, ack))).filter(
      (p) => p !== undefined,
    );
    // Unacknowledged writes may or may not have landed; counted only to show the kill hit mid-stream.
    const acked = new Set(acknowledged.map((a) => a.write));
    const unacknowledged = writes.filter((w) => !acked.has(w));
    const landed = (await mapLimited(unacknowledged, 8, (w) => landedAnyway(checker, w))).filter(Boolean);
    checker.close();
    t.diagnostic(
      `acknowledged ${acknowledged.length} of ${WRITES} writes before the kill ` +
        `(${landed.length} of the ${unacknowledged.length} unacknowledged landed anyway); lost after restart: ${problems.length}`,
    );
    assert.deepEqual(problems.slice(0, 10), [], `lost ${problems.length} acknowledged writes`);
    assert.equal(problems.length, 0);
  } finally {
    await stop(first);
    await stop(second);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
