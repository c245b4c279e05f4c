/**
 * Tier 8 (real CLI) for the package (docs/package.md): this project packed with `npm pack`, installed
 * into a folder that is not this project, and Pulumi programs there that use it as any program would.
 *
 * The folder sits under `.test-work/` (git-ignored) and holds one package.json and node_modules shared
 * by the programs in its subfolders (one install). Each program folder has its own Pulumi.yaml, stack
 * config, file backend and passphrase. Operations run through tests/support/outside-program-driver.cjs
 * with the program's own @pulumi/pulumi (see there); stack init and config are plain CLI calls, as a
 * user types them, the connection string written to `pulumi config set --secret` on stdin (never argv).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { engineEnv, PROJECT_DIR, TOOLS_ROOT } from '../../scripts/pulumi-engine';
import { ensurePassphraseFile } from '../../scripts/pulumi-local-backend';
import { CLI_PATH } from './cli-stack';

const DRIVER = path.join(__dirname, 'outside-program-driver.cjs');
const HOST_PRELOAD = path.join(__dirname, 'outside-host-preload.cjs');

/** Every child is bounded: a hung npm or CLI fails the test instead of stalling it. */
const PACK_TIMEOUT_MS = 240_000;
const INSTALL_TIMEOUT_MS = 300_000;
const OPERATION_TIMEOUT_MS = 240_000;

export interface ChildResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; resolves with its output whatever the exit code (`code` 124 when it timed out). */
export function run(
  file: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs: number },
): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdin.end(options.input ?? '');
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 124 : (code ?? (signal ? 128 : 1)), stdout, stderr });
    });
  });
}

function mustSucceed(what: string, result: ChildResult): ChildResult {
  if (result.code !== 0) {
    throw new Error(
      `${what} failed (exit ${result.code}):\n${result.stderr}\n${result.stdout}`.slice(0, 8000),
    );
  }
  return result;
}

export interface PackedPackage {
  tarball: string;
  /** The paths inside the tarball, relative to the package root. */
  files: string[];
}

/** `npm pack` of this project (its prepack builds dist/) into `destDir`. */
export async function packProject(destDir: string): Promise<PackedPackage> {
  fs.mkdirSync(destDir, { recursive: true });
  const packed = mustSucceed(
    'npm pack',
    await run('npm', ['pack', '--json', '--pack-destination', destDir], {
      cwd: PROJECT_DIR,
      timeoutMs: PACK_TIMEOUT_MS,
    }),
  );
  // The JSON follows prepack's own output on stdout.
  const report = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[\n'))) as {
    filename: string;
    files: { path: string }[];
  }[];
  return { tarball: path.join(destDir, report[0]!.filename), files: report[0]!.files.map((f) => f.path) };
}

/**
 * The shared parent of the outside programs: a package.json as a Pulumi TypeScript project has it
 * (the SDK, TypeScript and Node's types) plus the packed tarball, installed once.
 */
export async function installOutsideRoot(root: string, tarball: string): Promise<void> {
  const sdkVersion = (require('@pulumi/pulumi/package.json') as { version: string }).version;
  const manifest = {
    name: 'outside-programs',
    private: true,
    dependencies: { '@pulumi/pulumi': sdkVersion, 'iothub-as-code': `file:${tarball}` },
    devDependencies: { '@types/node': '^20.19.43', typescript: '~5.9.3' },
    // npm 11 asks before running install scripts; @pulumi/pulumi's protobufjs has one (as in this project).
    allowScripts: { protobufjs: true },
  };
  fs.writeFileSync(path.join(root, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  mustSucceed(
    'npm install',
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: root,
      timeoutMs: INSTALL_TIMEOUT_MS,
    }),
  );
}

/**
 * Loads every entry point of the installed package in a plain `node` started in `root` and returns
 * the modules it loaded from outside `root`: a dependency the package forgot to declare would come
 * from this project's node_modules (an ancestor folder) and show up here.
 */
export async function modulesLoadedFromOutside(root: string, entryPoints: string[]): Promise<string[]> {
  const script = `
    for (const entry of ${JSON.stringify(entryPoints)}) require(entry);
    const root = ${JSON.stringify(root + path.sep)};
    console.log(JSON.stringify(Object.keys(require.cache).filter((file) => !file.startsWith(root))));`;
  const result = mustSucceed(
    'loading the package',
    await run(process.execPath, ['-e', script], { cwd: root, env: withoutNodeOptions(), timeoutMs: 60_000 }),
  );
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as string[];
}

export type ProgramLanguage = 'typescript' | 'javascript';

