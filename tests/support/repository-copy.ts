/**
 * A fresh copy of this repository as a newcomer's clone has it (tracked and new files), inside
 * `.test-work/` (so the provider host finds node_modules in its parents), sharing node_modules and the
 * installed CLI; for the tier-8 tests of the README's commands and the pipeline's local job, which use
 * the project's own default paths (.pulumi/, .local-hub/) and port.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { PROJECT_DIR } from '../../scripts/pulumi-engine';

export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The repository as a newcomer's clone has it (tracked and new files), sharing node_modules and .tools. */
export function copyRepository(target: string): void {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: PROJECT_DIR,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file && fs.existsSync(path.join(PROJECT_DIR, file)));
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
    fs.copyFileSync(path.join(PROJECT_DIR, file), path.join(target, file));
  }
  fs.symlinkSync(path.join(PROJECT_DIR, 'node_modules'), path.join(target, 'node_modules'));
  fs.mkdirSync(path.join(target, '.tools'));
  fs.symlinkSync(path.join(PROJECT_DIR, '.tools', 'pulumi'), path.join(target, '.tools', 'pulumi'));
}

/**
 * A fresh copy under `.test-work/<name>-<pid>` for a test that runs the project's commands on the
 * default port, which must be free: a hub already there (`npm run hub`) would be used instead.
 */
export async function freshRepositoryCopy(name: string, workRoot: string, port: number): Promise<string> {
  if (await portAnswers(port)) {
    throw new Error(
      `port ${port} is in use (a hub from npm run hub?): the project's commands would use it; stop it first`,
    );
  }
  const copy = path.join(workRoot, `${name}-${process.pid}`);
  fs.rmSync(copy, { recursive: true, force: true });
  copyRepository(copy);
  return copy;
}
