/**
 * Entry of `npm run hub -- <command>` (scripts/hub.ts dispatches here): parses the command
 * (lib/hub-command-args.ts), finds the hub (hub-target.ts), runs the command and turns any failure into
 * one sentence naming what was tried and what to do, with an exit code scripts can branch on
 * (docs/hub-commands.md). Keys and connection strings never reach the output unless asked for
 * (`--show-keys`), and are redacted from every error.
 */

import { existsSync } from 'node:fs';
import { HUB_EXIT, parseHubCommandArgs } from '../../lib/hub-command-args';
import { explainHubFailure, isUntrustedCertificateCode } from '../../lib/hub-command-errors';
import { INVOKE_ENV } from '../../lib/invoke-method-args';
import {
  DEFAULT_LOCAL_HUB_HOST,
  DEFAULT_LOCAL_HUB_PORT,
  wellKnownServiceConnectionString,
} from '../../lib/local-hub-defaults';
import { formatProblems } from '../../lib/problems';
import { redactSecrets } from '../../lib/resource-redact';
import { runInvokeMethod } from '../invoke-method';
import { failureFacts, LOCAL_DEFAULT_CA_PATH, resolveHubTarget } from './hub-target';
import { type CommandIo, runRegistryCommand, targetOf } from './registry-commands';
import { runTelemetryTail } from './telemetry-tail';

/** Runs one command; returns the exit code (never throws, never prints a key it was not asked for). */
export async function runHubCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CommandIo,
  signal: AbortSignal = new AbortController().signal,
): Promise<number> {
  const parsed = parseHubCommandArgs(argv, env);
  switch (parsed.kind) {
    case 'help':
      io.out(parsed.text);
      return HUB_EXIT.ok;
    case 'problems':
      io.err(`npm run hub: ${formatProblems(parsed.problems)}\n\n${parsed.help}`);
      return HUB_EXIT.usage;
    case 'invoke-method':
      return runInvokeMethod(parsed.argv, withLocalDefault(env), io);
  }
  const { request } = parsed;
  const hub = resolveHubTarget(request);
  if ('problems' in hub) {
    io.err(`npm run hub: ${formatProblems(hub.problems)}`);
    return HUB_EXIT.usage;
  }
  // Whatever an SDK error quotes, the key and the connection string never reach the output.
  const safe: CommandIo = {
    out: io.out,
    err: (text) => io.err(redactSecrets(text, [hub.connectionString, hub.policyKey])),
  };
  const { action } = request;
  try {
    if (action.command === 'telemetry tail')
      return await runTelemetryTail(action, request, hub, safe, signal);
    return await runRegistryCommand(action, request, hub, safe);
  } catch (error) {
    const facts = failureFacts(error);
    const failure = explainHubFailure(facts, {
      hostName: hub.hostName,
      localDefault: hub.localDefault,
      ...targetOf(action),
    });
    const hint =
      hub.localDefault && hub.caPem === undefined && isUntrustedCertificateCode(facts.code)
        ? ` (there is no ${LOCAL_DEFAULT_CA_PATH} to trust)`
        : '';
    safe.err(`npm run hub -- ${action.command}: ${failure.message}${hint}`);
    return failure.exitCode;
  }
}

/**
 * `invoke-method` keeps npm run invoke-method's flags and exit codes; only the hub defaults to the local
 * one, like the other commands: its well-known key and CA file, passed in the environment (never argv).
 */
function withLocalDefault(
  env: Readonly<Record<string, string | undefined>>,
): Readonly<Record<string, string | undefined>> {
  if (env[INVOKE_ENV.connectionString] || env[INVOKE_ENV.connectionStringFile]) return env;
  return {
    ...env,
    [INVOKE_ENV.connectionString]: wellKnownServiceConnectionString(
      'iothubowner',
      `${DEFAULT_LOCAL_HUB_HOST}:${DEFAULT_LOCAL_HUB_PORT}`,
    ),
    ...(env[INVOKE_ENV.caFile] || !existsSync(LOCAL_DEFAULT_CA_PATH)
      ? {}
      : { [INVOKE_ENV.caFile]: LOCAL_DEFAULT_CA_PATH }),
  };
}

export async function runHubCommandMain(argv: readonly string[]): Promise<void> {
  const controller = new AbortController();
  // Ctrl-C is how `telemetry tail` ends (exit 0; a second one exits at once); any other command is
  // interrupted as usual (130), since its SDK call cannot be cancelled.
  const following = argv[0] === 'telemetry';
  const onSignal = () => {
    if (!following || controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await runHubCommand(
    argv,
    process.env,
    { out: (text) => process.stdout.write(`${text}\n`), err: (text) => process.stderr.write(`${text}\n`) },
    controller.signal,
  );
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.exitCode = code;
}
