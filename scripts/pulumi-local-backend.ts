/**
 * `npm start` keeps everything on this machine: state in a file backend inside the project
 * (`.pulumi/`), secrets encrypted with a passphrase that is generated once and kept in a git-ignored
 * file (`.pulumi-passphrase`), so no Pulumi Cloud login and no prompt are needed.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export const STATE_DIR = '.pulumi';
export const PASSPHRASE_FILE = '.pulumi-passphrase';

/** Creates the passphrase file (owner-only) unless it exists; returns true if it was created. */
export function ensurePassphraseFile(file: string): boolean {
  try {
    // 'wx' fails if the file exists: an existing passphrase is never replaced (the state needs it).
    fs.writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** The environment for the CLI: the local backend and passphrase file, no update check. */
export function localBackendEnv(
  projectDir: string,
  cliPath: string,
  base: NodeJS.ProcessEnv,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    PULUMI_BACKEND_URL: pathToFileURL(path.join(projectDir, STATE_DIR)).href,
    PULUMI_CONFIG_PASSPHRASE_FILE: path.join(projectDir, PASSPHRASE_FILE),
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    // Language hosts (pulumi-language-nodejs) are installed next to the CLI binary.
    PATH: [path.dirname(cliPath), base['PATH'] ?? ''].join(path.delimiter),
  };
  // A passphrase in the environment would take precedence over the file and not match the state.
  delete env['PULUMI_CONFIG_PASSPHRASE'];
  return env;
}
