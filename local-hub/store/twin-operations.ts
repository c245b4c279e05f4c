/**
 * Twin operations for the service (GET/PATCH/PUT) and the device (GET, reported PATCH),
 * docs/iot-hub-behaviour.md §1.2, §3.3, §6. Validation happens before any write; the merged result is validated
 * again so an over-size twin is refused as a whole.
 */
import { cloneJson, type JsonObject } from '../../lib/json-types';
import type { TwinSection } from '../../lib/twin-document-rules';
import { hubErrors } from '../errors';
import type { DeviceFacingTwin } from '../hub-state';
import type { ServiceTwin } from './hub-state-types';
import type { IdentityRow } from './sqlite-registry';
import { checkEtag, invalid, requireDevice, requireModule, type StoreContext, unwrap } from './store-context';
import {
  parseReportedPatch,
  parseTwinPatch,
  parseTwinReplace,
  type TwinPatchWrite,
  validateMergedTwin,
} from './twin-input';
import {
  patchReported as patchReportedRule,
  patchServiceTwin,
  renderDeviceFacingTwin,
  renderServiceTwin,
  replaceServiceTwin,
  type StoredTwin,
  twinEtag,
} from './twin-records';

interface TwinRows {
  device: IdentityRow;
  own: IdentityRow;
}

function loadRows(ctx: StoreContext, deviceId: string, moduleId: string | null): TwinRows {
  if (moduleId === null) {
    const device = requireDevice(ctx, deviceId);
    return { device, own: device };
  }
  const { device, module } = requireModule(ctx, deviceId, moduleId);
  return { device, own: module };
}

/**
 * The twin alone, with loadRows' errors (a module of a missing device: DeviceNotFound): the device side
 * needs neither identity, so one JSON parse per request instead of four.
 */
function loadTwin(ctx: StoreContext, deviceId: string, moduleId: string | null): StoredTwin {
  if (moduleId !== null && !ctx.db.has(deviceId, null)) throw hubErrors.deviceNotFound(deviceId);
  const twin = ctx.db.getTwin(deviceId, moduleId);
  if (twin) return twin;
  throw moduleId === null ? hubErrors.deviceNotFound(deviceId) : hubErrors.moduleNotFound(deviceId, moduleId);
}

function render(ctx: StoreContext, rows: TwinRows, twin: StoredTwin): ServiceTwin {
  const { identity } = rows.own;
  return renderServiceTwin(
    rows.device.identity,
    identity,
    twin,
    ctx.runtime.get(identity.deviceId, identity.moduleId),
  );
}

/**
 * Writes the new twin after checking that the sections it wrote still fit the limits. Only the twin
 * column: a twin write leaves the identity as it is, so it is not serialized again.
 */
function store(
  ctx: StoreContext,
  own: { deviceId: string; moduleId: string | null },
  twin: StoredTwin,
  written: readonly TwinSection[],
): void {
  const problems = validateMergedTwin(twin, written);
  if (problems.length > 0) throw invalid(problems);
  ctx.db.putTwin(own.deviceId, own.moduleId, twin);
}

export function getTwin(ctx: StoreContext, deviceId: string, moduleId: string | null): ServiceTwin {
  const rows = loadRows(ctx, deviceId, moduleId);
  return render(ctx, rows, rows.own.twin);
}

/** The next twin a write produces, the sections it wrote, and the desired patch the device is told about (if any). */
interface TwinChange {
  twin: StoredTwin;
  written: readonly TwinSection[];
  desired: JsonObject | undefined;
}

/**
 * The write path shared by PATCH and PUT: If-Match is checked against the current twin before anything
 * is written (docs/iot-hub-behaviour.md §1.2); `change` returns `undefined` when the body changes nothing.
 */
function writeTwin(
  ctx: StoreContext,
  deviceId: string,
  moduleId: string | null,
  ifMatch: string,
  change: (current: StoredTwin) => TwinChange | undefined,
): ServiceTwin {
  const rows = loadRows(ctx, deviceId, moduleId);
  // `*` matches any etag (docs/iot-hub-behaviour.md §1.4), so the etag is only rendered when there is one to compare.
  if (ifMatch !== '*') checkEtag(twinEtag(rows.own.twin.etagCounter), ifMatch, 'twin');
  return render(ctx, rows, writeChange(ctx, rows.own, change));
}

