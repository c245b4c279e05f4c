/**
 * The real Pulumi engine for this project's program, on machines with or without internet.
 *
 * `pulumi up` needs three executables: the CLI, the Node.js language host (pulumi-language-nodejs) and the
 * dynamic-provider launcher. The language host cannot be obtained offline (docs/pulumi-cli-offline.md), so
 * program-running operations (up, preview, refresh, destroy) go through Pulumi's Automation API with an
 * inline program that loads index.ts, in this process: the CLI runs with `--client` and talks to a
 * language server the Automation API starts here. Everything else (the engine, state, secrets, the
 * provider host, the diff display) is the real CLI's. Commands that run no program (stack export, stack
 * output, config, cancel) are plain CLI calls with the same environment.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { CommandError, LocalWorkspace, PulumiCommand, type Stack } from '@pulumi/pulumi/automation';
import { ensurePassphraseFile, localBackendEnv, PASSPHRASE_FILE, STATE_DIR } from './pulumi-local-backend';

export const PROJECT_DIR = path.resolve(__dirname, '..');
/** Where scripts/install-pulumi.sh puts the CLI and the launcher (git-ignored). */
export const TOOLS_ROOT = path.join(PROJECT_DIR, '.tools', 'pulumi');

export interface EngineOptions {
  stackName: string;
  /** The folder holding Pulumi.yaml and the stack config files; default: this project. */
  workDir?: string;
  /** The program file, loaded fresh for every operation; default: this project's index.ts. */
  programFile?: string;
  /** File state backend folder; default `<workDir>/.pulumi`. */
  stateDir?: string;
  /** Passphrase file for the stack's secrets (created once, owner-only); default `<workDir>/.pulumi-passphrase`. */
  passphraseFile?: string;
  /** Holds bin/pulumi; default .tools/pulumi of this project. */
  toolsRoot?: string;
  /** Extra environment for the CLI and the provider host (e.g. PULUMI_CONFIG_PASSPHRASE off). */
  env?: NodeJS.ProcessEnv;
}

export interface Engine {
  stack: Stack;
  /** The CLI's path and environment, for commands the Automation API does not wrap. */
  cliPath: string;
  cliEnv: NodeJS.ProcessEnv;
  /** The file backend's folder. */
  stateDir: string;
}

/** The CLI in the tools folder, or a clear error saying how to get it. */
export function toolsCliPath(toolsRoot = TOOLS_ROOT): string {
  const cli = path.join(toolsRoot, 'bin', 'pulumi');
  if (!fs.existsSync(cli)) {
    throw new Error(
      `the Pulumi CLI is not installed in ${path.dirname(cli)}: run scripts/install-pulumi.sh ` +
        '(downloads it, or builds it from the Go module proxy; docs/pulumi-cli-offline.md)',
    );
  }
  return cli;
}

/**
 * The inline program: index.ts required afresh (its module body is the program), its exports the stack
 * outputs, as `pulumi up`'s own Node.js runner does. Modules it imports stay cached, like any library.
 *
 * A program error (a config error, a missing CA file) must be thrown, never only logged: a program
 * that returns normally has declared nothing, and the engine deletes every resource of the stack before
 * it sees a logged error fail the run (tests/cli/config-errors.test.ts proves both). The Automation API's
 * language server prints a thrown error's message twice, so a RunError (whose message is for the user) is
 * logged once in full and a one-line error is thrown in its place.
 */
/**
 * The Pulumi runtime derives several promises from a failed program (the Stack's outputs) that nobody
 * awaits once the run is over; their rejections carry the error already reported. Those, and only
 * those, are dropped; any other unhandled rejection still ends the process, as by default.
 */
const reportedProgramErrors = new WeakSet<Error>();
let rejectionFilterInstalled = false;
function installRejectionFilter(): void {
  if (rejectionFilterInstalled) return;
  rejectionFilterInstalled = true;
  process.on('unhandledRejection', (reason) => {
    if (reason instanceof Error && reportedProgramErrors.has(reason)) return;
    throw reason;
  });
}

