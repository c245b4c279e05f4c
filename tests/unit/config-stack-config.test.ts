import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  isStackConfigError,
  parseStackConfig,
  type RawStackConfig,
  validateStackConfig,
} from '../../infra/stack-config';

const azure = (sku: unknown, extra: Record<string, unknown> = {}) => ({
  mode: 'azure',
  azure: { name: 'contoso-iot-dev', resourceGroupName: 'rg-iot', location: 'westeurope', sku, ...extra },
});

function problems(raw: RawStackConfig): Map<string, string> {
  const result = validateStackConfig(raw);
  assert.equal(result.ok, false, 'expected the config to be rejected');
  if (result.ok) return new Map();
  return new Map(result.problems.map((p) => [p.path, p.message]));
}

function accepted(raw: RawStackConfig) {
  const result = validateStackConfig(raw);
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems, null, 2));
  return result.config;
}

describe('stack config: accepted shapes and defaults', () => {
  test('a local hub with the seed device fills the documented defaults', () => {
    const config = accepted({
      hub: { mode: 'local' },
      devices: [
        {
          deviceId: 'myFirstDevice',
          modules: [{ moduleId: 'myFirstModule', twin: { desired: { telemetryInterval: 122 } } }],
        },
      ],
    });
    assert.deepEqual(config.hub, { mode: 'local', local: { caCertificatePath: '.local-hub/ca.pem' } });
    assert.deepEqual(config.devices[0]?.modules[0]?.twin, { desired: { telemetryInterval: 122 } });
  });

  test('devices may be absent; modules default to none', () => {
    assert.deepEqual(accepted({ hub: { mode: 'local' } }).devices, []);
    assert.deepEqual(
      accepted({ hub: { mode: 'local' }, devices: [{ deviceId: 'd' }] }).devices[0]?.modules,
      [],
    );
  });

  test('azure: createResourceGroup defaults to true, capacity to 1', () => {
    const config = accepted({ hub: azure({ name: 'S1' }) });
    assert.equal(config.hub.mode, 'azure');
    if (config.hub.mode !== 'azure') return;
    assert.equal(config.hub.azure.createResourceGroup, true);
    assert.deepEqual(config.hub.azure.sku, { name: 'S1', capacity: 1 });
  });

  test('every auth kind the providers accept is accepted', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const config = accepted({
      hub: { mode: 'local' },
      devices: [
        { deviceId: 'a', auth: { type: 'sas', primaryKey: key, secondaryKey: key } },
        { deviceId: 'b', auth: { type: 'selfSigned', primaryThumbprint: 'AB:'.repeat(19).concat('CD') } },
        {
          deviceId: 'c',
          auth: { type: 'certificateAuthority' },
          modules: [{ moduleId: 'm', auth: { type: 'sas' } }],
        },
      ],
      secretKeys: new Set(['devices']),
    });
    assert.equal(config.devices.length, 3);
  });
});

describe('stack config: rejected with every problem and its path', () => {
  test('Basic SKUs are rejected because module twins need the Standard tier, listing the valid SKUs', () => {
    for (const name of ['B1', 'B2', 'B3']) {
      const message = problems({ hub: azure({ name, capacity: 1 }) }).get('hub.azure.sku.name');
      assert.match(message ?? '', /module twins need the Standard tier/);
      assert.match(message ?? '', /valid SKUs: F1, S1, S2, S3/);
    }
  });

  test('capacity limits per SKU: F1 one unit, S3 ten', () => {
    assert.match(
      problems({ hub: azure({ name: 'F1', capacity: 2 }) }).get('hub.azure.sku.capacity') ?? '',
      /at most 1/,
    );
    assert.match(
      problems({ hub: azure({ name: 'S3', capacity: 11 }) }).get('hub.azure.sku.capacity') ?? '',
      /at most 10/,
    );
    accepted({ hub: azure({ name: 'S2', capacity: 200 }) });
  });

  test('one run reports problems from the hub, ids, twins, auth and duplicates together', () => {
    const found = problems({
      hub: azure({ name: 'B1', capacity: 1 }, { name: '-bad-', locaton: 'typo' }),
      devices: [
        {
          deviceId: 'dev#1',
          modules: [
            { moduleId: 'm1', twin: { desired: { a: { 'b.c': 1 } }, waitForAck: { timeoutSeconds: 0 } } },
            { moduleId: 'm1', twin: { tags: { $bad: true } } },
          ],
        },
        { deviceId: 'dev#1', status: 'paused', auth: { type: 'x509' } },
      ],
      unknownKeys: ['device'],
    });
    const expected = [
      'device',
      'hub.azure.name',
      'hub.azure.locaton',
      'hub.azure.sku.name',
      'devices[0].deviceId',
      'devices[0].modules[0].twin.desired.a["b.c"]',
      'devices[0].modules[0].twin.waitForAck.timeoutSeconds',
      'devices[0].modules[1].twin.tags["$bad"]',
      'devices[0].modules[1].moduleId',
      'devices[1].deviceId',
      'devices[1].status',
      'devices[1].auth.type',
    ];
    assert.deepEqual([...found.keys()].sort(), [...expected].sort());
    assert.match(
      found.get('devices[1].deviceId') ?? '',
      /duplicate deviceId "dev#1": devices\[0\] already declares it/,
    );
    assert.match(found.get('devices[0].modules[1].moduleId') ?? '', /duplicate moduleId "m1": modules\[0\]/);
    assert.match(
      found.get('hub.azure.locaton') ?? '',
      /unknown key; valid keys: name, resourceGroupName, createResourceGroup, location, sku/,
    );
    assert.match(found.get('devices[0].modules[0].twin.desired.a["b.c"]') ?? '', /must not contain "\."/);
    assert.match(found.get('devices[1].status') ?? '', /"enabled" or "disabled"/);
  });

  test('a missing hub and an azure mode without its section are reported with what to write', () => {
    assert.match(problems({ devices: [] }).get('hub') ?? '', /is required/);
    assert.match(
      problems({ hub: { mode: 'azure' } }).get('hub.azure') ?? '',
      /required when mode is "azure"/,
    );
    assert.match(problems({ hub: { mode: 'cloud' } }).get('hub.mode') ?? '', /local, azure/);
  });

  test('parseStackConfig throws ONE error that lists every problem, one per line', () => {
    try {
      parseStackConfig({
        hub: azure({ name: 'B2' }),
        devices: [{ deviceId: '' }, { deviceId: 'x', iotEdge: 'yes' }],
      });
      assert.fail('expected a StackConfigError');
    } catch (error) {
      assert.ok(isStackConfigError(error));
      assert.equal(error.problems.length, 3);
      const lines = error.message.split('\n');
      assert.match(lines[0] ?? '', /3 problems/);
      assert.ok(lines.some((l) => l.trim().startsWith('hub.azure.sku.name: ')));
      assert.ok(lines.some((l) => l.trim().startsWith('devices[0].deviceId: ')));
      assert.ok(lines.some((l) => l.trim().startsWith('devices[1].iotEdge: ')));
    }
  });
});

