/**
 * `npm run device` shows the telemetry it sends (a line per message at an interval of a second or more),
 * and a hub whose certificate it does not trust (another hub's CA, or none) makes it say once what to
 * pass and exit 3 instead of retrying forever; once it was connected, a changed certificate is said once
 * and retried.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type TestContext, test } from 'node:test';
import { startDeviceRuntime } from '../../device-runtime/index';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import { spawnProjectScript } from '../support/runtime-cli-process';
import { waitFor, within } from '../support/runtime-wait';

async function hubWithModule(
  t: TestContext,
): Promise<{ hub: LocalHub; dir: string; connectionString: string }> {
  const hub = await startTestHub();
  t.after(() => hub.close());
  const dir = mkdtempSync(path.join(tmpdir(), 'runtime-trust-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { registry } = createHubClient(hub.serviceConnectionString(), {
    caCertificate: hub.caCertificatePem,
  });
  await registry.create({ deviceId: 'trust-device' });
  await registry.addModule({ deviceId: 'trust-device', moduleId: 'trust-module' } as Parameters<
    typeof registry.addModule
  >[0]);
  return { hub, dir, connectionString: hub.deviceConnectionString('trust-device', 'trust-module') };
}

/** `npm run device` with the connection string in a file (never argv) and `extraArgs`. */
function runDevice(t: TestContext, dir: string, connectionString: string, extraArgs: string[]) {
  const file = path.join(dir, 'module.cs');
  writeFileSync(file, connectionString, { mode: 0o600 });
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('IOTHUB_') && !name.startsWith('DEVICE_'),
    ),
  );
  return spawnProjectScript(
    t,
    path.join('device-runtime', 'cli.ts'),
    ['--connection-string-file', file, ...extraArgs],
    base,
  );
}

test('npm run device logs each telemetry message it sends, with its body', async (t) => {
  const { hub, dir, connectionString } = await hubWithModule(t);
  const caFile = path.join(dir, 'ca.pem');
  writeFileSync(caFile, hub.caCertificatePem);
  const { child, output, exited } = runDevice(t, dir, connectionString, [
    '--ca',
    caFile,
    '--telemetry-interval',
    '1',
  ]);
  await waitFor(
    () => `two telemetry lines; output so far:\n${output()}`,
    () =>
      (output().match(
        /Telemetry sent on output "telemetry": \{"sequence":\d+,"telemetryInterval":1,"sentAt":"[^"]+"\}/g,
      )?.length ?? 0) >= 2 || undefined,
  );
  child.kill('SIGTERM');
  const [code] = await within(() => `the runtime to exit; output:\n${output()}`, exited);
  assert.equal(code, 0, output());
  assert.ok(!output().includes(/SharedAccessKey=([^;]+)/.exec(connectionString)![1]!), 'the key appeared');
});

test("a hub certificate the runtime does not trust: one message naming --ca, exit 3 (another hub's CA, or none)", async (t) => {
  const { dir, connectionString } = await hubWithModule(t);
  const other = await startTestHub();
  t.after(() => other.close());
  const otherCa = path.join(dir, 'other-ca.pem');
  writeFileSync(otherCa, other.caCertificatePem);
  for (const [args, given] of [
    [['--ca', otherCa], 'the CA given did not sign it'],
    [[], 'no CA was given'],
  ] as const) {
    const { output, exited } = runDevice(t, dir, connectionString, [...args]);
    const [code] = await within(() => `the runtime to exit (${given}); output:\n${output()}`, exited);
    assert.equal(code, 3, output());
    const said = output().match(/the hub's certificate is not trusted/g) ?? [];
    assert.equal(said.length, 1, `said once:\n${output()}`);
    assert.match(output(), /pass --ca <file> \(or IOTHUB_CA_FILE\)/);
    assert.match(output(), new RegExp(`${given}\\. Stopping: retrying cannot fix this\\.`));
    assert.doesNotMatch(output(), /retrying in \d+ ms/);
  }
});

test('a certificate that changes after the first connection: said once, and the runtime keeps retrying', async (t) => {
  const { hub, connectionString } = await hubWithModule(t);
  const lines: string[] = [];
  const runtime = await startDeviceRuntime({
    connectionString,
    ca: hub.caCertificatePem,
    env: {},
    config: { reconnectMinDelaySeconds: 0.05, reconnectMaxDelaySeconds: 0.2, telemetryIntervalSeconds: 60 },
    logger: { info: (line) => lines.push(line), warn: (line) => lines.push(line) },
  });
  t.after(() => runtime.stop());
  let fatal = false;
  runtime.on('fatal', () => {
    fatal = true;
  });
  await within('the runtime to connect', once(runtime, 'connected'));
  const port = hub.port;
  await hub.close();
  // Another in-memory hub on the same address: a CA of its own, which the runtime was not given.
  const impostor = await startTestHub({ port });
  t.after(() => impostor.close());
  await waitFor(
    () => `three retries refused for trust; log:\n${lines.join('\n')}`,
    () =>
      lines.filter((l) => /Connecting failed \(certificate not trusted: /.test(l)).length >= 3
        ? true
        : undefined,
  );
  const explained = lines.filter((l) => l.includes("the hub's certificate is not trusted"));
  assert.equal(explained.length, 1, lines.join('\n'));
  assert.match(explained[0]!, /the CA given did not sign it\. Retrying, in case the hub comes back/);
  assert.equal(fatal, false, 'a runtime that was connected once must not stop itself');
});