/** What both programs declare, between their imports and their export: the same text in TypeScript and JavaScript. */
const PROGRAM_BODY = `const config = new pulumi.Config();
const caPath = config.get('hubCaCertificatePath'); // the local hub's CA; unset for Azure
const hub = {
  hubConnectionString: config.requireSecret('hubConnectionString'),
  hubCaCertificate: caPath ? fs.readFileSync(caPath, 'utf8') : undefined,
};

const device = new DeviceIdentity('sensor-1', { ...hub, deviceId: 'sensor-1' });
const telemetry = new ModuleIdentity('sensor-1-telemetry', {
  ...hub,
  deviceId: device.deviceId,
  moduleId: 'telemetry',
});
new ModuleTwin('sensor-1-telemetry-twin', {
  ...hub,
  deviceId: telemetry.deviceId,
  moduleId: telemetry.moduleId,
  desired: { telemetryInterval: config.requireNumber('telemetryInterval') },
});
`;

/**
 * The program a user writes: a device, a module and its twin, the hub from stack config. The TypeScript
 * one is the README's example ("Use it from your own Pulumi program") as written.
 */
export const TYPESCRIPT_PROGRAM = `import * as fs from 'fs';
import * as pulumi from '@pulumi/pulumi';
import { DeviceIdentity, ModuleIdentity, ModuleTwin } from 'iothub-as-code';

${PROGRAM_BODY}
export const moduleConnectionString = telemetry.moduleConnectionString;
`;

const JAVASCRIPT_PROGRAM = `'use strict';
const fs = require('fs');
const pulumi = require('@pulumi/pulumi');
const { DeviceIdentity, ModuleIdentity, ModuleTwin } = require('iothub-as-code');

${PROGRAM_BODY}
exports.moduleConnectionString = telemetry.moduleConnectionString;
`;

/** tsconfig.json of Pulumi's TypeScript template, plus `types` so Node's types come from the program's own node_modules. */
const TEMPLATE_TSCONFIG = {
  compilerOptions: {
    strict: true,
    outDir: 'bin',
    target: 'es2020',
    module: 'commonjs',
    moduleResolution: 'node',
    sourceMap: true,
    experimentalDecorators: true,
    pretty: true,
    noFallthroughCasesInSwitch: true,
    noImplicitReturns: true,
    forceConsistentCasingInFileNames: true,
    types: ['node'],
  },
  files: ['index.ts'],
};

export interface OutsideProgram {
  dir: string;
  stackName: string;
  /** The file the driver requires: index.js, or the TypeScript program compiled by tsc. */
  entry: string;
  /** Resolved files containing `provider-table` or `tsx` that the CLI's processes loaded, `<pid> <file>`. */
  loadedLog: string;
  setConfig(key: string, value: string, options?: { secret?: boolean }): Promise<void>;
  /** One Automation API operation through the driver; rejects with the CLI's output if it failed. */
  operation(name: 'up' | 'preview' | 'destroy'): Promise<OperationResult>;
  /** `pulumi stack export` of the stack. */
  exportState(): Promise<StateExport>;
  cli(args: string[], input?: string): Promise<ChildResult>;
}

export interface OperationResult {
  resourceChanges: Record<string, number>;
  /** The CLI's output for the operation (`--diff` for up and preview). */
  output: string;
  /** The @pulumi/pulumi the program ran with. */
  sdk: string;
}

export interface StateExport {
  deployment: {
    resources: { type: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }[];
  };
}

function withoutNodeOptions(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = { ...base };
  delete env['NODE_OPTIONS'];
  return env;
}

/**
 * A program folder `root/<name>` with Pulumi.yaml (project `name`), the program, and a stack `dev`
 * created with passphrase secrets in a file backend of its own. TypeScript is compiled with the
 * installed tsc and the template's tsconfig (which type-checks against the package's declarations).
 */
