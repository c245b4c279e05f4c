/**
 * `npm run hub -- --in-memory` writes its CA to a private file it names in the banner (0600 in a 0700
 * directory of its own), so devices and the hub commands can be given `--ca <file>`; the file goes
 * when the hub stops. `--no-web-view` turns the browser view off, and the banner says so.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { describeHub, parseHubArguments, writeInMemoryCaFile } from '../../local-hub/cli';
import { hubGet } from '../support/hub-https';
import { startTestHub } from '../support/local-hub-fixture';
import { spawnProjectScript } from '../support/runtime-cli-process';
import { waitFor, within } from '../support/runtime-wait';

test('the CA file helper: private modes, removed once', () => {
  const file = writeInMemoryCaFile('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
  if (process.platform !== 'win32') {
    assert.equal(statSync(file.path).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file.path)).mode & 0o777, 0o700);
  }
  file.remove();
  file.remove();
  assert.equal(existsSync(path.dirname(file.path)), false);
});

test('an --in-memory hub names its CA file; a hub command trusts the hub with it; SIGTERM removes it', async (t) => {
  const hub = spawnProjectScript(t, path.join('local-hub', 'cli.ts'), [
    '--in-memory',
    '--port',
    '0',
    '--log-level',
    'warn',
  ]);
  const [, caFile] = await waitFor(
    () => `the banner's CA file line; output so far:\n${hub.output()}`,
    () =>
      /CA certificate: (\S+ca\.pem) +\(this run only, removed when the hub stops; trust it: --ca /.exec(
        hub.output(),
      ) ?? undefined,
    60_000,
  );
  const banner = hub.output();
  const connectionString = /iothubowner: (HostName=\S+)/.exec(banner)?.[1];
  assert.ok(connectionString, banner);
  assert.match(readFileSync(caFile!, 'utf8'), /^-----BEGIN CERTIFICATE-----/);
  if (process.platform !== 'win32') {
    assert.equal(statSync(caFile!).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(caFile!)).mode & 0o777, 0o700);
  }

  // The environment carries the connection string and the CA file, as a user would pass them.
  const command = spawnProjectScript(t, path.join('scripts', 'hub.ts'), ['devices', 'list', '--json'], {
    ...process.env,
    IOTHUB_CONNECTION_STRING: connectionString!,
    IOTHUB_CA_FILE: caFile!,
  });
  const [code] = await within(
    () => `devices list to exit; output:\n${command.output()}`,
    command.exited,
    60_000,
  );
  const output = command.output();
  assert.equal(code, 0, output);
  assert.deepEqual(JSON.parse(output), []);

  hub.child.kill('SIGTERM');
  const [hubCode] = await within(() => `the hub to exit; output:\n${hub.output()}`, hub.exited);
  assert.equal(hubCode, 0, hub.output());
  assert.equal(existsSync(caFile!), false, 'the CA file outlived the hub');
  assert.equal(existsSync(path.dirname(caFile!)), false, 'the CA directory outlived the hub');
});

test('--no-web-view (or "no-web-view": true in --config) turns the web view off; the banner says where it is', async () => {
  assert.deepEqual(parseHubArguments(['--no-web-view']), { webView: false });
  assert.deepEqual(parseHubArguments([]), {});
  const dir = mkdtempSync(path.join(tmpdir(), 'hub-config-'));
  try {
    writeFileSync(path.join(dir, 'hub.json'), '{"no-web-view": true}');
    assert.deepEqual(parseHubArguments(['--config', path.join(dir, 'hub.json')]), { webView: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const off = await startTestHub(parseHubArguments(['--no-web-view']) as object);
  const on = await startTestHub();
  try {
    assert.equal((await hubGet(off, '/local-hub/view/', null)).status, 404);
    assert.equal((await hubGet(on, '/local-hub/view/', null)).status, 200);
    assert.match(describeHub(off), /^ {2}web view: off$/m);
    assert.match(describeHub(on), new RegExp(`web view: https://${on.hostName}/local-hub/view/ `));
  } finally {
    await off.close();
    await on.close();
  }
});
