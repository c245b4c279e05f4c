/**
 * Tier 8, the real engine: a stack's whole life through the Pulumi CLI against a local hub.
 * up -> up again (no change) -> a config edit seen as exactly one twin leaf in `preview --diff`, then
 * applied to that twin only -> an out-of-band edit on the hub reported by `refresh` and restored by `up`
 * -> secrets nowhere in clear (state export, state files, CLI output) while `stack output --show-secrets`
 * gives connection strings a module connects with -> destroy leaves none of the stack's identities.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ModuleClient } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import {
  type CliStack,
  createCliStack,
  fleetYaml,
  hubRegistry,
  killProcessesIn,
  programConnectionString,
  startCliHub,
} from '../support/cli-stack';
import { readHub } from '../support/lifecycle-hub-view';
import { within } from '../support/runtime-wait';

/** Two devices of two modules; module twins desire telemetryInterval 100 + module index. */
const DECLARED = fleetYaml(2, 2, (_d, m) => ({ telemetryInterval: 100 + m }));
const RESOURCES = 1 + 2 + 4 + 4; // stack, devices, modules, module twins

describe('real CLI: a stack from up to destroy', { timeout: 600_000 }, () => {
  let hub: Awaited<ReturnType<typeof startCliHub>>;
  let stack: CliStack;
  let output = '';
  const collect = (text: string) => {
    output += text;
  };
  const registry = () => hubRegistry(hub);
  const desiredOf = async (deviceId: string, moduleId: string) =>
    (await registry().getModuleTwin(deviceId, moduleId)).responseBody.properties.desired;

  before(async () => {
    hub = await startCliHub();
    stack = await createCliStack('lifecycle', hub, DECLARED);
  });
  after(async () => {
    killProcessesIn(stack.workDir);
    stack.remove();
    await hub.closeAndRemove();
  });

  test('up creates every declared identity and twin; a second up changes nothing', async () => {
    const first = await stack.stack.up({ onOutput: collect });
    assert.deepEqual(first.summary.resourceChanges, { create: RESOURCES });
    const view = await readHub(registry());
    assert.deepEqual(
      view.map((d) => [d.deviceId, Object.keys(d.modules)]),
      [
        ['dev0', ['mod0', 'mod1']],
        ['dev1', ['mod0', 'mod1']],
      ],
    );
    assert.deepEqual(view[1]?.modules['mod1']?.desired, { telemetryInterval: 101 });
    const second = await stack.stack.up({ onOutput: collect });
    assert.deepEqual(second.summary.resourceChanges, { same: RESOURCES });
  });

  test('a config edit shows in preview --diff as exactly that twin leaf, and up updates only that twin', async () => {
    const untouchedBefore = (await registry().getModuleTwin('dev0', 'mod0')).responseBody.properties.desired;
    stack.setDevicesYaml(
      fleetYaml(2, 2, (d, m) => ({ telemetryInterval: d === 1 && m === 0 ? 60 : 100 + m })),
    );
    let diff = '';
    const preview = await stack.stack.preview({ diff: true, onOutput: (t) => (diff += t) });
    collect(diff);
    assert.deepEqual(preview.changeSummary, { update: 1, same: RESOURCES - 1 });
    // The engine's own diff: one resource to update, that twin, and in it only the one leaf.
    const updates = diff.split('\n').filter((line) => /^\s*~ \S+: \(update\)$/.test(line));
    assert.equal(updates.length, 1, diff);
    assert.match(diff, /~ pulumi-nodejs:dynamic\/iothub:ModuleTwin: \(update\)\s+\[id=dev1\/mod0\]/);
    const changedLeaves = diff.split('\n').filter((line) => /^\s*[~+-] \w+\s*:/.test(line));
    assert.deepEqual(
      changedLeaves.map((line) => line.trim().replace(/\s+/g, ' ')),
      ['~ desired : {', '~ telemetryInterval: 100 => 60'],
      diff,
    );

    const up = await stack.stack.up({ onOutput: collect });
    assert.deepEqual(up.summary.resourceChanges, { update: 1, same: RESOURCES - 1 });
    assert.equal((await desiredOf('dev1', 'mod0'))['telemetryInterval'], 60);
    const untouched = (await registry().getModuleTwin('dev0', 'mod0')).responseBody.properties.desired;
    assert.equal(untouched['$version'], untouchedBefore['$version'], 'the other twins were not written');
  });

  test('an out-of-band edit on the hub is reported by refresh and restored by up', async () => {
    const twin = (await registry().getModuleTwin('dev0', 'mod1')).responseBody;
    await registry().updateModuleTwin(
      'dev0',
      'mod1',
      { properties: { desired: { telemetryInterval: 999 } } },
      twin.etag,
    );
    const refresh = await stack.stack.refresh({ onOutput: collect });
    assert.deepEqual(refresh.summary.resourceChanges, { update: 1, same: RESOURCES - 1 });
    let diff = '';
    const preview = await stack.stack.preview({ diff: true, onOutput: (t) => (diff += t) });
    collect(diff);
    assert.deepEqual(preview.changeSummary, { update: 1, same: RESOURCES - 1 });
    assert.match(diff, /telemetryInterval\s*:\s*999\s*=>\s*101/);
    const up = await stack.stack.up({ onOutput: collect });
    assert.deepEqual(up.summary.resourceChanges, { update: 1, same: RESOURCES - 1 });
    assert.equal((await desiredOf('dev0', 'mod1'))['telemetryInterval'], 101);
  });

  test('no key or connection string in clear in the state export, the state files or the CLI output; --show-secrets gives working ones', async () => {
    const exported = await stack.cli(['stack', 'export']);
    assert.equal(exported.code, 0, exported.stderr);
    const shown = await stack.cli(['stack', 'output', 'moduleConnectionStrings', '--show-secrets', '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    const connectionStrings = JSON.parse(shown.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(connectionStrings).sort(), [
      'dev0/mod0',
      'dev0/mod1',
      'dev1/mod0',
      'dev1/mod1',
    ]);

    const secrets = [programConnectionString(hub.hostName), ...Object.values(connectionStrings)];
    for (const [deviceId, moduleId] of [
      ['dev0', 'mod0'],
      ['dev1', 'mod1'],
    ] as const) {
      const module = (await registry().getModule(deviceId, moduleId)).responseBody;
      secrets.push(
        module.authentication!.symmetricKey!.primaryKey!,
        module.authentication!.symmetricKey!.secondaryKey!,
      );
    }
    const policyKey = /SharedAccessKey=([^;]+)/.exec(programConnectionString(hub.hostName))![1]!;
    secrets.push(policyKey);
    const stateFiles = listFiles(stack.stateDir).map(
      (file) => [file, fs.readFileSync(file, 'utf8')] as const,
    );
    assert.ok(stateFiles.length > 3, 'the state folder holds the stack, its backups and history');
    for (const secret of secrets) {
      assert.ok(
        !exported.stdout.includes(secret),
        `stack export shows a secret in clear: ${secret.slice(0, 12)}…`,
      );
      assert.ok(!output.includes(secret), `the CLI output shows a secret in clear: ${secret.slice(0, 12)}…`);
      for (const [file, text] of stateFiles) {
        assert.ok(!text.includes(secret), `${file} holds a secret in clear: ${secret.slice(0, 12)}…`);
      }
      assert.ok(
        !fs.readFileSync(stack.configFile, 'utf8').includes(secret),
        'the stack config holds a secret in clear',
      );
    }

    // The connection string the stack gives works: a module connects over MQTT and reads its twin.
    const client = ModuleClient.fromConnectionString(connectionStrings['dev1/mod0']!, Mqtt);
    await client.setOptions({ ca: hub.caCertificatePem });
    try {
      await within('the module to connect with the stack output connection string', client.open());
      const twin = await within('the module twin', client.getTwin());
      assert.equal(twin.properties.desired['telemetryInterval'], 60);
    } finally {
      await client.close();
    }
  });

  test('destroy removes every identity of the stack and nothing else', async () => {
    await registry().create({ deviceId: 'not-in-the-stack' });
    const destroyed = await stack.stack.destroy({ onOutput: collect });
    assert.deepEqual(destroyed.summary.resourceChanges, { delete: RESOURCES });
    const view = await readHub(registry());
    assert.deepEqual(
      view.map((d) => d.deviceId),
      ['not-in-the-stack'],
    );
  });
});

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}
