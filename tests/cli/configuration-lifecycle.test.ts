/**
 * Tier 8: a fleet-wide `Configuration` (issue #12) through the real Pulumi CLI. Modules tagged by ring;
 * a configuration targets ring 0: up creates it and the hub applies its content to exactly the targeted
 * twins; a priority edit is an in-place update; an out-of-band edit is drift for refresh; removing it
 * from the config deletes it on the hub and nothing else.
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
import { waitFor } from '../support/runtime-wait';

const DEVICES = `    - deviceId: gw
      modules:
        - moduleId: agent0
          tags: { ring: '0' }
        - moduleId: agent1
          tags: { ring: '1' }
`;

const configuration = (priority: number) => `    - configurationId: ring0-telemetry
      moduleContent:
        properties.desired.telemetryInterval: 30
      targetCondition: "FROM devices.modules WHERE tags.ring='0'"
      priority: ${priority}
      labels: { ring: '0' }
`;

interface HubConfiguration {
  id: string;
  priority: number;
  etag: string;
  systemMetrics?: { results?: Record<string, number> };
}

describe('real CLI: a Configuration from up to removal', { timeout: 600_000 }, () => {
  let hub: Awaited<ReturnType<typeof startCliHub>>;
  let stack: CliStack;
  const registry = () => hubRegistry(hub);
  const hubConfigurations = async () =>
    ((await registry().getConfigurations()).responseBody as unknown as HubConfiguration[]).map((c) => c.id);
  const desiredOf = async (moduleId: string) =>
    (await registry().getModuleTwin('gw', moduleId)).responseBody.properties.desired;

  before(async () => {
    hub = await startCliHub();
    stack = await createCliStack('fleet', hub, DEVICES);
    stack.setConfigYaml('configurations', configuration(10));
  });
  after(async () => {
    killProcessesIn(stack.workDir);
    stack.remove();
    await hub.closeAndRemove();
  });

  test('up creates it and the hub applies it to the ring-0 module only', async () => {
    const up = await stack.stack.up({ onOutput: () => {} });
    assert.equal(up.summary.resourceChanges?.['create'], 1 + 1 + 2 + 1 + 2, JSON.stringify(up.summary));
    assert.deepEqual(await hubConfigurations(), ['ring0-telemetry']);
    await waitFor('the configuration to reach the ring-0 module twin', async () =>
      (await desiredOf('agent0'))['telemetryInterval'] === 30 ? true : undefined,
    );
    assert.equal((await desiredOf('agent1'))['telemetryInterval'], undefined, 'ring 1 is not targeted');
    const again = await stack.stack.preview({ onOutput: () => {} });
    assert.deepEqual(Object.keys(again.changeSummary), ['same'], JSON.stringify(again.changeSummary));
  });

  test('a priority edit is an in-place update; an edit on the hub is drift that up restores', async () => {
    stack.setConfigYaml('configurations', configuration(20));
    let diff = '';
    const preview = await stack.stack.preview({ diff: true, onOutput: (t) => (diff += t) });
    assert.deepEqual(preview.changeSummary, { update: 1, same: 6 }, diff);
    assert.match(diff, /priority\s*:\s*10\s*=>\s*20/);
    await stack.stack.up({ onOutput: () => {} });
    const current = (await registry().getConfiguration('ring0-telemetry'))
      .responseBody as unknown as HubConfiguration;
    assert.equal(current.priority, 20);

    await registry().updateConfiguration({ ...(current as object), priority: 3 } as never, true);
    const refresh = await stack.stack.refresh({ onOutput: () => {} });
    assert.equal(refresh.summary.resourceChanges?.['update'], 1, JSON.stringify(refresh.summary));
    await stack.stack.up({ onOutput: () => {} });
    const restored = (await registry().getConfiguration('ring0-telemetry'))
      .responseBody as unknown as HubConfiguration;
    assert.equal(restored.priority, 20);
  });

  test('removed from the config, it is deleted on the hub; the identities stay', async () => {
    stack.setConfigYaml('configurations', '    []\n');
    const up = await stack.stack.up({ onOutput: () => {} });
    assert.equal(up.summary.resourceChanges?.['delete'], 1, JSON.stringify(up.summary));
    assert.deepEqual(await hubConfigurations(), []);
    const modules = (await registry().getModulesOnDevice('gw')).responseBody.map((m) => m.moduleId).sort();
    assert.deepEqual(modules, ['agent0', 'agent1']);
  });
});
