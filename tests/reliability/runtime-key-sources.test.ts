/**
 * `npm run device` takes its module connection string from a file (`--connection-string-file` or
 * IOTHUB_MODULE_CONNECTION_STRING_FILE), so the key need not be on the command line, where `ps` and
 * npm's echo show it (issue #10 item 12). The CLI runs as a child process against an in-process hub
 * on loopback; every wait is bounded.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import { within } from '../support/runtime-wait';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
let hub: LocalHub;
let dir: string;
let connectionString: string;
let caFile: string;

before(async () => {
  hub = await startTestHub();
  hub.state.createDevice('keyfile-device', {});
  hub.state.createModule('keyfile-device', 'keyfile-module', {});
  connectionString = hub.deviceConnectionString('keyfile-device', 'keyfile-module');
  dir = mkdtempSync(path.join(tmpdir(), 'runtime-keys-'));
  caFile = path.join(dir, 'ca.pem');
  writeFileSync(caFile, hub.caCertificatePem);
});
after(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI until it has read its twin (or exits, or 60 s pass); returns what it printed. */
async function runUntilConnected(
  args: string[],
  env: Record<string, string>,
): Promise<{ output: string; code: number | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('device-runtime', 'cli.ts'), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, IOTHUB_CA_FILE: caFile, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = once(child, 'exit');
  const connected = new Promise<void>((resolve) => {
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('(full document) received')) resolve();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    connected,
    exited,
    new Promise((resolve) => {
      timer = setTimeout(resolve, 60_000);
    }),
  ]);
  clearTimeout(timer);
  child.kill('SIGTERM');
  const [code] = await within('the runtime process to exit after SIGTERM', exited);
  return { output, code: code as number | null };
}

describe('the device runtime reads its connection string from a file (item 12)', () => {
  test('--connection-string-file <file>', async () => {
    const file = path.join(dir, 'module.cs');
    writeFileSync(file, `${connectionString}\n`, { mode: 0o600 });
    const { output } = await runUntilConnected(['--connection-string-file', file], {});
    assert.match(output, /\(full document\) received/, output);
    assert.ok(!output.includes(connectionString), 'the connection string was printed');
  });

  test('IOTHUB_MODULE_CONNECTION_STRING_FILE', async () => {
    const file = path.join(dir, 'module-env.cs');
    writeFileSync(file, connectionString, { mode: 0o600 });
    const { output } = await runUntilConnected([], { IOTHUB_MODULE_CONNECTION_STRING_FILE: file });
    assert.match(output, /\(full document\) received/, output);
  });

  test('an unreadable file is a clear configuration error (exit 2)', async () => {
    const { output, code } = await runUntilConnected(
      ['--connection-string-file', path.join(dir, 'missing.cs')],
      {},
    );
    assert.equal(code, 2, output);
    assert.match(output, /--connection-string-file/);
  });
});
