/**
 * Pure validation of identity bodies (PUT /devices/{id}, PUT /devices/{id}/modules/{mid}, bulk
 * entries). Returns every problem at once, each with its path (docs/iot-hub-behaviour.md §2, §5).
 */
import { validateDeviceId, validateModuleId } from '../../lib/identity-ids';
import { isJsonObject } from '../../lib/json-types';
import { childPath, type Problem } from '../../lib/problems';
import { type AuthenticationInput, parseAuthentication } from './authentication-input';
import type { IdentityStatus } from './hub-state-types';

export const STATUS_REASON_MAX = 128;

export interface DeviceInput {
  status: IdentityStatus;
  statusReason: string | null;
  authentication: AuthenticationInput;
  iotEdge: boolean;
  deviceScope: string | null;
  parentScopes: string[];
}

export interface ModuleInput {
  authentication: AuthenticationInput;
  managedBy: string | null;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

/**
 * Service ids in paths are validated non-strictly: the hub itself accepts `+` and `#`
 * (docs/iot-hub-behaviour.md §5).
 */
export function validateIds(deviceId: string, moduleId: string | null, path = ''): Problem[] {
  const problems = validateDeviceId(deviceId, childPath(path, 'deviceId'), { strict: false });
  if (moduleId !== null) {
    problems.push(...validateModuleId(moduleId, childPath(path, 'moduleId'), { strict: false }));
  }
  return problems;
}

export function parseDeviceInput(body: unknown, deviceId: string, path = ''): Parsed<DeviceInput> {
  const problems = validateIds(deviceId, null, path);
  if (!isJsonObject(body)) return { ok: false, problems: [...problems, notAnObject(path, 'device')] };
  checkIdMatches(body['deviceId'], deviceId, childPath(path, 'deviceId'), problems);
  const value: DeviceInput = {
    status: parseStatus(body['status'], childPath(path, 'status'), problems),
    statusReason: parseStatusReason(body['statusReason'], childPath(path, 'statusReason'), problems),
    authentication: parseAuthentication(body['authentication'], childPath(path, 'authentication'), problems),
    iotEdge: parseIotEdge(body['capabilities'], childPath(path, 'capabilities'), problems),
    deviceScope: parseOptionalString(body['deviceScope'], childPath(path, 'deviceScope'), problems),
    parentScopes: parseScopes(body['parentScopes'], childPath(path, 'parentScopes'), problems),
  };
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value };
}

export function parseModuleInput(
  body: unknown,
  deviceId: string,
  moduleId: string,
  path = '',
): Parsed<ModuleInput> {
  const problems = validateIds(deviceId, moduleId, path);
  if (!isJsonObject(body)) return { ok: false, problems: [...problems, notAnObject(path, 'module')] };
  checkIdMatches(body['deviceId'], deviceId, childPath(path, 'deviceId'), problems);
  checkIdMatches(body['moduleId'], moduleId, childPath(path, 'moduleId'), problems);
  const value: ModuleInput = {
    authentication: parseAuthentication(body['authentication'], childPath(path, 'authentication'), problems),
    managedBy: parseOptionalString(body['managedBy'], childPath(path, 'managedBy'), problems),
  };
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value };
}

function notAnObject(path: string, what: string): Problem {
  return { path, message: `the ${what} body must be a JSON object` };
}

/** The body may repeat the id (the SDKs always do); it must then name the same identity as the URL. */
function checkIdMatches(value: unknown, expected: string, path: string, problems: Problem[]): void {
  if (value === undefined || value === null) return;
  if (value !== expected) {
    problems.push({
      path,
      message: `${JSON.stringify(value)} does not match ${JSON.stringify(expected)} in the request URL`,
    });
  }
}

/** Wire values are lower-case (docs/iot-hub-behaviour.md §2); accept any case, answer lower-case. */
function parseStatus(value: unknown, path: string, problems: Problem[]): IdentityStatus {
  if (value === undefined || value === null) return 'enabled';
  const lower = typeof value === 'string' ? value.toLowerCase() : '';
  if (lower === 'enabled' || lower === 'disabled') return lower;
  problems.push({ path, message: `status ${JSON.stringify(value)} is not valid; valid: enabled, disabled` });
  return 'enabled';
}

function parseStatusReason(value: unknown, path: string, problems: Problem[]): string | null {
  const reason = parseOptionalString(value, path, problems);
  if (reason !== null && reason.length > STATUS_REASON_MAX) {
    problems.push({
      path,
      message: `statusReason is ${reason.length} characters; the maximum is ${STATUS_REASON_MAX}`,
    });
  }
  return reason;
}

function parseIotEdge(value: unknown, path: string, problems: Problem[]): boolean {
  if (value === undefined || value === null) return false;
  if (!isJsonObject(value)) {
    problems.push({ path, message: 'capabilities must be an object like {"iotEdge": false}' });
    return false;
  }
  const edge = value['iotEdge'];
  if (edge === undefined || edge === null) return false;
  if (typeof edge !== 'boolean') {
    problems.push({ path: childPath(path, 'iotEdge'), message: 'iotEdge must be true or false' });
    return false;
  }
  return edge;
}

function parseOptionalString(value: unknown, path: string, problems: Problem[]): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    problems.push({ path, message: `must be a string or null; got ${typeof value}` });
    return null;
  }
  return value;
}

function parseScopes(value: unknown, path: string, problems: Problem[]): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string')) {
    problems.push({ path, message: 'parentScopes must be an array of strings' });
    return [];
  }
  return value as string[];
}
