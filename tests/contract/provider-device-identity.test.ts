/**
 * The DeviceIdentity provider's methods, called in-process against the real local hub (and once in
 * the serialized form the Pulumi host loads). Hub state is checked through the official Registry.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { deviceIdentityProvider as provider } from '../../dynamic-providers/provider-table';
import type { DeviceIdentityInputs, DeviceIdentityOutputs } from '../../lib/resource-identity-state';
import { hubErrors } from '../../local-hub/errors';
import type { LocalHub } from '../../local-hub/index';
import type { HubState } from '../../local-hub/store';
import { interceptHubState } from '../support/hub-state-intercept';
import { startTestHub } from '../support/local-hub-fixture';
import { loseAnswers } from '../support/lost-answers';
import { checkedInputs } from '../support/provider-check';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const KEY_C = Buffer.alloc(32, 3).toString('base64');
const KEY_D = Buffer.alloc(32, 4).toString('base64');
const THUMBPRINT = 'AB'.repeat(20);

let hub: LocalHub;
before(async () => {
  hub = await startTestHub();
});
after(async () => {
  await hub.close();
});

/** The provider's check, asserting the config is valid. */
function checked(config: Record<string, unknown>): Promise<DeviceIdentityInputs> {
  return checkedInputs<DeviceIdentityInputs>(provider, hub, config);
}

/** Another writer: the official Registry, as a person or another tool would use it. */
function registry() {
  return createHubClient(hub.serviceConnectionString('iothubowner'), { caCertificate: hub.caCertificatePem })
    .registry;
}

async function hubDevice(deviceId: string): Promise<any> {
  return JSON.parse(JSON.stringify((await registry().get(deviceId)).responseBody));
}

function assertNoUndefined(value: unknown): void {
  const text = JSON.stringify(value, (_k, v) => (v === undefined ? '__undefined__' : v));
  assert.ok(!text.includes('__undefined__'), `undefined in ${text}`);
}

function assertNoSecrets(message: string, extra: string[] = []): void {
  for (const secret of [hub.serviceConnectionString(), ...Object.values(hub.connectionStrings), ...extra]) {
    const key = /SharedAccessKey=([^;]+)/.exec(secret)?.[1] ?? secret;
    assert.ok(!message.includes(key), `secret in message: ${message}`);
  }
}

