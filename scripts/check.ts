/**
 * `npm run check` — validates the stack files' `iothub-as-code:*` config without the Pulumi CLI, the
 * network or the passphrase, through the program's own validation path (infra/stack-config-source.ts), so
 * a problem is reported with exactly the message `pulumi preview` would print. Encrypted values count as
 * present and are never decrypted or printed. docs/stack-config.md "Checking a stack without Pulumi".
 *
 *   npm run check                      every stack (same as --all)
 *   npm run check -- --stack dev       one stack (repeatable)
 *   npm run check -- --write-schema    regenerate stacks/stack-config.schema.json
 *   --cwd <dir>                        the project folder (its Pulumi.yaml's stackConfigDir); default this one
 *
 * Exit codes: 0 every checked stack is valid, 1 a stack has problems (each listed with its path),
 * 2 usage (an unknown option or stack).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StackConfigError } from '../infra/stack-config';
import { STACK_CONFIG_SCHEMA_FILE, stackConfigJsonSchemaText } from '../infra/stack-config-schema';
import { stackConfigProblems } from '../infra/stack-config-source';
import { stackFileConfig } from '../infra/stack-file-config';
import { formatProblems } from '../lib/problems';

/** js-yaml is what @pulumi/pulumi itself reads stack files with; no types are installed for it. */
const yaml = require('js-yaml') as {
  load(text: string, options?: { schema?: unknown; filename?: string }): unknown;
  CORE_SCHEMA: unknown;
};

const PROJECT_DIR = path.resolve(__dirname, '..');

export const USAGE = `Usage: npm run check -- [--stack <name>]... | --all | --write-schema   [--cwd <project dir>]
  Validates the iothub-as-code config of stacks/Pulumi.<name>.yaml without the Pulumi CLI or the network,
  with the messages pulumi preview gives. No --stack: every stack. Exit 0 valid, 1 problems, 2 usage.`;

export interface CheckIo {
  out(line: string): void;
  err(line: string): void;
}

interface Options {
  stacks: string[];
  all: boolean;
  writeSchema: boolean;
  cwd: string;
  help: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { stacks: [], all: false, writeSchema: false, cwd: PROJECT_DIR, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--stack' || flag === '-s') options.stacks.push(value());
    else if (flag === '--cwd' || flag === '-C') options.cwd = path.resolve(value());
    else if (flag === '--all' && inline === undefined) options.all = true;
    else if (flag === '--write-schema' && inline === undefined) options.writeSchema = true;
    else if ((flag === '--help' || flag === '-h') && inline === undefined) options.help = true;
    else throw new UsageError(`unknown argument "${arg}"`);
  }
  if (options.all && options.stacks.length > 0) throw new UsageError('--all and --stack exclude each other');
  if (options.writeSchema && (options.all || options.stacks.length > 0)) {
    throw new UsageError('--write-schema checks no stack: use it alone');
  }
  return options;
}

/** The folder of the stack files: Pulumi.yaml's `stackConfigDir`, as the CLI reads it. */
function stackDir(projectDir: string): string {
  const projectFile = path.join(projectDir, 'Pulumi.yaml');
  if (!fs.existsSync(projectFile))
    throw new UsageError(`no Pulumi.yaml in ${projectDir}: not a Pulumi project`);
  const project = yaml.load(fs.readFileSync(projectFile, 'utf8'), { schema: yaml.CORE_SCHEMA }) as {
    stackConfigDir?: unknown;
  } | null;
  const dir = typeof project?.stackConfigDir === 'string' ? project.stackConfigDir : '.';
  return path.resolve(projectDir, dir);
}

const STACK_FILE = /^Pulumi\.(.+)\.ya?ml$/;

/** Stack name -> file, for every stack file in the folder. */
function stackFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  for (const name of names) {
    const match = STACK_FILE.exec(name);
    if (match && !files.has(match[1]!)) files.set(match[1]!, path.join(dir, name));
  }
  return files;
}

/** The lines that report one stack; `ok` whether it is valid. */
export function checkStackFile(file: string, label: string): { ok: boolean; lines: string[] } {
  let document: unknown;
  try {
    // The core schema reads scalars as the CLI's YAML package does (no timestamps: dates stay strings).
    document = yaml.load(fs.readFileSync(file, 'utf8'), { schema: yaml.CORE_SCHEMA, filename: label });
  } catch (error) {
    return {
      ok: false,
      lines: [`${label}: not valid YAML (the Pulumi CLI cannot load it):`, `  ${(error as Error).message}`],
    };
  }
  const { source, fileProblems } = stackFileConfig(document);
  if (fileProblems.length > 0) {
    const problems = formatProblems(fileProblems)
      .split('\n')
      .map((line) => `  ${line}`);
    return { ok: false, lines: [`${label}: the Pulumi CLI cannot load this file:`, ...problems] };
  }
  const { problems } = stackConfigProblems(source);
  if (problems.length === 0) return { ok: true, lines: [`${label}: ok`] };
  // The very message `pulumi preview` prints (infra/stack-config.ts).
  return { ok: false, lines: [`${label}:`, new StackConfigError(problems).message] };
}

/**
 * Biome formats JSON too (`npm run lint` checks it): the file is written in its layout, so regenerating
 * leaves a clean tree. The staleness test compares parsed JSON, so the layout never makes it fail.
 */
function formatWithBiome(file: string, io: CheckIo): void {
  const biome = path.join(PROJECT_DIR, 'node_modules', '.bin', 'biome');
  const run = spawnSync(biome, ['format', '--write', file], { cwd: PROJECT_DIR, encoding: 'utf8' });
  if (run.status !== 0)
    io.err(`npm run check: biome did not format ${file}: ${run.error?.message ?? run.stderr}`);
}

export function runCheck(argv: readonly string[], io: CheckIo): number {
  let options: Options;
  let dir: string;
  try {
    options = parseArgs(argv);
    if (options.help) {
      io.out(USAGE);
      return 0;
    }
    dir = stackDir(options.cwd);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`npm run check: ${error.message}`);
    io.err(USAGE);
    return 2;
  }
  if (options.writeSchema) {
    const file = path.join(dir, STACK_CONFIG_SCHEMA_FILE);
    fs.writeFileSync(file, stackConfigJsonSchemaText());
    formatWithBiome(file, io);
    io.out(`wrote ${path.relative(process.cwd(), file) || file}`);
    return 0;
  }
  const files = stackFiles(dir);
  const known = [...files.keys()];
  const unknown = options.stacks.filter((name) => !files.has(name));
  if (unknown.length > 0) {
    const where = path.relative(process.cwd(), dir) || '.';
    for (const name of unknown) {
      io.err(
        `npm run check: unknown stack "${name}": there is no ${path.join(where, `Pulumi.${name}.yaml`)}; ` +
          `stacks: ${known.length === 0 ? 'none' : known.join(', ')}`,
      );
    }
    return 2;
  }
  const selected = options.stacks.length > 0 ? [...new Set(options.stacks)] : known;
  if (selected.length === 0) {
    io.err(`npm run check: no stack files (Pulumi.<stack>.yaml) in ${dir}`);
    return 2;
  }
  let valid = true;
  for (const name of selected) {
    const file = files.get(name)!;
    const label = `stack ${name} (${path.relative(process.cwd(), file) || file})`;
    const result = checkStackFile(file, label);
    for (const line of result.lines) io.out(line);
    valid &&= result.ok;
  }
  return valid ? 0 : 1;
}

if (require.main === module) {
  process.exitCode = runCheck(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
}
