/**
 * Finds the Pulumi CLI for `npm start`. Order: the version pinned by the project's `pulumi` npm
 * package if it is already in that package's cache (~/.pulumi/versions/<v>/bin, shared with the
 * Automation API), then a `pulumi` on PATH, then the npm package's own download (it fetches
 * get.pulumi.com/install.sh on first use). The npm package's `run.js` shim in node_modules/.bin is
 * not a CLI: it is what would download, so it never counts as "on PATH".
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type CliLocation =
  | { found: true; path: string; source: 'npm-cache' | 'path' | 'npm-download' }
  | { found: false; reasons: string[] };

export interface FindCliOptions {
  env: NodeJS.ProcessEnv;
  /** False for `--no-download`: never reach the network. */
  allowDownload: boolean;
}

interface NpmPulumiPackage {
  version: string;
  resolve(opts?: { install?: (version: string, root: string) => Promise<void> }): Promise<string>;
}

/** The `pulumi` npm package's resolver (lib/resolve.js), untyped; undefined if not installed. */
function loadNpmPackage(): NpmPulumiPackage | undefined {
  try {
    const { version } = require('pulumi/package.json') as { version: string };
    const { resolve } = require('pulumi/lib/resolve') as Pick<NpmPulumiPackage, 'resolve'>;
    return { version, resolve };
  } catch {
    return undefined;
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** node_modules/.bin/pulumi links to the npm package's run.js, which downloads: not a CLI. */
function isNpmShim(file: string): boolean {
  try {
    return fs.realpathSync(file).split(path.sep).join('/').endsWith('node_modules/pulumi/run.js');
  } catch {
    return false;
  }
}

export function findOnPath(env: NodeJS.ProcessEnv): string | undefined {
  const names = process.platform === 'win32' ? ['pulumi.exe', 'pulumi.cmd'] : ['pulumi'];
  for (const dir of (env['PATH'] ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (isExecutable(candidate) && !isNpmShim(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Where the npm package caches its pinned version (mirrors its lib/cache.js). */
export function npmCachedCliPath(env: NodeJS.ProcessEnv, version: string): string {
  const home = env['PULUMI_HOME'] || path.join(os.homedir(), '.pulumi');
  return path.join(home, 'versions', version, 'bin', process.platform === 'win32' ? 'pulumi.exe' : 'pulumi');
}

export async function findPulumiCli(options: FindCliOptions): Promise<CliLocation> {
  const reasons: string[] = [];
  const npm = loadNpmPackage();
  // The npm package honours PULUMI_VERSION over its own version (its lib/resolve.js); so do we.
  const version = options.env['PULUMI_VERSION'] || npm?.version;
  if (npm) {
    const cached = npmCachedCliPath(options.env, version!);
    if (isExecutable(cached)) return { found: true, path: cached, source: 'npm-cache' };
    reasons.push(`pulumi v${version} is not in the npm package's cache (${cached})`);
  } else {
    reasons.push('the `pulumi` npm package is not installed (run `npm ci`)');
  }
  const onPath = findOnPath(options.env);
  if (onPath) return { found: true, path: onPath, source: 'path' };
  reasons.push('no `pulumi` executable on PATH');
  if (!npm) return { found: false, reasons };
  if (!options.allowDownload) {
    reasons.push('downloading was disabled (--no-download)');
    return { found: false, reasons };
  }
  try {
    // The package reads PULUMI_HOME from process.env; the CLI runs with this process's env anyway.
    return { found: true, path: await npm.resolve(), source: 'npm-download' };
  } catch (error) {
    reasons.push(`downloading pulumi v${version} failed: ${(error as Error).message}`);
    return { found: false, reasons };
  }
}

/** One paragraph: what failed, how to get the CLI, and that the tests need none. */
export function cliUnavailableMessage(reasons: readonly string[]): string {
  return [
    `npm start could not run \`pulumi up\` because the Pulumi CLI is not available: ${reasons.join('; ')}.`,
    'Install the CLI with `curl -fsSL https://get.pulumi.com | sh` (Windows and other options:',
    'https://www.pulumi.com/docs/iac/download-install/), or, on a machine with internet access, let the',
    "project's pinned `pulumi` npm package fetch it once with `npx pulumi version`; then run `npm start` again.",
    'Nothing else needs the CLI: `npm test` exercises the program, the dynamic providers (through',
    "Pulumi's real provider host) and the local hub offline.",
  ].join(' ');
}
