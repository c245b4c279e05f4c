/**
 * Starting the real dynamic provider host process the way the engine does, minus the CLI: in the
 * project directory (the serialized provider's `require()`s resolve from its cwd, see
 * require-from-string), with the language host's PULUMI_NODEJS_* settings, and the engine address
 * argument it requires (`main()` exits without one) but never contacts. Its port is its first line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { DYNAMIC_PROVIDER_SCRIPT } from './host-grpc';
import { within } from './runtime-wait';

export interface HostProcessOptions {
  /** Project directory. Default: the repository root. */
  cwd?: string;
  /** PULUMI_NODEJS_PROJECT; default the project name of Pulumi.yaml. */
  project?: string;
  /** PULUMI_NODEJS_STACK; default `local`. */
  stack?: string;
}

export interface HostProcess {
  port: number;
  /** stdout after the port line (a provider's `console.log`). */
  stdout(): string;
  /** Everything written to stderr (the host logs provider failures there). */
  stderr(): string;
  /** Kills the process and resolves once it exited. Idempotent. */
  stop(): Promise<void>;
}

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const DEFAULT_PROJECT = 'iothub-as-code';
const UNUSED_ENGINE_ADDRESS = '127.0.0.1:1';
/** The host loads @pulumi/pulumi and tsx before printing its port: seconds on a loaded machine. */
const HOST_START_MS = 60_000;

export async function spawnHostProcess(options: HostProcessOptions = {}): Promise<HostProcess> {
  const cwd = options.cwd ?? PROJECT_ROOT;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULUMI_NODEJS_PROJECT: options.project ?? DEFAULT_PROJECT,
    PULUMI_NODEJS_STACK: options.stack ?? 'local',
    PULUMI_NODEJS_ROOT_DIRECTORY: cwd,
  };
  // node:test marks its child processes; the host is not one of them.
  delete env['NODE_TEST_CONTEXT'];
  const child = spawn(process.execPath, [DYNAMIC_PROVIDER_SCRIPT, UNUSED_ENGINE_ADDRESS], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(child);
  const stop = stopper(child);
  try {
    const port = await within(
      () => `the provider host to print its port; its stderr so far:\n${output.stderr()}`,
      output.port,
      HOST_START_MS,
    );
    return { port, stdout: output.stdout, stderr: output.stderr, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  const exited = once(child, 'exit').then(() => undefined);
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      await within('the provider host to exit after SIGTERM', exited).catch((error: unknown) => {
        child.kill('SIGKILL');
        throw error;
      });
    })();
    return stopping;
  };
}

interface HostOutput {
  port: Promise<number>;
  stdout: () => string;
  stderr: () => string;
}

function collectOutput(child: ChildProcess): HostOutput {
  let stdout = '';
  let stderr = '';
  let portLineSeen = false;
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const port = new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (portLineSeen || newline < 0) return;
      portLineSeen = true;
      const line = stdout.slice(0, newline).trim();
      stdout = stdout.slice(newline + 1);
      const parsed = Number(line);
      if (Number.isInteger(parsed) && parsed > 0) resolve(parsed);
      else reject(new Error(`The provider host's first stdout line should be its port; got "${line}"`));
    });
    child.once('exit', (code, signal) => {
      const why = signal ? `signal ${signal}` : `code ${code}`;
      reject(new Error(`${DYNAMIC_PROVIDER_SCRIPT} exited (${why}) before printing its port:\n${stderr}`));
    });
    child.once('error', reject);
  });
  return { port, stdout: () => stdout, stderr: () => stderr };
}
