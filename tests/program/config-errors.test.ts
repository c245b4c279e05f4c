/**
 * Tier 4: a bad stack config stops the program before any resource is declared, with ONE error that
 * lists every problem and its path (what `pulumi up` prints), read through `new pulumi.Config()`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { type ProgramRun, readStackFile, runProgramUnderMocks } from '../support/program-under-mocks';

interface Rejection {
  message: string;
  lines: string[];
}

/** Runs the program, expecting the config error; also checks nothing was registered. */
async function rejectConfig(options: Parameters<typeof runProgramUnderMocks>[0]): Promise<Rejection> {
  let run: ProgramRun | undefined;
  try {
    run = await runProgramUnderMocks(options);
  } catch (error) {
    // A RunError: `pulumi up` prints the message alone, without a stack trace.
    assert.ok(pulumi.RunError.isInstance(error), 'config errors should be pulumi.RunError');
    const message = (error as Error).message;
    assert.match(
      message,
      /^Invalid stack config under "iothub-as-code" \(\d+ problems?; see docs\/stack-config\.md\):/,
    );
    return {
      message,
      lines: message
        .split('\n')
        .slice(1)
        .map((l) => l.trim()),
    };
  }
  assert.fail(`expected a config error, got ${run.resources.length} resources`);
}

const devHub = () => readStackFile('dev')['iothub-as-code:hub'] as { azure: Record<string, unknown> };

describe('config errors through the program', () => {
  test('a Basic SKU is rejected because module twins need the Standard tier', async () => {
    const hub = devHub();
    const { lines } = await rejectConfig({
      stack: 'dev',
      config: { hub: { ...hub, azure: { ...hub.azure, sku: { name: 'B1', capacity: 1 } } }, devices: [] },
    });
    assert.deepEqual(lines, [
      'hub.azure.sku.name: Basic tier SKU "B1" cannot be used: module twins need the Standard tier; valid SKUs: F1, S1, S2, S3',
    ]);
  });

  test('several problems across hub, devices, modules and twins come back in one run', async () => {
    const hub = devHub();
    const { lines, message } = await rejectConfig({
      stack: 'dev',
      config: {
        hub: {
          ...hub,
          azure: { ...hub.azure, sku: { name: 'B2', capacity: 1 }, createResourceGroup: 'yes' },
        },
        devices: [
          {
            deviceId: 'gw',
            modules: [
              { moduleId: 'm', twin: { desired: { 'a.b': 1, nested: { $x: 2 } } } },
              { moduleId: 'm' },
            ],
          },
          { deviceId: 'gw', statusReason: 'x'.repeat(129) },
          { deviceId: 'bad id' },
        ],
        'iothub-as-code:device': [],
      },
    });
    const paths = lines.map((l) => l.slice(0, l.indexOf(': ')));
    assert.deepEqual([...paths].sort(), [
      'device',
      'devices[0].modules[0].twin.desired.nested["$x"]',
      'devices[0].modules[0].twin.desired["a.b"]',
      'devices[0].modules[1].moduleId',
      'devices[1].deviceId',
      'devices[1].statusReason',
      'devices[2].deviceId',
      'hub.azure.createResourceGroup',
      'hub.azure.sku.name',
    ]);
    assert.match(message, /\(9 problems;/);
    assert.match(message, /device: unknown config key "iothub-as-code:device"; valid keys: hub, devices/);
  });

  test('a supplied key in a config key that is not secret is refused with the command to fix it', async () => {
    const key = Buffer.alloc(32, 3).toString('base64');
    const { lines, message } = await rejectConfig({
      stack: 'local',
      config: {
        hub: { mode: 'local' },
        devices: [{ deviceId: 'd', auth: { type: 'sas', primaryKey: key } }],
      },
      secretKeys: ['hub'],
    });
    assert.deepEqual(lines, [
      "devices[0].auth.primaryKey: is a secret but its config key is stored in clear text; set it with: pulumi config set --secret --path 'devices[0].auth.primaryKey' <value>",
    ]);
    assert.ok(!message.includes(key), 'the key leaked into the error');
  });

  test('a missing hub key says what to set', async () => {
    const { lines } = await rejectConfig({ stack: 'local', config: { devices: [] } });
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /^hub: is required: set "iothub-as-code:hub"/);
  });

  test('a key written as a plain string is reported as such, together with the other problems', async () => {
    const { lines } = await rejectConfig({
      stack: 'local',
      config: { hub: 'local', devices: [{ deviceId: '' }] },
    });
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /^hub: must be structured config/);
    assert.match(lines[1] ?? '', /^devices\[0\]\.deviceId: device id is empty/);
  });
});
