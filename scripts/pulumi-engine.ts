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
import { LocalWorkspace, PulumiCommand, type Stack } from '@pulumi/pulumi/automation';
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
 * A `pulumi.RunError` (a config error, a missing CA file) is logged once as the Stack's error, as the
 * Node.js language host does. Rethrown, the Automation API's language server would hand its message to
 * the CLI a second time; logged, the run still fails (the server fails any run that logged an error) and
 * the engine deletes nothing.
 */
export function programFromFile(file: string): () => Promise<Record<string, unknown>> {
  return async () => {
    const resolved = require.resolve(file);
    delete require.cache[resolved];
    let exported: Record<string, unknown>;
    try {
      exported = require(resolved) as Record<string, unknown>;
    } catch (error) {
      if (!pulumi.RunError.isInstance(error)) throw error;
      pulumi.log.error((error as Error).message);
      return {};
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
  return { stack, cliPath, cliEnv };
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