export async function createOutsideProgram(
  root: string,
  name: string,
  language: ProgramLanguage,
): Promise<OutsideProgram> {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'Pulumi.yaml'), `name: ${name}\nruntime: nodejs\n`);
  let entry: string;
  if (language === 'typescript') {
    fs.writeFileSync(path.join(dir, 'index.ts'), TYPESCRIPT_PROGRAM);
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), `${JSON.stringify(TEMPLATE_TSCONFIG, null, 2)}\n`);
    mustSucceed(
      'tsc of the TypeScript program',
      await run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], {
        cwd: dir,
        env: withoutNodeOptions(),
        timeoutMs: 120_000,
      }),
    );
    entry = path.join(dir, 'bin', 'index.js');
  } else {
    fs.writeFileSync(path.join(dir, 'index.js'), JAVASCRIPT_PROGRAM);
    entry = path.join(dir, 'index.js');
  }
  const stateDir = path.join(dir, '.pulumi');
  const passphraseFile = path.join(dir, '.pulumi-passphrase');
  fs.mkdirSync(stateDir, { recursive: true });
  ensurePassphraseFile(passphraseFile);
  const cliEnv = withoutNodeOptions(
    engineEnv({ stateDir, passphraseFile, cliPath: CLI_PATH, base: process.env }),
  );
  const loadedLog = path.join(dir, 'loaded-modules.log');
  const stackName = 'dev';
  const cli = (args: string[], input?: string) =>
    run(CLI_PATH, [...args, '--stack', stackName], {
      cwd: dir,
      env: cliEnv,
      ...(input !== undefined ? { input } : {}),
      timeoutMs: 60_000,
    });
  mustSucceed(
    'pulumi stack init',
    await run(CLI_PATH, ['stack', 'init', stackName, '--secrets-provider', 'passphrase'], {
      cwd: dir,
      env: cliEnv,
      timeoutMs: 60_000,
    }),
  );
  return {
    dir,
    stackName,
    entry,
    loadedLog,
    cli,
    async setConfig(key, value, options = {}) {
      // A secret is written on stdin, as `cat file | pulumi config set --secret key` does.
      const args = options.secret ? ['config', 'set', '--secret', key] : ['config', 'set', key, value];
      mustSucceed(`pulumi config set ${key}`, await cli(args, options.secret ? value : undefined));
    },
    async operation(operationName) {
      const request = { programDir: dir, entry, stackName, toolsRoot: TOOLS_ROOT };
      const result = await run(process.execPath, [DRIVER, operationName, JSON.stringify(request)], {
        cwd: dir,
        env: {
          ...cliEnv,
          HOST_NODE_OPTIONS: `--require ${HOST_PRELOAD}`,
          OUTSIDE_LOADED_LOG: loadedLog,
        },
        timeoutMs: OPERATION_TIMEOUT_MS,
      });
      mustSucceed(`pulumi ${operationName} of ${name}`, result);
      return JSON.parse(result.stdout.trim().split('\n').pop()!) as OperationResult;
    },
    async exportState() {
      const exported = mustSucceed('pulumi stack export', await cli(['stack', 'export']));
      return JSON.parse(exported.stdout) as StateExport;
    },
  };
}

/** The `<file>` part of each line the host preload logged (empty when nothing was logged). */
export function loadedFiles(log: string): string[] {
  if (!fs.existsSync(log)) return [];
  return fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(line.indexOf(' ') + 1));
}

/** Every public entry point and type a program may import, for the declarations check. */
const ENTRY_POINTS_PROGRAM = `import {
  Configuration,
  type ConfigurationArgs,
  DeviceIdentity,
  type DeviceIdentityArgs,
  DeviceTwin,
  type DeviceTwinArgs,
  type IdentityAuthenticationArgs,
  ModuleIdentity,
  type ModuleIdentityArgs,
  ModuleTwin,
  type ModuleTwinArgs,
  type WaitForAckArgs,
} from 'iothub-as-code';
import { createHubClient, createServiceClient } from 'iothub-as-code/client';
import { type DeviceRuntimeOptions, startDeviceRuntime } from 'iothub-as-code/device-runtime';

export const classes = [Configuration, DeviceIdentity, DeviceTwin, ModuleIdentity, ModuleTwin];
export type Args = [ConfigurationArgs, DeviceIdentityArgs, DeviceTwinArgs, ModuleIdentityArgs, ModuleTwinArgs];
export type Parts = [IdentityAuthenticationArgs, WaitForAckArgs, DeviceRuntimeOptions];
export const functions = [createHubClient, createServiceClient, startDeviceRuntime];
`;

/**
 * Type-checks a file importing every entry point against the installed declarations, with the
 * installed tsc, once as Pulumi's template compiles (`moduleResolution: node`: package.json `types`
 * and `typesVersions`) and once with `node16` (package.json `exports`). Returns tsc's output per mode
 * that failed (empty when both pass).
 */
export async function typeCheckEntryPoints(root: string): Promise<string[]> {
  const dir = path.join(root, 'entry-points');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.ts'), ENTRY_POINTS_PROGRAM);
  const modes: Record<string, object> = {
    node: { ...TEMPLATE_TSCONFIG.compilerOptions, noEmit: true },
    node16: {
      ...TEMPLATE_TSCONFIG.compilerOptions,
      module: 'node16',
      moduleResolution: 'node16',
      noEmit: true,
    },
  };
  const failures: string[] = [];
  for (const [mode, compilerOptions] of Object.entries(modes)) {
    const config = path.join(dir, `tsconfig.${mode}.json`);
    fs.writeFileSync(config, JSON.stringify({ compilerOptions, files: ['index.ts'] }));
    const result = await run(
      process.execPath,
      [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config],
      { cwd: dir, env: withoutNodeOptions(), timeoutMs: 120_000 },
    );
    if (result.code !== 0) failures.push(`moduleResolution ${mode}:\n${result.stdout}${result.stderr}`);
  }
  return failures;
}
