/**
 * Tier 4: the program with stacks/Pulumi.dev.yaml and stacks/Pulumi.prod.yaml, ARM mocked. Proves
 * the hub's SKU and policies (the five defaults kept, the program's policy with exactly RegistryWrite
 * and ServiceConnect), the key lookup, and how the connection string reaches the dynamic resources.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  MOCK_ARM_PRIMARY_KEY,
  type ProgramRun,
  readStackFile,
  runProgramUnderMocks,
} from '../support/program-under-mocks';
import { assertProviderCarriesNoSecrets, dynamicResources, resource } from './stack-fixtures';

const RESOURCE_GROUP = 'azure-native:resources:ResourceGroup';
const IOT_HUB = 'azure-native:iothub:IotHubResource';
const LIST_KEYS = 'azure-native:iothub:listIotHubResourceKeysForKeyName';
const GET_GROUP = 'azure-native:resources:getResourceGroup';

const EXPECTED_POLICIES = [
  { keyName: 'iothubowner', rights: 'RegistryWrite, ServiceConnect, DeviceConnect' },
  { keyName: 'service', rights: 'ServiceConnect' },
  { keyName: 'device', rights: 'DeviceConnect' },
  { keyName: 'registryRead', rights: 'RegistryRead' },
  { keyName: 'registryReadWrite', rights: 'RegistryWrite' },
  { keyName: 'serviceAndRegistryReadWrite', rights: 'RegistryWrite, ServiceConnect' },
];

describe('dev stack (stacks/Pulumi.dev.yaml)', () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgramUnderMocks({ stack: 'dev', config: readStackFile('dev') });
  });

  test('creates the resource group and an S1 hub with one unit in it', () => {
    const group = resource(run, 'hub-resource-group');
    assert.equal(group.type, RESOURCE_GROUP);
    assert.deepEqual(group.inputs, { resourceGroupName: 'rg-contoso-iot-dev', location: 'westeurope' });
    const hub = resource(run, 'iothub');
    assert.equal(hub.type, IOT_HUB);
    assert.equal(hub.inputs['resourceName'], 'contoso-iot-dev-weu');
    assert.equal(hub.inputs['resourceGroupName'], 'rg-contoso-iot-dev');
    assert.deepEqual(hub.inputs['sku'], { name: 'S1', capacity: 1 });
    assert.deepEqual(hub.dependencies, [group.urn]);
  });

  test('keeps the five default policies and adds serviceAndRegistryReadWrite = RegistryWrite, ServiceConnect', () => {
    const properties = resource(run, 'iothub').inputs['properties'] as { authorizationPolicies: unknown[] };
    assert.deepEqual(properties.authorizationPolicies, EXPECTED_POLICIES);
    const program = EXPECTED_POLICIES.at(-1)!;
    assert.deepEqual(program.rights.split(', ').sort(), ['RegistryWrite', 'ServiceConnect']);
  });

  test("reads the program policy's key from ARM, after the hub exists", () => {
    assert.deepEqual(run.invokes, [
      {
        token: LIST_KEYS,
        inputs: {
          keyName: 'serviceAndRegistryReadWrite',
          resourceGroupName: 'rg-contoso-iot-dev',
          resourceName: 'contoso-iot-dev-weu',
        },
      },
    ]);
  });

  test('every dynamic resource gets the assembled connection string as a secret input, no CA', () => {
    const expected = `HostName=contoso-iot-dev-weu.azure-devices.net;SharedAccessKeyName=serviceAndRegistryReadWrite;SharedAccessKey=${MOCK_ARM_PRIMARY_KEY}`;
    const dynamic = dynamicResources(run);
    assert.deepEqual(dynamic.map((r) => r.name).sort(), [
      'device-twin/line1-gateway-dev',
      'device/line1-gateway-dev',
      'device/line1-sensor-dev',
      'module-twin/line1-gateway-dev/telemetry',
      'module-twin/line1-sensor-dev/telemetry',
      'module/line1-gateway-dev/telemetry',
      'module/line1-sensor-dev/telemetry',
    ]);
    const hubUrn = resource(run, 'iothub').urn;
    for (const r of dynamic) {
      assert.equal(r.inputs['hubConnectionString'], expected, r.name);
      assert.ok(r.secretInputs.includes('hubConnectionString'), `${r.name}: connection string not secret`);
      assert.equal(r.inputs['hubCaCertificate'], undefined, r.name);
      assert.ok(r.dependencies.includes(hubUrn), `${r.name} does not depend on the hub`);
      assertProviderCarriesNoSecrets(r);
    }
  });

  test('the twin acknowledgement wait is passed through as declared', () => {
    assert.deepEqual(resource(run, 'module-twin/line1-gateway-dev/telemetry').inputs['waitForAck'], {
      timeoutSeconds: 120,
      onTimeout: 'warn',
    });
  });

  test('exports the Azure host name, and connection strings only as secrets', () => {
    assert.equal(run.outputs['hubHostName'], 'contoso-iot-dev-weu.azure-devices.net');
    assert.deepEqual([...run.secretOutputs].sort(), ['hubConnectionString', 'moduleConnectionStrings']);
    assert.match(
      String(run.outputs['hubConnectionString']),
      /^HostName=contoso-iot-dev-weu\.azure-devices\.net;/,
    );
    assert.deepEqual(Object.keys(run.outputs['moduleConnectionStrings'] as object).sort(), [
      'line1-gateway-dev/telemetry',
      'line1-sensor-dev/telemetry',
    ]);
  });
});

describe('prod stack (stacks/Pulumi.prod.yaml)', () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgramUnderMocks({ stack: 'prod', config: readStackFile('prod') });
  });

  test('uses the existing resource group (looked up, not created) and a Standard S2/S3 hub', () => {
    assert.equal(
      run.resources.find((r) => r.type === RESOURCE_GROUP),
      undefined,
    );
    assert.ok(
      run.invokes.some(
        (i) => i.token === GET_GROUP && i.inputs['resourceGroupName'] === 'rg-contoso-iot-prod',
      ),
    );
    const hub = resource(run, 'iothub');
    assert.equal(hub.inputs['resourceGroupName'], 'rg-contoso-iot-prod');
    const sku = hub.inputs['sku'] as { name: string; capacity: number };
    assert.ok(['S2', 'S3'].includes(sku.name), `prod SKU ${sku.name}`);
    const properties = hub.inputs['properties'] as { authorizationPolicies: unknown[] };
    assert.deepEqual(properties.authorizationPolicies, EXPECTED_POLICIES);
  });
});
