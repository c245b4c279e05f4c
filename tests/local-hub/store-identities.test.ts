import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IdentityRevoked } from '../../local-hub/hub-state';
import {
  type DeviceIdentity,
  type HubState,
  NEVER_SET_TIME,
  RECENT_MESSAGES_PER_IDENTITY,
} from '../../local-hub/store';
import { STORE_MODES, throwsHub, withStore } from '../support/store-fixture';

const KEY_32 = Buffer.alloc(32, 7).toString('base64');
const KEY_8 = Buffer.alloc(8, 1).toString('base64');
const decodedEtag = (etag: string) => Buffer.from(etag, 'base64').toString('ascii');

const statistics = (total: number, enabled: number, disabled: number) => ({
  totalDeviceCount: total,
  enabledDeviceCount: enabled,
  disabledDeviceCount: disabled,
});

/** Device d1 with module m1, and every revocation the store announces from then on. */
function deviceWithModule(state: HubState): { d: DeviceIdentity; events: IdentityRevoked[] } {
  const events: IdentityRevoked[] = [];
  state.onIdentityRevoked((e) => events.push(e));
  const d = state.createDevice('d1', {});
  state.createModule('d1', 'm1', {});
  return { d, events };
}

for (const mode of STORE_MODES) {
  describe(`identity store (${mode})`, () => {
    test('create mints 32-byte keys for absent, empty and {} symmetric keys, with hub-shaped fields', () => {
      withStore(mode, (state) => {
        const bodies = [
          {},
          { authentication: { type: 'sas', symmetricKey: { primaryKey: '', secondaryKey: '' } } },
          { authentication: { symmetricKey: {} } },
        ];
        for (const [i, body] of bodies.entries()) {
          const d = state.createDevice(`d${i}`, body);
          assert.equal(d.authentication.type, 'sas');
          for (const key of [
            d.authentication.symmetricKey.primaryKey,
            d.authentication.symmetricKey.secondaryKey,
          ]) {
            assert.equal(Buffer.from(key!, 'base64').length, 32);
          }
          assert.notEqual(
            d.authentication.symmetricKey.primaryKey,
            d.authentication.symmetricKey.secondaryKey,
          );
          assert.match(decodedEtag(d.etag), /^\d+$/);
          assert.match(d.generationId, /^\d{18}$/);
          assert.equal(d.status, 'enabled');
          assert.equal(d.connectionState, 'Disconnected');
          assert.equal(d.lastActivityTime, NEVER_SET_TIME);
          assert.equal(d.statusUpdatedTime, NEVER_SET_TIME);
          assert.deepEqual(d.capabilities, { iotEdge: false });
          assert.deepEqual(d.parentScopes, []);
        }
      });
    });

    test('create keeps supplied keys and refuses an existing id with 409', () => {
      withStore(mode, (state) => {
        const body = {
          deviceId: 'd1',
          authentication: { symmetricKey: { primaryKey: KEY_32, secondaryKey: KEY_32 } },
        };
        assert.equal(state.createDevice('d1', body).authentication.symmetricKey.primaryKey, KEY_32);
        throwsHub(() => state.createDevice('d1', {}), 409, 'DeviceAlreadyExists', 'd1');
      });
    });

    test('invalid bodies are 400 ArgumentInvalid naming every path, never echoing keys, writing nothing', () => {
      withStore(mode, (state) => {
        const body = {
          deviceId: 'other',
          status: 'paused',
          statusReason: 'x'.repeat(129),
          authentication: {
            symmetricKey: { primaryKey: KEY_8, secondaryKey: 'not base64!' },
          },
        };
        assert.throws(
          () => state.createDevice('d1', body),
          (err: any) => {
            assert.equal(err.status, 400);
            assert.equal(err.code, 'ArgumentInvalid');
            for (const p of [
              'deviceId',
              'status',
              'statusReason',
              'authentication.symmetricKey.primaryKey',
            ]) {
              assert.ok(err.message.includes(p), `mentions ${p}: ${err.message}`);
            }
            assert.ok(!err.message.includes(KEY_8), 'the key is not echoed');
            return true;
          },
        );
        throwsHub(() => state.createDevice('bad id', {}), 400, 'ArgumentInvalid', 'deviceId');
        throwsHub(
          () =>
            state.createDevice('x509', {
              authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: 'abc' } },
            }),
          400,
          'ArgumentInvalid',
          'x509Thumbprint.primaryThumbprint',
        );
        assert.deepEqual(state.listDevices(), []);
      });
    });

    test('thumbprints: colons stripped, case-insensitive, SHA-1 or SHA-256; no keys for selfSigned', () => {
      withStore(mode, (state) => {
        const sha1 = `${'ab:'.repeat(19)}ab`;
        const sha256 = 'C'.repeat(64);
        const d = state.createDevice('x1', {
          authentication: { x509Thumbprint: { primaryThumbprint: sha1, secondaryThumbprint: sha256 } },
        });
        assert.equal(d.authentication.type, 'selfSigned');
        assert.equal(d.authentication.x509Thumbprint.primaryThumbprint, 'AB'.repeat(20));
        assert.equal(d.authentication.x509Thumbprint.secondaryThumbprint, sha256);
        assert.deepEqual(d.authentication.symmetricKey, { primaryKey: null, secondaryKey: null });
      });
    });

    test('update: 404 on a missing id, 412 on a stale etag, * matches; full replace keeps generationId', () => {
      withStore(mode, (state) => {
        throwsHub(() => state.updateDevice('nope', {}, '*'), 404, 'DeviceNotFound');
        const created = state.createDevice('d1', { statusReason: 'first' });
        throwsHub(() => state.updateDevice('d1', {}, 'c3RhbGU='), 412, 'PreconditionFailed');
        const keys = created.authentication.symmetricKey;
        const updated = state.updateDevice('d1', { authentication: { symmetricKey: keys } }, created.etag);
        assert.notEqual(updated.etag, created.etag);
        assert.equal(updated.generationId, created.generationId);
        assert.equal(updated.statusReason, null, 'omitted fields are reset (full PUT)');
        assert.deepEqual(updated.authentication.symmetricKey, keys);
        throwsHub(() => state.updateDevice('d1', {}, created.etag), 412, 'PreconditionFailed');
        assert.equal(
          state.updateDevice('d1', { authentication: { symmetricKey: keys } }, '*').status,
          'enabled',
        );
      });
    });

    test('update without keys mints new ones and revokes; disabling revokes the device and its modules', () => {
      withStore(mode, (state) => {
        const { d, events } = deviceWithModule(state);
        const same = state.updateDevice('d1', { authentication: d.authentication }, '*');
        assert.deepEqual(events, [], 'same credentials: nothing to revoke');
        const minted = state.updateDevice('d1', {}, '*');
        assert.notEqual(
          minted.authentication.symmetricKey.primaryKey,
          same.authentication.symmetricKey.primaryKey,
        );
        assert.deepEqual(events, [{ deviceId: 'd1', moduleId: null, reason: 'credentialsChanged' }]);
        events.length = 0;
        const disabled = state.updateDevice(
          'd1',
          { status: 'disabled', authentication: minted.authentication },
          '*',
        );
        assert.notEqual(disabled.statusUpdatedTime, NEVER_SET_TIME);
        assert.deepEqual(events, [
          { deviceId: 'd1', moduleId: null, reason: 'disabled' },
          { deviceId: 'd1', moduleId: 'm1', reason: 'disabled' },
        ]);
        assert.equal(
          state.findIdentity('d1', 'm1')?.status,
          'disabled',
          'a module inherits its device status',
        );
      });
    });

    test('modules: 404 DeviceNotFound without the device, 409 on duplicates, 404 ModuleNotFound on update', () => {
      withStore(mode, (state) => {
        throwsHub(() => state.createModule('d1', 'm1', {}), 404, 'DeviceNotFound');
        state.createDevice('d1', {});
        const m = state.createModule('d1', 'm1', { managedBy: 'IotEdge' });
        assert.equal(m.managedBy, 'IotEdge');
        assert.ok(!('status' in m) && !('capabilities' in m), 'modules have no status or capabilities');
        throwsHub(() => state.createModule('d1', 'm1', {}), 409, 'ModuleAlreadyExistsOnDevice');
        throwsHub(() => state.updateModule('d1', 'm2', {}, '*'), 404, 'ModuleNotFound');
        throwsHub(() => state.updateModule('d1', 'm1', {}, 'c3RhbGU='), 412, 'PreconditionFailed');
        assert.deepEqual(
          state.listModules('d1').map((x) => x.moduleId),
          ['m1'],
        );
        throwsHub(() => state.listModules('nope'), 404, 'DeviceNotFound');
      });
    });

    test('delete: stale etag is 412 and deletes nothing; a device takes its modules and twins along', () => {
      withStore(mode, (state) => {
        const { d, events } = deviceWithModule(state);
        state.createDevice('d2', {});
        throwsHub(() => state.deleteDevice('d1', 'c3RhbGU='), 412, 'PreconditionFailed');
        assert.equal(state.getModule('d1', 'm1').moduleId, 'm1');
        state.deleteDevice('d1', d.etag);
        throwsHub(() => state.getDevice('d1'), 404, 'DeviceNotFound');
        throwsHub(() => state.getTwin('d1', 'm1'), 404, 'DeviceNotFound');
        assert.equal(state.findIdentity('d1', 'm1'), undefined);
        assert.deepEqual(
          events.map((e) => `${e.moduleId}:${e.reason}`),
          ['null:deleted', 'm1:deleted'],
        );
        throwsHub(() => state.deleteDevice('d1'), 404, 'DeviceNotFound');
        // Re-created with the same id: a new twin and a new etag (never reused).
        const again = state.createDevice('d1', {});
        assert.notEqual(again.etag, d.etag);
        assert.equal(state.getTwin('d1', null).etag, 'AAAAAAAAAAE=');
        assert.deepEqual(state.statistics(), statistics(2, 2, 0));
      });
    });

    test('edge devices get their own scope; statistics count enabled and disabled devices only', () => {
      withStore(mode, (state) => {
        const edge = state.createDevice('edge1', { capabilities: { iotEdge: true } });
        assert.equal(edge.deviceScope, `ms-azure-iot-edge://edge1-${edge.generationId}`);
        const leaf = state.createDevice('leaf', { deviceScope: edge.deviceScope, status: 'Disabled' });
        assert.equal(leaf.status, 'disabled');
        assert.deepEqual(leaf.parentScopes, [edge.deviceScope]);
        state.createModule('edge1', 'm', {});
        assert.deepEqual(state.statistics(), statistics(2, 1, 1));
      });
    });

    test('connection state, activity and recent messages are visible through GET', () => {
      withStore(mode, (state) => {
        state.createDevice('d1', {});
        state.createModule('d1', 'm1', {});
        state.setConnectionState('d1', 'm1', true);
        const connected = state.getModule('d1', 'm1');
        assert.equal(connected.connectionState, 'Connected');
        assert.notEqual(connected.connectionStateUpdatedTime, NEVER_SET_TIME);
        assert.notEqual(connected.lastActivityTime, NEVER_SET_TIME);
        assert.equal(state.getTwin('d1', 'm1').connectionState, 'Connected');
        assert.equal(state.getDevice('d1').connectionState, 'Disconnected');
        state.setConnectionState('d1', 'm1', false);
        assert.equal(state.getModule('d1', 'm1').connectionState, 'Disconnected');
        const kept = RECENT_MESSAGES_PER_IDENTITY;
        for (let i = 0; i < kept + 10; i++) {
          state.recordMessage({
            deviceId: 'd1',
            moduleId: 'm1',
            properties: {},
            body: Buffer.from(String(i)),
            receivedAt: new Date().toISOString(),
          });
        }
        const recent = state.recentMessages('d1', 'm1');
        assert.equal(recent.length, kept);
        assert.equal(recent[0]!.body.toString(), '10');
        assert.equal(recent[kept - 1]!.body.toString(), String(kept + 9));
      });
    });
  });
}
