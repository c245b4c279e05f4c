/**
 * `npm start`: provision the local stack against the embedded local hub in one command.
 * Runs the steps of scripts/start-plan.ts in order through one runner; anything started here (the
 * hub) is closed at the end, whatever happened.
 *
 *   npm start                   # find the CLI, start the hub if needed, pulumi up --yes --stack local
 *   npm start -- --no-download  # never try to download the Pulumi CLI
 *   npm start -- --no-device    # provision only; do not run the modules' device runtimes
 */

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_LOCAL_HUB_DATA_DIR,
  DEFAULT_LOCAL_HUB_HOST,
  DEFAULT_LOCAL_HUB_PORT,
  LOCAL_HUB_CA_FILE,
} from '../lib/local-hub-defaults';
import { cliUnavailableMessage, findPulumiCli } from './pulumi-cli';
import { ensurePassphraseFile, localBackendEnv, PASSPHRASE_FILE, STATE_DIR } from './pulumi-local-backend';
import { parseModuleConnectionStrings, runModuleRuntimes } from './run-module-runtimes';
import { LOCAL_STACK, planStart, type StartStepName } from './start-plan';

const PROJECT_DIR = path.resolve(__dirname, '..');

interface StartContext {
  allowDownload: boolean;
  cliPath?: string;
  cliEnv?: NodeJS.ProcessEnv;
  /** Run in reverse order when the script ends (e.g. close the hub it started). */
  cleanups: (() => Promise<void>)[];
}

class CliUnavailableError extends Error {
  constructor(readonly reasons: string[]) {
    super('Pulumi CLI unavailable');
    this.name = 'CliUnavailableError';
  }
}

/**
 * The CLI's environment: the local backend (scripts/pulumi-local-backend.ts) and
 * PULUMI_NODEJS_TRANSPILE_ONLY=true, so the language host's ts-node only transpiles the program:
 * type-checking index.ts' import graph at every `pulumi up` costs ~3.5 s of a ~5.4 s program load
 * (docs/benchmarks.md, finding 5), and `npm run typecheck` / `npm test` already check the types.
 * A value the user set explicitly (e.g. `false`, to have `pulumi up` type-check) is kept.
 */
export function pulumiCliEnv(
  projectDir: string,
  cliPath: string,
  base: NodeJS.ProcessEnv,
): NodeJS.ProcessEnv {
  return {
    ...localBackendEnv(projectDir, cliPath, base),
    // `||`: an empty value counts as unset for the language host (cmd/run/run.js), so it gets the default too.
    PULUMI_NODEJS_TRANSPILE_ONLY: base['PULUMI_NODEJS_TRANSPILE_ONLY'] || 'true',
  };
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runs the CLI with inherited output; `quiet` keeps its output to return (for expected failures). */
function runCli(ctx: StartContext, args: string[], quiet = false): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ctx.cliPath!, args, {
      cwd: PROJECT_DIR,
      env: ctx.cliEnv,
      stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

async function mustRunCli(ctx: StartContext, args: string[]): Promise<void> {
  const { code } = await runCli(ctx, args);
  if (code !== 0)
    throw Object.assign(new Error(`pulumi ${args[0]} exited with code ${code}`), { exitCode: code });
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
  'find-pulumi-cli': async (ctx) => {
    const cli = await findPulumiCli({ env: process.env, allowDownload: ctx.allowDownload });
    if (!cli.found) throw new CliUnavailableError(cli.reasons);
    say(`   using ${cli.path} (${cli.source})`);
    ctx.cliPath = cli.path;
    ctx.cliEnv = pulumiCliEnv(PROJECT_DIR, cli.path, process.env);
  },
  'prepare-local-backend': async () => {
    fs.mkdirSync(path.join(PROJECT_DIR, STATE_DIR), { recursive: true });
    if (ensurePassphraseFile(path.join(PROJECT_DIR, PASSPHRASE_FILE))) {
      say(`   generated ${PASSPHRASE_FILE} (git-ignored; keep it: the local state's secrets need it)`);
    }
  },
  'start-local-hub': async (ctx) => {
    // Loaded only here, so the "CLI unavailable" path never loads SQLite, TLS and MQTT.
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
    const selected = await runCli(ctx, ['stack', 'select', LOCAL_STACK], true);
    if (selected.code === 0) return;
    await mustRunCli(ctx, ['stack', 'init', LOCAL_STACK, '--secrets-provider', 'passphrase']);
  },
  'pulumi-up': (ctx) => mustRunCli(ctx, ['up', '--yes', '--stack', LOCAL_STACK]),
  'run-module-runtimes': async (ctx) => {
    const output = await runCli(
      ctx,
      ['stack', 'output', 'moduleConnectionStrings', '--show-secrets', '--json', '--stack', LOCAL_STACK],
      true,
    );
    if (output.code !== 0) throw new Error('pulumi stack output moduleConnectionStrings failed');
    const connectionStrings = parseModuleConnectionStrings(output.output);
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
    await untilSignal();
  },
};

/** Resolves on the first SIGINT/SIGTERM, so cleanups (runtimes, then the hub) run before exit. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
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
  const ctx: StartContext = { allowDownload: !values['no-download'], cleanups: [] };
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
    if (error instanceof CliUnavailableError) {
      process.stderr.write(`${cliUnavailableMessage(error.reasons)}\n`);
      return 1;
    }
    process.stderr.write(`npm start failed at step "${current}": ${(error as Error).message}\n`);
    return (error as { exitCode?: number }).exitCode ?? 1;
  } finally {
    for (const cleanup of ctx.cleanups.reverse()) await cleanup();
  }
}

// Run as `npm start`; imported (tests/program/start-script.test.ts) only for pulumiCliEnv.
if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`npm start: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
