/**
 * Tier 6, issue #3's scenario: the program (index.ts under mocks) run several times in a row with
 * state carried between runs, its dynamic resources handled by the REAL provider host against a local
 * hub. After every run the hub, read through the official SDK, holds exactly what the stack declares,
 * and a key another writer set before run 1 is still there.
 *
 * The other writer made the seed's identities before run 1 (that is how its key can predate run 1),
 * so run 1 first meets an existing identity: without `adopt` it must fail naming `adopt`; with it,
 * the stack takes the identities over.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Registry } from 'azure-iothub';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { DYNAMIC_TYPES, localStackConfig, type ProgramHub, startProgramHub } from '../support/host-program';
import { clearText } from '../support/host-secrets';
import { DeploymentError, LifecycleEngine, type Step } from '../support/lifecycle-engine';
import { readHub } from '../support/lifecycle-hub-view';
import { readStackFile, runProgramUnderMocks } from '../support/program-under-mocks';
import { type ProviderHost, startProviderHost } from '../support/provider-host';

interface SeedDevice {
  deviceId: string;
  status?: string;
  adopt?: boolean;
  modules: { moduleId: string; adopt?: boolean; twin?: { desired?: Record<string, unknown> } }[];
}

const DEVICE = 'myFirstDevice';
const MODULE = 'myFirstModule';
const TWIN_URN_NAME = `module-twin/${DEVICE}/${MODULE}`;
const OTHER_WRITER = { desired: { otherWriter: 'keep' }, tags: { owner: 'ops' } };

/**
 * The tutorial's seed of stacks/Pulumi.local.yaml (its device and `myFirstModule`; the stack's fleet module
 * belongs to the configuration example, tested on its own), edited by `edit` (a deep copy each time).
 */
function seedWith(edit: (device: SeedDevice) => void): SeedDevice[] {
  const devices = structuredClone(readStackFile('local')['iothub-as-code:devices']) as SeedDevice[];
  devices[0]!.modules = devices[0]!.modules.filter((module) => module.moduleId === MODULE);
  edit(devices[0]!);
  return devices;
}

/** Run 1's declaration: the seed (telemetryInterval 122) plus a second key that run 2 removes. */
const run1 = (adopt: boolean) =>
  seedWith((device) => {
    device.modules[0]!.twin!.desired!['logLevel'] = 'debug';
    if (adopt) {
      device.adopt = true;
      device.modules[0]!.adopt = true;
    }
  });

/** Run 2: 122 -> 60, adds `mode`, drops `logLevel`, adds a second module, disables the device. */
const run2 = () =>
  seedWith((device) => {
    device.adopt = true;
    device.status = 'disabled';
    device.modules[0]!.adopt = true;
    device.modules[0]!.twin!.desired = { telemetryInterval: 60, mode: 'eco' };
    device.modules.push({ moduleId: 'secondModule' });
  });

const opsByName = (steps: Step[]) =>
  Object.fromEntries(
    steps.map((s) => [
      s.urn.split('::').pop(),
      s.skipped ? `${s.op} (skipped)` : s.retained ? `${s.op} (retained)` : s.op,
    ]),
  );

