/**
 * `npm run device` (device-runtime/cli.ts) as a child process for end-to-end tests: the module's connection
 * string and the hub's CA come from the environment, as the README recommends; everything the process
 * prints is collected; it is killed when the test ends.
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

export function spawnRuntimeCli(t: TestContext, connectionString: string, caFile: string): RuntimeCliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('device-runtime', 'cli.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, IOTHUB_MODULE_CONNECTION_STRING: connectionString, IOTHUB_CA_FILE: caFile },
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
