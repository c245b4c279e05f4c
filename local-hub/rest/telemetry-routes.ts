/**
 * `GET /local-hub/telemetry?api-version=…[&deviceId=<d>][&moduleId=<m>][&after=<seq>][&waitMs=<n>]`: the
 * telemetry window (telemetry/telemetry-window.ts) for readers such as the web view and hub commands. A
 * local-hub-only route (Azure's equivalent is the Event Hub-compatible endpoint), under `/local-hub/` so it
 * can never collide with an IoT Hub path. Authorized like reading a twin: ServiceConnect
 * (docs/local-hub-web-view.md has the contract).
 */
import { validateDeviceId, validateModuleId } from '../../lib/identity-ids';
import { parseSasToken } from '../../lib/sas-token';
import { hubErrors } from '../errors';
import type { TelemetryFilter } from '../telemetry/telemetry-window';
import type { Route, RouteCall, RouteResult } from './routes';

/** A long poll holds a connection; half a minute keeps it under every proxy's and SDK's idle timeout. */
export const TELEMETRY_WAIT_MAX_MS = 30_000;

export function telemetryRoutes(): Route[] {
  return [
    {
      method: 'GET',
      pattern: ['local-hub', 'telemetry'],
      access: 'serviceConnect',
      hasBody: false,
      handle: readTelemetry,
    },
  ];
}

async function readTelemetry({ state, query, headers, signal }: RouteCall): Promise<RouteResult> {
  const request = parseTelemetryQuery(query);
  // Expiry ends access: a long poll does not outlast the token it was authorized with (the pipeline has
  // verified it, so its `se` can be trusted).
  const waitMs = Math.min(request.waitMs, msUntilExpiry(headers.authorization));
  const page = await state.telemetry.waitForMessages(request.filter, request.after, waitMs, signal);
  return { status: 200, body: page };
}

function msUntilExpiry(authorization: string | undefined): number {
  const parsed = authorization === undefined ? undefined : parseSasToken(authorization);
  return parsed?.ok ? Math.max(0, parsed.token.se * 1000 - Date.now()) : 0;
}

export interface TelemetryRequest {
  filter: TelemetryFilter;
  after: number;
  waitMs: number;
}

/** Every problem of the query string at once, as one 400 naming each parameter. */
export function parseTelemetryQuery(query: URLSearchParams): TelemetryRequest {
  const problems: string[] = [];
  const deviceId = query.get('deviceId');
  const moduleId = query.get('moduleId');
  // Lenient id rules (what the hub accepts as an id), so any registered identity can be read.
  if (deviceId !== null)
    problems.push(...messages(validateDeviceId(deviceId, 'deviceId', { strict: false })));
  if (moduleId !== null) {
    problems.push(...messages(validateModuleId(moduleId, 'moduleId', { strict: false })));
    if (deviceId === null) problems.push('moduleId needs deviceId (module ids are unique per device only)');
  }
  const after = integerParameter(query, 'after', 0, Number.MAX_SAFE_INTEGER, problems);
  const waitMs = integerParameter(query, 'waitMs', 0, TELEMETRY_WAIT_MAX_MS, problems);
  if (problems.length > 0) throw hubErrors.argumentInvalid(problems.join(' | '));
  return {
    filter: {
      ...(deviceId === null ? {} : { deviceId }),
      ...(moduleId === null ? {} : { moduleId }),
    },
    after,
    waitMs,
  };
}

function messages(problems: readonly { path: string; message: string }[]): string[] {
  return problems.map((p) => `${p.path}: ${p.message}`);
}

function integerParameter(
  query: URLSearchParams,
  name: string,
  min: number,
  max: number,
  problems: string[],
): number {
  const raw = query.get(name);
  if (raw === null) return 0;
  const value = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    problems.push(`${name}=${JSON.stringify(raw.slice(0, 40))} must be an integer from ${min} to ${max}`);
    return 0;
  }
  return value;
}
