/**
 * Tier 6: a stack deployed before resources stored the forwarder as `__provider` (each resource then
 * carried its provider serialized whole, dynamic-providers/host-loaded-provider.ts explains the change)
 * keeps working after the upgrade: the next `up` changes nothing, and `destroy` (which runs each
 * resource's delete with the provider text in its state) removes everything from the hub. The same for
 * a stack deployed with the first forwarder, before the package (docs/package.md).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { PROVIDERS } from '../../dynamic-providers/provider-table';
import { localStackConfig, type ProgramHub, startProgramHub } from '../support/host-program';
import { LifecycleEngine, type NewResourceHandler } from '../support/lifecycle-engine';
import { readStackFile, runProgramUnderMocks } from '../support/program-under-mocks';
import { type ProviderHost, startProviderHost } from '../support/provider-host';

let target: ProgramHub;
let host: ProviderHost;

before(async () => {
  target = await startProgramHub();
  host = await startProviderHost();
});
after(async () => {
  await host?.close();
  await target?.close();
});

/** The whole provider object serialized, as the resources stored it before the forwarder. */
async function selfContainedTexts(): Promise<Record<string, string>> {
  const texts: Record<string, string> = {};
  for (const [kind, provider] of Object.entries(PROVIDERS)) {
    texts[`pulumi-nodejs:dynamic/iothub:${kind}`] = (
      await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })
    ).text;
  }
  return texts;
}

/**
 * Run 1 registers every dynamic resource with `texts` as its `__provider` (what an older version of
 * the project stored); run 2 is today's program; then destroy.
 */
async function upgradeFrom(
  texts: Record<string, string>,
  storedAs: (text: string) => boolean,
): Promise<void> {
  const devices = readStackFile('local')['iothub-as-code:devices'] as unknown[];
  const config = localStackConfig(target, devices);
  const engine = new LifecycleEngine(host);
  const oldProviders =
    (handler: NewResourceHandler): NewResourceHandler =>
    (args) => {
      const text = texts[args.type];
      return text === undefined
        ? handler(args)
        : handler({ ...args, inputs: { ...args.inputs, __provider: text } });
    };

  const first = await engine.up((onNewResource) =>
    runProgramUnderMocks({ stack: 'local', config, onNewResource: oldProviders(onNewResource) }),
  );
  assert.ok(first.steps.every((s) => s.op === 'create'));
  const stored = engine.state.map((r) => String(r.inputs['__provider'] ?? ''));
  assert.ok(stored.every(storedAs), 'run 1 stored the older provider texts');

  const second = await engine.up((onNewResource) =>
    runProgramUnderMocks({ stack: 'local', config, onNewResource }),
  );
  assert.deepEqual(
    second.steps.filter((s) => s.op !== 'same').map((s) => `${s.op} ${s.urn}`),
    [],
    'upgrading the provider text alone is no change',
  );

  const { registry } = createHubClient(target.connectionString, {
    caCertificate: target.hub.caCertificatePem,
  });
  assert.ok((await registry.list()).responseBody.length > 0);
  await engine.destroy();
  assert.deepEqual(
    (await registry.list()).responseBody.map((d) => d.deviceId),
    [],
    'destroy removed what the stack had created',
  );
}

test('state written with self-contained providers: the next up changes nothing, destroy empties the hub', async () => {
  await upgradeFrom(await selfContainedTexts(), (text) => text.length > 20_000);
});

test('state written with the first forwarder (before the package): the next up changes nothing, destroy empties the hub', async () => {
  // tests/support/forwarder-v1-texts.json: the texts `npm run pulumi` stored until the package existed.
  const texts = JSON.parse(
    fs.readFileSync(path.join(__dirname, '..', 'support', 'forwarder-v1-texts.json'), 'utf8'),
  ) as Record<string, string>;
  await upgradeFrom(
    texts,
    (text) => text.includes('"dynamic-providers/provider-table.ts"') && text.length < 8192,
  );
});
