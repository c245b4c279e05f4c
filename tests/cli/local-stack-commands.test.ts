/**
 * Tier 8: the README's main command, `npm start`, end to end with the real Pulumi CLI, in a fresh copy of
 * the repository (its own .pulumi/, .local-hub/ and passphrase): the hub starts on 127.0.0.1:8443, the
 * `local` stack is created and deployed, the module's runtime receives `telemetryInterval: 122` and
 * acknowledges it on the hub, and Ctrl-C (SIGINT) stops everything cleanly within a bound.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { DEFAULT_LOCAL_HUB_PORT } from '../../lib/local-hub-defaults';
import { PROJECT_DIR } from '../../scripts/pulumi-engine';
import {
  killProcessesIn,
  processesIn,
  programConnectionString,
  requireCli,
  WORK_ROOT,
} from '../support/cli-stack';
import { waitFor, within } from '../support/runtime-wait';

const HUB = `127.0.0.1:${DEFAULT_LOCAL_HUB_PORT}`;

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The repository as a newcomer's clone has it (tracked and new files), sharing node_modules and .tools. */
function copyRepository(target: string): void {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: PROJECT_DIR,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file && fs.existsSync(path.join(PROJECT_DIR, file)));
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
    fs.copyFileSync(path.join(PROJECT_DIR, file), path.join(target, file));
  }
  fs.symlinkSync(path.join(PROJECT_DIR, 'node_modules'), path.join(target, 'node_modules'));
  fs.mkdirSync(path.join(target, '.tools'));
  fs.symlinkSync(path.join(PROJECT_DIR, '.tools', 'pulumi'), path.join(target, '.tools', 'pulumi'));
}

describe('real CLI: npm start', { timeout: 600_000 }, () => {
  let copy: string;
  before(async () => {
    requireCli();
    assert.equal(
      await portAnswers(DEFAULT_LOCAL_HUB_PORT),
      false,
      `port ${DEFAULT_LOCAL_HUB_PORT} is in use (a hub from npm run hub?): npm start would use it; stop it first`,
    );
    copy = path.join(WORK_ROOT, `npm-start-${process.pid}`);
    fs.rmSync(copy, { recursive: true, force: true });
    copyRepository(copy);
  });
  after(() => {
    killProcessesIn(copy);
    fs.rmSync(copy, { recursive: true, force: true });
  });

  test('provisions the local stack, the module acknowledges telemetryInterval 122, and Ctrl-C stops it all', async () => {
    const child = spawn('npm', ['start', '--', '--no-download'], {
      cwd: copy,
      env: { ...process.env, FORCE_COLOR: '0' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      await waitFor(
        () => `the runtime to apply telemetryInterval 122; npm start printed:\n${output}`,
        () =>
          /\[myFirstDevice\/myFirstModule\] .*telemetryInterval=122 \(applied\)/.test(output)
            ? true
            : undefined,
        240_000,
      );
      assert.match(output, /==> install-pulumi-cli/);
      assert.match(output, /hub listening on 127\.0\.0\.1:8443/);
      assert.match(output, /\+ 4 created/);

      // The acknowledgement is on the hub: reported telemetryInterval with ac 200 at the desired version.
      const registry = createHubClient(programConnectionString(HUB), {
        caCertificate: fs.readFileSync(path.join(copy, '.local-hub', 'ca.pem'), 'utf8'),
      }).registry;
      const ack = await waitFor('the module to report its acknowledgement', async () => {
        const twin = (await registry.getModuleTwin('myFirstDevice', 'myFirstModule')).responseBody;
        const reported = twin.properties.reported['telemetryInterval'] as
          | { ac?: number; av?: number }
          | undefined;
        return reported?.ac === 200
          ? { reported, desiredVersion: twin.properties.desired['$version'] }
          : undefined;
      });
      assert.equal(ack.reported.av, ack.desiredVersion);
      assert.equal((ack.reported as { value?: number }).value, 122);
    } finally {
      process.kill(-child.pid!, 'SIGINT');
    }
    const { code, signal } = await within(
      () => `npm start to stop after SIGINT; it printed:\n${output}`,
      exited,
      60_000,
    );
    // npm itself dies of the SIGINT a terminal's Ctrl-C sends the whole group; the script exits 0.
    assert.ok(code === 0 || signal === 'SIGINT', `exit ${code} / ${signal}:\n${output}`);
    assert.match(output, /SIGINT received: stopping/);
    assert.match(output, /Device runtime stopped/);
    assert.match(output, /local hub closed/);
    assert.equal(await portAnswers(DEFAULT_LOCAL_HUB_PORT), false, 'the hub it started is closed');
    await waitFor('no process left running in the copy (hub, runtimes, provider host)', () =>
      processesIn(copy).length === 0 ? true : undefined,
    );
  });
});
