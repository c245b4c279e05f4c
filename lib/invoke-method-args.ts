/**
 * The rules of `npm run invoke-method` (scripts/invoke-method.ts), pure so they are unit-tested: which
 * flags and environment variables say what, and the hub's limits on a direct-method call
 * (docs/iot-hub-behaviour.md §8.1: response timeout 5–300 s, connect timeout 0–300 s, payload JSON ≤ 128 KB).
 *
 * The connection string is never taken from argv (`ps` and shell history show it): it comes from
 * IOTHUB_CONNECTION_STRING, or from a file named by `--connection-string-file` / IOTHUB_CONNECTION_STRING_FILE.
 */
import type { JsonValue } from './json-types';
import type { Problem } from './problems';

export const METHOD_CALL_LIMITS = {
  responseTimeoutSeconds: { min: 5, max: 300, default: 30 },
  connectTimeoutSeconds: { min: 0, max: 300, default: 0 },
  payloadBytes: 128 * 1024,
} as const;

export const INVOKE_ENV = {
  connectionString: 'IOTHUB_CONNECTION_STRING',
  connectionStringFile: 'IOTHUB_CONNECTION_STRING_FILE',
  caFile: 'IOTHUB_CA_FILE',
} as const;

/** Where the connection string comes from; the script reads the file. */
export type ConnectionStringSource =
  | { kind: 'env'; value: string }
  | { kind: 'file'; path: string; origin: string };

export interface InvokeMethodRequest {
  connection: ConnectionStringSource;
  caFile?: string;
  deviceId: string;
  moduleId?: string;
  methodName: string;
  /** Either the JSON text given inline, or a file to read it from. */
  payload: { kind: 'inline'; text: string } | { kind: 'file'; path: string };
  responseTimeoutSeconds: number;
  connectTimeoutSeconds: number;
}

export type InvokeMethodArgs =
  | { help: true }
  | { help: false; request: InvokeMethodRequest }
  | { help: false; problems: Problem[] };

const VALUE_FLAGS = [
  'connection-string-file',
  'ca',
  'device',
  'module',
  'method',
  'payload',
  'payload-file',
  'response-timeout',
  'connect-timeout',
] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];

export const INVOKE_METHOD_HELP = `npm run invoke-method -- --device <id> [--module <id>] --method <name> [--payload <json> | --payload-file <file>]
    [--response-timeout <5-300 s, default 30>] [--connect-timeout <0-300 s, default 0>] [--ca <file>]

  The service connection string (a policy with ServiceConnect) comes from ${INVOKE_ENV.connectionString}, or from a
  file: --connection-string-file <file> or ${INVOKE_ENV.connectionStringFile}; never from the command line.
  --ca <file> or ${INVOKE_ENV.caFile}: a CA to trust (the local hub's .local-hub/ca.pem).
  Prints {"status", "payload"} as the device answered. Exit code 0: status 200-299; 1: the device answered
  another status; 2: bad usage; 3: the hub refused or the call failed (device offline, timeout, rights).`;

