/**
 * A Configuration's `waitForConvergence` (issue #12 item 2) against running device runtimes: the provider
 * creates a module configuration and waits until the hub's metrics say enough targeted modules applied it and
 * acknowledged it with `ac = 200` (a custom metric over the IoT Plug and Play acks); progress is printed as
 * counts. A module whose handler rejects the value makes the wait fail with the device's reason (its `ad`);
 * `onTimeout: 'warn'` succeeds with a warning naming the counts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type DeviceRuntime, type PropertyHandlers, startDeviceRuntime } from '../../device-runtime/index';
import { createHubClient, type HubClient } from '../../dynamic-providers/iothub-client';
import { configurationResourceProvider } from '../../dynamic-providers/provider-table';
import type { ConfigurationInputs } from '../../lib/resource-configuration-state';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import { within } from '../support/runtime-wait';

/** [deviceId, ring, rejects turbo]: ring 'a' all accept; ring 'b' holds one module that refuses turbo. */
const MODULES = [
  ['a-1', 'a', false],
  ['a-2', 'a', false],
  ['b-1', 'b', false],
  ['b-picky', 'b', true],
] as const;

const REASON = 'turbo needs hardware revision 2';

let hub: LocalHub;
let service: HubClient;
const runtimes: DeviceRuntime[] = [];

function modeHandler(rejectsTurbo: boolean): PropertyHandlers {
  return {
    mode: {
      validate: (value) =>
        typeof value !== 'string'
          ? 'mode is a string'
          : rejectsTurbo && value === 'turbo'
            ? REASON
            : undefined,
      apply: () => {},
    },
  };
}

before(async () => {
  hub = await startTestHub();
  service = createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificatePem });
  for (const [deviceId, ring, picky] of MODULES) {
    await service.registry.create({ deviceId });
    await service.registry.addModule({ deviceId, moduleId: 'agent' } as any);
    await service.registry.updateModuleTwin(deviceId, 'agent', { tags: { ring } } as any, '*');
    runtimes.push(
      await startDeviceRuntime({
        connectionString: hub.deviceConnectionString(deviceId, 'agent'),
        ca: hub.caCertificatePem,
        env: {},
        config: { operationTimeoutSeconds: 10, reconnectMinDelaySeconds: 0.1 },
        handlers: modeHandler(picky),
      }),
    );
  }
});

after(async () => {
  await Promise.all(runtimes.map((r) => within('a runtime to stop', r.stop())));
  await hub.close();
});

async function checked(args: Record<string, unknown>): Promise<ConfigurationInputs> {
  const { inputs, failures } = await configurationResourceProvider.check!(
    {} as ConfigurationInputs,
    {
      hubConnectionString: hub.serviceConnectionString(),
      hubCaCertificate: hub.caCertificatePem,
      ...args,
    } as unknown as ConfigurationInputs,
  );
  assert.deepEqual(failures, []);
  return inputs!;
}

/**
 * Twins of the ring that acked this value: a metric counts over every twin of the hub, so it names the
 * target and the value (an older ac = 200 for another value, or another ring's acks, must not count).
 */
const ACKED = (ring: string, property: string, value: string) =>
  `SELECT deviceId FROM devices.modules WHERE tags.ring='${ring}' AND properties.reported.${property}.value = '${value}' AND properties.reported.${property}.ac = 200`;

/** What the provider printed through pulumi.log (which, with no engine, writes to the console). */
function captureLogs(t: { mock: { method: (o: object, m: string, f: (...a: unknown[]) => void) => void } }) {
  const lines = { info: [] as string[], warn: [] as string[] };
  t.mock.method(console, 'log', (...a: unknown[]) => lines.info.push(a.join(' ')));
  t.mock.method(console, 'warn', (...a: unknown[]) => lines.warn.push(a.join(' ')));
  return lines;
}

