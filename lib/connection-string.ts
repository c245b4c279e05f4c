/**
 * IoT Hub connection strings (`Key=Value;Key=Value`), parsed and built for both the service side
 * (policy key) and the device/module side (identity key or X.509). Error messages name keys and
 * positions, never values: a connection string usually carries a secret.
 */

export class ConnectionStringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionStringError';
  }
}

/**
 * Key names safe to print; anything else might be a misplaced secret (a key pasted without its name).
 * An array, not a Set: Pulumi's closure serializer turns a captured Set into an object without its
 * internal slots, and dynamic providers capture this module.
 */
const KNOWN_KEYS: readonly string[] = [
  'HostName',
  'SharedAccessKeyName',
  'SharedAccessKey',
  'SharedAccessSignature',
  'DeviceId',
  'ModuleId',
  'GatewayHostName',
  'x509',
];

function printableKey(key: string): string {
  return KNOWN_KEYS.includes(key) ? `"${key}"` : 'an unrecognised key';
}

/** Splits `K=V;K=V`; a value may contain `=` (base64 padding), empty segments (a trailing `;`) are ignored. */
export function parseConnectionString(s: string): Record<string, string> {
  if (typeof s !== 'string' || s.trim() === '') {
    throw new ConnectionStringError('connection string is empty; expected Key=Value pairs separated by ";"');
  }
  const result: Record<string, string> = {};
  for (const [i, segment] of s.split(';').entries()) {
    if (segment.trim() === '') continue;
    const eq = segment.indexOf('=');
    const key = eq < 0 ? '' : segment.slice(0, eq).trim();
    if (key === '') {
      throw new ConnectionStringError(`connection string segment #${i + 1} is not Key=Value`);
    }
    if (Object.hasOwn(result, key)) {
      throw new ConnectionStringError(`connection string key ${printableKey(key)} appears more than once`);
    }
    const value = segment.slice(eq + 1);
    // A key named "__proto__" must stay data, not change the prototype; assignment is cheaper otherwise.
    if (key === '__proto__') {
      Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
    } else {
      result[key] = value;
    }
  }
  return result;
}

function required(fields: Record<string, string>, key: string, kind: string): string {
  const value = fields[key];
  if (value === undefined || value === '') {
    const known = Object.keys(fields).filter((k) => KNOWN_KEYS.includes(k));
    const unknown = Object.keys(fields).length - known.length;
    const present = [...known, ...(unknown > 0 ? [`${unknown} unrecognised`] : [])].join(', ') || 'none';
    throw new ConnectionStringError(
      `${kind} connection string has no ${key} or it is empty (keys present: ${present})`,
    );
  }
  return value;
}

export interface ServiceConnectionString {
  hostName: string;
  sharedAccessKeyName: string;
  sharedAccessKey: string;
}

/** `HostName=..;SharedAccessKeyName=..;SharedAccessKey=..` (other keys are ignored, as the SDK does). */
export function parseServiceConnectionString(s: string): ServiceConnectionString {
  const fields = parseConnectionString(s);
  return {
    hostName: required(fields, 'HostName', 'service'),
    sharedAccessKeyName: required(fields, 'SharedAccessKeyName', 'service'),
    sharedAccessKey: required(fields, 'SharedAccessKey', 'service'),
  };
}

export interface DeviceConnectionString {
  hostName: string;
  deviceId: string;
  moduleId?: string;
  sharedAccessKey?: string;
  x509?: boolean;
  gatewayHostName?: string;
}

/** Device or module connection string; exactly one of `SharedAccessKey` or `x509=true`. */
export function parseDeviceConnectionString(s: string): DeviceConnectionString {
  const fields = parseConnectionString(s);
  const result: DeviceConnectionString = {
    hostName: required(fields, 'HostName', 'device'),
    deviceId: required(fields, 'DeviceId', 'device'),
  };
  for (const [key, prop] of [
    ['ModuleId', 'moduleId'],
    ['SharedAccessKey', 'sharedAccessKey'],
    ['GatewayHostName', 'gatewayHostName'],
  ] as const) {
    if (fields[key] !== undefined) result[prop] = required(fields, key, 'device');
  }
  if (fields['x509'] !== undefined) {
    if (fields['x509'].toLowerCase() !== 'true') {
      throw new ConnectionStringError('device connection string has x509 set to something other than "true"');
    }
    result.x509 = true;
  }
  checkOneCredential(result);
  return result;
}

function checkOneCredential(c: DeviceConnectionString): void {
  const hasKey = c.sharedAccessKey !== undefined;
  if (hasKey === (c.x509 === true)) {
    throw new ConnectionStringError(
      `device connection string must have exactly one of SharedAccessKey or x509=true (found ${hasKey ? 'both' : 'neither'})`,
    );
  }
}

function pair(key: string, value: string): string {
  if (value === '' || value.includes(';')) {
    throw new ConnectionStringError(
      `connection string value for ${key} must be non-empty and contain no ";"`,
    );
  }
  return `${key}=${value}`;
}

export function buildServiceConnectionString(c: ServiceConnectionString): string {
  return [
    pair('HostName', c.hostName),
    pair('SharedAccessKeyName', c.sharedAccessKeyName),
    pair('SharedAccessKey', c.sharedAccessKey),
  ].join(';');
}

/** `HostName=..;DeviceId=..[;ModuleId=..];SharedAccessKey=..` or `..;x509=true`, then `[;GatewayHostName=..]`. */
export function buildDeviceConnectionString(c: DeviceConnectionString): string {
  checkOneCredential(c);
  const parts = [pair('HostName', c.hostName), pair('DeviceId', c.deviceId)];
  if (c.moduleId !== undefined) parts.push(pair('ModuleId', c.moduleId));
  parts.push(c.sharedAccessKey !== undefined ? pair('SharedAccessKey', c.sharedAccessKey) : 'x509=true');
  if (c.gatewayHostName !== undefined) parts.push(pair('GatewayHostName', c.gatewayHostName));
  return parts.join(';');
}

/**
 * `host[:port]` as used in a local hub's HostName (docs/architecture.md: one address for everything).
 * IPv6 literals must be bracketed (`[::1]:8443`); brackets are removed from the returned host.
 */
export function splitHostPort(hostName: string): { host: string; port?: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::([0-9]+))?$/.exec(hostName);
  const unbracketedV6 = /^[0-9A-Fa-f:.]+$/.test(hostName) && hostName.split(':').length > 2;
  if (unbracketedV6) return { host: hostName };
  const host = match?.[1] ?? match?.[2];
  if (!match || host === undefined) {
    throw new ConnectionStringError(
      `HostName "${hostName}" is not host[:port] (IPv6 literals must be bracketed, e.g. [::1]:8443)`,
    );
  }
  if (match[3] === undefined) return { host };
  const port = Number(match[3]);
  if (port < 1 || port > 65535) {
    throw new ConnectionStringError(`HostName "${hostName}" has port ${match[3]}; valid ports are 1-65535`);
  }
  return { host, port };
}
