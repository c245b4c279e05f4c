/**
 * Throttle storm (issue #5): under S1 quotas, 200 resources declared by the program (index.ts under
 * mocks) go through the REAL dynamic provider host, the way `pulumi up` drives it: Check then Create,
 * every resource of a dependency level at once (devices; then device twins and modules; then module
 * twins). The hub answers over-quota calls with 429 (docs/iot-hub-behaviour.md §5: queued first, then refused), and
 * every resource must still succeed through the providers' own retry (dynamic-providers/with-retry.ts).
 *
 * Why another client is busy too: S1 allows 100 identity operations per minute per unit, and the
 * bucket starts full. With few units the storm would take minutes to drain; with many units the
 * provider host (about 20 resources a second on a shared 2-core machine) would never outrun the
 * refill. So the hub gets many units and a second client shares its quota, as a bulk import running
 * beside a deployment would: it spends the minute's budget, then keeps the bucket at its queue limit
 * until the storm has met a few 429s, and backs off. The storm then drains in seconds, and every 429
 * it met had to be retried by the providers themselves. Bounded: fixed counts, bounded bursts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalHub } from '../../local-hub/index';
import {
  type CapturedResource,
  captureDynamicResources,
  DYNAMIC_TYPES,
  localStackConfig,
  localUrn,
} from '../support/host-program';
import { startTestHub } from '../support/local-hub-fixture';
import { type ProviderHost, startProviderHost } from '../support/provider-host';
import { createRestCaller, type RestCaller, withApiVersion } from '../support/reliability-rest';

const UNITS = 20;
const DEVICES = 60;
const DEVICE_TWINS = 40;
const MODULES = 50;
/** 60 devices + 40 device twins + 50 modules + 50 module twins. */
const RESOURCES = 200;
/** 10 reads every 50 ms: 200/s against a refill of 33/s at 20 units. */
const PRESSURE_BURST = 10;
const PRESSURE_INTERVAL_MS = 50;
const MAX_PRESSURE_READS = 6000;
/** The storm's own 429s after which the other client backs off. */
const STORM_429S_WANTED = 10;

let hub: LocalHub;
let host: ProviderHost | undefined;
let dir: string;
/** Status of every hub call the storm made (paths of its resources), from the hub's request log. */
const stormStatuses: number[] = [];

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'throttle-storm-'));
  hub = await startTestHub({
    throttle: { tier: 'S1', units: UNITS },
    logLevel: 'info',
    logWrite: (line) => {
      const call = / request .*path=\/(?:devices|twins)\/storm-\S* status=(\d{3})/.exec(line);
      if (call) stormStatuses.push(Number(call[1]));
    },
  });
});
after(async () => {
  await host?.close();
  await hub.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The stack's devices: each with a module for the first MODULES, a device twin for the last ones. */
function stackDevices(): unknown[] {
  return Array.from({ length: DEVICES }, (_, i) => ({
    deviceId: `storm-${i}`,
    ...(i >= DEVICES - DEVICE_TWINS ? { twin: { desired: { rate: i }, tags: { wave: 'storm' } } } : {}),
    modules: i < MODULES ? [{ moduleId: 'app', twin: { desired: { interval: i } } }] : [],
  }));
}

/** Another client spends the minute's identity registry budget: one bulk import (100) per unit. */
async function spendRegistryBudget(rest: RestCaller): Promise<void> {
  for (let call = 0; call < UNITS; call++) {
    const body = Array.from({ length: 100 }, (_, i) => ({
      id: `background-${call}-${i}`,
      importMode: 'create',
    }));
    const reply = await rest.request({ method: 'POST', path: withApiVersion('/devices'), body });
    assert.equal(reply.status, 200, `the background import failed: ${reply.text.slice(0, 200)}`);
  }
}

/**
 * ...and keeps reading while the storm starts: a few concurrent reads every few milliseconds, far
 * above the refill rate, so the bucket stays pinned at its queue limit whatever the storm's own pace
 * (sequential reads would only queue). It stops as soon as `until()` (the storm has met some 429s),
 * or after a bounded number of reads, then waits for its reads in flight.
 */
async function keepRegistryBusy(rest: RestCaller, until: () => boolean): Promise<void> {
  const read = () => rest.request({ method: 'GET', path: withApiVersion('/devices/background-0-0') });
  const inFlight: Promise<unknown>[] = [];
  for (let sent = 0; sent < MAX_PRESSURE_READS && !until(); sent += PRESSURE_BURST) {
    for (let i = 0; i < PRESSURE_BURST; i++) inFlight.push(read());
    await sleep(PRESSURE_INTERVAL_MS);
  }
  await Promise.all(inFlight);
}

/** What the engine does per resource: Check (must pass), then Create. */
async function deploy(resource: CapturedResource): Promise<void> {
  const urn = localUrn(resource);
  const checked = await host!.check(urn, {}, resource.inputs);
  assert.deepEqual(checked.failures, [], `Check of ${resource.name}`);
  await host!.create(urn, checked.inputs);
}

test('under S1 quotas, 200 resources through the provider host all succeed despite 429s', async (t) => {
  const caPath = path.join(dir, 'ca.pem');
  fs.writeFileSync(caPath, hub.caCertificatePem);
  const config = localStackConfig(
    { connectionString: hub.serviceConnectionString(), caPath },
    stackDevices(),
  );
  const captured = [...(await captureDynamicResources(config)).values()];
  assert.equal(captured.length, RESOURCES, 'the program declares 200 dynamic resources');
  const ofType = (type: string) => captured.filter((r) => r.type === type);
  host = await startProviderHost();

  const rest = createRestCaller(hub, { maxSockets: 100 });
  const throttled = () => stormStatuses.filter((status) => status === 429).length;
  let stormDone = false;
  try {
    await spendRegistryBudget(rest);
    const pressure = keepRegistryBusy(rest, () => stormDone || throttled() >= STORM_429S_WANTED);
    try {
      await Promise.all(ofType(DYNAMIC_TYPES.device).map(deploy));
      await Promise.all([...ofType(DYNAMIC_TYPES.deviceTwin), ...ofType(DYNAMIC_TYPES.module)].map(deploy));
      await Promise.all(ofType(DYNAMIC_TYPES.moduleTwin).map(deploy));
    } finally {
      stormDone = true;
      await pressure;
    }
  } finally {
    rest.close();
  }

  t.diagnostic(
    `storm: ${stormStatuses.length} hub calls for ${RESOURCES} resources, ${throttled()} answered 429`,
  );
  assert.ok(throttled() > 0, 'the storm met the S1 quota (429s)');
  assert.equal(stormStatuses.filter((s) => s >= 400 && s !== 429).length, 0, 'no other failure');
  assert.equal(
    stormStatuses.filter((s) => s < 300).length,
    RESOURCES,
    'one successful hub write per resource',
  );

  // Every declared resource is on the hub as declared.
  for (let i = 0; i < DEVICES; i++) {
    const deviceId = `storm-${i}`;
    assert.equal(hub.state.getDevice(deviceId).status, 'enabled');
    if (i >= DEVICES - DEVICE_TWINS)
      assert.equal(hub.state.getTwin(deviceId, null).properties.desired['rate'], i);
    if (i < MODULES) assert.equal(hub.state.getTwin(deviceId, 'app').properties.desired['interval'], i);
  }
});
