/**
 * The web view on the hub's port, without a browser: the static page and scripts with their security
 * headers (CSP without inline code, nosniff, no framing, no caching) and no secret in them; the JSON
 * endpoints verified like every service route (401 in the legacy shape: no token, a wrong key, an expired
 * token, a policy without the right); no key in what they return; `webView: false` makes every view path
 * 404; a pending long poll does not hold up the hub's close.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import type { LocalHub } from '../../local-hub/index';
import { hubGet, serviceToken } from '../support/hub-https';
import { startTestHub } from '../support/local-hub-fixture';
import { waitFor, within } from '../support/runtime-wait';

const API = '?api-version=2021-04-12';
let hub: LocalHub;
let off: LocalHub;
let moduleKey: string;

before(async () => {
  [hub, off] = await Promise.all([startTestHub(), startTestHub({ webView: false })]);
  const service = createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificatePem });
  await service.registry.create({ deviceId: 'wv' });
  const created = await service.registry.addModule({ deviceId: 'wv', moduleId: 'm' } as any);
  moduleKey = (created.responseBody as any).authentication.symmetricKey.primaryKey;
  await service.registry.updateModuleTwin('wv', 'm', { properties: { desired: { a: 1, b: 2 } } }, '*');
  hub.state.patchReported('wv', 'm', {
    a: { value: 1, ac: 200, av: 2 },
    b: { value: 2, ac: 400, av: 2, ad: 'no' },
  });
});

after(async () => {
  await Promise.all([hub.close(), off.close()]);
});

describe('web view: static files', () => {
  test('the page and its scripts, with a CSP that allows no inline code and no other origin', async () => {
    assert.equal(hub.webViewUrl, `https://${hub.hostName}/local-hub/view/`);
    for (const [path, type] of [
      ['/local-hub/view/', 'text/html; charset=utf-8'],
      ['/local-hub/view/app.js', 'text/javascript; charset=utf-8'],
      ['/local-hub/view/auth.js', 'text/javascript; charset=utf-8'],
      ['/local-hub/view/app.css', 'text/css; charset=utf-8'],
    ] as const) {
      const reply = await hubGet(hub, path, null);
      assert.equal(reply.status, 200, path);
      assert.equal(reply.headers['content-type'], type);
      const csp = String(reply.headers['content-security-policy']);
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self';/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(reply.headers['x-content-type-options'], 'nosniff');
      assert.equal(reply.headers['cache-control'], 'no-store');
      assert.equal(reply.headers['referrer-policy'], 'no-referrer');
      for (const secret of [moduleKey, ...WELL_KNOWN_POLICIES.map((p) => p.primaryKey)]) {
        assert.ok(!reply.text.includes(secret), `${path} holds no key`);
      }
    }
    const html = (await hubGet(hub, '/local-hub/view/', null)).text;
    assert.doesNotMatch(
      html,
      /<script>|<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+=|style=/i,
      'no inline script, handler or style',
    );
  });

  test('/local-hub/view redirects to the trailing slash; unknown files 404; only GET and HEAD', async () => {
    const bare = await hubGet(hub, '/local-hub/view', null);
    assert.deepEqual([bare.status, bare.headers['location']], [308, '/local-hub/view/']);
    assert.equal((await hubGet(hub, '/local-hub/view/../../devices', null)).status, 404);
    assert.equal((await hubGet(hub, '/local-hub/view/secret.txt', null)).status, 404);
  });

  test('webView: false: every view path, the API included, is an ordinary 404', async () => {
    assert.equal(off.webViewUrl, null);
    for (const path of [
      '/local-hub/view/',
      '/local-hub/view/app.js',
      `/local-hub/view/api/identities${API}`,
    ]) {
      const reply = await hubGet(off, path, serviceToken(off, 'iothubowner'));
      assert.equal(reply.status, 404, path);
      assert.equal(reply.headers['iothub-errorcode'], 'GenericNotFound');
    }
    // The telemetry endpoint is not part of the view: it stays.
    assert.equal((await hubGet(off, `/local-hub/telemetry${API}`, serviceToken(off, 'service'))).status, 200);
  });
});

describe('web view: JSON endpoints', () => {
  test('identities: devices with their modules, status, connection state and ack counts, no keys', async () => {
    const reply = await hubGet(hub, `/local-hub/view/api/identities${API}`, serviceToken(hub, 'service'));
    assert.equal(reply.status, 200, reply.text);
    const [device] = reply.json.devices;
    assert.equal(device.deviceId, 'wv');
    assert.equal(device.status, 'enabled');
    assert.deepEqual(device.modules[0].acks, { acknowledged: 1, pending: 0, rejected: 1 });
    assert.equal(device.modules[0].connectionState, 'Disconnected');
    assert.ok(!reply.text.includes(moduleKey), 'no key in the list');
    assert.ok(!/symmetricKey|primaryKey/.test(reply.text));
  });

  test('twin: desired and reported without $metadata, each desired property classified', async () => {
    const reply = await hubGet(
      hub,
      `/local-hub/view/api/twins/wv/modules/m${API}`,
      serviceToken(hub, 'service'),
    );
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.moduleId, 'm');
    assert.deepEqual(reply.json.desired, { a: 1, b: 2, $version: 2 });
    assert.equal(reply.json.reported.$version, 2);
    assert.deepEqual(
      reply.json.acks.map((a: any) => [a.key, a.status, a.reason]),
      [
        ['a', 'acknowledged', undefined],
        ['b', 'rejected', 'no'],
      ],
    );
    assert.ok(!reply.text.includes(moduleKey));
    const missing = await hubGet(hub, `/local-hub/view/api/twins/nobody${API}`, serviceToken(hub, 'service'));
    assert.equal(missing.status, 404);
  });

  test('every request is verified: no token, a wrong key, an expired token, a policy without the right', async () => {
    const now = Math.floor(Date.now() / 1000);
    const twin = `/local-hub/view/api/twins/wv/modules/m${API}`;
    const identities = `/local-hub/view/api/identities${API}`;
    const refused: [string, string | null][] = [
      [identities, null],
      [identities, serviceToken(hub, 'service', { key: Buffer.alloc(32, 3).toString('base64') })],
      [identities, serviceToken(hub, 'service', { expiresAt: now - 1 })],
      // DeviceConnect alone reads nothing of the service side.
      [identities, serviceToken(hub, 'device')],
      // A twin needs ServiceConnect, as GET /twins does.
      [twin, serviceToken(hub, 'registryRead')],
    ];
    for (const [path, authorization] of refused) {
      const reply = await hubGet(hub, path, authorization);
      assert.equal(reply.status, 401, `${path} with ${authorization === null ? 'no token' : 'that token'}`);
      assert.match(reply.json.Message, /^ErrorCode:IotHubUnauthorizedAccess;/);
    }
    assert.equal((await hubGet(hub, identities, serviceToken(hub, 'registryRead'))).status, 200);
  });

  test('a token that expires between two requests is refused on the second', async () => {
    const path = `/local-hub/view/api/identities${API}`;
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    const token = serviceToken(hub, 'service', { expiresAt });
    assert.equal((await hubGet(hub, path, token)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (expiresAt + 1) * 1000 - Date.now())));
    assert.equal((await hubGet(hub, path, token)).status, 401);
  });
});

describe("long polls and the hub's close", () => {
  test('close() ends a pending long poll instead of waiting for it', async () => {
    const closing = await startTestHub();
    const poll = hubGet(
      closing,
      `/local-hub/telemetry${API}&waitMs=30000`,
      serviceToken(closing, 'service'),
    ).catch((error: unknown) => error);
    // Wait until the hub holds the poll (a poll that never started would prove nothing).
    const window = closing.state.telemetry as unknown as { waiters: Set<unknown> };
    await waitFor('the hub to hold the long poll', () => (window.waiters.size > 0 ? true : undefined));
    await within('the hub to close with a long poll pending', closing.close(), 10_000);
    await within('the poll to end', poll, 10_000);
  });
});
