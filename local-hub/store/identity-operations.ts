/**
 * Identity registry operations (docs/iot-hub-behaviour.md §1.2, §1.4 "Status decisions of the local hub"):
 * validate, check existence and etags, build the record with the pure rules, write, queue events. Callers run
 * each operation inside one transaction (hub-state-store.ts), so nothing is half-written.
 */
import { hubErrors } from '../errors';
import type { IdentityRevoked } from '../hub-state';
import { leafScopeProblem } from './device-scope';
import type { DeviceIdentity, ModuleIdentity } from './hub-state-types';
import { type DeviceInput, parseDeviceInput, parseModuleInput } from './identity-input';
import {
  buildDevice,
  buildModule,
  identityEtag,
  newGenerationId,
  type RecordContext,
  renderDevice,
  renderModule,
  revocationReason,
  type StoredIdentity,
} from './identity-records';
import { checkEtag, requireDevice, requireModule, type StoreContext, unwrap } from './store-context';
import { freshTwin } from './twin-records';

export const LIST_DEVICES_MAX = 1000;

function recordContext(ctx: StoreContext): RecordContext {
  const now = ctx.now();
  return {
    now,
    etag: identityEtag(ctx.db.nextCounter('identityEtag')),
    generationId: newGenerationId(Date.parse(now), ctx.random4()),
    mintKey: ctx.mintKey,
  };
}

function revoke(ctx: StoreContext, identity: StoredIdentity, reason: IdentityRevoked['reason']): void {
  ctx.events.queueRevoked({ deviceId: identity.deviceId, moduleId: identity.moduleId, reason });
}

/** A leaf's scope must name an Edge device of this hub, unless it keeps the scope it has (device-scope.ts). */
function checkDeviceScope(
  ctx: StoreContext,
  deviceId: string,
  input: DeviceInput,
  previous?: StoredIdentity,
) {
  if (input.iotEdge || input.deviceScope === null || input.deviceScope === previous?.deviceScope) return;
  const problem = leafScopeProblem(deviceId, input.deviceScope, (id) => ctx.db.get(id, null)?.identity);
  if (problem) throw hubErrors.argumentInvalid(problem);
}

export function createDevice(ctx: StoreContext, deviceId: string, body: unknown): DeviceIdentity {
  const input = unwrap(parseDeviceInput(body, deviceId));
  if (ctx.db.get(deviceId, null)) throw hubErrors.deviceAlreadyExists(deviceId);
  checkDeviceScope(ctx, deviceId, input);
  const rc = recordContext(ctx);
  const identity = buildDevice(deviceId, input, undefined, rc);
  ctx.db.put({ identity, twin: freshTwin(rc.now) });
  return renderDevice(identity, ctx.runtime.get(deviceId, null));
}

export function updateDevice(
  ctx: StoreContext,
  deviceId: string,
  body: unknown,
  ifMatch: string,
): DeviceIdentity {
  const input = unwrap(parseDeviceInput(body, deviceId));
  const row = requireDevice(ctx, deviceId);
  checkEtag(row.identity.etag, ifMatch, 'device');
  checkDeviceScope(ctx, deviceId, input, row.identity);
  const identity = buildDevice(deviceId, input, row.identity, recordContext(ctx));
  ctx.db.put({ identity, twin: row.twin });
  const reason = revocationReason(row.identity, identity);
  if (reason) revoke(ctx, identity, reason);
  // Modules have no status of their own: disabling the device disables them too (docs/iot-hub-behaviour.md §2).
  if (reason === 'disabled') {
    for (const m of ctx.db.listModules(deviceId)) revoke(ctx, m.identity, 'disabled');
  }
  return renderDevice(identity, ctx.runtime.get(deviceId, null));
}

export function getDevice(ctx: StoreContext, deviceId: string): DeviceIdentity {
  const row = requireDevice(ctx, deviceId);
  return renderDevice(row.identity, ctx.runtime.get(deviceId, null));
}

export function listDevices(ctx: StoreContext, top = LIST_DEVICES_MAX): DeviceIdentity[] {
  const limit = Math.max(0, Math.min(LIST_DEVICES_MAX, Math.floor(top)));
  return ctx.db
    .listDevices(limit)
    .map((r) => renderDevice(r.identity, ctx.runtime.get(r.identity.deviceId, null)));
}

/** Deleting a device deletes its modules and all their twins (docs/iot-hub-behaviour.md §6 lifecycle). */
export function deleteDevice(ctx: StoreContext, deviceId: string, ifMatch?: string): void {
  const row = requireDevice(ctx, deviceId);
  checkEtag(row.identity.etag, ifMatch, 'device');
  const modules = ctx.db.listModules(deviceId);
  ctx.db.deleteDevice(deviceId);
  for (const identity of [row.identity, ...modules.map((m) => m.identity)]) {
    ctx.runtime.forget(identity.deviceId, identity.moduleId);
    revoke(ctx, identity, 'deleted');
  }
}

export function createModule(
  ctx: StoreContext,
  deviceId: string,
  moduleId: string,
  body: unknown,
): ModuleIdentity {
  const input = unwrap(parseModuleInput(body, deviceId, moduleId));
  requireDevice(ctx, deviceId);
  if (ctx.db.get(deviceId, moduleId)) throw hubErrors.moduleAlreadyExists(deviceId, moduleId);
  const rc = recordContext(ctx);
  const identity = buildModule(deviceId, moduleId, input, undefined, rc);
  ctx.db.put({ identity, twin: freshTwin(rc.now) });
  return renderModule(identity, ctx.runtime.get(deviceId, moduleId));
}

export function updateModule(
  ctx: StoreContext,
  deviceId: string,
  moduleId: string,
  body: unknown,
  ifMatch: string,
): ModuleIdentity {
  const input = unwrap(parseModuleInput(body, deviceId, moduleId));
  const { module } = requireModule(ctx, deviceId, moduleId);
  checkEtag(module.identity.etag, ifMatch, 'module');
  const identity = buildModule(deviceId, moduleId, input, module.identity, recordContext(ctx));
  ctx.db.put({ identity, twin: module.twin });
  const reason = revocationReason(module.identity, identity);
  if (reason) revoke(ctx, identity, reason);
  return renderModule(identity, ctx.runtime.get(deviceId, moduleId));
}

export function getModule(ctx: StoreContext, deviceId: string, moduleId: string): ModuleIdentity {
  const { module } = requireModule(ctx, deviceId, moduleId);
  return renderModule(module.identity, ctx.runtime.get(deviceId, moduleId));
}

export function listModules(ctx: StoreContext, deviceId: string): ModuleIdentity[] {
  requireDevice(ctx, deviceId);
  return ctx.db
    .listModules(deviceId)
    .map((r) => renderModule(r.identity, ctx.runtime.get(deviceId, r.identity.moduleId)));
}

export function deleteModule(ctx: StoreContext, deviceId: string, moduleId: string, ifMatch?: string): void {
  const { module } = requireModule(ctx, deviceId, moduleId);
  checkEtag(module.identity.etag, ifMatch, 'module');
  ctx.db.delete(deviceId, moduleId);
  ctx.runtime.forget(deviceId, moduleId);
  revoke(ctx, module.identity, 'deleted');
}
