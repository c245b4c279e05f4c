/**
 * `npm start`'s parts without running it: the step plan, the local backend set-up, the engine's
 * environment, and scripts/install-pulumi.sh on a throwaway project (reuse, version check, the failure
 * message). `npm start` itself runs end to end in the real-CLI tier (tests/cli/npm-start.test.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { engineEnv } from '../../scripts/pulumi-engine';
import { ensurePassphraseFile, localBackendEnv } from '../../scripts/pulumi-local-backend';
import { planStart, START_STEPS } from '../../scripts/start-plan';
import { PROJECT_DIR } from '../support/program-under-mocks';

describe('npm start: the plan', () => {
  test('without a running hub: install the CLI first, then backend, start the hub, stack, up', () => {
    assert.deepEqual(
      planStart({ hubAnswering: false, runDevices: true }).map((s) => s.name),
      [
        'install-pulumi-cli',
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
      'install-pulumi-cli',
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

  test("the engine environment adds the offline switches and this stack's own state and passphrase", () => {
    const env = engineEnv({
      stateDir: '/w/.pulumi',
      passphraseFile: '/w/.pulumi-passphrase',
      cliPath: '/t/bin/pulumi',
      base: { PATH: '/usr/bin', PULUMI_CONFIG_PASSPHRASE: 'x' },
    });
    assert.equal(env['PULUMI_BACKEND_URL'], 'file:///w/.pulumi');
    assert.equal(env['PULUMI_CONFIG_PASSPHRASE_FILE'], '/w/.pulumi-passphrase');
    assert.equal(env['PULUMI_CONFIG_PASSPHRASE'], undefined);
    assert.equal(env['PULUMI_SKIP_UPDATE_CHECK'], 'true');
    assert.equal(env['PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION'], 'true');
    assert.equal(env['PATH'], ['/t/bin', '/usr/bin'].join(path.delimiter));
  });
});

describe('scripts/install-pulumi.sh', () => {
  let project: string;
  const script = path.join(PROJECT_DIR, 'scripts', 'install-pulumi.sh');
  const fakeCli = (dir: string, version: string) => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'pulumi'), `#!/bin/sh\necho ${version}\n`, { mode: 0o755 });
  };
  /** A throwaway project: the script, and an @pulumi/pulumi package pinned at 9.9.9 with its launcher. */
  before(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'install-pulumi-'));
    fs.mkdirSync(path.join(project, 'scripts'));
    fs.copyFileSync(script, path.join(project, 'scripts', 'install-pulumi.sh'));
    const sdk = path.join(project, 'node_modules', '@pulumi', 'pulumi');
    fs.mkdirSync(sdk, { recursive: true });
    fs.writeFileSync(path.join(sdk, 'package.json'), '{"version":"9.9.9"}');
    fs.writeFileSync(path.join(sdk, 'pulumi-resource-pulumi-nodejs'), '#!/bin/sh\n', { mode: 0o755 });
  });
  after(() => fs.rmSync(project, { recursive: true, force: true }));

  const run = (env: NodeJS.ProcessEnv) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(
        '/bin/bash',
        [path.join(project, 'scripts', 'install-pulumi.sh'), '--no-download'],
        {
          env: { HOME: project, ...env },
        },
      );
      let output = '';
      child.stdout.on('data', (c) => (output += c));
      child.stderr.on('data', (c) => (output += c));
      child.on('exit', (code) => resolve({ code, output }));
    });
  // node (for reading the pinned version) but no go and no pulumi.
  const bareTools = () => {
    const bin = path.join(project, 'bare-bin');
    fs.mkdirSync(bin, { recursive: true });
    for (const tool of [
      'node',
      'sed',
      'sort',
      'head',
      'dirname',
      'mkdir',
      'install',
      'cp',
      'rm',
      'cat',
      'mktemp',
    ]) {
      const found = ['/usr/local/bin', '/usr/bin', '/bin', path.dirname(process.execPath)]
        .map((dir) => path.join(dir, tool))
        .find((file) => fs.existsSync(file));
      if (found && !fs.existsSync(path.join(bin, tool))) fs.symlinkSync(found, path.join(bin, tool));
    }
    return bin;
  };

  test('without a CLI anywhere and without Go it fails, saying what is missing and how to get it', async () => {
    const { code, output } = await run({
      PATH: bareTools(),
      PULUMI_TOOLS_CACHE: path.join(project, 'cache-empty'),
    });
    assert.equal(code, 1, output);
    assert.match(output, /no Pulumi CLI v9\.9\.9 found and no Go toolchain to build it/);
  });

  test("a CLI of the pinned version in this machine's cache is reused, with the launcher next to it", async () => {
    const cache = path.join(project, 'cache');
    fakeCli(path.join(cache, 'pulumi-v9.9.9'), 'v9.9.9');
    const { code, output } = await run({ PATH: bareTools(), PULUMI_TOOLS_CACHE: cache });
    assert.equal(code, 0, output);
    assert.match(output, /reused this machine's build cache/);
    const bin = path.join(project, '.tools', 'pulumi', 'bin');
    assert.ok(fs.existsSync(path.join(bin, 'pulumi')));
    assert.ok(fs.existsSync(path.join(bin, 'pulumi-resource-pulumi-nodejs')));
    const again = await run({ PATH: bareTools(), PULUMI_TOOLS_CACHE: cache });
    assert.match(again.output, /already installed/);
  });

  test('a CLI of another version is not taken for the pinned one', async () => {
    fs.rmSync(path.join(project, '.tools'), { recursive: true, force: true });
    const cache = path.join(project, 'cache-old');
    fakeCli(path.join(cache, 'pulumi-v9.9.9'), 'v9.9.8');
    const { code, output } = await run({ PATH: bareTools(), PULUMI_TOOLS_CACHE: cache });
    assert.equal(code, 1, output);
  });
});
