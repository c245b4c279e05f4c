/**
 * Tier 8: the README's main command, `npm start`, end to end with the real Pulumi CLI, in a fresh copy of
 * the repository (its own .pulumi/, .local-hub/ and passphrase): the hub starts on 127.0.0.1:8443, the
 * `local` stack is created and deployed, the seed module's runtime receives `telemetryInterval: 122` from its
 * twin and the fleet module's runtime `telemetryInterval: 60` from the ring 0 configuration, both acknowledge
 * on the hub, and Ctrl-C (SIGINT) stops everything cleanly within a bound.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_LOCAL_HUB_PORT } from '../../lib/local-hub-defaults';
import { PROJECT_DIR } from '../../scripts/pulumi-engine';
import { hubRegistry, killProcessesIn, processesIn, requireCli, WORK_ROOT } from '../support/cli-stack';
import { freshRepositoryCopy, portAnswers } from '../support/repository-copy';
import { waitFor, within } from '../support/runtime-wait';

const HUB = `127.0.0.1:${DEFAULT_LOCAL_HUB_PORT}`;

describe('real CLI: npm start', { timeout: 600_000 }, () => {
  let copy: string;
  before(async () => {
    requireCli();
    copy = await freshRepositoryCopy('npm-start', WORK_ROOT, DEFAULT_LOCAL_HUB_PORT);
  });
  after(() => {
    killProcessesIn(copy);
    fs.rmSync(copy, { recursive: true, force: true });
  });

  test('provisions the local stack, the modules acknowledge their twin and configuration values, and Ctrl-C stops it all', async () => {
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
      for (const [module, value] of [
        ['myFirstModule', 122],
        ['fleetModule', 60],
      ] as const) {
        await waitFor(
          () => `${module}'s runtime to apply telemetryInterval ${value}; npm start printed:\n${output}`,
          () =>
            new RegExp(`\\[myFirstDevice/${module}\\] .*telemetryInterval=${value} \\(applied\\)`).test(
              output,
            )
              ? true
              : undefined,
          240_000,
        );
      }
      assert.match(output, /==> install-pulumi-cli/);
      assert.match(output, /hub listening on 127\.0\.0\.1:8443/);
      assert.match(output, /\+ 7 created/);

      // The acknowledgements are on the hub: reported telemetryInterval with ac 200 at the desired version,
      // the seed module's from its own twin, the fleet module's from the configuration.
      const registry = hubRegistry({
        hostName: HUB,
        caCertificatePem: fs.readFileSync(path.join(copy, '.local-hub', 'ca.pem'), 'utf8'),
      });
      for (const [module, value] of [
        ['myFirstModule', 122],
        ['fleetModule', 60],
      ] as const) {
        const ack = await waitFor(`${module} to report its acknowledgement`, async () => {
          const twin = (await registry.getModuleTwin('myFirstDevice', module)).responseBody;
          const reported = twin.properties.reported['telemetryInterval'] as
            | { ac?: number; av?: number; value?: number }
            | undefined;
          return reported?.ac === 200
            ? { reported, desiredVersion: twin.properties.desired['$version'] }
            : undefined;
        });
        assert.equal(ack.reported.av, ack.desiredVersion, module);
        assert.equal(ack.reported.value, value, module);
      }
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

interface WorkflowStep {
  name?: string;
  run?: string;
  uses?: string;
  'timeout-minutes'?: number;
}

/** The `run` steps of the workflow's local-stack job, as written there. */
function localJobSteps(): { job: { 'timeout-minutes'?: number }; steps: WorkflowStep[] } {
  const { load } = require('js-yaml') as { load(text: string): unknown };
  const workflow = load(
    fs.readFileSync(path.join(PROJECT_DIR, '.github', 'workflows', 'iothub-stacks.yml'), 'utf8'),
  ) as { jobs: Record<string, { 'timeout-minutes'?: number; steps: WorkflowStep[] }> };
  const job = workflow.jobs['local-stack'];
  assert.ok(job, 'the workflow has a local-stack job');
  return { job, steps: job.steps.filter((step) => step.run !== undefined) };
}

function runStep(step: WorkflowStep, cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // GitHub runs `run:` with `bash -e {0}`; CI=true as there.
    const child = spawn('bash', ['-e', '-c', step.run!], {
      cwd,
      env: { ...process.env, CI: 'true', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('the pipeline example: the local-stack job and its drift check', { timeout: 900_000 }, () => {
  let copy: string;
  before(async () => {
    requireCli();
    copy = await freshRepositoryCopy('pipeline', WORK_ROOT, DEFAULT_LOCAL_HUB_PORT);
  });
  after(() => {
    killProcessesIn(copy);
    fs.rmSync(copy, { recursive: true, force: true });
  });

  test('every job and step has a time limit; the job provisions without device runtimes', () => {
    const { job, steps } = localJobSteps();
    assert.ok((job['timeout-minutes'] ?? 0) > 0, 'the job has timeout-minutes');
    for (const step of steps) assert.ok((step['timeout-minutes'] ?? 0) > 0, `no time limit: ${step.run}`);
    assert.ok(steps.some((step) => step.run === 'npm start -- --no-device'));
  });

  test("the job's steps run as written (npm ci aside), and the drift check fails once the hub drifted", async () => {
    const { steps } = localJobSteps();
    for (const step of steps.filter((s) => s.run!.trim() !== 'npm ci')) {
      const minutes = step['timeout-minutes'] ?? 10;
      const { code, output } = await within(
        `step "${step.name ?? step.run}"`,
        runStep(step, copy),
        minutes * 60_000,
      );
      assert.equal(code, 0, `step "${step.name ?? step.run}" failed:\n${output}`);
      if (step.run!.startsWith('npm start')) {
        assert.doesNotMatch(output, /==> run-module-runtimes/, 'no device runtime in the pipeline');
        assert.match(output, /\+ 7 created/);
      }
    }
    // Someone changes the module's desired value outside Pulumi: the same drift step now fails.
    const registry = hubRegistry({
      hostName: HUB,
      caCertificatePem: fs.readFileSync(path.join(copy, '.local-hub', 'ca.pem'), 'utf8'),
    });
    const twin = (await registry.getModuleTwin('myFirstDevice', 'myFirstModule')).responseBody;
    await registry.updateModuleTwin(
      'myFirstDevice',
      'myFirstModule',
      { properties: { desired: { telemetryInterval: 5 } } },
      twin.etag,
    );
    const drift = steps.find((step) => step.run!.includes('--expect-no-changes'))!;
    const { code, output } = await within('the drift check', runStep(drift, copy), 300_000);
    assert.notEqual(code, 0, `the drift check passed on a drifted hub:\n${output}`);
    assert.match(output, /telemetryInterval\s*:\s*5\s*=>\s*122|ModuleTwin/);
  });
});
