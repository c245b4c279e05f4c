import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type HubRight, type PolicyDefinition, WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import { createSasToken, encodeUriComponentStrict } from '../../lib/sas-token';
import {
  assertLegacyError,
  policyNamed as policy,
  type RestReply,
  RestTestServer,
} from '../support/rest-test-server';

/** Each operation class with the rights that allow it (docs/iot-hub-behaviour.md §1.5). */
const OPERATIONS: {
  name: string;
  allowedBy: HubRight[];
  run: (hub: RestTestServer, p: PolicyDefinition) => Promise<RestReply>;
}[] = [
  {
    name: 'identity read',
    allowedBy: ['RegistryRead', 'RegistryWrite'],
    run: (h, p) => h.call('GET', '/devices/seed', { authorization: h.token(p) }),
  },
  {
    name: 'identity list',
    allowedBy: ['RegistryRead', 'RegistryWrite'],
    run: (h, p) => h.call('GET', '/devices', { authorization: h.token(p) }),
  },
  {
    name: 'identity write',
    allowedBy: ['RegistryWrite'],
    run: (h, p) => h.call('PUT', `/devices/new-${p.keyName}`, { body: {}, authorization: h.token(p) }),
  },
  {
    name: 'identity delete',
    allowedBy: ['RegistryWrite'],
    run: (h, p) => h.call('DELETE', `/devices/del-${p.keyName}`, { authorization: h.token(p) }),
  },
  {
    name: 'bulk',
    allowedBy: ['RegistryWrite'],
    run: (h, p) =>
      h.call('POST', '/devices', {
        body: [{ id: `bulk-${p.keyName}`, importMode: 'create' }],
        authorization: h.token(p),
      }),
  },
  {
    name: 'twin read',
    allowedBy: ['ServiceConnect'],
    run: (h, p) => h.call('GET', '/twins/seed', { authorization: h.token(p) }),
  },
  {
    name: 'twin write',
    allowedBy: ['ServiceConnect'],
    run: (h, p) =>
      h.call('PATCH', '/twins/seed', { body: { tags: { by: p.keyName } }, authorization: h.token(p) }),
  },
  {
    name: 'twin replace',
    allowedBy: ['ServiceConnect'],
    run: (h, p) => h.call('PUT', '/twins/seed', { body: { tags: {} }, authorization: h.token(p) }),
  },
  {
    name: 'statistics',
    allowedBy: ['RegistryRead', 'RegistryWrite'],
    run: (h, p) => h.call('GET', '/statistics/devices', { authorization: h.token(p) }),
  },
  {
    name: 'query',
    allowedBy: ['RegistryRead', 'RegistryWrite', 'ServiceConnect'],
    run: (h, p) =>
      h.call('POST', '/devices/query', {
        body: { query: 'SELECT * FROM devices' },
        authorization: h.token(p),
      }),
  },
];

const GENERIC_401 = (r: RestReply) => r.json.Message.split(';')[1];