export const PROGRAM_FAILED = 'the program stopped before declaring any resource (the error above says why)';

export function programFromFile(file: string): () => Promise<Record<string, unknown>> {
  installRejectionFilter();
  return async () => {
    const resolved = require.resolve(file);
    delete require.cache[resolved];
    let exported: Record<string, unknown>;
    try {
      exported = require(resolved) as Record<string, unknown>;
    } catch (error) {
      if (!pulumi.RunError.isInstance(error)) throw error;
      // Logged in full once; what is thrown (and so printed again) is one short line.
      pulumi.log.error((error as Error).message);
      (error as Error).message = PROGRAM_FAILED;
      reportedProgramErrors.add(error as Error);
      throw error;
    }
    return Object.fromEntries(Object.entries(exported).filter(([key]) => key !== '__esModule'));
  };
}

/** The environment every CLI call gets: local file backend, passphrase file, offline switches. */
export function engineEnv(
  options: Required<Pick<EngineOptions, 'stateDir' | 'passphraseFile'>> & {
    cliPath: string;
    base: NodeJS.ProcessEnv;
  },
): NodeJS.ProcessEnv {
  const env = localBackendEnv(path.dirname(options.stateDir), options.cliPath, options.base);
  return {
    ...env,
    PULUMI_BACKEND_URL: `file://${options.stateDir}`,
    PULUMI_CONFIG_PASSPHRASE_FILE: options.passphraseFile,
    // Nothing may be fetched: plugins (azure-native is loaded only by Azure stacks) and registry lookups.
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    PULUMI_DISABLE_REGISTRY_RESOLVE: 'true',
  };
}

/** Selects the stack, creating it (passphrase secrets) on first use. */
export async function openEngine(options: EngineOptions): Promise<Engine> {
  const workDir = options.workDir ?? PROJECT_DIR;
  const stateDir = options.stateDir ?? path.join(workDir, STATE_DIR);
  const passphraseFile = options.passphraseFile ?? path.join(workDir, PASSPHRASE_FILE);
  const toolsRoot = options.toolsRoot ?? TOOLS_ROOT;
  const cliPath = toolsCliPath(toolsRoot);
  fs.mkdirSync(stateDir, { recursive: true });
  ensurePassphraseFile(passphraseFile);
  const cliEnv = engineEnv({ stateDir, passphraseFile, cliPath, base: { ...process.env, ...options.env } });
  const pulumiCommand = await PulumiCommand.get({ root: toolsRoot });
  const stack = await LocalWorkspace.createOrSelectStack(
    {
      stackName: options.stackName,
      projectName: readProjectName(workDir),
      program: programFromFile(options.programFile ?? path.join(PROJECT_DIR, 'index.ts')),
    },
    {
      workDir,
      pulumiCommand,
      secretsProvider: 'passphrase',
      envVars: definedOnly(cliEnv),
    },
  );
  return { stack, cliPath, cliEnv, stateDir };
}

function readProjectName(workDir: string): string {
  const text = fs.readFileSync(path.join(workDir, 'Pulumi.yaml'), 'utf8');
  const name = /^name:\s*(\S+)/m.exec(text)?.[1];
  if (!name) throw new Error(`${path.join(workDir, 'Pulumi.yaml')} has no "name:" line`);
  return name;
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/**
 * One line for a failed engine operation. Once the operation streamed the CLI's own output (diagnostics
 * included) through onOutput/onError, a CommandError's message only repeats it, so it is not printed. A
 * CLI call that failed before anything was streamed (selecting the stack, reading its state) has said
 * nothing yet: then its message, which holds the command and what the CLI printed, is the explanation.
 */
export function engineFailureLine(operation: string, error: unknown, o: { streamed?: boolean } = {}): string {
  if (error instanceof CommandError && o.streamed !== false) {
    return `pulumi ${operation} failed; the CLI's output above says why`;
  }
  return `pulumi ${operation} failed: ${(error as Error).message}`;
}
