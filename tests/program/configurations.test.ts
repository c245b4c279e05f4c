/**
 * Tier 4: `configurations:` and `tags` in the stack config, through the program under mocks: each
 * configuration becomes a `Configuration` resource with the connection as a secret input and a provider that
 * carries no secret; `tags` on a device or module becomes its twin resource's tags; a bad entry stops the
 * program with every problem at its path, the same rules the provider applies at preview.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { type ProgramRun, readStackFile, runProgramUnderMocks } from '../support/program-under-mocks';
import {
  assertProviderCarriesNoSecrets,
  createTempCa,
  localStackConfig,
  resource,
  type TempCa,
} from './stack-fixtures';

const CONFIGURATION_TYPE = 'pulumi-nodejs:dynamic/iothub:Configuration';

const RING0 = {
  configurationId: 'ring0-telemetry',
  moduleContent: { 'properties.desired.telemetryInterval': 30 },
  targetCondition: "FROM devices.modules WHERE tags.ring='0'",
  priority: 10,
  labels: { ring: '0' },
  metrics: {
    acked: 'SELECT deviceId FROM devices.modules WHERE properties.reported.telemetryInterval.ac=200',
  },
};

const DEVICES = [
  {
    deviceId: 'fleet-1',
    tags: { site: 'lab' },
    modules: [{ moduleId: 'agent', tags: { ring: '0' } }],
  },
];

async function rejection(config: Record<string, unknown>): Promise<string[]> {
  try {
    await runProgramUnderMocks({ stack: 'local', config });
  } catch (error) {
    assert.ok(pulumi.RunError.isInstance(error), 'config errors should be pulumi.RunError');
    return (error as Error).message
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
  }
  assert.fail('expected a config error');
}

describe('configurations and tags in the stack config', () => {
  let ca: TempCa;
  let run: ProgramRun;
  let config: Record<string, unknown>;

  before(async () => {
    ca = await createTempCa();
    config = {
      ...localStackConfig(ca.caPath),
      'iothub-as-code:devices': DEVICES,
      'iothub-as-code:configurations': [
        RING0,
        { ...RING0, configurationId: 'minimal', priority: undefined, labels: undefined, metrics: undefined },
      ],
    };
    run = await runProgramUnderMocks({ stack: 'local', config });
  });
  after(() => ca.remove());

  test('each configuration is a Configuration resource named configuration/<id>, with its fields as inputs', () => {
    const r = resource(run, 'configuration/ring0-telemetry');
    assert.equal(r.type, CONFIGURATION_TYPE);
    for (const [key, value] of Object.entries(RING0)) assert.deepEqual(r.inputs[key], value, key);
    assert.ok(r.secretInputs.includes('hubConnectionString'));
    assert.equal(r.inputs['hubCaCertificate'], ca.certificatePem);
    assertProviderCarriesNoSecrets(r, [ca.privateKeyPem]);
    const minimal = resource(run, 'configuration/minimal');
    assert.equal(minimal.inputs['priority'], 0, 'the resource class defaults priority');
    assert.deepEqual(minimal.inputs['labels'], {});
    assert.deepEqual(minimal.dependencies, [], 'applied by the hub whenever targets appear');
  });

  test('tags on a device or module become its twin resource tags (a twin resource with tags only)', () => {
    assert.deepEqual(resource(run, 'device-twin/fleet-1').inputs['tags'], { site: 'lab' });
    const twin = resource(run, 'module-twin/fleet-1/agent');
    assert.deepEqual(twin.inputs['tags'], { ring: '0' });
    assert.deepEqual(twin.inputs['desired'], {});
  });

  test('bad configurations and tags: every problem at its path, in one run', async () => {
    const lines = await rejection({
      ...config,
      'iothub-as-code:devices': [
        {
          deviceId: 'fleet-1',
          modules: [{ moduleId: 'agent', tags: { ring: '0' }, twin: { tags: { ring: '1' } } }],
        },
      ],
      'iothub-as-code:configurations': [
        {
          configurationId: 'Ring0',
          moduleContent: { 'properties.reported.x': 1, 'properties.desired.a': { 'b c': 1 } },
          targetCondition: "tags.ring='0'",
          priority: -5,
          prio: 1,
        },
        { ...RING0 },
        { ...RING0 },
      ],
    });
    const expected = [
      'devices[0].modules[0].tags: set tags here or in twin.tags, not both',
      'configurations[0].prio: unknown key; valid keys: configurationId, deviceContent, moduleContent, targetCondition, priority, labels, metrics',
      'configurations[0].configurationId: "Ring0" is not a configuration id',
      'configurations[0].moduleContent["properties.reported.x"]: content keys are desired-property paths',
      'configurations[0].moduleContent["properties.desired.a"]["b c"]: ',
      'configurations[0].targetCondition: a moduleContent configuration targets module twins',
      'configurations[0].priority: must be an integer from 0',
      'configurations[2].configurationId: duplicate configurationId "ring0-telemetry": configurations[1] already declares it',
    ];
    for (const prefix of expected) {
      assert.ok(
        lines.some((line) => line.startsWith(prefix)),
        `missing "${prefix}" in:\n${lines.join('\n')}`,
      );
    }
  });

  test('more than 100 configurations is refused for the whole list', async () => {
    const many = Array.from({ length: 101 }, (_, i) => ({ ...RING0, configurationId: `c${i}` }));
    const lines = await rejection({ ...config, 'iothub-as-code:configurations': many });
    assert.deepEqual(lines, [
      'configurations: declares 101 configurations; an IoT hub holds at most 100 (docs/iot-hub-behaviour.md §8.4)',
    ]);
  });
});

describe('stacks/Pulumi.staged-rollout.yaml: the staged rollout example', () => {
  let ca: TempCa;
  let run: ProgramRun;
  before(async () => {
    ca = await createTempCa();
    const config = readStackFile('staged-rollout');
    const hub = config['iothub-as-code:hub'] as Record<string, unknown>;
    run = await runProgramUnderMocks({
      stack: 'staged-rollout',
      config: { ...config, 'iothub-as-code:hub': { ...hub, local: { caCertificatePath: ca.caPath } } },
    });
  });
  after(() => ca.remove());

  test('ring 0 waits for 90 % convergence, and ring 1 is written only after it', () => {
    const ring0 = resource(run, 'configuration/telemetry-ring0');
    const ring1 = resource(run, 'configuration/telemetry-ring1');
    assert.deepEqual((ring0.inputs['waitForConvergence'] as { minimum: unknown }).minimum, { percent: 90 });
    assert.ok(
      ring1.dependencies.includes(ring0.urn),
      `ring 1 depends on ring 0; its dependencies: ${ring1.dependencies.join(', ')}`,
    );
    assert.equal(
      ring0.inputs['targetCondition'],
      "FROM devices.modules WHERE moduleId='agent' AND tags.ring='0'",
    );
  });
});