test('create waits until every targeted module applied the configuration and acked it; progress as counts', async (t) => {
  const logs = captureLogs(t);
  const inputs = await checked({
    configurationId: 'ring-a-mode',
    moduleContent: { 'properties.desired.mode': 'eco' },
    targetCondition: "FROM devices.modules WHERE tags.ring='a'",
    metrics: { acked: ACKED('a', 'mode', 'eco') },
    waitForConvergence: { minimum: { percent: 100 }, successMetric: 'acked', timeoutSeconds: 30 },
  });
  const { outs } = await within('create to converge', configurationResourceProvider.create(inputs));
  assert.deepEqual(outs?.waitForConvergence, {
    minimum: { percent: 100 },
    successMetric: 'acked',
    timeoutSeconds: 30,
    onTimeout: 'fail',
  });

  // Converged means the hub already counts both acks: nothing left to wait for.
  const body = JSON.parse(
    JSON.stringify((await service.registry.getConfiguration('ring-a-mode')).responseBody),
  );
  assert.equal(body.metrics.results.acked, 2);
  assert.deepEqual(body.systemMetrics.results, { targetedCount: 2, appliedCount: 2 });
  const progress = logs.info.filter((line) => line.includes('ring-a-mode') && line.includes('converging'));
  assert.ok(progress.length >= 1, `progress lines: ${JSON.stringify(logs.info)}`);
  assert.match(
    progress.at(-1)!,
    /2 of 2 required twins report success \(targeted 2, applied 2, rejected 0\)/,
  );
  assert.equal(new Set(progress).size, progress.length, 'a line per change of the counts, not per poll');
});

test('an in-place update waits again, and a wait that is already met returns at its first poll', async (t) => {
  const logs = captureLogs(t);
  const inputs = await checked({
    configurationId: 'ring-a-mode',
    moduleContent: { 'properties.desired.mode': 'eco' },
    targetCondition: "FROM devices.modules WHERE tags.ring='a'",
    priority: 5,
    metrics: { acked: ACKED('a', 'mode', 'eco') },
    waitForConvergence: { minimum: { count: 2 }, successMetric: 'acked', timeoutSeconds: 30 },
  });
  const current = await configurationResourceProvider.read!('ring-a-mode', inputs as any);
  const { outs } = await within(
    'update to converge',
    configurationResourceProvider.update!('ring-a-mode', current.props as any, inputs),
  );
  assert.equal(outs?.priority, 5);
  const progress = logs.info.filter((line) => line.includes('ring-a-mode'));
  assert.equal(progress.length, 1, JSON.stringify(progress));
  assert.match(progress[0]!, /2 of 2 required twins report success \(targeted 2, applied 2, rejected 0\)/);
});

test('a module that rejects the value makes the wait fail with the counts and the device reason', async (t) => {
  captureLogs(t);
  const inputs = await checked({
    configurationId: 'ring-b-turbo',
    moduleContent: { 'properties.desired.mode': 'turbo' },
    targetCondition: "FROM devices.modules WHERE tags.ring='b'",
    metrics: { acked: ACKED('b', 'mode', 'turbo') },
    waitForConvergence: { minimum: { percent: 100 }, successMetric: 'acked', timeoutSeconds: 30 },
  });
  await assert.rejects(within('create to fail', configurationResourceProvider.create(inputs)), (err: any) => {
    assert.match(err.message, /ring-b-turbo/);
    assert.match(err.message, /of 2 required twins report success \(targeted 2, applied 2, rejected 1\)/);
    assert.match(err.message, new RegExp(`b-picky/agent: mode \\(ac 400: ${REASON}\\)`));
    assert.doesNotMatch(err.message, /b-1\/agent/);
    // Written but not ready: the engine keeps it in the state (the next up retries).
    assert.equal(err.id, 'ring-b-turbo');
    assert.equal(err.properties.configurationId, 'ring-b-turbo');
    assert.deepEqual(err.reasons, [err.message]);
    return true;
  });
  await configurationResourceProvider.delete!(
    'ring-b-turbo',
    (await checked({
      configurationId: 'ring-b-turbo',
      moduleContent: { 'properties.desired.mode': 'turbo' },
      targetCondition: "FROM devices.modules WHERE tags.ring='b'",
    })) as any,
  );
});

test("onTimeout 'warn': a minimum the fleet cannot reach ends in a warning naming the counts, not a failure", async (t) => {
  const logs = captureLogs(t);
  const inputs = await checked({
    configurationId: 'ring-b-eco',
    moduleContent: { 'properties.desired.mode': 'eco' },
    targetCondition: "FROM devices.modules WHERE tags.ring='b'",
    metrics: { acked: ACKED('b', 'mode', 'eco') },
    waitForConvergence: {
      minimum: { count: 5 },
      successMetric: 'acked',
      timeoutSeconds: 3,
      onTimeout: 'warn',
    },
  });
  await within('create to end with a warning', configurationResourceProvider.create(inputs));
  const warning = logs.warn.find((line) => line.includes('ring-b-eco'));
  assert.ok(warning, `warnings: ${JSON.stringify(logs.warn)}`);
  assert.match(warning, /did not converge within 3s: \d of 5 required twins report success \(targeted 2/);
});
