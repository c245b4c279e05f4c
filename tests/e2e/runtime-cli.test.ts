/**
 * `npm run device` as a process: configured from the environment (connection string + CA file), it logs
 * each applied patch in one line, never prints the key, and exits 0 on SIGTERM after closing the client.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { parseDeviceConnectionString } from '../../lib/connection-string';
import { startTestHub } from '../support/local-hub-fixture';
import { spawnRuntimeCli } from '../support/runtime-cli-process';
import { waitFor, within } from '../support/runtime-wait';

const _PROJECT_ROOT = path.resolve(__dirname, '..', '..');

test('the CLI applies a patch, logs it in one line, redacts its key and exits 0 on SIGTERM', async (t) => {
  const hub = await startTestHub();
  t.after(() => hub.close());
  const dir = mkdtempSync(path.join(tmpdir(), 'runtime-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const caFile = path.join(dir, 'ca.pem');
  writeFileSync(caFile, hub.caCertificatePem);
  const service = createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificatePem });
  await service.registry.create({ deviceId: 'cli-device' });
  await service.registry.addModule({ deviceId: 'cli-device', moduleId: 'cli-module' } as Parameters<
    typeof service.registry.addModule
  >[0]);
  const connectionString = hub.deviceConnectionString('cli-device', 'cli-module');
  const key = parseDeviceConnectionString(connectionString).sharedAccessKey!;

  const { child, output, exited } = spawnRuntimeCli(t, connectionString, caFile);

  await waitFor('the first full GET', () => output().includes('(full document) received') || undefined);
  const result = await service.registry.updateModuleTwin(
    'cli-device',
    'cli-module',
    { properties: { desired: { telemetryInterval: 30 } } },
    '*',
  );
  const version = (result.responseBody as unknown as { properties: { desired: { $version: number } } })
    .properties.desired.$version;
  const line = `Twin desired properties patch received: version ${version}, telemetryInterval=30 (applied)`;
  await waitFor('the patch log line', () => output().includes(line) || undefined);

  child.kill('SIGTERM');
  const [code, signal] = await within(
    () => `the CLI to exit after SIGTERM; its output:\n${output()}`,
    exited,
  );
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, output());
  assert.match(output(), /SIGTERM received; stopping[\s\S]*Device runtime stopped/);
  assert.ok(!output().includes(key), 'the module key appeared in the output');
});
