/**
 * Diff decisions (lib/resource-diff.ts) and the identity update plan (lib/identity-plan.ts): what
 * replaces, what updates in place, what is ignored, and that a full PUT never resets an unchanged field.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  changedIdentityFields,
  type HubIdentity,
  identityCreateBody,
  identityStateFromHub,
  identityUpdateBody,
  isIdentityAsCreated,
} from '../../lib/identity-plan';
import type { JsonObject } from '../../lib/json-types';
import { wellKnownServiceConnectionString } from '../../lib/local-hub-defaults';
import { UNKNOWN_INPUT } from '../../lib/resource-checks';
import { diffIdentity, diffTwin } from '../../lib/resource-diff';
import {
  type DeviceIdentityInputs,
  type DeviceIdentityOutputs,
  type IdentityOutputs,
  identityInputsFromHub,
  identityOutputs,
  type ModuleIdentityInputs,
} from '../../lib/resource-identity-state';

const HUB = wellKnownServiceConnectionString('serviceAndRegistryReadWrite', '127.0.0.1:8443');
const SAME_HUB_OTHER_KEY = wellKnownServiceConnectionString('iothubowner', '127.0.0.1:8443');
const OTHER_HUB = wellKnownServiceConnectionString('serviceAndRegistryReadWrite', '127.0.0.1:9443');
const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');

/** A device as the hub returns it (docs/iot-hub-behaviour.md §1.3). */
function hubDevice(overrides: Partial<HubIdentity> = {}): HubIdentity {
  return {
    deviceId: 'd1',
    generationId: '637546501104263193',
    etag: 'MzE4NzUxOTU1',
    status: 'enabled',
    statusReason: null,
    authentication: {
      type: 'sas',
      symmetricKey: { primaryKey: KEY_A, secondaryKey: KEY_B },
      x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
    },
    capabilities: { iotEdge: false },
    deviceScope: null,
    parentScopes: [],
    ...overrides,
  };
}

const deviceInputs: DeviceIdentityInputs = {
  hubConnectionString: HUB,
  deviceId: 'd1',
  status: 'enabled',
  authentication: { type: 'sas' },
  iotEdge: false,
  adopt: false,
};
const deviceOutputs = identityOutputs(
  'device',
  deviceInputs,
  '127.0.0.1:8443',
  hubDevice(),
) as DeviceIdentityOutputs;