describe('DeviceIdentity provider', () => {
  test('create, read, update and delete with generated keys', async () => {
    const inputs = await checked({ deviceId: 'dev-crud' });
    const created = await provider.create(inputs);
    assert.equal(created.id, 'dev-crud');
    const outs = created.outs!;
    assertNoUndefined(outs);
    assert.equal(outs.authenticationType, 'sas');
    assert.ok(outs.primaryKey && outs.secondaryKey);
    assert.equal(outs.deviceConnectionString, hub.deviceConnectionString('dev-crud'));

    const read = await provider.read!(created.id, outs);
    assert.equal(read.id, 'dev-crud');
    assert.deepEqual(read.inputs, inputs, 'refresh must not invent a diff');
    assert.equal((await provider.diff!(created.id, read.props!, inputs)).changes, false);

    const updated = await provider.update!(created.id, outs, {
      ...inputs,
      status: 'disabled',
      statusReason: 'maintenance',
    });
    const device = await hubDevice('dev-crud');
    assert.equal(device.status, 'disabled');
    assert.equal(device.statusReason, 'maintenance');
    assert.equal(device.authentication.symmetricKey.primaryKey, outs.primaryKey, 'update must keep the keys');
    assert.equal(updated.outs!.status, 'disabled');

    await provider.delete!(created.id, updated.outs!);
    await assert.rejects(registry().get('dev-crud'), (err: any) => err.response?.statusCode === 404);
    const gone = await provider.read!(created.id, updated.outs!);
    assert.equal(gone.id, undefined, 'read of a deleted identity returns no id');
    await provider.delete!(created.id, updated.outs!);
  });

  test('an out-of-band change is reported by read and restored by update', async () => {
    const inputs = await checked({ deviceId: 'dev-drift', statusReason: 'declared' });
    const { outs } = await provider.create(inputs);
    const current = await hubDevice('dev-drift');
    await registry().update({ ...current, status: 'disabled', statusReason: 'declared' });

    const read = await provider.read!('dev-drift', outs!);
    assert.equal(read.props!.status, 'disabled');
    assert.equal((read.inputs as DeviceIdentityInputs).status, 'disabled');
    assert.equal((await provider.diff!('dev-drift', read.props!, inputs)).changes, true);

    await provider.update!('dev-drift', read.props!, inputs);
    const restored = await hubDevice('dev-drift');
    assert.equal(restored.status, 'enabled');
    assert.equal(restored.authentication.symmetricKey.primaryKey, outs!.primaryKey);
  });

  test('supplied keys are applied, rotated in place, and key drift is read', async () => {
    const inputs = await checked({
      deviceId: 'dev-keys',
      authentication: { type: 'sas', primaryKey: KEY_A, secondaryKey: KEY_B },
    });
    const { outs } = await provider.create(inputs);
    assert.equal((await hubDevice('dev-keys')).authentication.symmetricKey.primaryKey, KEY_A);

    const rotated = { ...inputs, primaryKey: KEY_C, secondaryKey: KEY_D };
    assert.deepEqual((await provider.diff!('dev-keys', outs!, rotated)).replaces, []);
    const { outs: after } = await provider.update!('dev-keys', outs!, rotated);
    assert.equal((await hubDevice('dev-keys')).authentication.symmetricKey.secondaryKey, KEY_D);

    const current = await hubDevice('dev-keys');
    await registry().update({
      ...current,
      authentication: { type: 'sas', symmetricKey: { primaryKey: KEY_A, secondaryKey: KEY_B } },
    });
    const read = await provider.read!('dev-keys', after!);
    assert.equal((read.inputs as DeviceIdentityInputs).primaryKey, KEY_A);
    assert.equal((await provider.diff!('dev-keys', read.props!, rotated)).changes, true);
  });

  test('selfSigned, then switched to sas: keys are generated and the IoT Edge flag is kept', async () => {
    const inputs = await checked({
      deviceId: 'dev-x509',
      iotEdge: true,
      authentication: { type: 'selfSigned', primaryThumbprint: THUMBPRINT },
    });
    const { outs } = await provider.create(inputs);
    assert.equal(outs!.authenticationType, 'selfSigned');
    assert.equal(outs!.primaryKey, null);
    assert.match(outs!.deviceConnectionString!, /;x509=true$/);
    assert.equal((await hubDevice('dev-x509')).capabilities.iotEdge, true);

    const { outs: sas } = await provider.update!('dev-x509', outs!, {
      ...inputs,
      authentication: { type: 'sas' },
    });
    const device = await hubDevice('dev-x509');
    assert.equal(device.authentication.type, 'sas');
    assert.ok(device.authentication.symmetricKey.primaryKey);
    assert.equal(sas!.primaryKey, device.authentication.symmetricKey.primaryKey);
    assert.equal(device.capabilities.iotEdge, true, 'an unchanged field was reset');

    const ca = await checked({ deviceId: 'dev-ca', authentication: { type: 'certificateAuthority' } });
    const { outs: caOuts } = await provider.create(ca);
    assert.equal(caOuts!.authenticationType, 'certificateAuthority');
    assert.equal(caOuts!.deviceConnectionString, hub.deviceConnectionString('dev-ca'));
  });

  test('an existing identity: the error names adopt; adopt takes it over and keeps its keys', async () => {
    const existing = (await registry().create({ deviceId: 'dev-existing' } as any)).responseBody as any;
    const key = existing.authentication.symmetricKey.primaryKey as string;
    const inputs = await checked({ deviceId: 'dev-existing', status: 'disabled' });
    await assert.rejects(provider.create(inputs), (err: Error) => {
      assert.match(err.message, /"dev-existing" already exists on hub 127\.0\.0\.1:\d+; set adopt: true/);
      // Pulumi cannot import dynamic resources (pulumi/pulumi#16175): the message must not suggest it.
      assert.doesNotMatch(err.message, /import/);
      assertNoSecrets(err.message, [key]);
      return true;
    });
    const { outs } = await provider.create({ ...inputs, adopt: true });
    assert.equal(outs!.primaryKey, key, 'adopt must keep the keys');
    assert.equal((await hubDevice('dev-existing')).status, 'disabled', 'declared settings are applied');

    const withKeys = await checked({
      deviceId: 'dev-existing',
      adopt: true,
      primaryKey: KEY_A,
      secondaryKey: KEY_B,
    });
    await provider.create(withKeys);
    assert.equal((await hubDevice('dev-existing')).authentication.symmetricKey.primaryKey, KEY_A);
  });

  test('read with inputs only (the import resource option) returns the identity and matching inputs', async () => {
    await registry().create({ deviceId: 'dev-import' } as any);
    const inputs = await checked({ deviceId: 'dev-import' });
    const read = await provider.read!('dev-import', inputs as unknown as DeviceIdentityOutputs);
    assert.equal(read.id, 'dev-import');
    assert.deepEqual(read.inputs, inputs);
    assert.equal(read.props!.deviceConnectionString, hub.deviceConnectionString('dev-import'));
    assert.equal((await provider.diff!('dev-import', read.props!, inputs)).changes, false);
  });

  test('hub errors name the resource and carry no secret', async () => {
    const inputs = await checked({ deviceId: 'dev-errors', primaryKey: KEY_A, secondaryKey: KEY_B });
    const { outs } = await provider.create(inputs);
    await registry().delete('dev-errors');
    await assert.rejects(
      provider.update!('dev-errors', outs!, { ...inputs, status: 'disabled' }),
      (err: Error) => {
        assert.match(
          err.message,
          /^DeviceIdentity "dev-errors" on hub 127\.0\.0\.1:\d+: update failed: .*404/,
        );
        assertNoSecrets(err.message, [KEY_A, KEY_B]);
        return true;
      },
    );
    const wrongKey = hub.serviceConnectionString().replace(/SharedAccessKey=.*/, `SharedAccessKey=${KEY_C}`);
    await assert.rejects(provider.create({ ...inputs, hubConnectionString: wrongKey }), (err: Error) => {
      assert.match(err.message, /create failed: .*401/);
      assertNoSecrets(err.message, [KEY_A, KEY_B, KEY_C]);
      return true;
    });
  });

  test('the serialized provider, loaded as the Pulumi host loads it, creates and deletes', async () => {
    const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    const requireFromString = createRequire(require.resolve('@pulumi/pulumi'))('require-from-string');
    const loaded: pulumi.dynamic.ResourceProvider = requireFromString(serialized.text).handler();
    const inputs = await checked({ deviceId: 'dev-serialized' });
    const created = await loaded.create(inputs);
    assert.equal(
      (created.outs as DeviceIdentityOutputs).deviceConnectionString,
      hub.deviceConnectionString('dev-serialized'),
    );
    await loaded.delete!(created.id, created.outs);
    assert.equal((await loaded.read!(created.id, created.outs)).id, undefined);
  });
});

