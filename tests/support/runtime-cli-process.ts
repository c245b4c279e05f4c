/**
 * Project scripts as child processes for end-to-end tests, such as `npm run device` (device-runtime/cli.ts) with
 * the module's connection string and the hub's CA from the environment, as the README recommends; everything
 * the process prints is collected; it is killed when the test ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import type { TestContext } from 'node:test';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

export interface RuntimeCliProcess {
  child: ChildProcess;
  /** Everything printed on stdout and stderr so far. */
  output(): string;
  /** Resolves with [exit code, signal]. */
  exited: Promise<unknown[]>;
}

/**
 * A project script (`path` from the repository root) run with tsx as `npm run …` runs it: killed when the test
 * ends, everything it prints collected. `env` replaces the environment when given.
 */
export function spawnProjectScript(
  t: TestContext,
  script: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): RuntimeCliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  return { child, output: () => output, exited };
}

export function spawnRuntimeCli(t: TestContext, connectionString: string, caFile: string): RuntimeCliProcess {
  return spawnProjectScript(t, path.join('device-runtime', 'cli.ts'), [], {
    ...process.env,
    IOTHUB_MODULE_CONNECTION_STRING: connectionString,
    IOTHUB_CA_FILE: caFile,
  });
}
