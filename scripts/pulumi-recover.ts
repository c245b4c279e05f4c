/**
 * `npm run pulumi -- recover [--stack <name>] [--cwd <dir>]`: bring a stack back after a `pulumi up` that
 * was killed (kill -9, a CI job cancelled, a machine lost). docs/interrupted-runs.md explains each step
 * and its manual equivalent:
 *
 *   1. the lock: refuse while the process that holds it is alive on this machine; else `pulumi cancel`;
 *   2. orphaned provider hosts of this project (their CLI is gone) are stopped, so nothing writes to the
 *      hub behind the next steps;
 *   3. pending creates: `pulumi refresh --import-pending-creates <urn> <id>` for each; the provider reads
 *      the identity, so those the hub has are recorded and those it lacks are dropped;
 *   4. `pulumi up --refresh` with IOTHUB_ADOPT_EXISTING=1 (infra/recovery-mode.ts): identities the killed run created
 *      without recording them are taken over instead of failing as "already exists".
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Engine } from './pulumi-engine';

export interface RecoverOptions {
  engine: Engine;
  stackName: string;
  workDir: string;
  stateDir: string;
  write: (line: string) => void;
}

interface LockFile {
  pid?: number;
  hostname?: string;
  timestamp?: string;
}

/** Lock files of the stack in a file backend (`<state>/.pulumi/locks/.../<stack>/*.json`). */
export function stackLocks(stateDir: string, stackName: string): { file: string; lock: LockFile }[] {
  const root = path.join(stateDir, '.pulumi', 'locks');
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter(
      (entry) =>
        entry.isFile() && entry.name.endsWith('.json') && path.basename(entry.parentPath) === stackName,
    )
    .map((entry) => {
      const file = path.join(entry.parentPath, entry.name);
      return { file, lock: JSON.parse(fs.readFileSync(file, 'utf8')) as LockFile };
    });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

function parentOf(pid: number): number | undefined {
  // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after the last ')'.
  const stat = readProc(pid, 'stat');
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields ? Number(fields[1]) : undefined;
}

/**
 * Provider hosts started in `workDir` whose Pulumi CLI is gone (Linux; elsewhere none are found). The
 * host runs under the launcher script, itself a child of the CLI: orphaned, the launcher's parent is no
 * longer a `pulumi` process.
 */
export function orphanedProviderHosts(workDir: string): number[] {
  if (!fs.existsSync('/proc')) return [];
  const orphans: number[] = [];
  for (const entry of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const pid = Number(entry);
    const cmdline = readProc(pid, 'cmdline') ?? '';
    if (!cmdline.includes('dynamic-provider')) continue;
    let cwd = '';
    try {
      cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      continue;
    }
    if (cwd !== workDir) continue;
    const launcher = parentOf(pid);
    const cli = launcher === undefined ? undefined : parentOf(launcher);
    const cliName = cli === undefined ? '' : (readProc(cli, 'comm') ?? '').trim();
    if (cliName !== 'pulumi') orphans.push(pid);
  }
  return orphans;
}

interface PendingOperation {
  type: string;
  resource: { urn: string; id?: string; inputs?: Record<string, unknown> };
}

/** The id a pending create of ours would have: `<deviceId>` or `<deviceId>/<moduleId>` (twins alike). */
export function pendingCreateId(op: PendingOperation): string | undefined {
  if (op.resource.id) return op.resource.id;
  const inputs = op.resource.inputs ?? {};
  const deviceId = inputs['deviceId'];
  const moduleId = inputs['moduleId'];
  if (typeof deviceId !== 'string') return undefined;
  return typeof moduleId === 'string' ? `${deviceId}/${moduleId}` : deviceId;
}

export async function recoverStack(options: RecoverOptions): Promise<void> {
  const { engine, stackName, workDir, stateDir, write } = options;
  const cli = async (args: string[]) => {
    const { execFile } = await import('node:child_process');
    return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        engine.cliPath,
        [...args, '--stack', stackName],
        { cwd: workDir, env: engine.cliEnv, maxBuffer: 1 << 30 },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
  };

  write('==> 1. the stack lock');
  const locks = stackLocks(stateDir, stackName);
  const held = locks.filter(({ lock }) => lock.pid !== undefined && isAlive(lock.pid));
  if (held.length > 0) {
    const { lock } = held[0]!;
    throw new Error(
      `an update of stack "${stackName}" is still running (pid ${lock.pid} on ${lock.hostname}, since ${lock.timestamp}): ` +
        'wait for it to end, or stop it first; recover never takes a lock from a live process',
    );
  }
  if (locks.length > 0) {
    const cancelled = await cli(['cancel', '--yes']);
    if (cancelled.code !== 0) throw new Error(`pulumi cancel failed: ${cancelled.stderr.trim()}`);
    write(`   removed ${locks.length} lock(s) left by a process that is gone`);
  } else write('   not locked');

  write('==> 2. provider hosts left running by the killed CLI');
  const orphans = orphanedProviderHosts(workDir);
  for (const pid of orphans) process.kill(pid, 'SIGKILL');
  write(orphans.length > 0 ? `   stopped ${orphans.length} (pid ${orphans.join(', ')})` : '   none');

  write('==> 3. operations the killed run left pending');
  const exported = await cli(['stack', 'export']);
  if (exported.code !== 0) throw new Error(`pulumi stack export failed: ${exported.stderr.trim()}`);
  const pending = ((
    JSON.parse(exported.stdout) as { deployment: { pending_operations?: PendingOperation[] } }
  ).deployment.pending_operations ?? []) as PendingOperation[];
  const creates = pending.filter((op) => op.type === 'creating');
  const imports = creates.flatMap((op) => {
    const id = pendingCreateId(op);
    return id === undefined
      ? []
      : ['--import-pending-creates', op.resource.urn, '--import-pending-creates', id];
  });
  if (pending.length > 0) {
    // Refresh also settles pending updates and deletes by reading the hub.
    const args = ['refresh', '--yes', '--skip-preview', '--non-interactive', ...imports];
    if (imports.length / 4 < creates.length) args.push('--clear-pending-creates');
    const refreshed = await cli(args);
    if (refreshed.code !== 0)
      throw new Error(`pulumi refresh failed:\n${refreshed.stdout}\n${refreshed.stderr}`);
    write(`   ${pending.length} pending (${creates.length} creates): settled by refresh against the hub`);
  } else write('   none');
}