/**
 * A create PUT that reached the hub but whose answer was lost is retried, and the retry meets 409. The
 * identity is ours when it is exactly what the create sent (its keys, which the create chose, or its
 * thumbprints); otherwise someone else created it meanwhile (docs/throttling-and-retries.md).
 */
describe('DeviceIdentity create retried after a lost answer', () => {
  const authentications: [string, Record<string, unknown>][] = [
    ['generated SAS keys', { type: 'sas' }],
    ['supplied SAS keys', { type: 'sas', primaryKey: KEY_A, secondaryKey: KEY_B }],
    ['a self-signed thumbprint', { type: 'selfSigned', primaryThumbprint: THUMBPRINT }],
  ];
  for (const [what, authentication] of authentications) {
    test(`with ${what}: the identity our first PUT created is taken over, not reported as existing`, async () => {
      const deviceId = `dev-lost-${authentication['type']}-${authentication['primaryKey'] ? 'keys' : 'none'}`;
      const inputs = await checked({ deviceId, statusReason: 'declared', authentication });
      const loss = loseAnswers(
        (method, path) => method === 'PUT' && path.startsWith(`/devices/${deviceId}?`),
      );
      let outs: DeviceIdentityOutputs;
      try {
        outs = (await provider.create(inputs)).outs!;
      } finally {
        loss.restore();
      }
      assert.equal(loss.lost(), 1, 'the answer to the first PUT was lost');
      const device = await hubDevice(deviceId);
      assert.equal(device.statusReason, 'declared');
      assert.equal(outs.primaryKey, device.authentication.symmetricKey.primaryKey ?? null);
      assert.equal(outs.deviceConnectionString, hub.deviceConnectionString(deviceId));
      assert.equal(outs.etag, device.etag);
    });
  }

  test('an identity someone else created between our attempts is theirs: "already exists"', async () => {
    // Our first PUT is answered 503 after another writer created the same id; the retry meets 409.
    const restore = interceptHubState(hub, 'createDevice', (original: HubState['createDevice']) => {
      let calls = 0;
      return (deviceId, body) => {
        if (++calls > 1) return original(deviceId, body);
        original(deviceId, { deviceId });
        throw hubErrors.serviceUnavailable('the hub is busy');
      };
    });
    try {
      const inputs = await checked({ deviceId: 'dev-taken-meanwhile' });
      await assert.rejects(
        provider.create(inputs),
        /DeviceIdentity "dev-taken-meanwhile" already exists on hub 127\.0\.0\.1:\d+; set adopt: true/,
      );
    } finally {
      restore();
    }
  });
});

describe('DeviceIdentity provider on a throttled hub', () => {
  test('429 answers are retried with backoff until the creates succeed', async () => {
    const lines: string[] = [];
    const throttled = await startTestHub({
      throttle: { tier: 'F1', units: 1 },
      logLevel: 'info',
      logWrite: (l) => lines.push(l),
    });
    try {
      const base = {
        hubConnectionString: throttled.serviceConnectionString(),
        hubCaCertificate: throttled.caCertificatePem,
      };
      const sdk = createHubClient(base.hubConnectionString, {
        caCertificate: base.hubCaCertificate,
      }).registry;
      // Overfill the identity-registry bucket (F1: 100/min, ~1 s of queueing) so that creates sent
      // right after are refused with 429, however slow this machine is.
      await Promise.allSettled(Array.from({ length: 110 }, () => sdk.get('nobody')));
      const ids = ['t1', 't2', 't3', 't4', 't5', 't6'];
      const results = await Promise.all(
        ids.map(async (deviceId) => {
          const { inputs } = await provider.check!({} as DeviceIdentityInputs, { ...base, deviceId } as any);
          return provider.create(inputs!);
        }),
      );
      assert.deepEqual(
        results.map((r) => r.id),
        ids,
      );
      const refusedCreates = lines.filter((l) => /\bmethod=PUT\b.*\bstatus=429\b/.test(l));
      assert.ok(refusedCreates.length > 0, 'no create was answered 429, so nothing was retried');
    } finally {
      await throttled.close();
    }
  });
});
