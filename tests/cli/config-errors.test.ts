/**
 * Tier 8: a broken stack config through the real CLI. `pulumi preview` (and `up`) fail with every
 * problem listed exactly once, with its path, and nothing is created on the hub or in the state.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type CliStack,
  createCliStack,
  hubRegistry,
  killProcessesIn,
  spawnPulumiScript,
  startCliHub,
} from '../support/cli-stack';
import { within } from '../support/runtime-wait';

const BROKEN = `    - deviceId: gw
      modules:
        - moduleId: m
          twin:
            desired:
              a.b: 1
        - moduleId: m
    - deviceId: bad id
    - deviceId: ok
      statusReason: ${'x'.repeat(129)}
    - deviceId: "line;3"
`;

const PROBLEMS = [
  'devices[0].modules[0].twin.desired["a.b"]',
  'devices[0].modules[1].moduleId',
  'devices[1].deviceId',
  'devices[2].statusReason',
  'devices[3].deviceId',
];

describe('real CLI: a broken stack config', { timeout: 300_000 }, () => {
  let hub: Awaited<ReturnType<typeof startCliHub>>;
  let stack: CliStack;
  before(async () => {
    hub = await startCliHub();
    stack = await createCliStack('broken', hub, BROKEN);
  });
  after(async () => {
    killProcessesIn(stack.workDir);
    stack.remove();
    await hub.closeAndRemove();
  });

  for (const command of ['preview', 'up'] as const) {
    test(`${command} fails listing every problem once, and creates nothing`, async () => {
      // As a user runs it (`npm run pulumi -- preview`), in a process of its own.
      const run = spawnPulumiScript([command, '--stack', stack.name, '--cwd', stack.workDir]);
      const code = await within(
        () => `pulumi ${command} to end; output:\n${run.output()}`,
        run.exited,
        120_000,
      );
      const output = run.output();
      assert.equal(code, 1, output);
      assert.doesNotMatch(output, /\n\s+at /, 'no stack trace: the error is for the user');
      const error = new Error('');
      const text = `${output}\n${error.message}`;
      assert.match(
        text,
        /Invalid stack config under "iothub-as-code" \(5 problems; see docs\/stack-config\.md\)/,
      );
      // Each problem is printed in the diagnostics exactly once (the CLI's error block repeats nothing).
      const diagnostics = output.slice(output.indexOf('Diagnostics:'));
      for (const problem of PROBLEMS) {
        const count = diagnostics.split(`${problem}: `).length - 1;
        assert.equal(count, 1, `"${problem}" appears ${count} times:\n${diagnostics}`);
      }
      const registry = hubRegistry(hub);
      assert.deepEqual((await registry.list()).responseBody, [], 'the hub has no device');
      const exported = JSON.parse((await stack.cli(['stack', 'export'])).stdout) as {
        deployment: { resources?: { type: string }[] };
      };
      const custom = (exported.deployment.resources ?? []).filter((r) => r.type !== 'pulumi:pulumi:Stack');
      assert.deepEqual(custom, [], 'the state has no resource');
    });
  }

  test('a deployed stack whose config breaks keeps every identity: up fails and deletes nothing', async () => {
    stack.setDevicesYaml('    - deviceId: kept\n      modules:\n        - moduleId: m\n');
    const deployed = await stack.stack.up({ onOutput: () => {} });
    assert.equal(deployed.summary.resourceChanges?.['create'], 2, 'the device and its module');
    stack.setDevicesYaml(BROKEN);
    const run = spawnPulumiScript(['up', '--stack', stack.name, '--cwd', stack.workDir]);
    const code = await within(() => `pulumi up to end; output:\n${run.output()}`, run.exited, 120_000);
    const output = run.output();
    assert.equal(code, 1, output);
    assert.doesNotMatch(output, /deleted|deleting/, output);
    const registry = hubRegistry(hub);
    assert.deepEqual(
      (await registry.getModulesOnDevice('kept')).responseBody.map((m) => m.moduleId),
      ['m'],
    );
  });
});
