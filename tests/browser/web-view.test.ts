/**
 * The hub's web view in a real browser (Debian's chromium through playwright-core, the hub's key pinned:
 * tests/support/web-view-browser.ts). One walk through, as a user would: a wrong key is refused; a service
 * connection string signs in; a module's twin page shows a desired value pending while the module is
 * offline, acknowledged once the device runtime has applied it, rejected with the runtime's reason for an
 * invalid value; keys stay masked (and out of the page) until revealed; telemetry appears live;
 * configurations show their metrics; signing out forgets the credential. A screenshot of every page goes
 * to test-output/browser/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type DeviceRuntime, startDeviceRuntime } from '../../device-runtime/index';
import { createHubClient, type HubClient } from '../../dynamic-providers/iothub-client';
import { buildServiceConnectionString } from '../../lib/connection-string';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import { within } from '../support/runtime-wait';
import { launchPinnedChromium, pinnedServerKey } from '../support/web-view-browser';

const DEVICE = 'view-device';
const MODULE = 'view-module';
const SHOTS = path.resolve(__dirname, '..', '..', 'test-output', 'browser');
/** Every wait in the page; generous for a loaded machine, it only bounds a failure. */
const UI_WAIT_MS = 20_000;

let hub: LocalHub;
let service: HubClient;
let browser: Browser;
let page: Page;
let runtime: DeviceRuntime | undefined;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  hub = await startTestHub();
  service = createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificatePem });
  await service.registry.create({ deviceId: DEVICE });
  await service.registry.addModule({ deviceId: DEVICE, moduleId: MODULE } as any);
  await service.registry.updateTwin(DEVICE, { tags: { ring: 'view' } } as any, '*');
  await service.registry.addConfiguration({
    id: 'view-ring-settings',
    content: { deviceContent: { 'properties.desired.settings': { level: 'standard' } } },
    targetCondition: "tags.ring='view'",
    priority: 3,
    labels: { owner: 'web-view-test' },
    metrics: { queries: { viewRing: "SELECT deviceId FROM devices WHERE tags.ring='view'" } },
  } as any);
  browser = await launchPinnedChromium(await pinnedServerKey(hub));
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.setDefaultTimeout(UI_WAIT_MS);
});

after(async () => {
  if (runtime) await within('the device runtime to stop', runtime.stop());
  await browser?.close();
  await hub?.close();
});

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

function statusOf(property: string) {
  return page.locator(`#acks tr[data-property="${property}"] td.status`);
}

async function writeDesired(desired: Record<string, unknown>): Promise<number> {
  const result = await service.registry.updateModuleTwin(DEVICE, MODULE, { properties: { desired } }, '*');
  return (result.responseBody as any).properties.desired.$version;
}

