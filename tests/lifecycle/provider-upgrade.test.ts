/**
 * Tier 6: a stack deployed before resources stored the forwarder as `__provider` (each resource then
 * carried its provider serialized whole, dynamic-providers/host-loaded-provider.ts explains the change)
 * keeps working after the upgrade: the next `up` changes nothing, and `destroy` (which runs each
 * resource's delete with the provider text in its state) removes everything from the hub.
 */
import * as assert from 'node:assert/strict';
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

test('state written with self-contained providers: the next up changes nothing, destroy empties the hub', async () => {
  const texts = await selfContainedTexts();
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
  assert.ok(
    stored.every((text) => text.length > 20_000),
    'run 1 stored the providers serialized whole',
  );

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
});
