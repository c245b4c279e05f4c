/**
 * `npm start`: provision the local stack against the embedded local hub in one command.
 * Runs the steps of scripts/start-plan.ts in order through one runner; anything started here (the
 * hub, the module runtimes) is closed at the end, whatever happened.
 *
 *   npm start                   # install the CLI if needed, start the hub if needed, pulumi up the local stack
 *   npm start -- --no-download  # never try to download the Pulumi CLI (build it from the Go module proxy)
 *   npm start -- --no-device    # provision only; do not run the modules' device runtimes
 */

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { Stack } from '@pulumi/pulumi/automation';
import {
  DEFAULT_LOCAL_HUB_DATA_DIR,
  DEFAULT_LOCAL_HUB_HOST,
  DEFAULT_LOCAL_HUB_PORT,
  LOCAL_HUB_CA_FILE,
} from '../lib/local-hub-defaults';
import { engineFailureLine, openEngine, PROJECT_DIR } from './pulumi-engine';
import { PASSPHRASE_FILE, STATE_DIR } from './pulumi-local-backend';
import { parseModuleConnectionStrings, runModuleRuntimes } from './run-module-runtimes';
import { LOCAL_STACK, planStart, type StartStepName } from './start-plan';

interface StartContext {
  allowDownload: boolean;
  stack?: Stack;
  /** Run in reverse order when the script ends (e.g. close the hub it started). */
  cleanups: (() => Promise<void>)[];
  /** Resolves on the first SIGINT/SIGTERM. */
  stopRequested: Promise<void>;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** scripts/install-pulumi.sh, its progress shown as it goes (a cold build takes minutes). */
function installCli(allowDownload: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = allowDownload ? [] : ['--no-download'];
    const child = spawn(path.join(PROJECT_DIR, 'scripts', 'install-pulumi.sh'), args, {
      cwd: PROJECT_DIR,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(
            Object.assign(new Error('the Pulumi CLI could not be installed (see above)'), { exitCode: 1 }),
          ),
    );
  });
}

function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1000);
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

const RUNNERS: Record<StartStepName, (ctx: StartContext) => Promise<void>> = {
  'install-pulumi-cli': (ctx) => installCli(ctx.allowDownload),
  'prepare-local-backend': async () => {
    if (!fs.existsSync(path.join(PROJECT_DIR, PASSPHRASE_FILE))) {
      say(
        `   ${PASSPHRASE_FILE} will be generated (git-ignored; keep it: the local state's secrets need it)`,
      );
    }
    say(`   state in ${STATE_DIR}/ (file backend; no Pulumi Cloud login)`);
  },
  'start-local-hub': async (ctx) => {
    // Loaded only here, so a failed CLI install never loads SQLite, TLS and MQTT.
    const { startLocalHub } = require('../local-hub') as typeof import('../local-hub');
    const hub = await startLocalHub({
      port: DEFAULT_LOCAL_HUB_PORT,
      dataDir: path.join(PROJECT_DIR, DEFAULT_LOCAL_HUB_DATA_DIR),
    });
    ctx.cleanups.push(() => hub.close());
    say(`   hub listening on ${hub.hostName}; CA ${hub.caCertificatePath}`);
  },
  'use-running-local-hub': async () => {},
  'select-stack': async (ctx) => {
    ctx.stack = (await openEngine({ stackName: LOCAL_STACK })).stack;
  },
  'pulumi-up': async (ctx) => {
    // Ctrl-C reaches the CLI too (same process group), which cancels the update cleanly; up then rejects.
    try {
      await ctx.stack!.up({
        onOutput: (text) => process.stdout.write(text),
        onError: (text) => process.stderr.write(text),
        color: 'auto',
      });
    } catch (error) {
      throw new Error(engineFailureLine('up', error));
    }
  },
  'run-module-runtimes': async (ctx) => {
    const outputs = await ctx.stack!.outputs();
    const connectionStrings = parseModuleConnectionStrings(
      JSON.stringify(outputs['moduleConnectionStrings']?.value ?? {}),
    );
    if (Object.keys(connectionStrings).length === 0) {
      say('   the stack declares no module with a SAS key: nothing to run');
      return;
    }
    const caPath = path.join(PROJECT_DIR, DEFAULT_LOCAL_HUB_DATA_DIR, LOCAL_HUB_CA_FILE);
    const set = await runModuleRuntimes(connectionStrings, fs.readFileSync(caPath, 'utf8'), say);
    ctx.cleanups.push(() => set.stop());
    say(
      `   running ${[...set.runtimes.keys()].join(', ')}; change stacks/Pulumi.local.yaml and run npm start again`,
    );
    say('   press Ctrl-C to stop');
    await ctx.stopRequested;
  },
};

/** Resolves on the first SIGINT/SIGTERM, so cleanups (runtimes, then the hub) run before exit. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      say(`==> ${signal} received: stopping`);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'no-download': { type: 'boolean', default: false },
      'no-device': { type: 'boolean', default: false },
    },
  });
  const ctx: StartContext = {
    allowDownload: !values['no-download'],
    cleanups: [],
    stopRequested: untilSignal(),
  };
  const facts = {
    hubAnswering: await isListening(DEFAULT_LOCAL_HUB_HOST, DEFAULT_LOCAL_HUB_PORT),
    runDevices: !values['no-device'],
  };
  let current = '';
  try {
    for (const step of planStart(facts)) {
      current = step.name;
      say(`==> ${step.name}: ${step.description}`);
      await RUNNERS[step.name](ctx);
    }
    if (!facts.hubAnswering)
      say('==> done. The hub stops with this script; keep one running with `npm run hub`.');
    return 0;
  } catch (error) {
    process.stderr.write(`npm start failed at step "${current}": ${(error as Error).message}\n`);
    return (error as { exitCode?: number }).exitCode ?? 1;
  } finally {
    for (const cleanup of ctx.cleanups.reverse()) await cleanup();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`npm start: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
