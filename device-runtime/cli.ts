/**
 * `npm run device -- [flags]`: runs the device runtime until SIGINT/SIGTERM.
 *
 * Identity: `--connection-string` or IOTHUB_MODULE_CONNECTION_STRING (a module connection string), trusting
 * `--ca <file>` or IOTHUB_CA_FILE for the local hub; inside IoT Edge, the Edge environment. Every other
 * setting comes from the table in runtime-config.ts (`--help` prints it).
 */
import { describeError, isRuntimeConfigError, redactSecrets } from './errors';
import { type DeviceRuntime, startDeviceRuntime } from './index';
import { runtimeConfigHelp } from './runtime-config';
import type { RuntimeLogger } from './runtime-events';

const consoleLogger: RuntimeLogger = {
  info: (line) => console.log(`${new Date().toISOString()} ${redactSecrets(line)}`),
  warn: (line) => console.warn(`${new Date().toISOString()} WARN ${redactSecrets(line)}`),
};

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(runtimeConfigHelp());
    return;
  }
  let runtime: DeviceRuntime;
  try {
    runtime = await startDeviceRuntime({ argv, logger: consoleLogger });
  } catch (error) {
    console.error(isRuntimeConfigError(error) ? error.message : `Cannot start: ${describeError(error)}`);
    process.exitCode = 2;
    return;
  }
  consoleLogger.info('Device runtime started; Ctrl+C stops it');
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
