import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IdentityRevoked } from '../../local-hub/hub-state';
import { STORE_MODES, throwsHub, withStore } from '../support/store-fixture';

for (const mode of STORE_MODES) {
  describe(`bulk registry operations (${mode})`, () => {
    test('create many at once, importMode case-insensitive, twin content applied', () => {
      withStore(mode, (state) => {
        const result = state.bulk([
          { id: 'b1', importMode: 'create' },
          { id: 'b2', importMode: 'CREATE', status: 'disabled' },
          {
            id: 'b1',
            moduleId: 'm1',
            importMode: 'Create',
            tags: { a: 1 },
            properties: { desired: { d: 2 } },
          },
        ]);
        assert.deepEqual(result, { isSuccessful: true, errors: [], warnings: [] });
        assert.equal(state.getDevice('b2').status, 'disabled');
        const twin = state.getTwin('b1', 'm1');
        assert.deepEqual(twin.tags, { a: 1 });
        assert.equal(twin.properties.desired['d'], 2);
      });
    });

    test('per-entry failures are reported and roll back only that entry', () => {
      withStore(mode, (state) => {
        const existing = state.createDevice('old', {});
        const result = state.bulk([
          { id: 'new1', importMode: 'create' },
          { id: 'old', importMode: 'create' },
          { id: 'old', moduleId: 'm', importMode: 'updateIfMatchETag', etag: 'c3RhbGU=' },
          { id: 'bad', importMode: 'create', statusReason: 'x'.repeat(200) },
          { id: 'new2', importMode: 'create' },
        ]);
        assert.equal(result.isSuccessful, false);
        assert.deepEqual(
          result.errors.map((e) => [e.deviceId, e.moduleId, e.errorCode]),
          [
            ['old', undefined, 'DeviceAlreadyExists'],
            ['old', 'm', 'ModuleNotFound'],
            ['bad', undefined, 'ArgumentInvalid'],
          ],
        );
        assert.deepEqual(
          state.listDevices().map((d) => d.deviceId),
          ['old', 'new1', 'new2'],
        );
        assert.equal(state.getDevice('old').etag, existing.etag);
      });
    });

    test('update and delete honour etag / eTag in the IfMatchETag modes', () => {
      withStore(mode, (state) => {
        const revoked: IdentityRevoked[] = [];
        state.onIdentityRevoked((e) => revoked.push(e));
        const a = state.createDevice('a', {});
        const b = state.createDevice('b', {});
        const result = state.bulk([
          {
            id: 'a',
            importMode: 'updateIfMatchETag',
            eTag: a.etag,
            status: 'disabled',
            authentication: a.authentication,
          },
          { id: 'b', importMode: 'deleteIfMatchETag', etag: 'c3RhbGU=' },
        ]);
        assert.deepEqual(
          result.errors.map((e) => e.errorCode),
          ['PreconditionFailed'],
        );
        assert.equal(state.getDevice('a').status, 'disabled');
        assert.equal(state.getDevice('b').etag, b.etag);
        assert.deepEqual(revoked, [{ deviceId: 'a', moduleId: null, reason: 'disabled' }]);
        assert.equal(state.bulk([{ id: 'b', importMode: 'delete' }]).isSuccessful, true);
        throwsHub(() => state.getDevice('b'), 404, 'DeviceNotFound');
        assert.equal(state.bulk([{ id: 'zz', importMode: 'update' }]).errors[0]?.errorCode, 'DeviceNotFound');
      });
    });

    test('a malformed request as a whole is 400 and writes nothing', () => {
      withStore(mode, (state) => {
        throwsHub(() => state.bulk({}), 400, 'ArgumentInvalid', 'array');
        throwsHub(() => state.bulk([]), 400, 'ArgumentInvalid', '1 to 100');
        const many = Array.from({ length: 101 }, (_, i) => ({ id: `x${i}`, importMode: 'create' }));
        throwsHub(() => state.bulk(many), 400, 'ArgumentInvalid', '101 entries');
        throwsHub(
          () =>
            state.bulk([
              { id: 'ok', importMode: 'create' },
              { id: 'ok', importMode: 'create' },
              { id: 'y', importMode: 'upsert' },
            ]),
          400,
          'ArgumentInvalid',
          '[1]',
          '[2].importMode',
        );
        assert.deepEqual(state.listDevices(), []);
      });
    });
  });

  describe(`twin queries (${mode})`, () => {
    test('SELECT * FROM devices / devices.modules with WHERE, paged with a continuation token', () => {
      withStore(mode, (state) => {
        for (const id of ['q1', 'q2', 'q3']) state.createDevice(id, {});
        state.createModule('q1', 'm1', {});
        state.patchTwin('q1', null, { tags: { site: 'north', n: 5 } }, '*');
        state.patchTwin('q2', null, { tags: { site: "o'hare", n: 7 } }, '*');
        const ids = (items: Record<string, unknown>[]) => items.map((t) => t['deviceId']);
        assert.deepEqual(ids(state.queryTwins('SELECT * FROM devices', 100).items), ['q1', 'q2', 'q3']);
        assert.deepEqual(
          ids(state.queryTwins("select * from devices where tags.site = 'o''hare'", 100).items),
          ['q2'],
        );
        assert.deepEqual(
          ids(
            state.queryTwins(
              "SELECT * FROM devices WHERE tags.n > 5 OR (deviceId = 'q3' AND NOT tags.n = 1)",
              100,
            ).items,
          ),
          ['q2', 'q3'],
        );
        const modules = state.queryTwins('SELECT * FROM devices.modules', 100).items;
        assert.deepEqual(
          modules.map((t) => t['moduleId']),
          ['m1'],
        );
        const page1 = state.queryTwins('SELECT * FROM devices', 2);
        assert.equal(page1.items.length, 2);
        assert.ok(page1.continuationToken);
        const page2 = state.queryTwins('SELECT * FROM devices', 2, page1.continuationToken);
        assert.deepEqual(ids(page2.items), ['q3']);
        assert.equal(page2.continuationToken, undefined, 'the last page has no continuation');
        throwsHub(
          () => state.queryTwins('SELECT deviceId FROM devices', 10),
          400,
          'ArgumentInvalid',
          'supported',
        );
        throwsHub(() => state.queryTwins(42, 10), 400, 'ArgumentInvalid', 'query');
      });
    });
  });
}
