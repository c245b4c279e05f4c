/**
 * A twin read for people: each top-level property with its desired value, what the device reported, and
 * its IoT Plug and Play acknowledgement (lib/pnp-ack.ts, docs/device-runtime.md "Acknowledgements")
 * against the desired `$version`. Pure; `npm run hub -- twin show` prints it (docs/hub-commands.md).
 */

import { formatTable } from './hub-command-format';
import type { JsonObject, JsonValue } from './json-types';
import { isWritablePropertyAck, type WritablePropertyAck } from './pnp-ack';

/**
 * applied: ac 200 at the current desired version; behind: ac 200 at an older one; in-progress: ac 202;
 * rejected: ac >= 400 (or another code) at the current version; no-ack: desired but not acknowledged;
 * reported-only: the device reports it and nothing desires it.
 */
export type PropertyState = 'applied' | 'behind' | 'in-progress' | 'rejected' | 'no-ack' | 'reported-only';

export interface TwinPropertyRow {
  name: string;
  /** null: not in desired (IoT Hub stores no null: writing null deletes). */
  desired: JsonValue;
  /** The reported value (an ack's `value`), null when not reported. */
  reported: JsonValue;
  ack: WritablePropertyAck | null;
  state: PropertyState;
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
  const desiredVersion = typeof desired['$version'] === 'number' ? desired['$version'] : null;
  const names = [...Object.keys(desired), ...Object.keys(reported)].filter(
    (name, i, all) => !name.startsWith('$') && all.indexOf(name) === i,
  );
  return {
    deviceId: String(twin['deviceId'] ?? ''),
    moduleId: typeof twin['moduleId'] === 'string' && twin['moduleId'] !== '' ? twin['moduleId'] : null,
    etag: typeof twin['etag'] === 'string' ? twin['etag'] : null,
    connectionState: typeof twin['connectionState'] === 'string' ? twin['connectionState'] : null,
    desiredVersion,
    reportedVersion: typeof reported['$version'] === 'number' ? reported['$version'] : null,
    tags: isObject(twin['tags']) ? twin['tags'] : {},
    properties: names.map((name) => propertyRow(name, desired[name], reported[name], desiredVersion)),
  };
}

function propertyRow(
  name: string,
  desired: JsonValue | undefined,
  reported: JsonValue | undefined,
  desiredVersion: number | null,
): TwinPropertyRow {
  const ack = isWritablePropertyAck(reported) ? reported : null;
  const reportedValue = ack ? (ack.value as JsonValue) : (reported ?? null);
  return {
    name,
    desired: desired ?? null,
    reported: reportedValue,
    ack,
    state: stateOf(desired !== undefined, ack, desiredVersion),
  };
}

function stateOf(
  inDesired: boolean,
  ack: WritablePropertyAck | null,
  desiredVersion: number | null,
): PropertyState {
  if (!inDesired) return 'reported-only';
  if (!ack) return 'no-ack';
  const current = desiredVersion === null || ack.av >= desiredVersion;
  if (ack.ac === 200) return current ? 'applied' : 'behind';
  if (ack.ac === 202) return 'in-progress';
  return current ? 'rejected' : 'behind';
}

function describeAck(row: TwinPropertyRow, desiredVersion: number | null): string {
  const ack = row.ack;
  switch (row.state) {
    case 'reported-only':
      return '(reported only)';
    case 'no-ack':
      return 'no ack yet';
    case 'applied':
      return `${ack!.ac} at v${ack!.av}: applied`;
    case 'in-progress':
      return `${ack!.ac} at v${ack!.av}: in progress${ack!.ad ? ` (${ack!.ad})` : ''}`;
    case 'rejected':
      return `${ack!.ac} at v${ack!.av}: rejected${ack!.ad ? ` (${ack!.ad})` : ''}`;
    case 'behind':
      return `${ack!.ac} at v${ack!.av}: behind (desired is v${desiredVersion ?? '?'})`;
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
    summary.properties.map((row) => [
      row.name,
      value(row.desired),
      value(row.reported),
      describeAck(row, summary.desiredVersion),
    ]),
    'No desired or reported properties.',
  );
  return `${header.join('\n')}\n\n${table}`;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
