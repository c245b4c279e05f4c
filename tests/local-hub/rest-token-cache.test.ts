/**
 * The service API remembers tokens whose signature it verified (local-hub/rest/verified-tokens.ts).
 * These tests prove the cache keeps every security property of a fresh check: a remembered token is
 * refused once expired, once its policy key was regenerated or its policy removed, for an identity
 * its scope does not cover, and for an operation its policy has no right to; failures are never
 * remembered. First against `authorizeServiceRequest` itself, then through the real REST handler.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type PolicyDefinition, WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import { createSasToken } from '../../lib/sas-token';
import { createHubLogger } from '../../local-hub/hub-logger';
import { createRestHandler } from '../../local-hub/rest/rest-handler';
import { type AuthRequest, authorizeServiceRequest } from '../../local-hub/rest/service-auth';
import { VERIFIED_TOKEN_CAPACITY, VerifiedTokenCache } from '../../local-hub/rest/verified-tokens';
import { type HubState, openHubState } from '../../local-hub/store';

const HOST = 'hub.local:8443';
const NOW = 1_900_000_000;
const OWNER = WELL_KNOWN_POLICIES.find((p) => p.keyName === 'iothubowner')!;
const READER = WELL_KNOWN_POLICIES.find((p) => p.rights.length === 1 && p.rights[0] === 'RegistryRead')!;
const A_NEW_KEY = Buffer.alloc(32, 7).toString('base64');

function token(o: { policy?: PolicyDefinition; key?: string; sr?: string; expiresAt?: number } = {}): string {
  const policy = o.policy ?? OWNER;
  return createSasToken({
    sr: o.sr ?? HOST,
    base64Key: o.key ?? policy.primaryKey,
    expiresAt: o.expiresAt ?? NOW + 3600,
    keyName: policy.keyName,
  });
}

function authorize(
  cache: VerifiedTokenCache,
  authorization: string,
  o: Partial<Omit<AuthRequest, 'authorization' | 'verifiedTokens'>> = {},
) {
  return authorizeServiceRequest({
    authorization,
    access: 'serviceConnect',
    policies: WELL_KNOWN_POLICIES,
    isOwnHostName: (host) => host === HOST,
    nowSeconds: NOW,
    verifiedTokens: cache,
    ...o,
  });
}

const refusedFor = (outcome: ReturnType<typeof authorize>, reason: string) => {
  assert.equal(outcome.ok, false, `expected a refusal (${reason})`);
  assert.ok(!outcome.ok && outcome.reason.includes(reason), `reason "${!outcome.ok && outcome.reason}"`);
};

describe('verified service tokens: authorizeServiceRequest with a cache', () => {
  test('a verified token is remembered, and refused once it has expired', () => {
    const cache = new VerifiedTokenCache();
    const sas = token({ expiresAt: NOW + 60 });
    assert.deepEqual(authorize(cache, sas), { ok: true, policy: OWNER.keyName });
    assert.equal(cache.size, 1);
    assert.deepEqual(authorize(cache, sas, { nowSeconds: NOW + 60 }), { ok: true, policy: OWNER.keyName });
    refusedFor(authorize(cache, sas, { nowSeconds: NOW + 61 }), `token expired at ${NOW + 60}`);
    assert.equal(cache.size, 0, 'an expired token is dropped');
  });

  test('a regenerated key voids every token it verified; a token of the other key still works', () => {
    const cache = new VerifiedTokenCache();
    const primary = token();
    const secondary = token({ key: OWNER.secondaryKey });
    assert.equal(authorize(cache, primary).ok, true);
    assert.equal(authorize(cache, secondary).ok, true);
    assert.equal(cache.size, 2);
    const regenerated = WELL_KNOWN_POLICIES.map((p) => (p === OWNER ? { ...p, primaryKey: A_NEW_KEY } : p));
    refusedFor(authorize(cache, primary, { policies: regenerated }), 'signature does not match');
    assert.equal(authorize(cache, secondary, { policies: regenerated }).ok, true);
    assert.equal(cache.size, 1, 'only the token of the key still held is kept');
    const withoutOwner = WELL_KNOWN_POLICIES.filter((p) => p !== OWNER);
    refusedFor(authorize(cache, secondary, { policies: withoutOwner }), 'no shared access policy');
    assert.equal(cache.size, 0);
  });

  test('a remembered token scoped to one device covers only that device and its modules', () => {
    const cache = new VerifiedTokenCache();
    const scoped = token({ sr: `${HOST}/devices/d1` });
    assert.equal(authorize(cache, scoped, { deviceId: 'd1' }).ok, true);
    assert.equal(cache.size, 1);
    assert.equal(authorize(cache, scoped, { deviceId: 'd1', moduleId: 'm1' }).ok, true);
    refusedFor(authorize(cache, scoped, { deviceId: 'd2' }), 'does not cover');
    refusedFor(authorize(cache, scoped, { deviceId: 'd10' }), 'does not cover');
    refusedFor(authorize(cache, scoped, { access: 'registryRead' }), 'does not cover');
    const moduleScoped = token({ sr: `${HOST}/devices/d1/modules/m1` });
    assert.equal(authorize(cache, moduleScoped, { deviceId: 'd1', moduleId: 'm1' }).ok, true);
    refusedFor(authorize(cache, moduleScoped, { deviceId: 'd1', moduleId: 'm2' }), 'does not cover');
    refusedFor(authorize(cache, moduleScoped, { deviceId: 'd1' }), 'does not cover');
  });

  test("a remembered token is still held to its policy's rights for each operation", () => {
    const cache = new VerifiedTokenCache();
    const reader = token({ policy: READER });
    assert.equal(authorize(cache, reader, { access: 'registryRead' }).ok, true);
    assert.equal(cache.size, 1);
    refusedFor(authorize(cache, reader, { access: 'registryWrite' }), 'lacks RegistryWrite');
    refusedFor(authorize(cache, reader, { access: 'serviceConnect' }), 'lacks ServiceConnect');
    assert.equal(authorize(cache, reader, { access: 'query' }).ok, true);
  });

  test('failed checks are never remembered', () => {
    const cache = new VerifiedTokenCache();
    const cases: [string, string][] = [
      [token({ key: A_NEW_KEY }), 'signature does not match'],
      [token({ expiresAt: NOW - 1 }), 'expired'],
      [token({ sr: 'other.azure-devices.net' }), 'is not this hub'],
      [token({ sr: `${HOST}/things/d1` }), 'sr is not'],
      [`${token()}&sig=again`, 'more than once'],
    ];
    for (const [sas, reason] of cases) {
      refusedFor(authorize(cache, sas), reason);
      refusedFor(authorize(cache, sas), reason);
    }
    assert.equal(cache.size, 0);
  });

  test('the cache is bounded: the oldest entry makes room, over-long headers are not kept', () => {
    assert.ok(VERIFIED_TOKEN_CAPACITY >= 16);
    const cache = new VerifiedTokenCache(2);
    const tokens = [1, 2, 3].map((i) => token({ expiresAt: NOW + i }));
    for (const sas of tokens) assert.equal(authorize(cache, sas).ok, true);
    assert.equal(cache.size, 2);
    assert.equal(cache.get(tokens[0]!), undefined, 'the oldest was evicted');
    assert.ok(cache.get(tokens[2]!));
    const long = token({ sr: `${HOST}/devices/${'d'.repeat(3000)}` });
    assert.equal(authorize(cache, long, { deviceId: 'd'.repeat(3000) }).ok, true);
    assert.equal(cache.get(long), undefined);
  });
});

/** The real REST handler over an in-memory store, with the token clock under the test's control. */
describe('verified service tokens: through the REST handler', () => {
  let state: HubState;
  let server: http.Server;
  let host = '';
  let clock = NOW * 1000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  before(async () => {
    state = openHubState({ inMemory: true });
    state.createDevice('d1', {});
    state.createDevice('d2', {});
    const handler = createRestHandler({
      state,
      policies: WELL_KNOWN_POLICIES,
      isOwnHostName: (h) => h === host,
      logger: createHubLogger({ level: 'silent' }),
      now: () => clock,
    });
    server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    agent.destroy();
    await new Promise((resolve) => server.close(resolve));
    state.close();
  });

  function patchTwin(deviceId: string, authorization: string, color: string): Promise<number> {
    const body = JSON.stringify({ properties: { desired: { color } } });
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: Number(host.split(':')[1]),
          method: 'PATCH',
          path: `/twins/${deviceId}?api-version=2021-04-12`,
          headers: { authorization, 'content-type': 'application/json', 'if-match': '*' },
          agent,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  test('the same token is refused once expired, and a device-scoped one only works for its device', async () => {
    const expiresAt = Math.floor(clock / 1000) + 30;
    const sas = createSasToken({ sr: host, base64Key: OWNER.primaryKey, expiresAt, keyName: OWNER.keyName });
    assert.equal(await patchTwin('d1', sas, 'red'), 200);
    assert.equal(await patchTwin('d1', sas, 'green'), 200);
    clock = (expiresAt + 1) * 1000;
    assert.equal(await patchTwin('d1', sas, 'blue'), 401);
    assert.equal(
      (state.getTwin('d1', null).properties.desired as Record<string, unknown>)['color'],
      'green',
      'the refused write changed nothing',
    );

    const scoped = createSasToken({
      sr: `${host}/devices/d1`,
      base64Key: OWNER.primaryKey,
      expiresAt: Math.floor(clock / 1000) + 30,
      keyName: OWNER.keyName,
    });
    assert.equal(await patchTwin('d1', scoped, 'cyan'), 200);
    assert.equal(await patchTwin('d2', scoped, 'cyan'), 401);
    assert.equal(
      (state.getTwin('d2', null).properties.desired as Record<string, unknown>)['color'],
      undefined,
    );
  });
});
