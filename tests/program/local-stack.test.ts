/**
 * Tier 4: the program (index.ts) with stacks/Pulumi.local.yaml, under Pulumi's mocks. Proves the
 * resource graph of the seed stack, that the hub connection string reaches every dynamic resource
 * as a secret input and never through its serialized provider, and the secret outputs.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { wellKnownServiceConnectionString } from '../../lib/local-hub-defaults';
import { type ProgramRun, runProgramUnderMocks } from '../support/program-under-mocks';
import {
  assertProviderCarriesNoSecrets,
  createTempCa,
  DYNAMIC_TYPES,
  dynamicResources,
  localStackConfig,
  resource,
  type TempCa,
} from './stack-fixtures';

const DEVICE = 'device/myFirstDevice';
const MODULE = 'module/myFirstDevice/myFirstModule';
const TWIN = 'module-twin/myFirstDevice/myFirstModule';
const FLEET_MODULE = 'module/myFirstDevice/fleetModule';
const FLEET_TWIN = 'module-twin/myFirstDevice/fleetModule';
const CONFIGURATION = 'configuration/ring0-telemetry';

describe('local stack (stacks/Pulumi.local.yaml)', () => {
  let ca: TempCa;
  let run: ProgramRun;

  before(async () => {
    ca = await createTempCa();
    run = await runProgramUnderMocks({ stack: 'local', config: localStackConfig(ca.caPath) });
  });
  after(() => ca.remove());

  test('declares the seed device, its modules and twins, the ring 0 configuration, and nothing on Azure', () => {
    assert.deepEqual(
      run.resources.map((r) => [r.type, r.name]).sort(),
      [
        [DYNAMIC_TYPES.device, DEVICE],
        [DYNAMIC_TYPES.module, MODULE],
        [DYNAMIC_TYPES.moduleTwin, TWIN],
        [DYNAMIC_TYPES.module, FLEET_MODULE],
        [DYNAMIC_TYPES.moduleTwin, FLEET_TWIN],
        [DYNAMIC_TYPES.configuration, CONFIGURATION],
      ].sort(),
    );
    assert.deepEqual(run.invokes, []);
  });

  test('the module twin declares telemetryInterval 122 for the seed module', () => {
    const twin = resource(run, TWIN);
    assert.deepEqual(twin.inputs['desired'], { telemetryInterval: 122 });
    assert.equal(twin.inputs['deviceId'], 'myFirstDevice');
    assert.equal(twin.inputs['moduleId'], 'myFirstModule');
  });

  test('the fleet module is tagged ring 0 and owns no desired leaf; the configuration sets telemetryInterval there', () => {
    const fleetTwin = resource(run, FLEET_TWIN);
    assert.deepEqual(fleetTwin.inputs['tags'], { ring: '0' });
    assert.deepEqual(fleetTwin.inputs['desired'], {}, 'the configuration owns telemetryInterval');
    const configuration = resource(run, CONFIGURATION);
    assert.deepEqual(configuration.inputs['moduleContent'], { 'properties.desired.telemetryInterval': 60 });
    assert.equal(configuration.inputs['targetCondition'], "FROM devices.modules WHERE tags.ring='0'");
  });

  test('module depends on its device, the twin on its module and is deleted with it', () => {
    const device = resource(run, DEVICE);
    const module = resource(run, MODULE);
    const twin = resource(run, TWIN);
    assert.deepEqual(device.dependencies, []);
    assert.deepEqual(module.dependencies, [device.urn]);
    assert.deepEqual(twin.dependencies, [module.urn]);
    assert.equal(twin.deletedWith, module.urn);
  });

  test('every dynamic resource gets the well-known connection string as a secret input, and the CA', () => {
    for (const r of dynamicResources(run)) {
      assert.equal(r.inputs['hubConnectionString'], wellKnownServiceConnectionString(), r.name);
      assert.ok(r.secretInputs.includes('hubConnectionString'), `${r.name}: connection string not secret`);
      assert.equal(r.inputs['hubCaCertificate'], ca.certificatePem, r.name);
    }
  });

  test('no serialized provider carries a key, a connection string or the CA key', () => {
    for (const r of dynamicResources(run)) assertProviderCarriesNoSecrets(r, [ca.privateKeyPem]);
  });

  test('outputs: host name in clear, connection strings secret and keyed "<device>/<module>"', () => {
    assert.equal(run.outputs['hubHostName'], '127.0.0.1:8443');
    assert.equal(run.outputs['hubConnectionString'], wellKnownServiceConnectionString());
    assert.deepEqual([...run.secretOutputs].sort(), ['hubConnectionString', 'moduleConnectionStrings']);
    const modules = run.outputs['moduleConnectionStrings'] as Record<string, string>;
    assert.deepEqual(Object.keys(modules).sort(), [
      'myFirstDevice/fleetModule',
      'myFirstDevice/myFirstModule',
    ]);
    assert.match(
      modules['myFirstDevice/myFirstModule'] ?? '',
      /DeviceId=myFirstDevice;ModuleId=myFirstModule;/,
    );
  });
});

describe('local stack variations', () => {
  let ca: TempCa;
  before(async () => {
    ca = await createTempCa();
  });
  after(() => ca.remove());

  test('a connection string override (set as a secret) is what the resources and outputs use', async () => {
    const override = wellKnownServiceConnectionString('serviceAndRegistryReadWrite', '127.0.0.1:9555');
    const run = await runProgramUnderMocks({
      stack: 'local',
      config: localStackConfig(ca.caPath, { connectionString: override }),
    });
    assert.equal(run.outputs['hubHostName'], '127.0.0.1:9555');
    for (const r of dynamicResources(run)) assert.equal(r.inputs['hubConnectionString'], override);
  });

  test('device twins, supplied keys and several devices: names, dependencies and secret keys', async () => {
    const key = Buffer.alloc(32, 9).toString('base64');
    const run = await runProgramUnderMocks({
      stack: 'local',
      config: {
        hub: { mode: 'local', local: { caCertificatePath: ca.caPath } },
        devices: [
          {
            deviceId: 'a-b',
            auth: { type: 'sas', primaryKey: key },
            twin: { tags: { site: 'x' } },
            modules: [{ moduleId: 'c' }],
          },
          { deviceId: 'a', status: 'disabled', statusReason: 'retired', modules: [{ moduleId: 'b-c' }] },
        ],
      },
    });
    // Registration order follows input resolution, not declaration order: compare as sets.
    assert.deepEqual(run.resources.map((r) => r.name).sort(), [
      'device-twin/a-b',
      'device/a',
      'device/a-b',
      'module/a-b/c',
      'module/a/b-c',
    ]);
    const deviceTwin = resource(run, 'device-twin/a-b');
    assert.deepEqual(deviceTwin.dependencies, [resource(run, 'device/a-b').urn]);
    assert.equal(deviceTwin.deletedWith, resource(run, 'device/a-b').urn);
    const keyed = resource(run, 'device/a-b');
    // The supplied key reaches the provider as a secret input (it never sits in clear in state).
    assert.equal(keyed.inputs['primaryKey'], key);
    assert.ok(keyed.secretInputs.includes('primaryKey'), 'supplied key is not a secret input');
    assert.ok(!JSON.stringify(keyed.inputs['authentication']).includes(key), 'key in a clear-text input');
    assertProviderCarriesNoSecrets(keyed, [key]);
    assert.equal(resource(run, 'device/a').inputs['status'], 'disabled');
    assert.deepEqual(Object.keys(run.outputs['moduleConnectionStrings'] as object).sort(), [
      'a-b/c',
      'a/b-c',
    ]);
  });

  test('a missing CA file fails with an error that says to start the hub', async () => {
    await assert.rejects(
      runProgramUnderMocks({ stack: 'local', config: localStackConfig(`${ca.dir}/missing/ca.pem`) }),
      (error: Error) => {
        assert.ok(pulumi.RunError.isInstance(error), 'expected a RunError (printed without a stack trace)');
        assert.match(error.message, /missing\/ca\.pem \(hub\.local\.caCertificatePath\) does not exist/);
        assert.match(error.message, /npm run hub/);
        assert.match(error.message, /npm start/);
        return true;
      },
    );
  });

  test('a CA path pointing at something else (the CA private key) is refused without echoing it', async () => {
    const keyPath = path.join(ca.dir, 'ca-key.pem');
    fs.writeFileSync(keyPath, ca.privateKeyPem);
    await assert.rejects(
      runProgramUnderMocks({ stack: 'local', config: localStackConfig(keyPath) }),
      (error: Error) => {
        assert.match(error.message, /ca-key\.pem \(hub\.local\.caCertificatePath\) is not a PEM certificate/);
        assert.ok(!error.message.includes('PRIVATE KEY'));
        return true;
      },
    );
  });
});
