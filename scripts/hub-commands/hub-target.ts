/**
 * Which hub a command talks to, and how it is trusted: the connection string from the environment or a
 * file (never argv), else the local hub's default address with its well-known `iothubowner` key
 * (lib/local-hub-defaults.ts); the CA from `--ca` / IOTHUB_CA_FILE, else, for the local default, the
 * `.local-hub/ca.pem` the local hub writes in the project (what `npm start` and the local stack trust).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ConnectionStringError, parseServiceConnectionString } from '../../lib/connection-string';
import type { HubCommandRequest, HubConnectionSource } from '../../lib/hub-command-args';
import {
  DEFAULT_LOCAL_HUB_DATA_DIR,
  DEFAULT_LOCAL_HUB_HOST,
  DEFAULT_LOCAL_HUB_PORT,
  LOCAL_HUB_CA_FILE,
  wellKnownServiceConnectionString,
} from '../../lib/local-hub-defaults';
import type { Problem } from '../../lib/problems';
import { readConnectionString as readConnectionStringFrom, readText } from '../read-command-inputs';

const PROJECT_DIR = path.resolve(__dirname, '..', '..');
export const LOCAL_DEFAULT_CA_PATH = path.join(PROJECT_DIR, DEFAULT_LOCAL_HUB_DATA_DIR, LOCAL_HUB_CA_FILE);

export interface HubTarget {
  connectionString: string;
  /** As in the connection string, port included (`127.0.0.1:8443`). */
  hostName: string;
  policyName: string;
  /** The policy key, for signing requests the SDK has no call for (telemetry tail). */
  policyKey: string;
  caPem?: string;
  /** No connection string was given: the local hub's default address and key. */
  localDefault: boolean;
}

/** Reads what the request names; every problem at once (a missing file is a usage problem). */
export function resolveHubTarget(request: HubCommandRequest): HubTarget | { problems: Problem[] } {
  const problems: Problem[] = [];
  const connectionString = readConnectionString(request.connection, problems);
  const localDefault = request.connection.kind === 'local-default';
  let caPem: string | undefined;
  if (request.caFile !== undefined) caPem = readText(request.caFile, '--ca', problems);
  else if (localDefault && existsSync(LOCAL_DEFAULT_CA_PATH))
    caPem = readText(LOCAL_DEFAULT_CA_PATH, 'ca', problems);
  if (connectionString === undefined || problems.length > 0) return { problems };
  let parsed: ReturnType<typeof parseServiceConnectionString>;
  try {
    parsed = parseServiceConnectionString(connectionString);
  } catch (error) {
    // The parser's messages name keys, never values.
    const message = error instanceof ConnectionStringError ? error.message : 'cannot be parsed';
    return {
      problems: [
        { path: originOf(request.connection), message: `not a service connection string: ${message}` },
      ],
    };
  }
  return {
    connectionString,
    hostName: parsed.hostName,
    policyName: parsed.sharedAccessKeyName,
    policyKey: parsed.sharedAccessKey,
    ...(caPem === undefined ? {} : { caPem }),
    localDefault,
  };
}

function readConnectionString(source: HubConnectionSource, problems: Problem[]): string | undefined {
  if (source.kind === 'local-default') {
    return wellKnownServiceConnectionString(
      'iothubowner',
      `${DEFAULT_LOCAL_HUB_HOST}:${DEFAULT_LOCAL_HUB_PORT}`,
    );
  }
  return readConnectionStringFrom(source, problems);
}

function originOf(source: HubConnectionSource): string {
  return source.kind === 'env'
    ? 'IOTHUB_CONNECTION_STRING'
    : source.kind === 'file'
      ? source.origin
      : 'default';
}

/** The fields of a thrown SDK or Node error that lib/hub-command-errors.ts reads. */
export function failureFacts(error: unknown): {
  name?: string;
  message?: string;
  code?: string;
  statusCode?: number;
  responseBody?: string;
} {
  const e = (error ?? {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    responseBody?: unknown;
    response?: { statusCode?: unknown };
    statusCode?: unknown;
  };
  const status = e.response?.statusCode ?? e.statusCode;
  return {
    ...(typeof e.name === 'string' ? { name: e.name } : {}),
    ...(typeof e.message === 'string' ? { message: e.message } : {}),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof status === 'number' ? { statusCode: status } : {}),
    ...(typeof e.responseBody === 'string' ? { responseBody: e.responseBody } : {}),
  };
}
