/**
 * `npm run device -- [flags]`: runs the device runtime until SIGINT/SIGTERM.
 *
 * Identity: a module connection string from `--connection-string-file <file>` or
 * IOTHUB_MODULE_CONNECTION_STRING_FILE (preferred: the key stays out of `ps` and npm's echo), or
 * IOTHUB_MODULE_CONNECTION_STRING, or `--connection-string`; trusting `--ca <file>` or IOTHUB_CA_FILE for
 * the local hub; inside IoT Edge, the Edge environment. Every other setting comes from the table in
 * runtime-config.ts (`--help` prints it).
 */
import { readFileSync } from 'node:fs';
import { describeError, isRuntimeConfigError, redactSecrets } from './errors';
import { type DeviceRuntime, startDeviceRuntime } from './index';
import { runtimeConfigHelp } from './runtime-config';
import type { RuntimeLogger } from './runtime-events';

const consoleLogger: RuntimeLogger = {
  info: (line) => console.log(`${new Date().toISOString()} ${redactSecrets(line)}`),
  warn: (line) => console.warn(`${new Date().toISOString()} WARN ${redactSecrets(line)}`),
};

const FILE_FLAG = 'connection-string-file';
const FILE_ENV = 'IOTHUB_MODULE_CONNECTION_STRING_FILE';

const FILE_HELP = [
  `  --${FILE_FLAG} <file>  [${FILE_ENV}]`,
  '      connectionString from a file (first line; preferred over --connection-string, which ps shows).',
  '',
  "Exit codes: 0 stopped by SIGINT/SIGTERM, 2 bad configuration, 3 the hub's certificate is not trusted",
  '(at the first connection: pass --ca <file>).',
].join('\n');

/**
 * Takes `--connection-string-file <file>` (or `=<file>`) out of argv, or the file named by
 * IOTHUB_MODULE_CONNECTION_STRING_FILE, and reads the connection string from it (issue #10 item 12).
 */
function connectionStringFromFile(argv: string[]): { argv: string[]; connectionString?: string } {
  const rest: string[] = [];
  let file: string | undefined;
  let origin = FILE_ENV;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === `--${FILE_FLAG}` || arg.startsWith(`--${FILE_FLAG}=`)) {
      file = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      origin = `--${FILE_FLAG}`;
      if (!file) throw new CliError(`${origin} needs a file name`);
    } else {
      rest.push(arg);
    }
  }
  const flagGiven = rest.some(
    (arg) => arg === '--connection-string' || arg.startsWith('--connection-string='),
  );
  if (file !== undefined && flagGiven) throw new CliError(`${origin} and --connection-string: choose one`);
  // Flags win over the environment, as for every other setting.
  if (file === undefined && !flagGiven) file = process.env[FILE_ENV] || undefined;
  if (file === undefined) return { argv: rest };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? describeError(error);
    throw new CliError(
      `${origin} ${file}: cannot read the file (${reason}); it must hold the module connection string`,
    );
  }
  const connectionString = text
    .split(/\r?\n/)
    .find((line) => line.trim() !== '')
    ?.trim();
  if (!connectionString)
    throw new CliError(`${origin} ${file}: the file is empty; expected a module connection string`);
  return { argv: rest, connectionString };
}

class CliError extends Error {}

/** 0 stopped by a signal, 2 bad configuration, 3 cannot work with this hub (its certificate is not trusted). */
const EXIT_FATAL = 3;

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(`${runtimeConfigHelp()}\n${FILE_HELP}`);
    return;
  }
  let runtime: DeviceRuntime;
  try {
    const source = connectionStringFromFile(argv);
    runtime = await startDeviceRuntime({
      argv: source.argv,
      ...(source.connectionString === undefined ? {} : { connectionString: source.connectionString }),
      logger: consoleLogger,
    });
  } catch (error) {
    if (error instanceof CliError) {
      console.error(error.message);
      process.exitCode = 2;
      return;
    }
    console.error(isRuntimeConfigError(error) ? error.message : `Cannot start: ${describeError(error)}`);
    process.exitCode = 2;
    return;
  }
  consoleLogger.info('Device runtime started; Ctrl+C stops it');
  // The runtime stopped itself (the hub's certificate is not trusted at the first connection): it has
  // logged what to pass; exit non-zero so a script or supervisor sees it.
  runtime.once('fatal', () => {
    runtime.stop().then(
      () => process.exit(EXIT_FATAL),
      () => process.exit(EXIT_FATAL),
    );
  });
  const shutdown = (signal: NodeJS.Signals) => {
    consoleLogger.info(`${signal} received; stopping`);
    runtime.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`Stopping failed: ${describeError(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

void main(process.argv.slice(2));