describe('stack config: secrets', () => {
  const key = Buffer.alloc(32, 1).toString('base64');
  const connectionString = `HostName=127.0.0.1:9443;SharedAccessKeyName=serviceAndRegistryReadWrite;SharedAccessKey=${key}`;

  test('keys and connection strings in a clear-text config key are problems naming the command to fix them', () => {
    const found = problems({
      hub: { mode: 'local', local: { connectionString } },
      devices: [
        {
          deviceId: 'd',
          auth: { type: 'sas', primaryKey: key },
          modules: [{ moduleId: 'm', auth: { type: 'sas', secondaryKey: key } }],
        },
      ],
      secretKeys: new Set(),
    });
    assert.deepEqual([...found.keys()].sort(), [
      'devices[0].auth.primaryKey',
      'devices[0].modules[0].auth.secondaryKey',
      'hub.local.connectionString',
    ]);
    assert.match(
      found.get('hub.local.connectionString') ?? '',
      /pulumi config set --secret --path 'hub.local.connectionString'/,
    );
  });

  test('the same values set as secrets are accepted', () => {
    accepted({
      hub: { mode: 'local', local: { connectionString } },
      devices: [{ deviceId: 'd', auth: { type: 'sas', primaryKey: key } }],
      secretKeys: new Set(['hub', 'devices']),
    });
  });

  test('messages about bad keys and connection strings never contain the value', () => {
    const badKey = 'c2hvcnQ='; // base64 of 5 bytes
    const badConnection = `HostName=h;SharedAccessKey=${key}`; // no SharedAccessKeyName
    const result = validateStackConfig({
      hub: { mode: 'local', local: { connectionString: badConnection } },
      devices: [{ deviceId: 'd', auth: { type: 'sas', primaryKey: badKey } }],
      secretKeys: new Set(['hub', 'devices']),
    });
    assert.equal(result.ok, false);
    const text = JSON.stringify(result);
    assert.ok(!text.includes(key) && !text.includes(badKey), 'a secret leaked into a problem message');
    assert.match(text, /devices\[0\]\.auth\.primaryKey/);
    assert.match(text, /hub\.local\.connectionString/);
  });
});

describe('stack config: properties', () => {
  test('every repeated deviceId is reported exactly once per repetition, at its own index', () => {
    const ids = fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 12 });
    fc.assert(
      fc.property(ids, (list) => {
        const result = validateStackConfig({
          hub: { mode: 'local' },
          devices: list.map((deviceId) => ({ deviceId })),
        });
        const expected = list.flatMap((id, i) => (list.indexOf(id) < i ? [`devices[${i}].deviceId`] : []));
        const actual = result.ok ? [] : result.problems.map((p) => p.path);
        assert.deepEqual(actual, expected);
      }),
    );
  });

  test('valid device lists are accepted unchanged', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9\-._]{1,20}$/);
    const leaf = fc.oneof(
      fc.integer({ min: -1000, max: 1000 }),
      fc.boolean(),
      fc.string({ maxLength: 8 }).filter((s) => !/\p{Cc}/u.test(s)),
    );
    const desired = fc.dictionary(fc.stringMatching(/^[a-z][A-Za-z0-9]{0,8}$/), leaf, { maxKeys: 4 });
    const devices = fc.uniqueArray(
      fc.record({
        deviceId: id,
        modules: fc.uniqueArray(fc.record({ moduleId: id, twin: fc.record({ desired }) }), {
          selector: (m) => m.moduleId,
          maxLength: 3,
        }),
      }),
      { selector: (d) => d.deviceId, maxLength: 4 },
    );
    fc.assert(
      fc.property(devices, (list) => {
        // JSON round-trip: fast-check builds null-prototype objects, zod plain ones.
        const plain = JSON.parse(JSON.stringify(list));
        assert.deepEqual(accepted({ hub: { mode: 'local' }, devices: plain }).devices, plain);
      }),
    );
  });
});