/** Parses argv and the environment; every problem at once, each with the flag it concerns. */
export function parseInvokeMethodArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): InvokeMethodArgs {
  if (argv.includes('--help') || argv.includes('-h')) return { help: true };
  const problems: Problem[] = [];
  const values: Partial<Record<ValueFlag, string>> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const refused = refuseConnectionStringFlag(arg, problems);
    if (refused) {
      if (refused === 'with-value') i++;
      continue;
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    const flag = match?.[1] as ValueFlag | undefined;
    if (!match || !flag || !(VALUE_FLAGS as readonly string[]).includes(flag)) {
      problems.push({
        path: arg,
        message: `unknown argument; valid flags: ${VALUE_FLAGS.map((f) => `--${f}`).join(', ')}`,
      });
      continue;
    }
    const value = match[2] ?? argv[++i];
    if (value === undefined) problems.push({ path: `--${flag}`, message: 'needs a value' });
    else if (values[flag] !== undefined) problems.push({ path: `--${flag}`, message: 'given twice' });
    else values[flag] = value;
  }

  const connection = connectionSource(values['connection-string-file'], env, problems);
  for (const required of ['device', 'method'] as const) {
    if (!values[required]) problems.push({ path: `--${required}`, message: 'is required' });
  }
  if (values.payload !== undefined && values['payload-file'] !== undefined) {
    problems.push({ path: '--payload', message: 'and --payload-file: choose one' });
  }
  const responseTimeoutSeconds = seconds(
    '--response-timeout',
    values['response-timeout'],
    METHOD_CALL_LIMITS.responseTimeoutSeconds,
    problems,
  );
  const connectTimeoutSeconds = seconds(
    '--connect-timeout',
    values['connect-timeout'],
    METHOD_CALL_LIMITS.connectTimeoutSeconds,
    problems,
  );
  if (problems.length > 0 || !connection) return { help: false, problems };
  const caFile = values.ca ?? (env[INVOKE_ENV.caFile] || undefined);
  return {
    help: false,
    request: {
      connection,
      ...(caFile !== undefined ? { caFile } : {}),
      deviceId: values.device!,
      ...(values.module ? { moduleId: values.module } : {}),
      methodName: values.method!,
      payload:
        values['payload-file'] !== undefined
          ? { kind: 'file', path: values['payload-file'] }
          : { kind: 'inline', text: values.payload ?? 'null' },
      responseTimeoutSeconds,
      connectTimeoutSeconds,
    },
  };
}

function connectionSource(
  file: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  problems: Problem[],
): ConnectionStringSource | undefined {
  if (file) return { kind: 'file', path: file, origin: '--connection-string-file' };
  const value = env[INVOKE_ENV.connectionString];
  if (value) return { kind: 'env', value };
  const envFile = env[INVOKE_ENV.connectionStringFile];
  if (envFile) return { kind: 'file', path: envFile, origin: INVOKE_ENV.connectionStringFile };
  problems.push({
    path: INVOKE_ENV.connectionString,
    message: `no service connection string: set ${INVOKE_ENV.connectionString}, or ${INVOKE_ENV.connectionStringFile} / --connection-string-file <file>`,
  });
  return undefined;
}

function seconds(
  flag: string,
  text: string | undefined,
  limits: { min: number; max: number; default: number },
  problems: Problem[],
): number {
  if (text === undefined) return limits.default;
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < limits.min || value > limits.max) {
    problems.push({
      path: flag,
      message: `must be a whole number of seconds from ${limits.min} to ${limits.max}; got ${JSON.stringify(text)}`,
    });
  }
  return value;
}

/** Parses the payload text: JSON of at most 128 KB (the hub's limit), else the problem. */
export function parseMethodPayload(
  text: string,
  origin: string,
): { payload: JsonValue } | { problem: Problem } {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > METHOD_CALL_LIMITS.payloadBytes) {
    return {
      problem: {
        path: origin,
        message: `is ${bytes} bytes; a method payload is at most ${METHOD_CALL_LIMITS.payloadBytes} bytes of JSON`,
      },
    };
  }
  try {
    return { payload: JSON.parse(text) as JsonValue };
  } catch (error) {
    return {
      problem: {
        path: origin,
        message: `is not JSON (${(error as Error).message}); a string must be quoted, e.g. --payload '"text"'`,
      },
    };
  }
}

/**
 * `--connection-string` is refused wherever a command takes a hub (the command line is visible to other
 * users in the process list): records the problem and says whether the next argument is its value.
 */
export function refuseConnectionStringFlag(
  arg: string,
  problems: Problem[],
): 'with-value' | 'inline' | undefined {
  if (arg !== '--connection-string' && !arg.startsWith('--connection-string=')) return undefined;
  problems.push({
    path: '--connection-string',
    message: `not accepted (the command line is visible to other users); set ${INVOKE_ENV.connectionString} or use --connection-string-file`,
  });
  return arg === '--connection-string' ? 'with-value' : 'inline';
}