test('the web view, signed in with a service connection string, follows a module live', async () => {
  const webViewUrl = hub.webViewUrl;
  assert.ok(webViewUrl, 'the web view is on by default');

  // A wrong key: refused by the hub, the sign-in form says so.
  await page.goto(webViewUrl);
  const wrongKey = buildServiceConnectionString({
    hostName: hub.hostName,
    sharedAccessKeyName: 'iothubowner',
    sharedAccessKey: Buffer.alloc(32, 1).toString('base64'),
  });
  await page.fill('#credential', wrongKey);
  await page.click('#sign-in');
  await page.locator('#login-error', { hasText: 'The hub refused this credential' }).waitFor();
  assert.equal(await page.isVisible('#nav'), false, 'nothing but the form after a refusal');
  await shot('sign-in-refused');

  // The right one: the list of identities.
  await page.fill('#credential', hub.serviceConnectionString());
  await page.click('#sign-in');
  await page.locator(`tr[data-identity="${DEVICE}/${MODULE}"]`).waitFor();
  const stored = await page.evaluate(() => JSON.stringify((globalThis as any).sessionStorage));
  assert.ok(!stored.includes('SharedAccessSignature'), 'only the credential is kept, not tokens');

  // The module is offline: a desired value stays pending.
  await page.click(`tr[data-identity="${DEVICE}/${MODULE}"] a`);
  await page.locator('#doc-desired').waitFor();
  const slow = await writeDesired({ telemetryInterval: 2 });
  await statusOf('telemetryInterval').filter({ hasText: 'pending' }).waitFor();
  await page.locator('#doc-desired h3', { hasText: `$version ${slow}` }).waitFor();
  await shot('twin-pending');

  // The device runtime connects, applies it and acknowledges: acknowledged.
  runtime = await startDeviceRuntime({
    connectionString: hub.deviceConnectionString(DEVICE, MODULE),
    ca: hub.caCertificatePem,
    env: {},
    config: { telemetryIntervalSeconds: 1, operationTimeoutSeconds: 10, reconnectMinDelaySeconds: 0.1 },
  });
  await statusOf('telemetryInterval').filter({ hasText: 'acknowledged' }).waitFor();
  assert.equal(
    await page.locator('#acks tr[data-property="telemetryInterval"] td').nth(3).textContent(),
    `200 · ${slow}`,
  );

  // An invalid value: rejected, with the runtime's reason.
  const invalid = await writeDesired({ telemetryInterval: -5 });
  await statusOf('telemetryInterval').filter({ hasText: 'rejected' }).waitFor();
  const reason = await statusOf('telemetryInterval').locator('.reason').textContent();
  assert.match(reason ?? '', /telemetryInterval must be a number of seconds from 0\.1 to 86400; got -5/);
  assert.equal(
    await page.locator('#acks tr[data-property="telemetryInterval"] td').nth(3).textContent(),
    `400 · ${invalid}`,
  );

  // Telemetry appears on the module's page, live (two messages: the list grows without a reload).
  await page.locator('table.telemetry tbody tr').nth(1).waitFor();
  assert.match(
    (await page.locator('table.telemetry td.body').first().textContent()) ?? '',
    /"telemetryInterval":2/,
  );

  // Keys: masked, and not in the page at all until revealed.
  const module = (await service.registry.getModule(DEVICE, MODULE)).responseBody as any;
  const primaryKey: string = module.authentication.symmetricKey.primaryKey;
  assert.ok(!(await page.content()).includes(primaryKey), 'the key is not in the page before it is revealed');
  await shot('twin');
  await page.click('#reveal-keys');
  await page.locator('code.secret', { hasText: primaryKey }).waitFor();
  await page.click('#hide-keys');
  await page.locator('#reveal-keys').waitFor();
  assert.ok(!(await page.content()).includes(primaryKey), 'hidden again');

  // Every identity's telemetry.
  await page.click('nav a[data-page="telemetry"]');
  await page
    .locator('table.telemetry tbody tr td a', { hasText: `${DEVICE}/${MODULE}` })
    .first()
    .waitFor();
  await shot('telemetry');

  // Configurations with their system and custom metrics.
  await page.click('nav a[data-page="configurations"]');
  const card = page.locator('article[data-configuration="view-ring-settings"]');
  await card.locator('[data-metric="applied"] .metric-count', { hasText: '1' }).waitFor();
  assert.equal(await card.locator('[data-metric="targeted"] .metric-count').textContent(), '1');
  assert.equal(await card.locator('[data-metric="viewRing"] .metric-count').textContent(), '1');
  await shot('configurations');

  // The list again, now with the module connected and its acknowledgement counted.
  await page.click('nav a[data-page="identities"]');
  const row = page.locator(`tr[data-identity="${DEVICE}/${MODULE}"]`);
  await row.locator('.badge-connected').waitFor();
  await row.locator('.badge-rejected').waitFor();
  await shot('identities');

  // Signing out forgets the credential: a reload asks again.
  await page.click('#sign-out');
  await page.locator('#login-form').waitFor();
  assert.equal(await page.evaluate(() => (globalThis as any).sessionStorage.length), 0);
  await page.reload();
  await page.locator('#login-form').waitFor();
});
