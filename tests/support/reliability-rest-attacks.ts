/**
 * Attacks on the service REST API (docs/iot-hub-behaviour.md §1.5: policy SAS tokens, rights per operation, scope).
 * Each case sends one request the hub must refuse with the same generic 401 (service-auth.ts) and
 * nothing secret in the answer; the suite checks afterwards that none of them changed anything.
 */
import { randomBytes } from 'node:crypto';
import type { HubRight, PolicyDefinition } from '../../lib/local-hub-defaults';
import { createSasToken, encodeUriComponentStrict } from '../../lib/sas-token';
import { type AttackCase, type AttackStage, expectRestRefused, rememberToken } from './reliability-attacks';
import {
  nowSeconds,
  policiesWithout,
  serviceToken,
  wellKnownPolicy,
  withApiVersion,
} from './reliability-rest';

interface Operation {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** A policy needs one of these rights (service-auth.ts SATISFIED_BY). */
  needs: HubRight[];
}

/** Every service operation the hub serves, each aimed at the victim where it addresses an identity. */
const OPERATIONS: Operation[] = [
  { name: 'read a device', method: 'GET', path: '/devices/victim', needs: ['RegistryRead', 'RegistryWrite'] },
  { name: 'list devices', method: 'GET', path: '/devices', needs: ['RegistryRead', 'RegistryWrite'] },
  {
    name: 'list modules',
    method: 'GET',
    path: '/devices/victim/modules',
    needs: ['RegistryRead', 'RegistryWrite'],
  },
  {
    name: 'read statistics',
    method: 'GET',
    path: '/statistics/devices',
    needs: ['RegistryRead', 'RegistryWrite'],
  },
  { name: 'create a device', method: 'PUT', path: '/devices/evil', body: {}, needs: ['RegistryWrite'] },
  {
    name: 'update a device (new keys)',
    method: 'PUT',
    path: '/devices/victim',
    headers: { 'if-match': '"*"' },
    body: {
      deviceId: 'victim',
      authentication: {
        type: 'sas',
        symmetricKey: {
          primaryKey: randomBytes(32).toString('base64'),
          secondaryKey: randomBytes(32).toString('base64'),
        },
      },
    },
    needs: ['RegistryWrite'],
  },
  { name: 'delete a device', method: 'DELETE', path: '/devices/victim', needs: ['RegistryWrite'] },
  {
    name: 'create a module',
    method: 'PUT',
    path: '/devices/victim/modules/evil',
    body: {},
    needs: ['RegistryWrite'],
  },
  { name: 'delete a module', method: 'DELETE', path: '/devices/victim/modules/vm', needs: ['RegistryWrite'] },
  {
    name: 'bulk-delete devices',
    method: 'POST',
    path: '/devices',
    body: [{ id: 'victim', importMode: 'delete' }],
    needs: ['RegistryWrite'],
  },
  { name: 'read a twin', method: 'GET', path: '/twins/victim', needs: ['ServiceConnect'] },
  { name: 'read a module twin', method: 'GET', path: '/twins/victim/modules/vm', needs: ['ServiceConnect'] },
  {
    name: 'patch a twin',
    method: 'PATCH',
    path: '/twins/victim',
    body: { properties: { desired: { secret: 'x' } } },
    needs: ['ServiceConnect'],
  },
  {
    name: 'replace a module twin',
    method: 'PUT',
    path: '/twins/victim/modules/vm',
    body: { properties: { desired: {} } },
    needs: ['ServiceConnect'],
  },
  {
    name: 'query twins',
    method: 'POST',
    path: '/devices/query',
    body: { query: 'SELECT * FROM devices' },
    needs: ['RegistryRead', 'RegistryWrite', 'ServiceConnect'],
  },
];

function operationNamed(name: string): Operation {
  const found = OPERATIONS.find((o) => o.name === name);
  if (!found) throw new Error(`no operation named ${JSON.stringify(name)}`);
  return found;
}

function attack(name: string, run: (stage: AttackStage) => Promise<void>): AttackCase {
  return { name, transport: 'REST', run };
}

/** Sends `operation` with `authorization`, remembers the token as a secret, expects a 401. */
async function refused(
  stage: AttackStage,
  authorization: string | null,
  operation: Operation = operationNamed('read a twin'),
): Promise<void> {
  if (authorization) rememberToken(stage, authorization);
  const reply = await stage.rest.request({
    method: operation.method,
    path: withApiVersion(operation.path),
    ...(operation.body === undefined ? {} : { body: operation.body }),
    ...(operation.headers ? { headers: operation.headers } : {}),
    authorization,
  });
  expectRestRefused(stage, reply);
}

/** Policy without the needed right, for each operation (issue #5), with a correctly signed token. */
function rightsCases(): AttackCase[] {
  return OPERATIONS.flatMap((operation) =>
    policiesWithout(...operation.needs).map((policy) =>
      attack(`policy "${policy.keyName}" (${policy.rights.join('+')}) cannot ${operation.name}`, (stage) =>
        refused(stage, serviceToken(stage.hub.hostName, policy), operation),
      ),
    ),
  );
}