describe('identity diff', () => {
  test('no change when config matches the last known state', () => {
    assert.deepEqual(diffIdentity(deviceOutputs, deviceInputs), {
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  test('a different id or hub host replaces, deleting first', () => {
    assert.deepEqual(diffIdentity(deviceOutputs, { ...deviceInputs, deviceId: 'd2' }), {
      changes: true,
      replaces: ['deviceId'],
      deleteBeforeReplace: true,
    });
    assert.deepEqual(
      diffIdentity(deviceOutputs, { ...deviceInputs, hubConnectionString: OTHER_HUB }).replaces,
      ['hubConnectionString'],
    );
    assert.deepEqual(diffIdentity(deviceOutputs, { ...deviceInputs, deviceId: UNKNOWN_INPUT }).replaces, [
      'deviceId',
    ]);
  });

  test('a new key for the same host, or an unknown connection string, updates in place', () => {
    for (const hubConnectionString of [SAME_HUB_OTHER_KEY, UNKNOWN_INPUT]) {
      assert.deepEqual(diffIdentity(deviceOutputs, { ...deviceInputs, hubConnectionString }), {
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      });
    }
  });

  test('settings changes update in place; adopt alone changes nothing', () => {
    for (const change of [
      { status: 'disabled' as const },
      { iotEdge: true },
      { statusReason: 'maintenance' },
      { primaryKey: KEY_B, secondaryKey: KEY_A },
      { authentication: { type: 'certificateAuthority' as const } },
    ]) {
      const decision = diffIdentity(deviceOutputs, { ...deviceInputs, ...change });
      assert.equal(decision.changes, true, JSON.stringify(change));
      assert.deepEqual(decision.replaces, []);
    }
    assert.equal(diffIdentity(deviceOutputs, { ...deviceInputs, adopt: true }).changes, false);
  });

  test('drift found by a refresh (status disabled out of band) is a change', () => {
    const refreshed = identityOutputs(
      'device',
      deviceInputs,
      '127.0.0.1:8443',
      hubDevice({ status: 'disabled' }),
    );
    assert.equal(diffIdentity(refreshed, deviceInputs).changes, true);
  });

  test('a module compares moduleId too', () => {
    const moduleInputs: ModuleIdentityInputs = { ...deviceInputs, moduleId: 'm1' };
    const hub = { ...hubDevice(), moduleId: 'm1', managedBy: null };
    const outs = identityOutputs('module', moduleInputs, '127.0.0.1:8443', hub) as IdentityOutputs;
    assert.equal(diffIdentity(outs, moduleInputs).changes, false);
    assert.deepEqual(diffIdentity(outs, { ...moduleInputs, moduleId: 'm2' }).replaces, ['moduleId']);
  });
});

describe('identity read', () => {
  test('read inputs equal the checked config when nothing drifted (refresh invents no diff)', () => {
    assert.deepEqual(identityInputsFromHub('device', deviceOutputs, hubDevice()), deviceInputs);
  });

  test('declared keys are reported from the hub so key drift shows', () => {
    const declared = { ...deviceInputs, primaryKey: KEY_A, secondaryKey: KEY_B };
    const outs = identityOutputs('device', declared, '127.0.0.1:8443', hubDevice());
    const rotated = hubDevice({
      authentication: { type: 'sas', symmetricKey: { primaryKey: KEY_B, secondaryKey: KEY_A } },
    });
    const inputs = identityInputsFromHub('device', outs, rotated);
    assert.equal(inputs.primaryKey, KEY_B);
    assert.equal(diffIdentity(identityOutputs('device', inputs, 'h', rotated), declared).changes, true);
  });

  test('outputs hold no undefined anywhere', () => {
    const text = JSON.stringify(deviceOutputs, (_k, v) => (v === undefined ? '__undefined__' : v));
    assert.ok(!text.includes('__undefined__'));
    assert.equal(
      deviceOutputs.deviceConnectionString,
      `HostName=127.0.0.1:8443;DeviceId=d1;SharedAccessKey=${KEY_A}`,
    );
  });
});

describe('identity update body (full PUT)', () => {
  const current = hubDevice({
    statusReason: 'set by ops',
    deviceScope: 'ms-azure-iot-edge://x-1',
    parentScopes: ['p'],
  });
  const freshKeys = () => ({ primaryKey: 'fresh-1', secondaryKey: 'fresh-2' });

  test('overlays only the changed field and sends back current keys and settings', () => {
    const body = identityUpdateBody(
      current,
      { deviceId: 'd1', status: 'disabled', authentication: { type: 'sas' } },
      ['status'],
      freshKeys,
    );
    assert.deepEqual(body, { ...current, status: 'disabled' });
  });

  test('keeps current keys when only thumbprint-less settings change, generates keys when switching to sas', () => {
    const selfSigned = hubDevice({
      authentication: {
        type: 'selfSigned',
        x509Thumbprint: { primaryThumbprint: 'A'.repeat(40), secondaryThumbprint: null },
      },
    });
    const spec = { deviceId: 'd1', authentication: { type: 'sas' as const } };
    const fields = changedIdentityFields(identityStateFromHub(selfSigned), spec);
    assert.deepEqual(fields, ['authentication']);
    const body = identityUpdateBody(selfSigned, spec, fields, freshKeys);
    assert.deepEqual(body.authentication?.symmetricKey, { primaryKey: 'fresh-1', secondaryKey: 'fresh-2' });
  });

  test('adopt applies only declared fields that differ; keys only when supplied', () => {
    const spec = {
      deviceId: 'd1',
      status: 'enabled' as const,
      iotEdge: false,
      authentication: { type: 'sas' as const },
    };
    assert.deepEqual(changedIdentityFields(identityStateFromHub(current), spec), []);
    assert.deepEqual(
      changedIdentityFields(identityStateFromHub(current), {
        ...spec,
        primaryKey: KEY_B,
        secondaryKey: KEY_A,
      }),
      ['keys'],
    );
  });

  test('a create sends the supplied keys, else keys it generated (never asks the hub to generate them)', () => {
    const generated = () => ({ primaryKey: 'generated-1', secondaryKey: 'generated-2' });
    const body = identityCreateBody('device', { deviceId: 'd1', authentication: { type: 'sas' } }, generated);
    assert.deepEqual(body.authentication?.symmetricKey, generated());
    assert.deepEqual(body.capabilities, { iotEdge: false });
    assert.equal(body.status, 'enabled');
    const supplied = {
      deviceId: 'd1',
      authentication: { type: 'sas' as const },
      primaryKey: KEY_A,
      secondaryKey: KEY_B,
    };
    assert.deepEqual(identityCreateBody('device', supplied, generated).authentication?.symmetricKey, {
      primaryKey: KEY_A,
      secondaryKey: KEY_B,
    });
    const selfSigned = {
      deviceId: 'd1',
      authentication: { type: 'selfSigned' as const, primaryThumbprint: 'ab'.repeat(20) },
    };
    assert.deepEqual(identityCreateBody('device', selfSigned, generated).authentication?.symmetricKey, {
      primaryKey: null,
      secondaryKey: null,
    });
  });

  test('an identity is recognised as our create only when it is exactly what the create sent', () => {
    const generated = () => ({ primaryKey: KEY_A, secondaryKey: KEY_B });
    const sent = identityCreateBody(
      'module',
      { deviceId: 'd1', moduleId: 'm1', authentication: { type: 'sas' } },
      generated,
    );
    // What the hub answers: the sent fields plus its own (etag, generationId, managedBy null, ...).
    const held = {
      ...sent,
      etag: 'MQ==',
      generationId: '638',
      managedBy: null,
      connectionState: 'Disconnected',
    };
    assert.equal(isIdentityAsCreated(held, sent), true);
    const otherKeys = {
      ...held,
      authentication: { ...held.authentication, symmetricKey: { primaryKey: KEY_B, secondaryKey: KEY_A } },
    };
    assert.equal(isIdentityAsCreated(otherKeys, sent), false, 'someone else created it with other keys');
    assert.equal(isIdentityAsCreated({ ...held, managedBy: 'IotEdge' }, sent), false);
    const device = identityCreateBody(
      'device',
      { deviceId: 'd1', authentication: { type: 'sas' }, status: 'disabled' },
      generated,
    );
    assert.equal(isIdentityAsCreated({ ...device, statusReason: null }, device), true);
    assert.equal(isIdentityAsCreated({ ...device, status: 'enabled' }, device), false);
  });
});

describe('twin diff', () => {
  const olds = {
    hubConnectionString: HUB,
    deviceId: 'd1',
    moduleId: 'm1',
    desired: { a: { b: 1 }, c: 2 },
    tags: { env: 'dev' },
    desiredVersion: 3,
    etag: 'AAAAAAAAAAM=',
  };
  const news = {
    hubConnectionString: HUB,
    deviceId: 'd1',
    moduleId: 'm1',
    desired: { c: 2, a: { b: 1 } },
    tags: { env: 'dev' },
  };

  test('same owned leaves (any key order) and a new waitForAck are no change', () => {
    assert.equal(diffTwin(olds, news).changes, false);
    assert.equal(
      diffTwin(olds, { ...news, waitForAck: { timeoutSeconds: 5 } } as typeof news).changes,
      false,
    );
  });

  test('a changed, added or removed leaf updates in place', () => {
    const variants: JsonObject[] = [{ a: { b: 9 }, c: 2 }, { a: { b: 1 }, c: 2, d: 1 }, { a: { b: 1 } }];
    for (const desired of variants) {
      assert.deepEqual(diffTwin(olds, { ...news, desired }), {
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      });
    }
    assert.equal(diffTwin(olds, { ...news, tags: {} }).changes, true);
  });

  test('another module or hub replaces', () => {
    assert.deepEqual(diffTwin(olds, { ...news, moduleId: 'm2' }).replaces, ['moduleId']);
    assert.deepEqual(diffTwin(olds, { ...news, hubConnectionString: OTHER_HUB }).replaces, [
      'hubConnectionString',
    ]);
    assert.equal(diffTwin(olds, { ...news, hubConnectionString: SAME_HUB_OTHER_KEY }).replaces.length, 0);
  });
});
