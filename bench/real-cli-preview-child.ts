/**
 * One `pulumi preview` (or the `up` before it) of a stack in a fresh process, as `npm run pulumi --
 * preview` runs it: tsx, the Automation API, the real CLI, the program given by file (index.ts or
 * bench/empty-program.ts). Prints one JSON line: when the engine was open and when the operation ended,
 * in ms from the process's start, and the change counts.
 *
 *   node --import tsx bench/real-cli-preview-child.ts <up|preview> <workDir> <stack> <programFile>
 */
import { openEngine } from '../scripts/pulumi-engine';

async function main(): Promise<void> {
  const [operation, workDir, stackName, programFile] = process.argv.slice(2);
  if ((operation !== 'up' && operation !== 'preview') || !workDir || !stackName || !programFile) {
    throw new Error('usage: real-cli-preview-child.ts <up|preview> <workDir> <stack> <programFile>');
  }
  const { stack } = await openEngine({ stackName, workDir, programFile });
  const openMs = performance.now();
  const changes =
    operation === 'up'
      ? (await stack.up({ color: 'never' })).summary.resourceChanges
      : (await stack.preview({ color: 'never' })).changeSummary;
  process.stdout.write(`${JSON.stringify({ openMs, doneMs: performance.now(), changes })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
