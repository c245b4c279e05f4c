/**
 * `npm run hub`: with no command, the local IoT hub in the foreground (local-hub/cli.ts); with a
 * command word first (`devices`, `modules`, `twin`, `query`, `invoke-method`, `telemetry`), a
 * command against a running hub (scripts/hub-commands/). The split keeps local-hub/ free of the
 * service SDK: the commands use the project's client factory, the hub never does. Each side is
 * required lazily so serving a hub never loads the service SDK.
 */
import { HUB_COMMAND_WORDS } from './hub-commands/command-words';

const [first] = process.argv.slice(2);

async function main(): Promise<void> {
  if (first !== undefined && (HUB_COMMAND_WORDS as readonly string[]).includes(first)) {
    const { runHubCommandMain } = require('./hub-commands/main') as typeof import('./hub-commands/main');
    await runHubCommandMain(process.argv.slice(2));
    return;
  }
  if (first !== undefined && !first.startsWith('-')) {
    // Serving takes flags only: a bare word is a mistyped command, so say which commands exist.
    process.stderr.write(
      `npm run hub: unknown command "${first}"; commands: ${HUB_COMMAND_WORDS.join(', ')} ` +
        '(`npm run hub -- <command> --help`), or flags only to serve a hub (`npm run hub -- --help`)\n',
    );
    process.exitCode = 2;
    return;
  }
  const { main: serveHub } = require('../local-hub/cli') as typeof import('../local-hub/cli');
  await serveHub();
}

main().catch((error: unknown) => {
  process.stderr.write(`npm run hub: ${(error as Error).message}\n`);
  process.exit(1);
});