function tokenCases(): AttackCase[] {
  const owner = wellKnownPolicy('iothubowner');
  const ownerToken = (s: AttackStage, o: Parameters<typeof serviceToken>[2] = {}) =>
    serviceToken(s.hub.hostName, owner, o);
  const deviceScoped = (s: AttackStage, resource: string, policy: PolicyDefinition = owner) =>
    serviceToken(s.hub.hostName, policy, { sr: encodeUriComponentStrict(`${s.hub.hostName}/${resource}`) });
  return [
    attack('no Authorization header', (s) => refused(s, null)),
    attack('a bearer token instead of a SAS token', (s) =>
      refused(s, `Bearer ${randomBytes(24).toString('base64')}`),
    ),
    attack('forged signature with the owner policy name', (s) =>
      refused(
        s,
        ownerToken(s).replace(
          /sig=[^&]+/,
          `sig=${encodeUriComponentStrict(randomBytes(32).toString('base64'))}`,
        ),
      ),
    ),
    attack("signed with another policy's key under the owner's name", (s) =>
      refused(s, ownerToken(s, { key: wellKnownPolicy('registryRead').primaryKey })),
    ),
    attack("signed with a device's key under the owner's name", (s) =>
      refused(s, ownerToken(s, { key: s.keys.victim })),
    ),
    attack('expired owner token', (s) => refused(s, ownerToken(s, { expiresAt: nowSeconds() - 60 }))),
    attack('owner token whose expiry was extended after signing', (s) =>
      refused(
        s,
        ownerToken(s, { expiresAt: nowSeconds() - 60 }).replace(/se=\d+/, `se=${nowSeconds() + 3600}`),
      ),
    ),
    attack('owner token for another hub host', (s) =>
      refused(s, ownerToken(s, { sr: 'other-hub.azure-devices.net' })),
    ),
    attack('unknown policy name', (s) =>
      refused(
        s,
        createSasToken({
          sr: s.hub.hostName,
          base64Key: owner.primaryKey,
          expiresAt: nowSeconds() + 600,
          keyName: 'nosuchpolicy',
        }),
      ),
    ),
    attack('device key used on the service API (device token, no skn)', (s) =>
      refused(
        s,
        createSasToken({
          sr: encodeUriComponentStrict(`${s.hub.hostName}/devices/victim`),
          base64Key: s.keys.victim,
          expiresAt: nowSeconds() + 600,
        }),
      ),
    ),
    attack('device key used on the service API to create a device', (s) =>
      refused(
        s,
        createSasToken({
          sr: encodeUriComponentStrict(`${s.hub.hostName}/devices/evil`),
          base64Key: s.keys.attacker,
          expiresAt: nowSeconds() + 600,
        }),
        operationNamed('create a device'),
      ),
    ),
    attack('owner token scoped to another device', (s) => refused(s, deviceScoped(s, 'devices/attacker'))),
    attack('owner token scoped to a device prefix of the victim ("victi")', (s) =>
      refused(s, deviceScoped(s, 'devices/victi')),
    ),
    attack('owner token scoped to another module of the same device', (s) =>
      refused(s, deviceScoped(s, 'devices/victim/modules/vm2'), operationNamed('read a module twin')),
    ),
    attack('owner token scoped to one device used on a hub-wide route', (s) =>
      refused(s, deviceScoped(s, 'devices/victim'), operationNamed('list devices')),
    ),
  ];
}

/** Malformed tokens: each broken in one way, otherwise made from a valid owner token. */
function malformedCases(): AttackCase[] {
  const variants: [string, (token: string) => string][] = [
    ['an empty SAS token', () => 'SharedAccessSignature '],
    ['lower-case scheme', (t) => t.replace('SharedAccessSignature', 'sharedaccesssignature')],
    ['se is not a number', (t) => t.replace(/se=\d+/, 'se=tomorrow')],
    ['se with a leading zero (changes the signed text)', (t) => t.replace(/se=(\d+)/, 'se=0$1')],
    ['sig is not valid URL encoding', (t) => t.replace(/sig=[^&]+/, 'sig=%E0%A4%A')],
    ['sig missing', (t) => t.replace(/&sig=[^&]+/, '')],
    ['sr given twice', (t) => `${t}&sr=other`],
    ['an unknown field', (t) => `${t}&foo=bar`],
    ['an 8 KB token', (t) => `${t}${'A'.repeat(8_000)}`],
    ['a NUL in the policy name', (t) => t.replace('skn=iothubowner', 'skn=iothubowner%00')],
  ];
  return variants.map(([name, mutate]) =>
    attack(`malformed token: ${name}`, (s) =>
      refused(s, mutate(serviceToken(s.hub.hostName, wellKnownPolicy('iothubowner')))),
    ),
  );
}

export function restAttackCases(): AttackCase[] {
  return [...tokenCases(), ...malformedCases(), ...rightsCases()];
}
