/**
 * The Configuration provider on a throttled local hub (S1, 1 unit: 20 configuration operations per minute,
 * docs/iot-hub-behaviour.md §5), through the official Registry: with the configuration bucket spent by
 * another client, creates (one of them waiting for convergence, whose polls are configuration reads too),
 * a read and a delete meet 429, wait in the hub's `configuration` pacing lane (dynamic-providers/hub-pacer.ts)
 * and then succeed. The lane is the proof that they were paced and not merely retried: its state records
 * the 429s, and the other lanes of the same hub stay unused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { laneState } from '../../dynamic-providers/hub-pacer';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { configurationResourceProvider } from '../../dynamic-providers/provider-table';
import type { ConfigurationInputs, ConfigurationOutputs } from '../../lib/resource-configuration-state';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import { checkedInputs } from '../support/provider-check';

const provider = configurationResourceProvider;
let hub: LocalHub;
/** Status of every configuration request the hub served, in order, from its request log. */
const configurationStatuses: Array<{ method: string; status: number }> = [];

before(async () => {
  hub = await startTestHub({
    throttle: { tier: 'S1', units: 1 },
    logLevel: 'info',
    logWrite: (line) => {
      const call = / request .*method=(\w+) .*path=\/configurations\S* status=(\d{3})/.exec(line);
      if (call) configurationStatuses.push({ method: call[1]!, status: Number(call[2]) });
    },
  });
});
after(async () => {
  await hub.close();
});

function client() {
  return createHubClient(hub.serviceConnectionString('iothubowner'), { caCertificate: hub.caCertificatePem });
}

function checked(config: Record<string, unknown>): Promise<ConfigurationInputs> {
  return checkedInputs<ConfigurationInputs>(provider, hub, config);
}

/** Spends the configuration bucket (20, and the ~1 s the shaping queue holds), as a busy second client would. */
async function spendConfigurationBucket(): Promise<void> {
  const registry = client().registry;
  await Promise.allSettled(Array.from({ length: 30 }, () => registry.getConfiguration('nobody')));
}

const refusedSince = (start: number, method: string) =>
  configurationStatuses.slice(start).filter((c) => c.method === method && c.status === 429).length;

describe('Configuration provider on a throttled hub', () => {
  test('configuration calls that meet 429 wait in the configuration lane of their hub, then succeed', async () => {
    const hostName = client().hostName;
    const lane = { hostName, lane: 'configuration' } as const;
    assert.equal(laneState(lane), undefined, 'no configuration call of this process yet');

    // One targeted module: identity and twin calls have their own buckets, untouched by the configuration one.
    const { registry } = client();
    await registry.create({ deviceId: 'throttled-1' } as any);
    await registry.addModule({ deviceId: 'throttled-1', moduleId: 'agent' } as any);
    await registry.updateModuleTwin('throttled-1', 'agent', { tags: { ring: 'paced' } } as any, '*');

    await spendConfigurationBucket();
    const start = configurationStatuses.length;
    const [waited, plain] = await Promise.all([
      checked({
        configurationId: 'throttled-wait',
        moduleContent: { 'properties.desired.mode': 'eco' },
        targetCondition: "FROM devices.modules WHERE tags.ring='paced'",
        // Counts the targeted module itself: the hub applies the configuration at once and no device has to
        // answer, so the first poll that gets through ends the wait.
        metrics: { placed: "SELECT deviceId FROM devices.modules WHERE tags.ring='paced'" },
        waitForConvergence: { minimum: { percent: 100 }, successMetric: 'placed', timeoutSeconds: 60 },
      }).then((inputs) => provider.create(inputs)),
      checked({
        configurationId: 'throttled-plain',
        moduleContent: { 'properties.desired.mode': 'eco' },
        targetCondition: "FROM devices.modules WHERE tags.ring='nowhere'",
      }).then((inputs) => provider.create(inputs)),
    ]);
    assert.equal(waited.id, 'throttled-wait');
    assert.equal(plain.id, 'throttled-plain');
    assert.ok(refusedSince(start, 'PUT') > 0, 'no create was answered 429, so nothing was paced');

    const state = laneState(lane);
    assert.ok(state?.lastThrottledMs !== undefined, 'the 429s were reported to the configuration lane');
    for (const other of ['identityRegistry', 'twinRead', 'twinUpdate'] as const) {
      assert.equal(laneState({ hostName, lane: other }), undefined, `the ${other} lane was not used`);
    }

    // A read and a delete on the still-empty bucket go through the same lane.
    await spendConfigurationBucket();
    const readStart = configurationStatuses.length;
    const read = await provider.read!('throttled-plain', plain.outs as ConfigurationOutputs);
    assert.equal(read.props?.configurationId, 'throttled-plain');
    await provider.delete!('throttled-plain', plain.outs as ConfigurationOutputs);
    assert.ok(
      refusedSince(readStart, 'GET') + refusedSince(readStart, 'DELETE') > 0,
      'neither the read nor the delete was answered 429',
    );
    assert.ok(laneState(lane)!.lastThrottledMs! > state.lastThrottledMs, 'the lane saw their 429s');
    // Read from the store: a read over REST would meet the same empty bucket.
    assert.deepEqual(
      hub.state.listConfigurations().map((c) => c['id']),
      ['throttled-wait'],
      'the delete went through',
    );
  });
});
