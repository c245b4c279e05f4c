/**
 * Deleting a twin resource (releasing its owned leaves) in-process against the real local hub: only a
 * missing twin or identity counts as already deleted. Every other answer — refused credentials, a bad
 * request, a 412 that outlasts the re-reads, a server error, a hub that cannot be reached — must fail the
 * delete and name the resource, or Pulumi would drop from its state leaves that are still on the twin.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { deviceTwinProvider, moduleTwinProvider } from '../../dynamic-providers/provider-table';
import type { TwinInputs, TwinOutputs } from '../../lib/resource-twin-state';
import { type HubError, hubErrors } from '../../local-hub/errors';
import type { LocalHub } from '../../local-hub/index';
import { failing, interceptHubState } from '../support/hub-state-intercept';
import { startTestHub } from '../support/local-hub-fixture';

let hub: LocalHub;
before(async () => {
  hub = await startTestHub();
});
after(async () => {
  await hub.close();
});

function registry() {
  return createHubClient(hub.serviceConnectionString('iothubowner'), { caCertificate: hub.caCertificatePem })
    .registry;
}

/** A module twin resource that owns `desired.interval`, created through the provider. */
async function ownedModuleTwin(deviceId: string): Promise<{ id: string; outs: TwinOutputs }> {
  await registry().create({ deviceId } as any);
  await registry().addModule({ deviceId, moduleId: 'm1' } as any);
  const news = {
    hubConnectionString: hub.serviceConnectionString(),
    hubCaCertificate: hub.caCertificatePem,
    deviceId,
    moduleId: 'm1',
    desired: { interval: 5 },
  };
  const { inputs, failures } = await moduleTwinProvider.check!(
    {} as TwinInputs,
    news as unknown as TwinInputs,
  );
  assert.deepEqual(failures, []);
  const { id, outs } = await moduleTwinProvider.create(inputs!);
  return { id, outs: outs! };
}

async function desiredInterval(deviceId: string): Promise<unknown> {
  const twin = (await registry().getModuleTwin(deviceId, 'm1')).responseBody as any;
  return twin.properties.desired.interval;
}

/** A loopback port nobody listens on: connecting there is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const deleteFailed = (deviceId: string, detail: RegExp) => (err: Error) => {
  assert.match(err.message, new RegExp(`^ModuleTwin "${deviceId}/m1" on hub [^:]+:\\d+: delete failed: `));
  assert.match(err.message, detail);
  return true;
};

describe('ModuleTwin delete', () => {
  test('a deleted module or device counts as already deleted', async () => {
    const module = await ownedModuleTwin('del-gone-module');
    await registry().removeModule('del-gone-module', 'm1');
    await moduleTwinProvider.delete!(module.id, module.outs);

    const device = await ownedModuleTwin('del-gone-device');
    await registry().delete('del-gone-device');
    await moduleTwinProvider.delete!(device.id, device.outs);
  });

  const hubAnswers: [string, () => HubError, RegExp][] = [
    ['400', () => hubErrors.argumentInvalid('the patch is not valid'), /HTTP 400 ArgumentInvalid/],
    [
      '412 on every attempt (after the re-reads)',
      () => hubErrors.preconditionFailed('If-Match does not match the current twin etag'),
      /HTTP 412 PreconditionFailed/,
    ],
    ['500', () => hubErrors.serverError('the store failed'), /HTTP 500 ServerError/],
  ];
  for (const [answer, error, detail] of hubAnswers) {
    test(`a hub answering ${answer} fails the delete, naming the resource`, async () => {
      const deviceId = `del-${answer.slice(0, 3)}`;
      const { id, outs } = await ownedModuleTwin(deviceId);
      const restore = interceptHubState(hub, 'patchTwin', failing(error));
      try {
        await assert.rejects(moduleTwinProvider.delete!(id, outs), deleteFailed(deviceId, detail));
      } finally {
        restore();
      }
      assert.equal(await desiredInterval(deviceId), 5, 'the owned leaf is still on the twin');
    });
  }

  test('refused credentials (401) fail the delete, naming the resource', async () => {
    const { id, outs } = await ownedModuleTwin('del-401');
    const wrongKey = Buffer.alloc(32, 9).toString('base64');
    const hubConnectionString = outs.hubConnectionString.replace(
      /SharedAccessKey=.*/,
      `SharedAccessKey=${wrongKey}`,
    );
    await assert.rejects(
      moduleTwinProvider.delete!(id, { ...outs, hubConnectionString }),
      deleteFailed('del-401', /HTTP 401/),
    );
    assert.equal(await desiredInterval('del-401'), 5);
  });

  test('a hub that cannot be reached fails the delete, naming the resource', async () => {
    const { id, outs } = await ownedModuleTwin('del-unreachable');
    const port = await closedPort();
    const hubConnectionString = outs.hubConnectionString.replace(
      /HostName=[^;]+/,
      `HostName=127.0.0.1:${port}`,
    );
    await assert.rejects(
      moduleTwinProvider.delete!(id, { ...outs, hubConnectionString }),
      deleteFailed('del-unreachable', /ECONNREFUSED/),
    );
    assert.equal(await desiredInterval('del-unreachable'), 5);
  });
});

describe('DeviceTwin delete', () => {
  test('a hub answering 500 fails the delete, naming the resource; a deleted device is already deleted', async () => {
    await registry().create({ deviceId: 'del-device' } as any);
    const news = {
      hubConnectionString: hub.serviceConnectionString(),
      hubCaCertificate: hub.caCertificatePem,
      deviceId: 'del-device',
      tags: { site: 'lab' },
    };
    const { inputs } = await deviceTwinProvider.check!({} as TwinInputs, news as unknown as TwinInputs);
    const { id, outs } = await deviceTwinProvider.create(inputs!);
    const restore = interceptHubState(
      hub,
      'patchTwin',
      failing(() => hubErrors.serverError('the store failed')),
    );
    try {
      await assert.rejects(deviceTwinProvider.delete!(id, outs!), (err: Error) => {
        assert.match(err.message, /^DeviceTwin "del-device" on hub [^:]+:\d+: delete failed: .*HTTP 500/);
        return true;
      });
    } finally {
      restore();
    }
    await registry().delete('del-device');
    await deviceTwinProvider.delete!(id, outs!);
  });
});
