import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertLegacyError, OWNER_POLICY as owner, RestTestServer } from '../support/rest-test-server';

describe('service REST API', () => {
  const hub = new RestTestServer();
  before(() => hub.start());
  after(() => hub.stop());

  test('device lifecycle: create-only PUT, 409, If-Match update, 412, 404, DELETE 204', async () => {
    const created = await hub.call('PUT', '/devices/dev1', { body: { deviceId: 'dev1' } });
    assert.equal(created.status, 200);
    assert.equal(created.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(created.json.deviceId, 'dev1');
    assert.equal(Buffer.from(created.json.authentication.symmetricKey.primaryKey, 'base64').length, 32);

    assertLegacyError(
      await hub.call('PUT', '/devices/dev1', { body: {} }),
      409,
      'DeviceAlreadyExists',
      'dev1',
    );
    assertLegacyError(
      await hub.call('PUT', '/devices/ghost', { body: {}, headers: { 'if-match': '"*"' } }),
      404,
      'DeviceNotFound',
    );
    const stale = await hub.call('PUT', '/devices/dev1', { body: {}, headers: { 'if-match': '"c3RhbGU="' } });
    assertLegacyError(stale, 412, 'PreconditionFailed');

    const body = { ...created.json, status: 'disabled', statusReason: 'maintenance' };
    const updated = await hub.call('PUT', '/devices/dev1', {
      body,
      headers: { 'if-match': `"${created.json.etag}"` },
    });
    assert.equal(updated.status, 200);
    assert.equal(updated.json.status, 'disabled');
    assert.equal(
      updated.json.authentication.symmetricKey.primaryKey,
      created.json.authentication.symmetricKey.primaryKey,
    );

    const got = await hub.call('GET', '/devices/dev1');
    assert.deepEqual(got.json, updated.json);
    const list = await hub.call('GET', '/devices?top=5');
    assert.ok(list.json.some((d: any) => d.deviceId === 'dev1'));
    const stats = await hub.call('GET', '/statistics/devices');
    assert.equal(stats.json.disabledDeviceCount >= 1, true);

    assertLegacyError(
      await hub.call('DELETE', '/devices/dev1', { headers: { 'if-match': '"c3RhbGU="' } }),
      412,
      'PreconditionFailed',
    );
    const deleted = await hub.call('DELETE', '/devices/dev1', { headers: { 'if-match': '"*"' } });
    assert.equal(deleted.status, 204);
    assert.equal(deleted.text, '');
    assertLegacyError(await hub.call('GET', '/devices/dev1'), 404, 'DeviceNotFound');
  });

  test('modules and twins with percent-encoded ids; twin PATCH/PUT with etags', async () => {
    const d = encodeURIComponent('d 1');
    const m = encodeURIComponent('m/1');
    // Decoded before validation: the errors name the decoded characters.
    const bad = await hub.call('PUT', `/devices/${d}/modules/${m}`, { body: {} });
    assertLegacyError(bad, 400, 'ArgumentInvalid', 'deviceId', '" "', 'moduleId', '"/"');
    assertLegacyError(
      await hub.call('PUT', '/devices/d%2B1/modules/m1', { body: {} }),
      404,
      'DeviceNotFound',
    );
    assert.equal((await hub.call('PUT', '/devices/d%2B1', { body: { deviceId: 'd+1' } })).status, 200);
    const mod = await hub.call('PUT', `/devices/d%2B1/modules/${m}`, { body: { moduleId: 'm/1' } });
    assert.equal(mod.status, 400, 'a slash is not a valid module id character');
    const ok = await hub.call('PUT', '/devices/d%2B1/modules/m%3A1', {
      body: { deviceId: 'd+1', moduleId: 'm:1' },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.moduleId, 'm:1');
    assertLegacyError(
      await hub.call('PUT', '/devices/d%2B1/modules/m%3A1', { body: {} }),
      409,
      'ModuleAlreadyExistsOnDevice',
    );
    assert.deepEqual(
      (await hub.call('GET', '/devices/d%2B1/modules')).json.map((x: any) => x.moduleId),
      ['m:1'],
    );

    const twin = await hub.call('GET', '/twins/d%2B1/modules/m%3A1');
    assert.equal(twin.json.etag, 'AAAAAAAAAAE=');
    const patched = await hub.call('PATCH', '/twins/d%2B1/modules/m%3A1', {
      body: { properties: { desired: { telemetryInterval: 122 } } },
      headers: { 'if-match': `"${twin.json.etag}"` },
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.json.properties.desired.telemetryInterval, 122);
    assert.equal(patched.json.properties.desired.$version, 2);
    assertLegacyError(
      await hub.call('PATCH', '/twins/d%2B1/modules/m%3A1', {
        body: { tags: { a: 1 } },
        headers: { 'if-match': `"${twin.json.etag}"` },
      }),
      412,
      'PreconditionFailed',
    );
    const replaced = await hub.call('PUT', '/twins/d%2B1/modules/m%3A1', {
      body: { ...patched.json, tags: { t: 1 }, properties: { desired: { other: 1 } } },
      headers: { 'if-match': '"*"' },
    });
    assert.deepEqual([replaced.json.tags, replaced.json.properties.desired.other], [{ t: 1 }, 1]);
    assert.equal(replaced.json.properties.desired.telemetryInterval, undefined);
    const deviceTwin = await hub.call('PATCH', '/twins/d%2B1', { body: { tags: { x: 'y' } } });
    assert.deepEqual(deviceTwin.json.tags, { x: 'y' }, 'no If-Match on a twin PATCH means unconditional');
    assertLegacyError(await hub.call('GET', '/twins/d%2B1/modules/nope'), 404, 'ModuleNotFound');
    assert.equal(
      (await hub.call('DELETE', '/devices/d%2B1/modules/m%3A1', { headers: { 'if-match': '"*"' } })).status,
      204,
    );
  });

  test('bulk: 200 when all succeed, 400 with BulkRegistryOperationResult otherwise', async () => {
    const all = await hub.call('POST', '/devices', {
      body: [
        { id: 'bulk1', importMode: 'create' },
        { id: 'bulk2', importMode: 'Create' },
      ],
    });
    assert.equal(all.status, 200);
    assert.deepEqual(all.json, { isSuccessful: true, errors: [], warnings: [] });
    const some = await hub.call('POST', '/devices', {
      body: [
        { id: 'bulk3', importMode: 'create' },
        { id: 'bulk1', importMode: 'create' },
      ],
    });
    assert.equal(some.status, 400);
    assert.equal(some.json.isSuccessful, false);
    assert.deepEqual(
      some.json.errors.map((e: any) => [e.deviceId, e.errorCode]),
      [['bulk1', 'DeviceAlreadyExists']],
    );
    assert.equal((await hub.call('GET', '/devices/bulk3')).status, 200);
    const many = Array.from({ length: 101 }, (_, i) => ({ id: `many${i}`, importMode: 'create' }));
    assertLegacyError(
      await hub.call('POST', '/devices', { body: many }),
      400,
      'ArgumentInvalid',
      '101 entries',
    );
  });

  test('query: POST /devices/query pages with x-ms-max-item-count and x-ms-continuation', async () => {
    for (const id of ['qa', 'qb', 'qc']) {
      await hub.call('PUT', `/devices/${id}`, { body: {} });
      await hub.call('PATCH', `/twins/${id}`, { body: { tags: { group: 'q' } } });
    }
    const query = { query: "SELECT * FROM devices WHERE tags.group = 'q'" };
    const first = await hub.call('POST', '/devices/query', {
      body: query,
      headers: { 'x-ms-max-item-count': '2' },
    });
    assert.equal(first.status, 200);
    assert.deepEqual(
      first.json.map((t: any) => t.deviceId),
      ['qa', 'qb'],
    );
    const token = first.headers['x-ms-continuation'] as string;
    assert.ok(token);
    const second = await hub.call('POST', '/devices/query', {
      body: query,
      headers: { 'x-ms-max-item-count': '2', 'x-ms-continuation': token },
    });
    assert.deepEqual(
      second.json.map((t: any) => t.deviceId),
      ['qc'],
    );
    assert.equal(second.headers['x-ms-continuation'], undefined, 'omitted on the last page');
    assert.equal(
      (await hub.call('GET', '/devices/query')).status,
      404,
      'GET /devices/query is the device "query"',
    );
  });

  test('routing: 404 unknown route, 405 wrong method with Allow, api-version required but any value accepted', async () => {
    assertLegacyError(await hub.call('GET', '/nothing/here'), 404, 'GenericNotFound');
    const wrong = await hub.call('POST', '/twins/x', { body: {} });
    assertLegacyError(wrong, 405, 'GenericMethodNotAllowed');
    assert.equal(wrong.headers['allow'], 'GET, PATCH, PUT');
    assertLegacyError(
      await hub.call('GET', '/statistics/devices', { apiVersion: null }),
      400,
      'ArgumentInvalid',
      'api-version',
    );
    assert.equal(
      (await hub.call('GET', '/statistics/devices', { apiVersion: '2099-12-31-preview' })).status,
      200,
    );
    assert.equal(
      (await hub.call('GET', '/Statistics/Devices/')).status,
      200,
      'literal segments ignore case and a trailing slash',
    );
  });

  test('one log line per request, never with the Authorization header or keys', async () => {
    hub.logLines.length = 0;
    const token = hub.token();
    await hub.call('PUT', '/devices/logged', { body: {} });
    await hub.call('GET', '/devices/logged');
    const requests = hub.logLines.filter((l) => l.includes(' request '));
    assert.equal(requests.length, 2);
    assert.match(requests[0]!, /method=PUT path=\/devices\/logged status=200 ms=[\d.]+/);
    const sig = /sig=([^&]+)/.exec(token)![1]!;
    for (const line of hub.logLines) {
      assert.ok(!line.includes(sig) && !line.includes(decodeURIComponent(sig)), 'no signature in logs');
      assert.ok(!line.includes(owner.primaryKey));
    }
  });
});
