/**
 * Each provider object survives Pulumi's closure serializer (what `new dynamic.Resource` stores in
 * `__provider`) and can be loaded back the way the dynamic-provider host loads it
 * (`require-from-string`, then `.handler()`), with no secret and no by-value copy of the SDK or of
 * `@pulumi/pulumi` inside.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import * as pulumi from '@pulumi/pulumi';
import { HOST_PROVIDERS } from '../../dynamic-providers/host-loaded-provider';
import {
  deviceIdentityProvider,
  deviceTwinProvider,
  moduleIdentityProvider,
  moduleTwinProvider,
} from '../../dynamic-providers/provider-table';
import { WELL_KNOWN_POLICIES, wellKnownServiceConnectionString } from '../../lib/local-hub-defaults';

// The host's own loader, resolved from @pulumi/pulumi exactly as cmd/dynamic-provider does.
const requireFromString: (code: string) => { handler: () => pulumi.dynamic.ResourceProvider } = createRequire(
  require.resolve('@pulumi/pulumi'),
)('require-from-string');

const execFileAsync = promisify(execFile);
const PROJECT_DIR = path.resolve(__dirname, '..', '..');

const PROVIDERS = {
  deviceIdentityProvider,
  moduleIdentityProvider,
  moduleTwinProvider,
  deviceTwinProvider,
};

describe('serialized providers', () => {
  for (const [name, provider] of Object.entries(PROVIDERS)) {
    test(`${name} serializes without secrets or SDK copies and loads back`, async () => {
      const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
      assert.equal(serialized.containsSecrets, false);
      for (const policy of WELL_KNOWN_POLICIES) {
        assert.ok(
          !serialized.text.includes(policy.primaryKey),
          `${name} text holds the ${policy.keyName} key`,
        );
        assert.ok(
          !serialized.text.includes(policy.secondaryKey),
          `${name} text holds the ${policy.keyName} key`,
        );
      }
      // By-value copies would show the SDK's Http internals or pulumi's deployment-only marker.
      assert.ok(!serialized.text.includes('isX509Options'), `${name} embeds the SDK's Http class`);
      assert.ok(!serialized.text.includes('deploymentOnlyModule'), `${name} embeds @pulumi/pulumi`);

      const loaded = requireFromString(serialized.text).handler();
      for (const method of ['check', 'diff', 'create', 'read', 'update', 'delete'] as const) {
        assert.equal(typeof loaded[method], 'function', `${name}.${method} missing after load`);
      }
      // The loaded copy runs: check reports a bad id with its path, and never echoes the secret.
      const news = {
        hubConnectionString: wellKnownServiceConnectionString(),
        deviceId: 'bad id',
        moduleId: 'm1',
      };
      const result = await loaded.check!(
        {},
        name.startsWith('device') ? { ...news, moduleId: undefined } : news,
      );
      assert.ok(result.failures?.some((f) => f.property === 'deviceId'));
      assert.ok(!JSON.stringify(result.failures).includes(WELL_KNOWN_POLICIES[5]!.primaryKey));
    });
  }
});

describe('what resources store as __provider: the host-loaded forwarders', () => {
  const KINDS = ['DeviceIdentity', 'ModuleIdentity', 'DeviceTwin', 'ModuleTwin'] as const;
  for (const kind of KINDS) {
    test(`${kind}: a few KiB with none of the provider code, loads back and runs the real provider`, async () => {
      // Exactly what Pulumi serializes for a resource: `() => provider` over the object it was given.
      const provider = HOST_PROVIDERS[kind];
      const serialized = await pulumi.runtime.serializeFunction(() => provider, {
        allowSecrets: true,
      });
      assert.equal(serialized.containsSecrets, false);
      // The real objects serialize to ~73 KiB (the rules and operations); the forwarder to ~4 KiB.
      assert.ok(serialized.text.length < 8 * 1024, `${kind} text is ${serialized.text.length} bytes`);
      for (const codeOfTheProvider of ['checkDeviceIdentityInputs', 'createIdentity', 'twinWritePatch']) {
        assert.ok(!serialized.text.includes(codeOfTheProvider), `${kind} text embeds ${codeOfTheProvider}`);
      }
      // Loaded as the host loads it (in the project directory), its check is the real provider's.
      const loaded = requireFromString(serialized.text).handler();
      const news: Record<string, unknown> = {
        hubConnectionString: wellKnownServiceConnectionString(),
        deviceId: 'bad id',
      };
      if (kind.startsWith('Module')) news['moduleId'] = 'm1';
      const result = await loaded.check!({}, news);
      assert.deepEqual(
        result.failures?.map((f) => f.property),
        ['deviceId'],
        `${kind}: the loaded forwarder reports what the real check reports`,
      );
    });
  }
});

describe('the forwarder finds the project from where the host runs', () => {
  /** Loads the text the way the host does, in a plain `node` (no tsx) started in `cwd`. */
  async function checkInHostLikeProcess(cwd: string): Promise<string> {
    const provider = HOST_PROVIDERS.DeviceIdentity;
    const text = (
      await pulumi.runtime.serializeFunction(() => provider, {
        allowSecrets: true,
      })
    ).text;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forwarder-'));
    const textFile = path.join(dir, 'provider.js');
    fs.writeFileSync(textFile, text);
    const loader = createRequire(require.resolve('@pulumi/pulumi')).resolve('require-from-string');
    const script = `
      const provider = require(${JSON.stringify(loader)})(require('node:fs').readFileSync(${JSON.stringify(textFile)}, 'utf8')).handler();
      provider.check({}, { hubConnectionString: ${JSON.stringify(wellKnownServiceConnectionString())}, deviceId: 'bad id' })
        .then((r) => console.log('FAILURES ' + r.failures.map((f) => f.property).join(',')), (e) => console.log('ERROR ' + e.message));`;
    try {
      const { stdout } = await execFileAsync(process.execPath, ['-e', script], { cwd });
      return stdout.trim();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test('from a subdirectory of the project (as node resolves node_modules upwards)', async () => {
    assert.equal(await checkInHostLikeProcess(path.join(PROJECT_DIR, 'lib')), 'FAILURES deviceId');
  });

  test('outside the project: an error that says where it ran and what to do', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'not-a-project-'));
    try {
      const out = await checkInHostLikeProcess(outside);
      assert.match(out, /^ERROR iothub-as-code: the dynamic-provider host runs in .*not-a-project-/);
      assert.match(out, /run pulumi from the project directory/);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});
