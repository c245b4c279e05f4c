/**
 * `npm run pulumi -- <command> [options]`: the Pulumi CLI for this project, offline, with the local file
 * backend and passphrase file of scripts/pulumi-local-backend.ts.
 *
 *   up | preview | refresh | destroy   run through the Automation API with index.ts as an inline program
 *                                      (scripts/pulumi-engine.ts says why); same engine, same output
 *   recover                            after an interrupted up: lock, orphaned hosts, pending creates,
 *                                      then up (scripts/pulumi-recover.ts, docs/interrupted-runs.md)
 *   anything else                      the CLI itself (stack export, stack output, config, cancel, ...)
 *
 * Options of the four program commands: --stack <name> (default local), --cwd <dir> (the folder holding
 * Pulumi.yaml), --diff, --refresh, --expect-no-changes, --yes (implied: the Automation API never
 * prompts), --clear-pending-creates, --parallel <n>, --target <urn> (repeatable).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ADOPT_EXISTING_ENV } from '../infra/recovery-mode';
import { engineFailureLine, openEngine, PROJECT_DIR } from './pulumi-engine';
import { recoverStack } from './pulumi-recover';

const PROGRAM_COMMANDS = ['up', 'preview', 'refresh', 'destroy', 'recover'] as const;
type ProgramCommand = (typeof PROGRAM_COMMANDS)[number];

function isProgramCommand(word: string | undefined): word is ProgramCommand {
  return (PROGRAM_COMMANDS as readonly string[]).includes(word ?? '');
}

const OPTIONS = {
  stack: { type: 'string', short: 's', default: 'local' },
  cwd: { type: 'string', short: 'C' },
  diff: { type: 'boolean', default: false },
  refresh: { type: 'boolean', short: 'r', default: false },
  'expect-no-changes': { type: 'boolean', default: false },
  yes: { type: 'boolean', short: 'y', default: false },
  'skip-preview': { type: 'boolean', short: 'f', default: false },
  'clear-pending-creates': { type: 'boolean', default: false },
  parallel: { type: 'string', short: 'p' },
  target: { type: 'string', short: 't', multiple: true },
} as const;

export interface ProgramRun {
  command: ProgramCommand;
  stack: string;
  workDir: string;
  diff: boolean;
  refresh: boolean;
  expectNoChanges: boolean;
  clearPendingCreates: boolean;
  parallel?: number;
  target?: string[];
}

/** Parses the options of a program command; throws naming the bad option and the valid ones. */
export function parseProgramRun(command: ProgramCommand, args: string[]): ProgramRun {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; args: string[] }>>['values'];
  try {
    ({ values } = parseArgs({ args, options: OPTIONS, allowPositionals: false }));
  } catch (error) {
    const valid = Object.keys(OPTIONS)
      .map((name) => `--${name}`)
      .join(', ');
    throw new Error(`pulumi ${command}: ${(error as Error).message} (valid options: ${valid})`);
  }
  const parallel = values.parallel === undefined ? undefined : Number(values.parallel);
  if (parallel !== undefined && !(Number.isInteger(parallel) && parallel > 0)) {
    throw new Error(
      `pulumi ${command}: --parallel must be a positive whole number, got "${values.parallel}"`,
    );
  }
  return {
    command,
    stack: values.stack,
    workDir: path.resolve(values.cwd ?? PROJECT_DIR),
    diff: values.diff,
    refresh: values.refresh,
    expectNoChanges: values['expect-no-changes'],
    clearPendingCreates: values['clear-pending-creates'],
    ...(parallel === undefined ? {} : { parallel }),
    ...(values.target ? { target: values.target } : {}),
  };
}

/** Runs one program command, streaming the engine's output; resolves when the CLI has finished. */
export async function runProgramCommand(
  run: ProgramRun,
  write: (text: string) => void,
  writeError: (text: string) => void = (text) => process.stderr.write(text),
): Promise<void> {
  const engine = await openEngine({ stackName: run.stack, workDir: run.workDir });
  const { stack } = engine;
  const common = {
    onOutput: write,
    onError: writeError,
    color: 'never' as const,
    ...(run.parallel === undefined ? {} : { parallel: run.parallel }),
    ...(run.target ? { target: run.target } : {}),
  };
  switch (run.command) {
    case 'up':
      await stack.up({
        ...common,
        diff: run.diff,
        refresh: run.refresh,
        expectNoChanges: run.expectNoChanges,
      });
      return;
    case 'preview':
      await stack.preview({
        ...common,
        diff: run.diff,
        refresh: run.refresh,
        expectNoChanges: run.expectNoChanges,
      });
      return;
    case 'refresh':
      await stack.refresh({
        ...common,
        expectNoChanges: run.expectNoChanges,
        clearPendingCreates: run.clearPendingCreates,
      });
      return;
    case 'destroy':
      await stack.destroy({ ...common, refresh: run.refresh });
      return;
    case 'recover': {
      const line = (text: string) => write(`${text}\n`);
      await recoverStack({
        engine,
        stackName: run.stack,
        workDir: run.workDir,
        stateDir: engine.stateDir,
        write: line,
      });
      line(
        '==> 4. pulumi up --refresh, taking over identities the killed run created without recording them',
      );
      process.env[ADOPT_EXISTING_ENV] = '1';
      try {
        // With refresh: a killed run may also have deleted or changed what the state still records.
        await stack.up({ ...common, refresh: true });
      } finally {
        delete process.env[ADOPT_EXISTING_ENV];
      }
      line('==> recovered: the stack matches its config again');
      return;
    }
  }
}

/** Any other command: the CLI itself, in the work dir, with the engine's environment. */
async function passThrough(args: string[]): Promise<number> {
  const parsed = parseArgs({ args, options: { stack: OPTIONS.stack, cwd: OPTIONS.cwd }, strict: false });
  const workDir = path.resolve(typeof parsed.values.cwd === 'string' ? parsed.values.cwd : PROJECT_DIR);
  const stackName = typeof parsed.values.stack === 'string' ? parsed.values.stack : 'local';
  const { cliPath, cliEnv } = await openEngine({ stackName, workDir });
  return new Promise((resolve, reject) => {
    const child = spawn(cliPath, args, { cwd: workDir, env: cliEnv, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h') {
    process.stdout.write(
      `${(require('node:fs').readFileSync(__filename, 'utf8') as string).split('*/')[0]}*/\n`,
    );
    return command ? 0 : 2;
  }
  if (!isProgramCommand(command)) return passThrough(argv);
  const run = parseProgramRun(command, rest);
  // Whether anything reached the user before a failure (engineFailureLine says more when nothing did).
  let streamed = false;
  try {
    await runProgramCommand(
      run,
      (text) => {
        streamed = true;
        process.stdout.write(text);
      },
      (text) => {
        streamed = true;
        process.stderr.write(text);
      },
    );
  } catch (error) {
    process.stderr.write(`${engineFailureLine(command, error, { streamed })}\n`);
    return 1;
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
