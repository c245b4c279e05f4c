/**
 * Tier 8, the real engine: what `pulumi destroy` does with `protect`, `retainOnDelete` and `adopt`
 * (docs/safe-destroys.md). A protected device makes destroy fail with Pulumi's protect message and stays,
 * twin included, on the hub and in the state; once unprotected, destroy deletes what the stack created and
 * leaves the retained device (its module and twin leaves as they were) and the adopted one on the hub.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type CliStack,
  createCliStack,
  hubRegistry,
  killProcessesIn,
  startCliHub,
} from '../support/cli-stack';

/**
 * `guarded` protected; `created` plain; `kept` retained (its module with it); `adopted` made outside the
 * stack. `readopt`: after a destroy retained `kept`, the stack takes it back the only way it can, adopting.
 */
const devicesYaml = (guarded: boolean, readopt: boolean) => `    - deviceId: guarded
      protect: ${guarded}
      twin: { tags: { site: a } }
    - deviceId: created
      modules: [{ moduleId: m }]
    - deviceId: kept
      retainOnDelete: true${readopt ? '\n      adopt: true' : ''}
      modules:
        - moduleId: m${readopt ? '\n          adopt: true' : ''}
          twin: { desired: { telemetryInterval: 7 } }
    - deviceId: adopted
      adopt: true
      tags: { site: b }
`;

describe('real CLI: protect, retainOnDelete and adopt on destroy', { timeout: 600_000 }, () => {
  let hub: Awaited<ReturnType<typeof startCliHub>>;
  let stack: CliStack;
  let output = '';
  const collect = (text: string) => {
    output += text;
  };
  const registry = () => hubRegistry(hub);
  const deviceIds = async () =>
    ((await registry().list()).responseBody.map((d) => d.deviceId) as string[]).sort();
  const stateNames = async () => {
    const exported = JSON.parse((await stack.cli(['stack', 'export'])).stdout) as {
      deployment: { resources?: { urn: string; type: string }[] };
    };
    return (exported.deployment.resources ?? [])
      .filter((r) => r.type.startsWith('pulumi-nodejs:dynamic'))
      .map((r) => r.urn.slice(r.urn.lastIndexOf('::') + 2))
      .sort();
  };

  before(async () => {
    hub = await startCliHub();
    // Made outside the stack: the stack adopts it.
    await registry().create({ deviceId: 'adopted', status: 'enabled' });
    stack = await createCliStack('safe', hub, devicesYaml(true, false));
    await stack.stack.up({ onOutput: collect });
    assert.deepEqual(await deviceIds(), ['adopted', 'created', 'guarded', 'kept']);
  });
  after(async () => {
    killProcessesIn(stack.workDir);
    stack.remove();
    await hub.closeAndRemove();
  });

  /** The hub keeps what destroy must not delete, with the twin content the stack wrote. */
  const assertLeftOnHub = async (ids: string[]) => {
    assert.deepEqual(await deviceIds(), ids);
    assert.deepEqual((await registry().getTwin('adopted')).responseBody.tags, { site: 'b' });
    const modules = (await registry().getModulesOnDevice('kept')).responseBody.map((m) => m.moduleId);
    assert.deepEqual(modules, ['m'], 'a retained device keeps its module');
    const twin = (await registry().getModuleTwin('kept', 'm')).responseBody;
    assert.equal(twin.properties.desired['telemetryInterval'], 7, 'and the twin leaves the stack wrote');
  };

  test('destroy with a protected device fails with the protect message; the protected device and its twin stay on the hub and in the state, retained and adopted ones stay on the hub, the created one is gone', async () => {
    output = '';
    await assert.rejects(stack.stack.destroy({ onOutput: collect }), (error: Error) => {
      const text = `${error.message}\n${output}`;
      assert.match(
        text,
        /resource "urn:pulumi:safe::iothub-as-code::[^"]*::device(-twin)?\/guarded" cannot be deleted/,
      );
      assert.match(
        text,
        /because it is protected\. To unprotect the resource, either remove the `protect` flag/,
      );
      return true;
    });
    // The engine refuses the protected resources and goes on with the rest (docs/safe-destroys.md).
    await assertLeftOnHub(['adopted', 'guarded', 'kept']);
    assert.deepEqual((await registry().getTwin('guarded')).responseBody.tags, { site: 'a' });
    assert.deepEqual(await stateNames(), ['device-twin/guarded', 'device/guarded']);
  });

  test('unprotected in the config, the next destroy succeeds; retained and adopted devices stay, created ones go', async () => {
    // `kept` left the state at the last destroy but is still on the hub: taking it back means adopting it.
    stack.setDevicesYaml(devicesYaml(false, true));
    await stack.stack.up({ onOutput: collect });
    assert.deepEqual(await deviceIds(), ['adopted', 'created', 'guarded', 'kept']);
    const destroyed = await stack.stack.destroy({ onOutput: collect });
    assert.equal(destroyed.summary.result, 'succeeded');
    assert.deepEqual(await stateNames(), [], 'the state holds nothing');
    await assertLeftOnHub(['adopted', 'kept']);
  });
});
