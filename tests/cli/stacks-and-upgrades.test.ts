/**
 * Tier 8: two stacks on two local hubs declaring the same ids stay isolated through up, edit and destroy;
 * and a stack whose state holds the older, self-contained provider texts (before resources stored the
 * forwarder; docs/dynamic-provider-serialization.md) upgrades: the next `up` changes nothing and `destroy`,
 * which runs the provider text recorded in the state, empties the hub. The same for a state holding the
 * first forwarder, which every stack this project deployed before the package (docs/package.md) holds.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { PROVIDERS } from '../../dynamic-providers/provider-table';
import type { LocalHub } from '../../local-hub';
import {
  type CliStack,
  createCliStack,
  fleetYaml,
  hubRegistry,
  killProcessesIn,
  startCliHub,
} from '../support/cli-stack';
import { readHub } from '../support/lifecycle-hub-view';

const registryOf = (hub: LocalHub) => hubRegistry(hub);

describe('real CLI: stacks and upgrades', { timeout: 600_000 }, () => {
  const hubs: Awaited<ReturnType<typeof startCliHub>>[] = [];
  const stacks: CliStack[] = [];
  before(async () => {
    for (let i = 0; i < 4; i++) hubs.push(await startCliHub());
  });
  after(async () => {
    for (const stack of stacks) {
      killProcessesIn(stack.workDir);
      stack.remove();
    }
    for (const hub of hubs) await hub.closeAndRemove();
  });

  test('two stacks on two hubs with the same ids: an edit or a destroy of one never touches the other', async () => {
    const [hubA, hubB] = [hubs[0]!, hubs[1]!];
    const a = await createCliStack(
      'east',
      hubA,
      fleetYaml(1, 2, (_d, m) => ({ telemetryInterval: 10 + m })),
    );
    const b = await createCliStack(
      'west',
      hubB,
      fleetYaml(1, 2, (_d, m) => ({ telemetryInterval: 20 + m })),
    );
    stacks.push(a, b);
    await a.stack.up({ onOutput: () => {} });
    await b.stack.up({ onOutput: () => {} });
    const westBefore = await readHub(registryOf(hubB));

    a.setDevicesYaml(fleetYaml(1, 2, (_d, m) => ({ telemetryInterval: 30 + m })));
    const edited = await a.stack.up({ onOutput: () => {} });
    assert.equal(edited.summary.resourceChanges?.['update'], 2);
    assert.deepEqual((await readHub(registryOf(hubA)))[0]?.modules['mod1']?.desired, {
      telemetryInterval: 31,
    });
    assert.deepEqual(await readHub(registryOf(hubB)), westBefore, 'west is unchanged by the edit of east');

    await a.stack.destroy({ onOutput: () => {} });
    assert.deepEqual(await readHub(registryOf(hubA)), []);
    assert.deepEqual(await readHub(registryOf(hubB)), westBefore, 'west is unchanged by the destroy of east');
    const west = await b.stack.preview({ onOutput: () => {} });
    assert.deepEqual(Object.keys(west.changeSummary), ['same']);
  });

  /**
   * Up, then rewrite every resource's `__provider` (inputs and outputs) in the state to `texts` as an
   * older version of the project left it, then `up` (no change) and `destroy` (which runs the texts
   * recorded in the outputs) on `hub`.
   */
  async function upgradeFrom(name: string, hub: LocalHub, texts: Record<string, string>): Promise<void> {
    const stack = await createCliStack(
      name,
      hub,
      fleetYaml(2, 1, () => ({ telemetryInterval: 5 })),
    );
    stacks.push(stack);
    await stack.stack.up({ onOutput: () => {} });

    const exported = await stack.cli(['stack', 'export']);
    const state = JSON.parse(exported.stdout) as {
      deployment: {
        resources: { type: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }[];
      };
    };
    let rewritten = 0;
    for (const resource of state.deployment.resources) {
      const text = texts[resource.type];
      if (!text) continue;
      for (const props of [resource.inputs, resource.outputs]) if (props) props['__provider'] = text;
      rewritten++;
    }
    assert.equal(rewritten, 2 + 2 + 2);
    const file = path.join(stack.workDir, 'old-state.json');
    fs.writeFileSync(file, JSON.stringify(state));
    const imported = await stack.cli(['stack', 'import', '--file', file]);
    assert.equal(imported.code, 0, imported.stderr);

    const up = await stack.stack.up({ onOutput: () => {} });
    assert.deepEqual(Object.keys(up.summary.resourceChanges ?? {}), ['same'], JSON.stringify(up.summary));
    const destroyed = await stack.stack.destroy({ onOutput: () => {} });
    assert.equal(destroyed.summary.resourceChanges?.['delete'], 7);
    assert.deepEqual(await readHub(registryOf(hub)), []);
  }

  test('a state holding the older self-contained provider texts: up changes nothing, destroy empties the hub', async () => {
    // Each resource's whole provider inline, as the project stored it before the forwarder.
    const texts: Record<string, string> = {};
    for (const [kind, provider] of Object.entries(PROVIDERS)) {
      texts[`pulumi-nodejs:dynamic/iothub:${kind}`] = (
        await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })
      ).text;
    }
    await upgradeFrom('upgraded', hubs[2]!, texts);
  });

  test('a state holding the first forwarder (before the package): up changes nothing, destroy empties the hub', async () => {
    // The forwarder texts `npm run pulumi` stored until the package existed (tests/support/forwarder-v1-texts.json):
    // they load dynamic-providers/provider-table.ts from the project with tsx, which must keep working.
    const texts = JSON.parse(
      fs.readFileSync(path.join(__dirname, '..', 'support', 'forwarder-v1-texts.json'), 'utf8'),
    ) as Record<string, string>;
    assert.ok(Object.values(texts).every((text) => text.includes('"dynamic-providers/provider-table.ts"')));
    await upgradeFrom('forwarder-v1', hubs[3]!, texts);
  });
});
