/** Entry of `npm run hub -- <command>`; the commands are being built (issue #14). */
export async function runHubCommandMain(argv: readonly string[]): Promise<void> {
  process.stderr.write(`npm run hub: the command "${argv[0]}" is not available yet\n`);
  process.exitCode = 2;
}
