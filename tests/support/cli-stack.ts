/**
 * Tier 8 (real CLI): a stack of this project's program run by the real Pulumi engine
 * (scripts/pulumi-engine.ts) against a local hub, with a file backend and a passphrase of its own.
 *
 * Each stack gets a work folder under `.test-work/` inside the project (git-ignored): the provider host
 * starts there, and finds the project's node_modules and provider table in its parents, as it does for
 * the project itself. The folder holds a Pulumi.yaml (same project name, so `iothub-as-code:` config
 * keys apply), the stack's config file, the state and the passphrase.
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { PROGRAM_POLICY_NAME, WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import type { LocalHub } from '../../local-hub';
import { type Engine, openEngine, PROJECT_DIR, TOOLS_ROOT } from '../../scripts/pulumi-engine';
import { startTestHub } from './local-hub-fixture';

export const CLI_PATH = path.join(TOOLS_ROOT, 'bin', 'pulumi');
export const WORK_ROOT = path.join(PROJECT_DIR, '.test-work');

/**
 * The CLI must be there: `npm test` installs it (scripts/install-pulumi.sh) before the tiers run. A
 * missing CLI fails this tier with the reason; it never skips.
 */
export function requireCli(): void {
  if (!fs.existsSync(CLI_PATH)) {
    throw new Error(
      `The real-CLI tier needs the Pulumi CLI at ${CLI_PATH}, which is missing` +
        `${process.env['CI'] === 'true' ? ' (CI=true)' : ''}: run scripts/install-pulumi.sh ` +
        '(npm test runs it first; it builds the CLI from the Go module proxy when it cannot download it).',
    );
  }
}

/** A LocalHub, or a hub process: the program reads the CA from a file, so the hub must keep one. */
export interface HubAddress {
  hostName: string;
  caCertificatePath: string | null;
}

/** The program's policy (RegistryWrite + ServiceConnect) on a local hub, with its well-known key. */
export function programConnectionString(hostName: string): string {
  const policy = WELL_KNOWN_POLICIES.find((p) => p.keyName === PROGRAM_POLICY_NAME)!;
  return `HostName=${hostName};SharedAccessKeyName=${policy.keyName};SharedAccessKey=${policy.primaryKey}`;
}

export interface CliStack extends Engine {
  name: string;
  workDir: string;
  stateDir: string;
  configFile: string;
  /** Rewrites the `iothub-as-code:devices` YAML block (the rest of the config file is kept). */
  setDevicesYaml(devicesYaml: string): void;
  /** Sets (or adds) the YAML block of one `iothub-as-code:<key>` config key, kept in place otherwise. */
  setConfigYaml(key: string, yaml: string): void;
  /** Runs the CLI itself (no program) in the work folder; resolves with its output whatever the exit code. */
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Deletes the work folder (state, passphrase, config). */
  remove(): void;
}

let counter = 0;

/**
 * A new stack `name` on `hub`, its devices given as the YAML list under `iothub-as-code:devices`
 * (indented by four spaces), the hub connection string set as a secret as a user would
 * (`pulumi config set --secret --path hub.local.connectionString`).
 */
export async function createCliStack(name: string, hub: HubAddress, devicesYaml: string): Promise<CliStack> {
  requireCli();
  if (!hub.caCertificatePath)
    throw new Error('createCliStack needs a hub with a data directory (its CA file)');
  const workDir = path.join(WORK_ROOT, `${name}-${process.pid}-${counter++}`);
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(workDir, { recursive: true });
  fs.writeFileSync(path.join(workDir, 'Pulumi.yaml'), 'name: iothub-as-code\nruntime: nodejs\n');
  const configFile = path.join(workDir, `Pulumi.${name}.yaml`);
  const header = [
    'config:',
    '  iothub-as-code:hub:',
    '    mode: local',
    '    local:',
    `      caCertificatePath: ${hub.caCertificatePath}`,
    '  iothub-as-code:devices:',
  ].join('\n');
  fs.writeFileSync(configFile, `${header}\n${devicesYaml}`);
  const stateDir = path.join(workDir, '.pulumi');
  const engine = await openEngine({ stackName: name, workDir });
  await engine.stack.setConfig(
    'hub.local.connectionString',
    { value: programConnectionString(hub.hostName), secret: true },
    true,
  );
  const setConfigYaml = (key: string, yaml: string): void => {
    const text = fs.readFileSync(configFile, 'utf8');
    const line = `  iothub-as-code:${key}:\n`;
    const start = text.indexOf(line);
    if (start === -1) {
      fs.writeFileSync(configFile, text.replace('config:\n', `config:\n${line}${yaml}`));
      return;
    }
    const rest = text.slice(start + line.length);
    // The block ends at the next config key or top-level key (`encryptionsalt:`), if any.
    const next = rest.search(/^ {0,2}[^\s-]/m);
    const after = next === -1 ? '' : rest.slice(next);
    fs.writeFileSync(configFile, `${text.slice(0, start)}${line}${yaml}${after}`);
  };
  return {
    ...engine,
    name,
    workDir,
    stateDir,
    configFile,
    setDevicesYaml: (yaml) => setConfigYaml('devices', yaml),
    setConfigYaml,
    cli(args) {
      return new Promise((resolve) => {
        execFile(
          engine.cliPath,
          [...args, '--stack', name],
          { cwd: workDir, env: engine.cliEnv, maxBuffer: 1 << 30 },
          (error, stdout, stderr) => {
            const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
      });
    },
    remove() {
      fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** YAML for `count` devices of `modulesPerDevice` modules, each module twin desiring `desired(d, m)`. */
export function fleetYaml(
  count: number,
  modulesPerDevice: number,
  desired: (device: number, module: number) => Record<string, number | string>,
  prefix = 'dev',
): string {
  const lines: string[] = [];
  for (let d = 0; d < count; d++) {
    lines.push(`    - deviceId: ${prefix}${d}`, '      modules:');
    for (let m = 0; m < modulesPerDevice; m++) {
      lines.push(`        - moduleId: mod${m}`, '          twin:', '            desired:');
      for (const [key, value] of Object.entries(desired(d, m))) {
        lines.push(`              ${key}: ${JSON.stringify(value)}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The processes whose working directory is `dir` or below (provider hosts the engine started there):
 * after a kill -9 of the CLI, its provider host is orphaned and keeps running, as it would for a user.
 */
export function processesIn(dir: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}${path.sep}`)) found.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

export function killProcessesIn(dir: string): void {
  for (const pid of processesIn(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** `npm run pulumi -- <args>` in a child process (its own process group), output collected. */
export function spawnPulumiScript(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(PROJECT_DIR, 'scripts', 'pulumi.ts'), ...args],
    {
      cwd: PROJECT_DIR,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))),
  );
  return { child, output: () => output, exited };
}

/** An in-process local hub with a data directory under `.test-work/` (the program reads its CA file). */
export async function startCliHub(): Promise<LocalHub & { closeAndRemove(): Promise<void> }> {
  fs.mkdirSync(WORK_ROOT, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(WORK_ROOT, 'hub-'));
  const hub = await startTestHub({ dataDir });
  return Object.assign(hub, {
    async closeAndRemove() {
      await hub.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** The official service SDK's Registry on a hub, with the program's policy. */
export function hubRegistry(hub: { hostName: string; caCertificatePem: string }) {
  return createHubClient(programConnectionString(hub.hostName), { caCertificate: hub.caCertificatePem })
    .registry;
}