describe('service API authorization', () => {
  const hub = new RestTestServer();
  before(async () => {
    await hub.start();
    hub.state.createDevice('seed', {});
    hub.state.createDevice('other', {});
    for (const p of WELL_KNOWN_POLICIES) hub.state.createDevice(`del-${p.keyName}`, {});
  });
  after(() => hub.stop());

  for (const p of WELL_KNOWN_POLICIES) {
    test(`rights matrix for policy ${p.keyName} (${p.rights.join(', ')})`, async () => {
      for (const op of OPERATIONS) {
        const allowed = op.allowedBy.some((right) => p.rights.includes(right));
        const reply = await op.run(hub, p);
        if (allowed) {
          assert.ok(
            reply.status >= 200 && reply.status < 300,
            `${op.name} allowed for ${p.keyName}: ${reply.status} ${reply.text}`,
          );
        } else {
          assertLegacyError(reply, 401, 'IotHubUnauthorizedAccess');
        }
      }
    });
  }

  test('every authentication failure is the same 401; the reason is logged at debug only', async () => {
    const now = Math.floor(Date.now() / 1000);
    const ownerPolicy = policy('iothubowner');
    const devicePolicy = policy('device');
    const seedKey = hub.state.getDevice('seed').authentication.symmetricKey.primaryKey!;
    const cases: [string, string | null, string][] = [
      ['no header', null, 'no Authorization header'],
      ['not a SAS token', 'Bearer abc', 'SharedAccessSignature'],
      [
        'wrong key',
        createSasToken({
          sr: hub.host,
          base64Key: devicePolicy.primaryKey,
          expiresAt: now + 60,
          keyName: 'iothubowner',
        }),
        'signature does not match',
      ],
      [
        'expired',
        createSasToken({
          sr: hub.host,
          base64Key: ownerPolicy.primaryKey,
          expiresAt: now - 10,
          keyName: 'iothubowner',
        }),
        'expired',
      ],
      [
        'another hub',
        createSasToken({
          sr: 'other.azure-devices.net',
          base64Key: ownerPolicy.primaryKey,
          expiresAt: now + 60,
          keyName: 'iothubowner',
        }),
        'is not this hub',
      ],
      [
        'device-scoped token (device key, no skn)',
        createSasToken({
          sr: encodeUriComponentStrict(`${hub.host}/devices/seed`),
          base64Key: seedKey,
          expiresAt: now + 60,
        }),
        'device-scoped',
      ],
      [
        'unknown policy',
        createSasToken({
          sr: hub.host,
          base64Key: ownerPolicy.primaryKey,
          expiresAt: now + 60,
          keyName: 'nobody',
        }),
        'no shared access policy',
      ],
    ];
    const messages = new Set<string>();
    for (const [name, authorization, reason] of cases) {
      hub.logLines.length = 0;
      const reply = await hub.call('GET', '/devices/seed', { authorization });
      assertLegacyError(reply, 401, 'IotHubUnauthorizedAccess');
      messages.add(GENERIC_401(reply));
      assert.ok(
        hub.logLines.some((l) => l.includes('DEBUG') && l.includes(reason)),
        `${name}: debug log names "${reason}": ${hub.logLines.join(' / ')}`,
      );
      assert.ok(
        !reply.text.includes(reason) || reason === 'SharedAccessSignature',
        `${name}: reason not sent to the client`,
      );
    }
    assert.equal(messages.size, 1, 'one generic message for every failure');
  });

  test('the secondary key works; a policy token scoped to one device covers only that device', async () => {
    const owner = policy('iothubowner');
    const expiresAt = Math.floor(Date.now() / 1000) + 60;
    const secondary = createSasToken({
      sr: hub.host,
      base64Key: owner.secondaryKey,
      expiresAt,
      keyName: owner.keyName,
    });
    assert.equal((await hub.call('GET', '/devices/seed', { authorization: secondary })).status, 200);
    const scoped = createSasToken({
      sr: `${hub.host}/devices/seed`,
      base64Key: owner.primaryKey,
      expiresAt,
      keyName: owner.keyName,
    });
    assert.equal((await hub.call('GET', '/devices/seed', { authorization: scoped })).status, 200);
    assert.equal((await hub.call('GET', '/twins/seed', { authorization: scoped })).status, 200);
    assertLegacyError(
      await hub.call('GET', '/devices/other', { authorization: scoped }),
      401,
      'IotHubUnauthorizedAccess',
    );
    assertLegacyError(
      await hub.call('GET', '/devices', { authorization: scoped }),
      401,
      'IotHubUnauthorizedAccess',
    );
  });

  test('refused writes change nothing', async () => {
    const before = hub.state.getTwin('seed', null);
    const reply = await hub.call('PATCH', '/twins/seed', {
      body: { tags: { intruder: true } },
      authorization: hub.token(policy('registryReadWrite')),
    });
    assertLegacyError(reply, 401, 'IotHubUnauthorizedAccess');
    assert.deepEqual(hub.state.getTwin('seed', null), before);
  });
});
