/**
 * What the hub commands print (scripts/hub-commands/): aligned tables for people, and the stable JSON
 * shapes of `--json` (docs/hub-commands.md). Pure: the commands pass what the service SDK returned.
 * Keys are masked unless the caller asked for them (`--show-keys`).
 */
import type { JsonObject, JsonValue } from './json-types';

/** Stands for a key that exists but was not asked for; `null` means there is no key. */
export const HIDDEN_KEY = '<hidden>';

/** IoT Hub's "never" (`0001-01-01T00:00:00Z`) as null. */
export function activityTime(value: unknown): string | null {
  if (typeof value !== 'string' || value === '' || value.startsWith('0001-01-01')) return null;
  return value;
}

/** Columns left-aligned, two spaces apart, a header row; an empty table says so. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  empty: string,
): string {
  if (rows.length === 0) return empty;
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export interface DeviceRow {
  deviceId: string;
  status: string | null;
  connectionState: string | null;
  authenticationType: string | null;
  lastActivityTime: string | null;
}

/** A device twin from `SELECT * FROM devices` (it carries the identity's status and connection). */
export function deviceRowFromTwin(twin: JsonObject): DeviceRow {
  return {
    deviceId: String(twin['deviceId'] ?? ''),
    status: stringOrNull(twin['status']),
    connectionState: stringOrNull(twin['connectionState']),
    authenticationType: stringOrNull(twin['authenticationType']),
    lastActivityTime: activityTime(twin['lastActivityTime']),
  };
}

export function formatDeviceRows(rows: readonly DeviceRow[]): string {
  return formatTable(
    ['DEVICE', 'STATUS', 'CONNECTION', 'AUTH', 'LAST ACTIVITY'],
    rows.map((r) => [
      r.deviceId,
      r.status ?? '-',
      r.connectionState ?? '-',
      r.authenticationType ?? '-',
      r.lastActivityTime ?? 'never',
    ]),
    'No devices.',
  );
}

export interface IdentityView {
  deviceId: string;
  moduleId?: string;
  /** Devices only (modules have no status in IoT Hub). */
  status?: string | null;
  statusReason?: string | null;
  connectionState: string | null;
  lastActivityTime: string | null;
  authentication: {
    type: string | null;
    primaryKey: string | null;
    secondaryKey: string | null;
    primaryThumbprint: string | null;
    secondaryThumbprint: string | null;
  };
  keysShown: boolean;
  /** Devices only. */
  iotEdge?: boolean;
  /** Modules only. */
  managedBy?: string | null;
  etag: string | null;
  generationId: string | null;
  /** The identity's own connection string: only with keys shown and a symmetric key. */
  connectionString: string | null;
}

/**
 * The identity as the registry returned it (`Device` or `Module`), keys masked unless `showKeys`.
 * `buildConnectionString` receives the primary key only when it may be shown.
 */
export function identityView(
  identity: JsonObject,
  showKeys: boolean,
  buildConnectionString: (primaryKey: string) => string,
): IdentityView {
  const auth = (isObject(identity['authentication']) ? identity['authentication'] : {}) as JsonObject;
  const keys = (isObject(auth['symmetricKey']) ? auth['symmetricKey'] : {}) as JsonObject;
  const thumbs = (isObject(auth['x509Thumbprint']) ? auth['x509Thumbprint'] : {}) as JsonObject;
  const key = (value: JsonValue | undefined) => {
    const text = stringOrNull(value);
    return text === null ? null : showKeys ? text : HIDDEN_KEY;
  };
  const primaryKey = stringOrNull(keys['primaryKey']);
  const moduleId = stringOrNull(identity['moduleId']);
  const capabilities = isObject(identity['capabilities']) ? identity['capabilities'] : {};
  return {
    deviceId: String(identity['deviceId'] ?? ''),
    ...(moduleId === null
      ? {
          status: stringOrNull(identity['status']),
          statusReason: stringOrNull(identity['statusReason']),
        }
      : { moduleId }),
    connectionState: stringOrNull(identity['connectionState']),
    lastActivityTime: activityTime(identity['lastActivityTime']),
    authentication: {
      type: stringOrNull(auth['type']),
      primaryKey: key(keys['primaryKey']),
      secondaryKey: key(keys['secondaryKey']),
      primaryThumbprint: stringOrNull(thumbs['primaryThumbprint']),
      secondaryThumbprint: stringOrNull(thumbs['secondaryThumbprint']),
    },
    keysShown: showKeys,
    ...(moduleId === null
      ? { iotEdge: (capabilities as JsonObject)['iotEdge'] === true }
      : { managedBy: stringOrNull(identity['managedBy']) }),
    etag: stringOrNull(identity['etag']),
    generationId: stringOrNull(identity['generationId']),
    connectionString: showKeys && primaryKey !== null ? buildConnectionString(primaryKey) : null,
  };
}

