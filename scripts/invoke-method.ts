/**
 * `npm run invoke-method -- --device <id> [--module <id>] --method <name> [--payload <json>] ...`: invokes a
 * direct method on any hub (Azure or the local hub) with the official service SDK's `Client`, built by
 * `createServiceClient` (dynamic-providers/iothub-client.ts, the only file that loads azure-iothub), and
 * prints `{"status", "payload"}` as the device answered. Flags, limits and exit codes: lib/invoke-method-args.ts
 * (`--help`). The connection string comes from the environment or a file, never from argv.
 */
import { createServiceClient } from '../dynamic-providers/iothub-client';
import { explainHubFailure } from '../lib/hub-command-errors';
import {
  INVOKE_METHOD_HELP,
  type InvokeMethodRequest,
  parseInvokeMethodArgs,
  parseMethodPayload,
} from '../lib/invoke-method-args';
import type { JsonValue } from '../lib/json-types';
import { formatProblems, type Problem } from '../lib/problems';
import { redactSecrets } from '../lib/resource-redact';
import { failureFacts } from './hub-commands/hub-target';
import { readConnectionString, readText } from './read-command-inputs';

export interface InvokeMethodIo {
  out(line: string): void;
  err(line: string): void;
}

export const EXIT = { ok: 0, deviceStatus: 1, usage: 2, failed: 3 } as const;

/** Runs one invocation; returns the exit code (never throws, never prints a key). */
export async function runInvokeMethod(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: InvokeMethodIo,
): Promise<number> {
  const parsed = parseInvokeMethodArgs(argv, env);
  if (parsed.help) {
    io.out(INVOKE_METHOD_HELP);
    return EXIT.ok;
  }
  if ('problems' in parsed) return usage(io, parsed.problems);
  const { request } = parsed;
  const problems: Problem[] = [];
  const connectionString = readConnectionString(request.connection, problems);
  const ca = request.caFile === undefined ? undefined : readText(request.caFile, '--ca', problems);
  const payloadText =
    request.payload.kind === 'inline'
      ? request.payload.text
      : readText(request.payload.path, '--payload-file', problems);
  let payload: JsonValue = null;
  if (payloadText !== undefined) {
    const result = parseMethodPayload(
      payloadText,
      request.payload.kind === 'inline' ? '--payload' : '--payload-file',
    );
    if ('problem' in result) problems.push(result.problem);
    else payload = result.payload;
  }
  if (problems.length > 0 || connectionString === undefined) return usage(io, problems);

  const target = request.moduleId ? `${request.deviceId}/${request.moduleId}` : request.deviceId;
  try {
    const client = createServiceClient(connectionString, ca === undefined ? {} : { caCertificate: ca });
    const params = {
      methodName: request.methodName,
      payload,
      responseTimeoutInSeconds: request.responseTimeoutSeconds,
      connectTimeoutInSeconds: request.connectTimeoutSeconds,
    };
    const { result } = request.moduleId
      ? await client.invokeDeviceMethod(request.deviceId, request.moduleId, params)
      : await client.invokeDeviceMethod(request.deviceId, params);
    const answer = result as { status: number; payload: JsonValue };
    io.out(JSON.stringify({ status: answer.status, payload: answer.payload ?? null }, null, 2));
    return answer.status >= 200 && answer.status < 300 ? EXIT.ok : EXIT.deviceStatus;
  } catch (error) {
    io.err(
      redactSecrets(
        `${request.methodName} on ${target}: ${explain(error, request, hostNameOf(connectionString))}`,
        [connectionString],
      ),
    );
    return EXIT.failed;
  }
}

/** The HostName for messages ("the hub at 127.0.0.1:8443"); never the rest of the string. */
function hostNameOf(connectionString: string): string {
  return /(?:^|;)\s*HostName=([^;]*)/i.exec(connectionString)?.[1] ?? 'the hub';
}

function usage(io: InvokeMethodIo, problems: readonly Problem[]): number {
  io.err(`${formatProblems(problems)}\n\n${INVOKE_METHOD_HELP}`);
  return EXIT.usage;
}

/** The hub's answer in words (docs/iot-hub-behaviour.md §8.1: 404 DeviceNotOnline, 504 GatewayTimeout, ...). */
function explain(error: unknown, request: InvokeMethodRequest, hostName: string): string {
  const e = error as Error & { responseBody?: string; response?: { statusCode?: number } };
  const body = typeof e.responseBody === 'string' ? e.responseBody : '';
  if (/DeviceNotOnline/.test(body)) {
    return `the ${request.moduleId ? 'module' : 'device'} is not connected (404 DeviceNotOnline); it must be online and subscribed to methods, or connect within --connect-timeout (now ${request.connectTimeoutSeconds} s)`;
  }
  switch (e.name) {
    case 'DeviceNotFoundError':
      return 'no such identity on this hub (404 DeviceNotFound)';
    case 'GatewayTimeoutError':
      return `no answer within --response-timeout (${request.responseTimeoutSeconds} s) (504 GatewayTimeout)`;
    case 'UnauthorizedError':
      return 'refused (401): the connection string needs a policy with ServiceConnect (e.g. "service")';
    case 'ThrottlingError':
      return 'throttled by the hub (429); retry later';
    default:
      // Unreachable hub, untrusted certificate, other answers: the same sentences as `npm run hub -- <command>`.
      return explainHubFailure(failureFacts(error), { hostName, localDefault: false }).message;
  }
}

if (require.main === module) {
  void runInvokeMethod(process.argv.slice(2), process.env, {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  }).then((code) => {
    process.exitCode = code;
  });
}
