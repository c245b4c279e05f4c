/**
 * Applying configurations (docs/iot-hub-behaviour.md §8.4), as IoT Hub does: each twin targeted by at least
 * one configuration of its kind gets the content of the one with the highest priority (the most
 * recently created among equals) merged into its desired properties, through the ordinary twin PATCH
 * (new `$version`, patch pushed to a connected device). Once applied, the same content is not written
 * again; a twin that stops being targeted keeps its desired properties, as in IoT Hub.
 * IoT Hub re-evaluates within minutes; the local hub does it right after the write that may change
 * the outcome (hub-state-store.ts schedules it).
 */

import type { JsonObject } from '../../lib/json-types';
import { applyMergePatch } from '../../lib/merge-patch';
import { isHubError } from '../errors';
import type { HubLogger } from '../hub-logger';
import {
  appliedKey,
  byPrecedence,
  compileQuery,
  type StoredConfiguration,
  targetQueryText,
} from './configuration-records';
import type { PositionedRow } from './sqlite-registry';
import type { StoreContext } from './store-context';
import { patchTwin } from './twin-operations';
import { matchesQuery, type ParsedQuery } from './twin-query';
import { renderServiceTwin } from './twin-records';

interface Candidate {
  configuration: StoredConfiguration;
  query: ParsedQuery;
}

/** Which twins to look at: all of them, or the listed identities (`moduleId` null for the device). */
export type ApplyScope = 'all' | { deviceId: string; moduleId: string | null }[];

export function applyConfigurations(ctx: StoreContext, scope: ApplyScope, logger: HubLogger): void {
  const candidates = ctx.configurations
    .list()
    .sort(byPrecedence)
    .map((configuration) => ({
      configuration,
      query: compileQuery(targetQueryText(configuration), 'targetCondition'),
    }))
    .filter((c): c is Candidate => typeof c.query !== 'string');
  // Without configurations there is nothing to apply (an applied mark of a deleted one is harmless:
  // a new configuration has a new key).
  if (candidates.length === 0) return;
  const visit = (twin: JsonObject, row: PositionedRow) => {
    const kind = row.identity.moduleId === null ? 'devices' : 'devices.modules';
    const winner = candidates.find((c) => c.query.source === kind && matchesQuery(twin, c.query.where));
    applyTo(ctx, row, winner?.configuration, logger);
  };
  for (const { deviceId, moduleId } of scope === 'all' ? everyIdentity(ctx) : scope) {
    const row = ctx.db.get(deviceId, moduleId);
    const device = moduleId === null ? row : ctx.db.get(deviceId, null);
    if (!row || !device) continue;
    const twin = renderServiceTwin(
      device.identity,
      row.identity,
      row.twin,
      ctx.runtime.get(deviceId, moduleId),
    );
    visit(twin as unknown as JsonObject, { ...row, position: 0 });
  }
}

/** Collected first: a scan holds a statement open, and SQLite refuses writes while it is. */
function everyIdentity(ctx: StoreContext): { deviceId: string; moduleId: string | null }[] {
  const identities: { deviceId: string; moduleId: string | null }[] = [];
  for (const kind of ['device', 'module'] as const) {
    ctx.db.scanAfter(kind, 0, ({ identity }) => {
      identities.push({ deviceId: identity.deviceId, moduleId: identity.moduleId });
      return true;
    });
  }
  return identities;
}

function applyTo(
  ctx: StoreContext,
  row: PositionedRow,
  winner: StoredConfiguration | undefined,
  logger: HubLogger,
): void {
  const { deviceId, moduleId, generationId } = row.identity;
  const ref = { deviceId, moduleId, generationId };
  const key = winner ? appliedKey(winner) : undefined;
  if (ctx.configurations.applied(ref) === key) return;
  if (!winner) {
    ctx.configurations.setApplied(ref, undefined);
    return;
  }
  const desired = winner.desiredPatches.reduce<JsonObject>(
    (merged, patch) => applyMergePatch(merged, patch),
    {},
  );
  try {
    patchTwin(ctx, deviceId, moduleId, { properties: { desired } }, '*');
    ctx.configurations.setApplied(ref, key);
  } catch (error) {
    // Content that does not fit this twin (size limits) leaves it unapplied, as a failed application.
    if (!isHubError(error)) throw error;
    logger.warn('configuration not applied', {
      configuration: winner.id,
      deviceId,
      moduleId,
      error: error.message,
    });
  }
}
