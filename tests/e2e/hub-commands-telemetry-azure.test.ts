/**
 * `npm run hub -- telemetry tail` against a hub that has no telemetry window (Azure IoT Hub answers 404
 * on `/local-hub/telemetry`): stood in for by a small HTTPS server that answers every request as IoT Hub
 * answers an unknown path. The command must say where Azure's telemetry is read instead, and exit 3.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildServiceConnectionString } from '../../lib/connection-string';
import { WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import { createCertificateAuthority, issueServerCertificate } from '../../local-hub/tls/certificates';
import { serverNames } from '../../local-hub/tls/subject-alt-names';
import { within } from '../support/runtime-wait';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

test('telemetry tail on a hub without the window points at the Event Hub-compatible endpoint (exit 3)', async (t) => {
  const ca = await createCertificateAuthority('Not-a-local-hub test CA');
  const server = await issueServerCertificate(ca, serverNames());
  const requests: string[] = [];
  const https = createServer({ cert: server.certificatePem, key: server.privateKeyPem }, (req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ? 'signed' : 'unsigned'}`);
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"Message":"ErrorCode:NotFound;the path was not found"}');
  });
  https.listen(0, '127.0.0.1');
  await once(https, 'listening');
  t.after(() => https.close());
  const { port } = https.address() as { port: number };
  const dir = mkdtempSync(path.join(tmpdir(), 'tail-azure-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const caFile = path.join(dir, 'ca.pem');
  writeFileSync(caFile, ca.certificatePem);
  const owner = WELL_KNOWN_POLICIES.find((p) => p.keyName === 'iothubowner')!;
  const connectionString = buildServiceConnectionString({
    hostName: `127.0.0.1:${port}`,
    sharedAccessKeyName: owner.keyName,
    sharedAccessKey: owner.primaryKey,
  });

  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join('scripts', 'hub.ts'), 'telemetry', 'tail', '--count', '1', '--ca', caFile],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, IOTHUB_CONNECTION_STRING: connectionString },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const [code] = await within(
    () => `telemetry tail to exit; output:\n${output}`,
    once(child, 'exit'),
    60_000,
  );
  assert.equal(code, 3, output);
  assert.match(output, /has no telemetry window \(404 on \/local-hub\/telemetry\)/);
  assert.match(
    output,
    /on Azure use the Event Hub-compatible endpoint \(e\.g\. `az iot hub monitor-events`\)/,
  );
  assert.ok(!output.includes(owner.primaryKey), 'the key appeared in the output');
  assert.match(requests[0] ?? '', /^GET \/local-hub\/telemetry\?api-version=2021-04-12&waitMs=30000 signed$/);
});