/** Applies `change` to a loaded row and stores it; returns the twin as it now is. */
function writeChange(
  ctx: StoreContext,
  own: IdentityRow,
  change: (current: StoredTwin) => TwinChange | undefined,
): StoredTwin {
  const next = change(own.twin);
  if (!next) return own.twin;
  const { deviceId, moduleId } = own.identity;
  store(ctx, own.identity, next.twin, next.written);
  if (next.desired) queueDesired(ctx, deviceId, moduleId, next.desired, next.twin.desired.version);
  return next.twin;
}

/** PATCH and PUT of a service twin: parse `body`, check If-Match, write, return the rendered twin. */
type ServiceTwinWrite = (
  ctx: StoreContext,
  deviceId: string,
  moduleId: string | null,
  body: unknown,
  ifMatch: string,
) => ServiceTwin;

export const patchTwin: ServiceTwinWrite = (ctx, deviceId, moduleId, body, ifMatch) => {
  const parsed = unwrap(parseTwinPatch(body));
  return writeTwin(ctx, deviceId, moduleId, ifMatch, (current) => patchChange(ctx, parsed, current));
};

/**
 * A service PATCH (already parsed) of a row the caller loaded, If-Match `*`, nothing rendered: what applying
 * a configuration does to each twin it targets (configuration-apply.ts), the same write as `patchTwin`.
 */
export function patchLoadedTwin(ctx: StoreContext, own: IdentityRow, parsed: TwinPatchWrite): void {
  writeChange(ctx, own, (current) => patchChange(ctx, parsed, current));
}

function patchChange(ctx: StoreContext, parsed: TwinPatchWrite, current: StoredTwin): TwinChange | undefined {
  const write = { tags: parsed.tags, desired: desiredPatchOf(parsed, current) };
  if (!write.tags && !write.desired) return undefined;
  const written: TwinSection[] = [
    ...(write.tags ? ['tags' as const] : []),
    ...(write.desired ? ['desired' as const] : []),
  ];
  // Tag-only changes are invisible to devices: no notification (docs/iot-hub-behaviour.md §3.3).
  return { twin: patchServiceTwin(current, write, ctx.now()), written, desired: write.desired };
}

/**
 * `"desired": null` clears desired (docs/iot-hub-behaviour.md §8.2) as a patch with a `null` per key, so the
 * twin gets a new `$version` and etag and the device is told which keys went. No keys, nothing to clear:
 * like any empty patch it changes nothing.
 */
function desiredPatchOf(write: TwinPatchWrite, current: StoredTwin): JsonObject | undefined {
  if (!write.clearDesired) return write.desired;
  const keys = Object.keys(current.desired.doc);
  return keys.length === 0 ? undefined : Object.fromEntries(keys.map((key) => [key, null]));
}

const REPLACED_SECTIONS: readonly TwinSection[] = ['tags', 'desired'];
const REPORTED_SECTION: readonly TwinSection[] = ['reported'];

export const replaceTwin: ServiceTwinWrite = (ctx, deviceId, moduleId, body, ifMatch) => {
  const write = unwrap(parseTwinReplace(body));
  // A replace reaches the device as the whole new desired document (docs/iot-hub-behaviour.md §3.3).
  return writeTwin(ctx, deviceId, moduleId, ifMatch, (current) => ({
    twin: replaceServiceTwin(current, write, ctx.now()),
    written: REPLACED_SECTIONS,
    desired: write.desired,
  }));
};

function queueDesired(
  ctx: StoreContext,
  deviceId: string,
  moduleId: string | null,
  patch: JsonObject,
  version: number,
): void {
  ctx.events.queueDesired({ deviceId, moduleId, patch: { ...cloneJson(patch), $version: version } });
}

export function getDeviceFacingTwin(
  ctx: StoreContext,
  deviceId: string,
  moduleId: string | null,
): DeviceFacingTwin {
  return renderDeviceFacingTwin(loadTwin(ctx, deviceId, moduleId));
}

/**
 * Returns the new reported `$version` (the MQTT response carries it, docs/iot-hub-behaviour.md §3.3).
 * Writes once, as its last step, after every check that can refuse the patch: the reported batch relies on
 * it (a refused patch has written nothing, so it needs no savepoint; reported-batch.ts).
 */
export function patchReported(
  ctx: StoreContext,
  deviceId: string,
  moduleId: string | null,
  body: unknown,
): number {
  const patch = unwrap(parseReportedPatch(body));
  const twin = loadTwin(ctx, deviceId, moduleId);
  const next = patchReportedRule(twin, patch, ctx.now());
  store(ctx, { deviceId, moduleId }, next, REPORTED_SECTION);
  return next.reported.version;
}