export function formatIdentityView(view: IdentityView): string {
  const hidden = (value: string | null) =>
    value === HIDDEN_KEY ? `${HIDDEN_KEY} (--show-keys shows it)` : (value ?? '-');
  const rows: [string, string][] = [
    ['device', view.deviceId],
    ...(view.moduleId === undefined ? [] : ([['module', view.moduleId]] as [string, string][])),
    ...(view.status === undefined
      ? []
      : ([['status', `${view.status ?? '-'}${view.statusReason ? ` (${view.statusReason})` : ''}`]] as [
          string,
          string,
        ][])),
    ['connection', view.connectionState ?? '-'],
    ['last activity', view.lastActivityTime ?? 'never'],
    ['authentication', view.authentication.type ?? '-'],
  ];
  if (view.authentication.primaryKey !== null || view.authentication.secondaryKey !== null) {
    rows.push(['primary key', hidden(view.authentication.primaryKey)]);
    rows.push(['secondary key', hidden(view.authentication.secondaryKey)]);
  }
  if (view.authentication.primaryThumbprint !== null || view.authentication.secondaryThumbprint !== null) {
    rows.push(['primary thumbprint', view.authentication.primaryThumbprint ?? '-']);
    rows.push(['secondary thumbprint', view.authentication.secondaryThumbprint ?? '-']);
  }
  if (view.iotEdge !== undefined) rows.push(['IoT Edge', view.iotEdge ? 'yes' : 'no']);
  if (view.managedBy !== undefined) rows.push(['managed by', view.managedBy ?? '-']);
  rows.push(['etag', view.etag ?? '-'], ['generation', view.generationId ?? '-']);
  if (view.connectionString !== null) rows.push(['connection string', view.connectionString]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

export interface ModuleRow {
  deviceId: string;
  moduleId: string;
  connectionState: string | null;
  authenticationType: string | null;
  lastActivityTime: string | null;
  managedBy: string | null;
}

export function moduleRow(module: JsonObject): ModuleRow {
  const auth = isObject(module['authentication']) ? module['authentication'] : {};
  return {
    deviceId: String(module['deviceId'] ?? ''),
    moduleId: String(module['moduleId'] ?? ''),
    connectionState: stringOrNull(module['connectionState']),
    authenticationType: stringOrNull((auth as JsonObject)['type']),
    lastActivityTime: activityTime(module['lastActivityTime']),
    managedBy: stringOrNull(module['managedBy']),
  };
}

export function formatModuleRows(deviceId: string, rows: readonly ModuleRow[]): string {
  return formatTable(
    ['MODULE', 'CONNECTION', 'AUTH', 'LAST ACTIVITY', 'MANAGED BY'],
    rows.map((r) => [
      r.moduleId,
      r.connectionState ?? '-',
      r.authenticationType ?? '-',
      r.lastActivityTime ?? 'never',
      r.managedBy ?? '-',
    ]),
    `Device "${deviceId}" has no modules.`,
  );
}

/**
 * Query results: objects as a table whose columns are their keys (nested values as compact JSON),
 * anything else one JSON value per line (`SELECT COUNT() ...` gives objects too).
 */
export function formatQueryResults(items: readonly JsonValue[]): string {
  if (items.length === 0) return 'No results.';
  if (!items.every(isObject)) return items.map((item) => JSON.stringify(item)).join('\n');
  const objects = items as JsonObject[];
  const columns: string[] = [];
  for (const item of objects)
    for (const key of Object.keys(item)) if (!columns.includes(key)) columns.push(key);
  const cell = (value: JsonValue | undefined) =>
    value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  const table = formatTable(
    columns,
    objects.map((o) => columns.map((c) => cell(o[c]))),
    'No results.',
  );
  return `${table}\n(${items.length} ${items.length === 1 ? 'result' : 'results'})`;
}

function stringOrNull(value: JsonValue | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