describe('issue #3: the seed stack across runs, against a local hub', () => {
  let target: ProgramHub;
  let host: ProviderHost;
  let engine: LifecycleEngine;
  let registry: Registry;

  const up = (devices: SeedDevice[], options: { refresh?: boolean } = {}) =>
    engine.up(
      (onNewResource) =>
        runProgramUnderMocks({ stack: 'local', config: localStackConfig(target, devices), onNewResource }),
      options,
    );

  /** Keys that must never sit in the state in clear: the hub's and every identity's. */
  async function assertNoSecretInClearState(): Promise<void> {
    const keys = [target.connectionString.split('SharedAccessKey=')[1]!];
    for (const device of (await registry.list()).responseBody) {
      const modules = (await registry.getModulesOnDevice(device.deviceId)).responseBody;
      for (const identity of [device, ...modules]) {
        const symmetric = identity.authentication?.symmetricKey;
        keys.push(symmetric?.primaryKey ?? '', symmetric?.secondaryKey ?? '');
      }
    }
    const text = JSON.stringify(clearText(engine.state));
    const leaked = keys.filter((key) => key !== '' && text.includes(key));
    assert.equal(leaked.length, 0, `${leaked.length} key(s) stored in the state in clear text`);
  }

  before(async () => {
    target = await startProgramHub();
    host = await startProviderHost();
    engine = new LifecycleEngine(host);
    ({ registry } = createHubClient(target.connectionString, { caCertificate: target.hub.caCertificatePem }));
    // The other writer: the seed's identities and its own twin keys, before run 1.
    await registry.create({ deviceId: DEVICE, status: 'enabled' } as any);
    await registry.addModule({ deviceId: DEVICE, moduleId: MODULE } as any);
    await registry.updateModuleTwin(DEVICE, MODULE, { properties: { desired: OTHER_WRITER.desired } }, '*');
    await registry.updateModuleTwin(DEVICE, MODULE, { tags: OTHER_WRITER.tags }, '*');
  });

  after(async () => {
    await host?.close();
    await target?.close();
  });

  test('the seed is what the issue describes', () => {
    const [device] = seedWith(() => undefined);
    assert.equal(device?.deviceId, DEVICE);
    assert.equal(device?.modules[0]?.moduleId, MODULE);
    assert.equal(device?.modules[0]?.twin?.desired?.['telemetryInterval'], 122);
  });

  test('run 1 without adopt fails naming adopt, and changes nothing', async () => {
    await assert.rejects(up(run1(false)), (error: unknown) => {
      assert.ok(error instanceof DeploymentError, String(error));
      assert.match(error.message, new RegExp(`DeviceIdentity::device/${DEVICE}: .*already exists.*adopt`));
      return true;
    });
    assert.deepEqual(engine.state, []);
    assert.deepEqual(await readHub(registry), [
      {
        deviceId: DEVICE,
        status: 'enabled',
        twin: { desired: {}, tags: {} },
        modules: { [MODULE]: OTHER_WRITER },
      },
    ]);
  });

  test('run 1 with adopt creates the device, module and twin (telemetryInterval 122)', async () => {
    const { steps } = await up(run1(true));
    assert.deepEqual(opsByName(steps), {
      [`device/${DEVICE}`]: 'create',
      [`module/${DEVICE}/${MODULE}`]: 'create',
      [TWIN_URN_NAME]: 'create',
    });
    assert.deepEqual(await readHub(registry), [
      {
        deviceId: DEVICE,
        status: 'enabled',
        twin: { desired: {}, tags: {} },
        modules: {
          [MODULE]: {
            desired: { otherWriter: 'keep', telemetryInterval: 122, logLevel: 'debug' },
            tags: OTHER_WRITER.tags,
          },
        },
      },
    ]);
    assert.deepEqual(engine.state.map((r) => r.type).sort(), [
      DYNAMIC_TYPES.device,
      DYNAMIC_TYPES.module,
      DYNAMIC_TYPES.moduleTwin,
    ]);
    await assertNoSecretInClearState();
  });

  test('run 2 updates the twin (122 -> 60, +mode, -logLevel), adds a module and disables the device', async () => {
    const { steps } = await up(run2());
    assert.deepEqual(opsByName(steps), {
      [`device/${DEVICE}`]: 'update',
      [`module/${DEVICE}/${MODULE}`]: 'same',
      [TWIN_URN_NAME]: 'update',
      [`module/${DEVICE}/secondModule`]: 'create',
    });
    assert.deepEqual(await readHub(registry), [
      {
        deviceId: DEVICE,
        status: 'disabled',
        twin: { desired: {}, tags: {} },
        modules: {
          [MODULE]: {
            desired: { otherWriter: 'keep', telemetryInterval: 60, mode: 'eco' },
            tags: OTHER_WRITER.tags,
          },
          secondModule: { desired: {}, tags: {} },
        },
      },
    ]);
    await assertNoSecretInClearState();
  });

  test('a desired leaf changed out of band is reported by Read and restored by the next run', async () => {
    await registry.updateModuleTwin(
      DEVICE,
      MODULE,
      { properties: { desired: { telemetryInterval: 5 } } },
      '*',
    );
    const report = await engine.refresh();
    const drift = report.changed.map((c) => ({
      name: c.urn.split('::').pop(),
      before: (c.before['desired'] as Record<string, unknown>)['telemetryInterval'],
      after: (c.after['desired'] as Record<string, unknown>)['telemetryInterval'],
    }));
    assert.deepEqual(drift, [{ name: TWIN_URN_NAME, before: 60, after: 5 }]);
    assert.deepEqual(report.gone, []);

    const { steps } = await up(run2());
    assert.equal(opsByName(steps)[TWIN_URN_NAME], 'update');
    const [device] = await readHub(registry);
    assert.deepEqual(device?.modules[MODULE]?.desired, {
      otherWriter: 'keep',
      telemetryInterval: 60,
      mode: 'eco',
    });
  });

  test('run 3 destroys what the stack created; the adopted device and module stay on the hub (retained)', async () => {
    const steps = await engine.destroy();
    assert.deepEqual(opsByName(steps), {
      // Adopted identities default to retainOnDelete (docs/safe-destroys.md). The twin is deletedWith its
      // module (and retained like it): no provider call, its leaves stay with the module.
      [TWIN_URN_NAME]: 'delete (skipped)',
      [`module/${DEVICE}/secondModule`]: 'delete',
      [`module/${DEVICE}/${MODULE}`]: 'delete (retained)',
      [`device/${DEVICE}`]: 'delete (retained)',
    });
    assert.deepEqual(engine.state, []);
    const hub = await readHub(registry);
    assert.deepEqual(
      hub.map((device) => [device.deviceId, Object.keys(device.modules)]),
      [[DEVICE, [MODULE]]],
      'the created secondModule is gone; the adopted pair is kept',
    );
  });
});
