/**
 * Tier 7: the ModuleTwin resource writes desired properties, the project's own device runtime receives,
 * applies and acknowledges them, and the resource's `waitForAck` sees the acknowledgement — the whole
 * convergence path of `pulumi up`, with the provider methods called in-process against the real hub.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDeviceRuntime } from '../../device-runtime';
import {
  deviceIdentityProvider,
  moduleIdentityProvider,
  moduleTwinProvider,
} from '../../dynamic-providers/provider-table';
import type { TwinOutputs } from '../../lib/resource-twin-state';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import { waitFor, within } from '../support/runtime-wait';

const DEVICE = 'converge-device';
const MODULE = 'converge-module';
let hub: LocalHub;

before(async () => {
  hub = await startTestHub();
});
after(async () => {
  await hub.close();
});

/** Check then create/update, as the engine drives a provider. */
async function checked(provider: any, news: Record<string, unknown>): Promise<any> {
  const access = {
    hubConnectionString: hub.serviceConnectionString(),
    hubCaCertificate: hub.caCertificatePem,
  };
  const result = await provider.check({}, { ...access, ...news });
  assert.deepEqual(result.failures, []);
  return result.inputs;
}

function twinArgs(desired: Record<string, unknown>) {
  return { deviceId: DEVICE, moduleId: MODULE, desired, waitForAck: { timeoutSeconds: 30 } };
}

/** Telemetry bodies carry the interval the runtime was running at when it sent them. */
function intervalsSeen(): number[] {
  return hub.state
    .recentMessages(DEVICE, MODULE)
    .map((m) => (JSON.parse(m.body.toString('utf8')) as { telemetryInterval: number }).telemetryInterval);
}

async function until(what: string, condition: () => boolean): Promise<void> {
  await waitFor(what, () => (condition() ? true : undefined));
}

describe('ModuleTwin resource + device runtime', () => {
  test('waitForAck returns once the runtime applied the written version; invalid values fail with its reason', async (t) => {
    await deviceIdentityProvider.create!(await checked(deviceIdentityProvider, { deviceId: DEVICE }));
    const module = await moduleIdentityProvider.create!(
      await checked(moduleIdentityProvider, { deviceId: DEVICE, moduleId: MODULE }),
    );
    const runtime = await startDeviceRuntime({
      connectionString: module.outs!.moduleConnectionString!,
      ca: hub.caCertificatePem,
      env: {},
      config: { telemetryIntervalSeconds: 5, reconnectMinDelaySeconds: 0.1 },
    });
    t.after(() => within('the runtime to stop', runtime.stop()));

    // Create with the wait: returns only after the runtime acknowledged this exact version.
    const created = await moduleTwinProvider.create!(
      await checked(moduleTwinProvider, twinArgs({ telemetryInterval: 0.3 })),
    );
    const outs = created.outs as TwinOutputs;
    assert.equal(runtime.current.applied['telemetryInterval'], 0.3);
    assert.ok((runtime.current.version ?? 0) >= outs.desiredVersion);
    await until('telemetry at 0.3 s', () => intervalsSeen().filter((i) => i === 0.3).length >= 2);

    // Update through the resource: the runtime switches interval, and the wait sees the new version's ack.
    const updated = await moduleTwinProvider.update!(
      created.id,
      outs,
      await checked(moduleTwinProvider, twinArgs({ telemetryInterval: 0.2 })),
    );
    const newVersion = (updated.outs as TwinOutputs).desiredVersion;
    assert.ok(newVersion > outs.desiredVersion);
    assert.equal(runtime.current.applied['telemetryInterval'], 0.2);
    await until('telemetry at 0.2 s', () => intervalsSeen().filter((i) => i === 0.2).length >= 2);

    // An invalid value: the runtime acks 400 with its reason, and the wait fails with that reason.
    await assert.rejects(
      moduleTwinProvider.update!(
        created.id,
        updated.outs as TwinOutputs,
        await checked(moduleTwinProvider, twinArgs({ telemetryInterval: -5 })),
      ),
      (error: Error) => {
        assert.match(error.message, /telemetryInterval \(ac 400: /);
        assert.match(error.message, /from 0\.1 to 86400; got -5/, "the runtime's own description");
        return true;
      },
    );
    assert.equal(runtime.current.applied['telemetryInterval'], 0.2, 'the last valid value keeps running');
  });
});
