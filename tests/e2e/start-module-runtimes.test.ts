/**
 * The last step of `npm start` without the CLI: given the stack output `moduleConnectionStrings` (here
 * produced by the real ModuleIdentity/ModuleTwin providers against a real local hub, as `pulumi up`
 * would), the module runtimes start, receive the tutorial's `telemetryInterval: 122` and acknowledge it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import {
  deviceIdentityProvider,
  moduleIdentityProvider,
  moduleTwinProvider,
} from '../../dynamic-providers/provider-table';
import type { LocalHub } from '../../local-hub/index';
import { parseModuleConnectionStrings, runModuleRuntimes } from '../../scripts/run-module-runtimes';
import { startTestHub } from '../support/local-hub-fixture';
import { waitFor, within } from '../support/runtime-wait';

let hub: LocalHub;
before(async () => {
  hub = await startTestHub();
});
after(async () => {
  await hub.close();
});

async function provision(deviceId: string, moduleId: string): Promise<string> {
  const access = {
    hubConnectionString: hub.serviceConnectionString(),
    hubCaCertificate: hub.caCertificatePem,
  };
  const run = async (provider: any, news: Record<string, unknown>) => {
    const checked = await provider.check({}, { ...access, ...news });
    assert.deepEqual(checked.failures, []);
    return provider.create(checked.inputs);
  };
  await run(deviceIdentityProvider, { deviceId });
  const module = await run(moduleIdentityProvider, { deviceId, moduleId });
  await run(moduleTwinProvider, { deviceId, moduleId, desired: { telemetryInterval: 122 } });
  return module.outs.moduleConnectionString as string;
}

test('npm start runs every declared module, which applies and acknowledges its desired properties', async () => {
  const connectionString = await provision('myFirstDevice', 'myFirstModule');
  const stackOutput = JSON.stringify({ 'myFirstDevice/myFirstModule': connectionString });
  const lines: string[] = [];
  const set = await runModuleRuntimes(parseModuleConnectionStrings(stackOutput), hub.caCertificatePem, (l) =>
    lines.push(l),
  );
  try {
    const runtime = set.runtimes.get('myFirstDevice/myFirstModule')!;
    await waitFor('telemetryInterval 122 applied', () =>
      runtime.current.applied['telemetryInterval'] === 122 ? true : undefined,
    );
    assert.equal(runtime.current.applied['telemetryInterval'], 122);
    const registry = createHubClient(hub.serviceConnectionString(), {
      caCertificate: hub.caCertificatePem,
    }).registry;
    const ack = await waitFor('the 200 ack of telemetryInterval', async () => {
      const twin = (await registry.getModuleTwin('myFirstDevice', 'myFirstModule')).responseBody as any;
      const reported = twin.properties.reported.telemetryInterval;
      return reported?.ac === 200 ? reported : undefined;
    });
    assert.deepEqual({ value: ack.value, ac: ack.ac }, { value: 122, ac: 200 });
    assert.ok(lines.every((line) => line.startsWith('[myFirstDevice/myFirstModule]')));
    assert.ok(!lines.join('\n').includes('SharedAccessKey='), 'no key in the log');
  } finally {
    await within('the module runtimes to stop', set.stop());
  }
});

test('the stack output is validated and X.509 modules (no SAS string) are skipped', () => {
  assert.throws(() => parseModuleConnectionStrings('not json'), /not JSON/);
  assert.throws(() => parseModuleConnectionStrings('[]'), /object/);
  assert.deepEqual(
    parseModuleConnectionStrings(
      JSON.stringify({ 'd/x509': null, 'd/m': 'HostName=h;DeviceId=d;ModuleId=m;SharedAccessKey=k' }),
    ),
    { 'd/m': 'HostName=h;DeviceId=d;ModuleId=m;SharedAccessKey=k' },
  );
});
