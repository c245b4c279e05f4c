/**
 * One cold evaluation of a program under mocks, in its own process (what `pulumi up` pays at every
 * run before the first resource operation): `tsx bench/program-load-child.ts <program.ts> <ca.pem>`.
 * Prints one JSON line: milliseconds since the process started when the program was about to load,
 * and when it had been evaluated with every registration settled. `--serialize`: see serializeOnly.
 */
import { performance } from 'node:perf_hooks';
import { readStackFile, runProgramUnderMocks } from '../tests/support/program-under-mocks';

/**
 * `--serialize`: instead, time what the program's registrations spend in Pulumi's closure
 * serializer: each provider object the seed stack uses, serialized once, cold, in this order.
 */
async function serializeOnly(): Promise<void> {
  const pulumi: typeof import('@pulumi/pulumi') = require('@pulumi/pulumi');
  const {
    HOST_PROVIDERS,
  }: typeof import('../dynamic-providers/host-loaded-provider') = require('../dynamic-providers/host-loaded-provider');
  const times: number[] = [];
  // What the resources store (one forwarder per kind; dynamic-providers/host-loaded-provider.ts).
  for (const provider of [
    HOST_PROVIDERS.DeviceIdentity,
    HOST_PROVIDERS.ModuleIdentity,
    HOST_PROVIDERS.ModuleTwin,
  ]) {
    const started = performance.now();
    await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    times.push(performance.now() - started);
  }
  process.stdout.write(`${JSON.stringify({ serializeMs: times })}\n`);
}

/**
 * The arguments after this script's path: started through tests/support/ts-node-register.cjs, the
 * script itself is argv[2] (and must never be taken for the program: it would require itself).
 */
function ownArguments(): string[] {
  const self = process.argv.findIndex((arg) => /program-load-child\.ts$/.test(arg));
  if (self < 0) throw new Error(`program-load-child: cannot find its own path in ${process.argv.join(' ')}`);
  return process.argv.slice(self + 1);
}

async function main(): Promise<void> {
  const args = ownArguments();
  if (args[0] === '--serialize') return serializeOnly();
  const [programPath, caPath] = args;
  if (!programPath || !caPath) throw new Error('usage: program-load-child.ts <program.ts> <ca.pem>');
  // stacks/Pulumi.local.yaml (the seed: one device, one module, its twin), CA redirected to caPath.
  const config = readStackFile('local');
  const hub = config['iothub-as-code:hub'] as Record<string, unknown>;
  config['iothub-as-code:hub'] = { ...hub, local: { caCertificatePath: caPath } };
  const before = performance.now();
  const run = await runProgramUnderMocks({ stack: 'local', config, programPath });
  const after = performance.now();
  process.stdout.write(
    `${JSON.stringify({ startMs: before, doneMs: after, resources: run.resources.length })}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
