/**
 * The ModuleIdentity provider's methods, in-process against the real local hub; hub state checked
 * through the official Registry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { moduleIdentityProvider as provider } from '../../dynamic-providers/provider-table';
import type { ModuleIdentityInputs } from '../../lib/resource-identity-state';
import type { LocalHub } from '../../local-hub/index';
import type { HubState } from '../../local-hub/store';
import { interceptHubState } from '../support/hub-state-intercept';
import { startTestHub } from '../support/local-hub-fixture';
import { loseAnswers } from '../support/lost-answers';
import { checkedInputs } from '../support/provider-check';

let hub: LocalHub;
before(async () => {
  hub = await startTestHub();
});
after(async () => {
  await hub.close();
});

function checked(config: Record<string, unknown>): Promise<ModuleIdentityInputs> {
  return checkedInputs<ModuleIdentityInputs>(provider, hub, config);
}

function registry() {
  return createHubClient(hub.serviceConnectionString('iothubowner'), { caCertificate: hub.caCertificatePem })
    .registry;
}

async function hubModule(deviceId: string, moduleId: string): Promise<any> {
  return (await registry().getModule(deviceId, moduleId)).responseBody;
}

describe('ModuleIdentity provider', () => {
  test('create, read, update and delete; the module connection string has the documented shape', async () => {
    await registry().create({ deviceId: 'mod-dev' } as any);
    const inputs = await checked({ deviceId: 'mod-dev', moduleId: 'm1' });
    const created = await provider.create(inputs);
    assert.equal(created.id, 'mod-dev/m1');
    const outs = created.outs!;
    assert.match(
      outs.moduleConnectionString!,
      /^HostName=127\.0\.0\.1:\d+;DeviceId=mod-dev;ModuleId=m1;SharedAccessKey=[^;]+$/,
    );
    assert.equal(outs.moduleConnectionString, hub.deviceConnectionString('mod-dev', 'm1'));

    const read = await provider.read!(created.id, outs);
    assert.deepEqual(read.inputs, inputs);
    assert.equal((await provider.diff!(created.id, read.props!, inputs)).changes, false);

    const { outs: updated } = await provider.update!(created.id, outs, { ...inputs, managedBy: 'IotEdge' });
    const module = await hubModule('mod-dev', 'm1');
    assert.equal(module.managedBy, 'IotEdge');
    assert.equal(module.authentication.symmetricKey.primaryKey, outs.primaryKey, 'update must keep the keys');
    assert.equal(updated!.managedBy, 'IotEdge');

    await provider.delete!(created.id, updated!);
    assert.equal((await provider.read!(created.id, updated!)).id, undefined);
    await provider.delete!(created.id, updated!);
  });

  test('a module whose device was deleted reads as gone', async () => {
    await registry().create({ deviceId: 'mod-gone' } as any);
    const { id, outs } = await provider.create(await checked({ deviceId: 'mod-gone', moduleId: 'm1' }));
    await registry().delete('mod-gone');
    assert.deepEqual(await provider.read!(id, outs!), {});
  });

  test('an existing module: the error names adopt; adopt keeps its keys', async () => {
    await registry().create({ deviceId: 'mod-adopt' } as any);
    const existing = (await registry().addModule({ deviceId: 'mod-adopt', moduleId: 'm1' } as any))
      .responseBody as any;
    const inputs = await checked({ deviceId: 'mod-adopt', moduleId: 'm1', managedBy: 'someone' });
    await assert.rejects(
      provider.create(inputs),
      /ModuleIdentity "mod-adopt\/m1" already exists on hub .*adopt: true/,
    );
    const { outs } = await provider.create({ ...inputs, adopt: true });
    assert.equal(outs!.primaryKey, existing.authentication.symmetricKey.primaryKey);
    assert.equal((await hubModule('mod-adopt', 'm1')).managedBy, 'someone');
  });

  test('creating on a missing device fails naming the module and the hub message', async () => {
    await assert.rejects(
      provider.create(await checked({ deviceId: 'no-such-device', moduleId: 'm1' })),
      (err: Error) => {
        assert.match(
          err.message,
          /^ModuleIdentity "no-such-device\/m1" on hub 127\.0\.0\.1:\d+: create failed: .*HTTP 404/,
        );
        return true;
      },
    );
  });

  test('a create whose answer was lost: the retry meets 409 and takes over the module our first PUT created', async () => {
    await registry().create({ deviceId: 'mod-lost' } as any);
    const inputs = await checked({ deviceId: 'mod-lost', moduleId: 'm1', managedBy: 'pulumi' });
    const loss = loseAnswers(
      (method, path) => method === 'PUT' && path.startsWith('/devices/mod-lost/modules/m1?'),
    );
    let outs: Awaited<ReturnType<typeof provider.create>>['outs'];
    try {
      outs = (await provider.create(inputs)).outs;
    } finally {
      loss.restore();
    }
    assert.equal(loss.lost(), 1, 'the answer to the first PUT was lost');
    const module = await hubModule('mod-lost', 'm1');
    assert.equal(outs!.primaryKey, module.authentication.symmetricKey.primaryKey);
    assert.equal(outs!.moduleConnectionString, hub.deviceConnectionString('mod-lost', 'm1'));
    assert.equal(module.managedBy, 'pulumi');
  });

  describe('a concurrent change between the read and the write of an update (412)', () => {
    const ROTATED = {
      primaryKey: Buffer.alloc(32, 7).toString('base64'),
      secondaryKey: Buffer.alloc(32, 8).toString('base64'),
    };

    /**
     * Before each of the provider's module PUTs (the first `times` of them) another writer rotates the
     * module's keys, so the etag the provider read is stale when its PUT arrives. Returns the PUT count.
     */
    function rotateKeysBeforePuts(times: number): { puts: () => number; restore: () => void } {
      let puts = 0;
      const restore = interceptHubState(hub, 'updateModule', (original: HubState['updateModule']) => {
        return (deviceId, moduleId, body, ifMatch) => {
          if (++puts <= times) {
            const current = hub.state.getModule(deviceId, moduleId);
            const authentication = { ...current.authentication, symmetricKey: ROTATED };
            original(deviceId, moduleId, { ...current, authentication }, '*');
          }
          return original(deviceId, moduleId, body, ifMatch);
        };
      });
      return { puts: () => puts, restore };
    }

    test("is re-read and retried: the update lands and the other writer's change survives", async () => {
      await registry().create({ deviceId: 'mod-race' } as any);
      const inputs = await checked({ deviceId: 'mod-race', moduleId: 'm1' });
      const { id, outs } = await provider.create(inputs);
      const race = rotateKeysBeforePuts(1);
      try {
        const { outs: updated } = await provider.update!(id, outs!, { ...inputs, managedBy: 'IotEdge' });
        assert.equal(updated!.managedBy, 'IotEdge');
        assert.equal(updated!.primaryKey, ROTATED.primaryKey, 'the outputs show the keys the hub now holds');
      } finally {
        race.restore();
      }
      assert.equal(race.puts(), 2, 'one refused PUT (412), one retried PUT');
      const module = await hubModule('mod-race', 'm1');
      assert.equal(module.managedBy, 'IotEdge');
      assert.deepEqual(
        module.authentication.symmetricKey,
        ROTATED,
        'the retry must not undo the other write',
      );
    });

    test('that never stops fails within the retry budget, naming the module and the 412', async () => {
      await registry().create({ deviceId: 'mod-race-forever' } as any);
      const inputs = await checked({ deviceId: 'mod-race-forever', moduleId: 'm1' });
      const { id, outs } = await provider.create(inputs);
      const race = rotateKeysBeforePuts(Number.POSITIVE_INFINITY);
      try {
        await assert.rejects(
          provider.update!(id, outs!, { ...inputs, managedBy: 'IotEdge' }),
          (err: Error) => {
            assert.match(
              err.message,
              /^ModuleIdentity "mod-race-forever\/m1" on hub 127\.0\.0\.1:\d+: update failed: .*HTTP 412/,
            );
            return true;
          },
        );
      } finally {
        race.restore();
      }
      assert.ok(race.puts() > 1 && race.puts() <= 5, `${race.puts()} PUTs: a few re-reads, then give up`);
    });
  });
});
