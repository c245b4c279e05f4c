/**
 * Twin operations for the service (GET/PATCH/PUT) and the device (GET, reported PATCH), fact sheet
 * §1.2, §3.3, §6. Validation happens before any write; the merged result is validated again so an
 * over-size twin is refused as a whole.
 */
import { cloneJson, type JsonObject } from '../../lib/json-types';
import type { DeviceFacingTwin } from '../hub-state';
import type { ServiceTwin } from './hub-state-types';
import type { IdentityRow } from './sqlite-registry';
import { checkEtag, invalid, requireDevice, requireModule, type StoreContext, unwrap } from './store-context';
import { parseReportedPatch, parseTwinPatch, parseTwinReplace, validateMergedTwin } from './twin-input';
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

function render(ctx: StoreContext, rows: TwinRows, twin: StoredTwin): ServiceTwin {
  const { identity } = rows.own;
  return renderServiceTwin(
    rows.device.identity,
    identity,
    twin,
    ctx.runtime.get(identity.deviceId, identity.moduleId),
  );
}

/** Writes the new twin after checking the merged result still fits the limits. */
function store(ctx: StoreContext, rows: TwinRows, twin: StoredTwin): void {
  const problems = validateMergedTwin(twin);
  if (problems.length > 0) throw invalid(problems);
  ctx.db.put({ identity: rows.own.identity, twin });
}

export function getTwin(ctx: StoreContext, deviceId: string, moduleId: string | null): ServiceTwin {
  const rows = loadRows(ctx, deviceId, moduleId);
  return render(ctx, rows, rows.own.twin);
}

export function patchTwin(
  ctx: StoreContext,
  deviceId: string,
  moduleId: string | null,
  body: unknown,
  ifMatch: string,
): ServiceTwin {
  const write = unwrap(parseTwinPatch(body));
  const rows = loadRows(ctx, deviceId, moduleId);
  checkEtag(twinEtag(rows.own.twin.etagCounter), ifMatch, 'twin');
  if (!write.tags && !write.desired) return render(ctx, rows, rows.own.twin);
  const next = patchServiceTwin(rows.own.twin, write, ctx.now());
  store(ctx, rows, next);
  // Tag-only changes are invisible to devices: no notification (fact sheet §3.3).
  if (write.desired) queueDesired(ctx, deviceId, moduleId, write.desired, next.desired.version);
  return render(ctx, rows, next);
}

export function replaceTwin(
  ctx: StoreContext,
  deviceId: string,
  moduleId: string | null,
  body: unknown,
  ifMatch: string,
): ServiceTwin {
  const write = unwrap(parseTwinReplace(body));
  const rows = loadRows(ctx, deviceId, moduleId);
  checkEtag(twinEtag(rows.own.twin.etagCounter), ifMatch, 'twin');
  const next = replaceServiceTwin(rows.own.twin, write, ctx.now());
  store(ctx, rows, next);
  // A replace reaches the device as the whole new desired document (fact sheet §3.3 [S2]).
  queueDesired(ctx, deviceId, moduleId, write.desired, next.desired.version);
  return render(ctx, rows, next);
}

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
  return renderDeviceFacingTwin(loadRows(ctx, deviceId, moduleId).own.twin);
}

/** Returns the new reported `$version` (the MQTT response carries it, fact sheet §3.3). */
export function patchReported(
  ctx: StoreContext,
  deviceId: string,
  moduleId: string | null,
  body: unknown,
): number {
  const patch = unwrap(parseReportedPatch(body));
  const rows = loadRows(ctx, deviceId, moduleId);
  const next = patchReportedRule(rows.own.twin, patch, ctx.now());
  store(ctx, rows, next);
  return next.reported.version;
}
