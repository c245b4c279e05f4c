/**
 * A twin read for people: each top-level property with its desired value, what the device reported, and
 * where its IoT Plug and Play acknowledgement stands against the desired `$version`, classified by
 * lib/twin-ack-status.ts (the web view's rule too, so both say the same). Pure; `npm run hub -- twin show`
 * prints it (docs/hub-commands.md).
 */

import { formatTable } from './hub-command-format';
import type { JsonObject, JsonValue } from './json-types';
import { isWritablePropertyAck, type WritablePropertyAck } from './pnp-ack';
import { type AckStatus, desiredAckStatuses } from './twin-ack-status';

/** lib/twin-ack-status.ts's status (the web view's too) for a desired property; `reported-only` else. */
export type PropertyState = AckStatus | 'reported-only';

export interface TwinPropertyRow {
  name: string;
  /** null: not in desired (IoT Hub stores no null: writing null deletes). */
  desired: JsonValue;
  /** The reported value (an ack's `value`), null when not reported. */
  reported: JsonValue;
  ack: WritablePropertyAck | null;
  state: PropertyState;
  /** Why it is pending or rejected; null otherwise. */
  reason: string | null;
}

export interface TwinSummary {
  deviceId: string;
  moduleId: string | null;
  etag: string | null;
  connectionState: string | null;
  desiredVersion: number | null;
  reportedVersion: number | null;
  tags: JsonObject;
  properties: TwinPropertyRow[];
}

export function summarizeTwin(twin: JsonObject): TwinSummary {
  const properties = isObject(twin['properties']) ? twin['properties'] : {};
  const desired = isObject(properties['desired']) ? properties['desired'] : {};
  const reported = isObject(properties['reported']) ? properties['reported'] : {};
  const reportedValue = (name: string): JsonValue => {
    const value = Object.hasOwn(reported, name) ? reported[name] : undefined;
    if (value === undefined) return null;
    return isWritablePropertyAck(value) ? (value.value as JsonValue) : value;
  };
  const rows: TwinPropertyRow[] = desiredAckStatuses(desired, reported).map((status) => ({
    name: status.key,
    desired: status.desired as JsonValue,
    reported: reportedValue(status.key),
    ack: status.ack ?? null,
    state: status.status,
    reason: status.reason ?? null,
  }));
  for (const name of Object.keys(reported)) {
    if (name.startsWith('$') || Object.hasOwn(desired, name)) continue;
    const value = reported[name];
    rows.push({
      name,
      desired: null,
      reported: reportedValue(name),
      ack: isWritablePropertyAck(value) ? value : null,
      state: 'reported-only',
      reason: null,
    });
  }
  return {
    deviceId: String(twin['deviceId'] ?? ''),
    moduleId: typeof twin['moduleId'] === 'string' && twin['moduleId'] !== '' ? twin['moduleId'] : null,
    etag: typeof twin['etag'] === 'string' ? twin['etag'] : null,
    connectionState: typeof twin['connectionState'] === 'string' ? twin['connectionState'] : null,
    desiredVersion: typeof desired['$version'] === 'number' ? desired['$version'] : null,
    reportedVersion: typeof reported['$version'] === 'number' ? reported['$version'] : null,
    tags: isObject(twin['tags']) ? twin['tags'] : {},
    properties: rows,
  };
}

function describeAck(row: TwinPropertyRow): string {
  const code = row.ack ? ` (${row.ack.ac} at v${row.ack.av})` : '';
  switch (row.state) {
    case 'reported-only':
      return '(reported only)';
    case 'acknowledged':
      return `acknowledged${code}`;
    default:
      return `${row.state}${code}${row.reason ? `: ${row.reason}` : ''}`;
  }
}

export function formatTwinSummary(summary: TwinSummary): string {
  const who =
    summary.moduleId === null
      ? `device "${summary.deviceId}"`
      : `module "${summary.deviceId}/${summary.moduleId}"`;
  const value = (v: JsonValue) => (v === null ? '-' : JSON.stringify(v));
  const header = [
    `Twin of ${who}   etag ${summary.etag ?? '-'}   connection ${summary.connectionState ?? '-'}`,
    `desired $version ${summary.desiredVersion ?? '-'}   reported $version ${summary.reportedVersion ?? '-'}`,
    `tags ${Object.keys(summary.tags).length === 0 ? '(none)' : JSON.stringify(summary.tags)}`,
  ];
  const table = formatTable(
    ['PROPERTY', 'DESIRED', 'REPORTED', 'ACK'],
    summary.properties.map((row) => [row.name, value(row.desired), value(row.reported), describeAck(row)]),
    'No desired or reported properties.',
  );
  return `${header.join('\n')}\n\n${table}`;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
