/**
 * `npm start` without the Pulumi CLI: the step plan, how the CLI is looked for, the local backend
 * set-up and the CLI's environment (transpile-only), and the "CLI unavailable" path end to end (the
 * script run as `npm start` runs it, with downloads disabled so nothing leaves the machine).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cliUnavailableMessage, findPulumiCli, npmCachedCliPath } from '../../scripts/pulumi-cli';
import { ensurePassphraseFile, localBackendEnv } from '../../scripts/pulumi-local-backend';
import { pulumiCliEnv } from '../../scripts/start';
import { planStart, START_STEPS } from '../../scripts/start-plan';
import { PROJECT_DIR } from '../support/program-under-mocks';

const PINNED_VERSION = (require('pulumi/package.json') as { version: string }).version;

describe('npm start: the plan', () => {
  test('without a running hub: find the CLI first, then backend, start the hub, stack, up', () => {
    assert.deepEqual(
      planStart({ hubAnswering: false, runDevices: true }).map((s) => s.name),
      [
        'find-pulumi-cli',
        'prepare-local-backend',
        'start-local-hub',
        'select-stack',
        'pulumi-up',
        'run-module-runtimes',
      ],
    );
  });

  test('with a hub already answering on its port, that hub is used and none is started', () => {
    const names = planStart({ hubAnswering: true, runDevices: true }).map((s) => s.name);
    assert.deepEqual(names, [
      'find-pulumi-cli',
      'prepare-local-backend',
      'use-running-local-hub',
      'select-stack',
      'pulumi-up',
      'run-module-runtimes',
    ]);
  });

  test('with --no-device, provisioning ends after up', () => {
    const names = planStart({ hubAnswering: false, runDevices: false }).map((s) => s.name);
    assert.equal(names.at(-1), 'pulumi-up');
  });

  test('every step has a unique name and a description', () => {
    const names = START_STEPS.map((s) => s.name);
    assert.equal(new Set(names).size, names.length);
    for (const step of START_STEPS) assert.ok(step.description.length > 10, step.name);
  });
});

describe('npm start: finding the Pulumi CLI', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'start-cli-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const executable = (file: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    return file;
  };

  test('nothing cached, nothing on PATH, downloads disabled: not found, with every reason', async () => {
    const env = { PATH: path.join(dir, 'empty-bin'), PULUMI_HOME: path.join(dir, 'home-empty') };
    const cli = await findPulumiCli({ env, allowDownload: false });
    assert.equal(cli.found, false);
    if (cli.found) return;
    assert.equal(cli.reasons.length, 3);
    assert.match(
      cli.reasons[0] ?? '',
      new RegExp(`pulumi v${PINNED_VERSION.replace(/\./g, '\\.')} is not in the npm package's cache`),
    );
    assert.match(cli.reasons[1] ?? '', /no `pulumi` executable on PATH/);
    assert.match(cli.reasons[2] ?? '', /--no-download/);
  });

  test("the npm package's node_modules/.bin shim does not count as a CLI on PATH", async () => {
    const shim = path.join(PROJECT_DIR, 'node_modules', '.bin', 'pulumi');
    assert.ok(fs.existsSync(shim), 'the pulumi npm package should be installed');
    const env = { PATH: path.dirname(shim), PULUMI_HOME: path.join(dir, 'home-empty') };
    assert.equal((await findPulumiCli({ env, allowDownload: false })).found, false);
  });

  test("the pinned version in the npm package's cache is preferred over PATH", async () => {
    const home = path.join(dir, 'home-cached');
    const cached = executable(npmCachedCliPath({ PULUMI_HOME: home }, PINNED_VERSION));
    const onPath = executable(path.join(dir, 'path-bin', 'pulumi'));
    const cli = await findPulumiCli({
      env: { PATH: path.dirname(onPath), PULUMI_HOME: home },
      allowDownload: false,
    });
    assert.deepEqual(cli, { found: true, path: cached, source: 'npm-cache' });
  });

  test('a pulumi on PATH is used when the cache is empty', async () => {
    const onPath = executable(path.join(dir, 'path-bin2', 'pulumi'));
    const env = { PATH: path.dirname(onPath), PULUMI_HOME: path.join(dir, 'home-empty') };
    assert.deepEqual(await findPulumiCli({ env, allowDownload: false }), {
      found: true,
      path: onPath,
      source: 'path',
    });
  });

  test('the unavailable message is one paragraph: reasons, how to install, and that npm test needs no CLI', () => {
    const message = cliUnavailableMessage(['reason one', 'reason two']);
    assert.ok(!message.includes('\n'));
    assert.match(message, /reason one; reason two\./);
    assert.match(message, /get\.pulumi\.com/);
    assert.match(message, /npx pulumi version/);
    assert.match(message, /`npm test` exercises/);
  });
});

describe('npm start: local backend', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'start-backend-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the passphrase file is generated once, owner-only, and never replaced', () => {
    const file = path.join(dir, '.pulumi-passphrase');
    assert.equal(ensurePassphraseFile(file), true);
    const first = fs.readFileSync(file, 'utf8');
    assert.ok(first.trim().length >= 40);
    if (process.platform !== 'win32') assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(ensurePassphraseFile(file), false);
    assert.equal(fs.readFileSync(file, 'utf8'), first);
  });

  test('the CLI environment points at the file backend and passphrase file, not an env passphrase', () => {
    const env = localBackendEnv('/p', '/opt/pulumi/bin/pulumi', {
      PATH: '/usr/bin',
      PULUMI_CONFIG_PASSPHRASE: 'x',
    });
    assert.equal(env['PULUMI_BACKEND_URL'], 'file:///p/.pulumi');
    assert.equal(env['PULUMI_CONFIG_PASSPHRASE_FILE'], path.join('/p', '.pulumi-passphrase'));
    assert.equal(env['PULUMI_CONFIG_PASSPHRASE'], undefined);
    assert.equal(env['PATH'], ['/opt/pulumi/bin', '/usr/bin'].join(path.delimiter));
  });

  test('pulumi runs the program transpile-only (types are checked by npm run typecheck / npm test)', () => {
    const env = pulumiCliEnv('/p', '/opt/pulumi/bin/pulumi', {
      PATH: '/usr/bin',
      PULUMI_CONFIG_PASSPHRASE: 'x',
    });
    assert.equal(env['PULUMI_NODEJS_TRANSPILE_ONLY'], 'true');
    // Still the local backend's environment, not a replacement of it.
    assert.equal(env['PULUMI_BACKEND_URL'], 'file:///p/.pulumi');
    assert.equal(env['PULUMI_CONFIG_PASSPHRASE'], undefined);
    assert.equal(env['PATH'], ['/opt/pulumi/bin', '/usr/bin'].join(path.delimiter));
  });

  test("a user's own PULUMI_NODEJS_TRANSPILE_ONLY is kept; an empty one counts as unset", () => {
    const cli = '/opt/pulumi/bin/pulumi';
    assert.equal(
      pulumiCliEnv('/p', cli, { PULUMI_NODEJS_TRANSPILE_ONLY: 'false' })['PULUMI_NODEJS_TRANSPILE_ONLY'],
      'false',
    );
    assert.equal(
      pulumiCliEnv('/p', cli, { PULUMI_NODEJS_TRANSPILE_ONLY: '' })['PULUMI_NODEJS_TRANSPILE_ONLY'],
      'true',
    );
  });
});

describe('npm start: CLI unavailable, end to end', () => {
  let home: string;
  before(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'start-e2e-'));
  });
  after(() => fs.rmSync(home, { recursive: true, force: true }));

  test('prints one clear paragraph, starts nothing and exits non-zero', async () => {
    const passphrase = path.join(PROJECT_DIR, '.pulumi-passphrase');
    const hadPassphrase = fs.existsSync(passphrase);
    // Only node's own directory on PATH: no pulumi there, and an empty PULUMI_HOME cache.
    const env = { PATH: path.dirname(process.execPath), PULUMI_HOME: home, HOME: home };
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--no-download'], {
      cwd: PROJECT_DIR,
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 1, stderr);
    assert.match(stdout, /==> find-pulumi-cli/);
    assert.doesNotMatch(stdout, /==> (prepare-local-backend|start-local-hub|select-stack|pulumi-up)/);
    const paragraph = stderr.trim();
    assert.ok(!paragraph.includes('\n'), `expected one paragraph, got:\n${stderr}`);
    assert.match(paragraph, /^npm start could not run `pulumi up` because the Pulumi CLI is not available: /);
    assert.match(paragraph, /--no-download/);
    assert.match(paragraph, /`npm test` exercises/);
    assert.equal(fs.existsSync(passphrase), hadPassphrase, 'the passphrase file was touched');
  });
});
