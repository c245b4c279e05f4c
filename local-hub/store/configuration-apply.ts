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
import type { Parsed } from './identity-input';
import { deviceRowOf } from './query-operations';
import { type AppliedRef, appliedRefKey } from './sqlite-configurations';
import type { IdentityRow } from './sqlite-registry';
import { type StoreContext, unwrap } from './store-context';
import { parseTwinPatch, type TwinPatchWrite } from './twin-input';
import { patchLoadedTwin } from './twin-operations';
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
  // Each twin is matched on the row read here and written from it (one read, one render per twin); the
  // content's patch is parsed once per configuration, not per twin.
  const patches = new Map<StoredConfiguration, Parsed<TwinPatchWrite>>();
  const patchOf = (winner: StoredConfiguration) => {
    let parsed = patches.get(winner);
    if (!parsed) {
      const desired = winner.desiredPatches.reduce<JsonObject>(
        (merged, patch) => applyMergePatch(merged, patch),
        {},
      );
      parsed = parseTwinPatch({ properties: { desired } });
      patches.set(winner, parsed);
    }
    return parsed;
  };
  const deviceOf = deviceRowOf(ctx);
  const appliedOf = appliedLookup(ctx, scope);
  for (const { deviceId, moduleId } of scope === 'all' ? everyIdentity(ctx) : scope) {
    const row = ctx.db.get(deviceId, moduleId);
    if (!row) continue;
    const device = deviceOf(row);
    // A module row always has its device row (deleting a device deletes its modules).
    if (moduleId !== null && device === row) continue;
    const twin = renderServiceTwin(
      device.identity,
      row.identity,
      row.twin,
      ctx.runtime.get(deviceId, moduleId),
      // Only matched: no copies of the row just read.
      { copy: false },
    ) as unknown as JsonObject;
    const kind = moduleId === null ? 'devices' : 'devices.modules';
    const winner = candidates.find((c) => c.query.source === kind && matchesQuery(twin, c.query.where));
    applyTo(ctx, row, winner?.configuration, { patchOf, appliedOf }, logger);
  }
}

/**
 * Which configuration content a twin last got: for every twin, all marks read in one query (one per twin
 * was a tenth of applying a configuration to 1,000 twins); for a few listed twins, one query each.
 */
function appliedLookup(ctx: StoreContext, scope: ApplyScope): (ref: AppliedRef) => string | undefined {
  if (scope !== 'all') return (ref) => ctx.configurations.applied(ref);
  const marks = ctx.configurations.allApplied();
  return (ref) => marks.get(appliedRefKey(ref));
}

/** Collected first (keys only, nothing parsed): a scan holds a statement open, and SQLite refuses writes while it is. */
function everyIdentity(ctx: StoreContext): { deviceId: string; moduleId: string | null }[] {
  return [...ctx.db.keys('device'), ...ctx.db.keys('module')];
}

function applyTo(
  ctx: StoreContext,
  row: IdentityRow,
  winner: StoredConfiguration | undefined,
  lookups: {
    patchOf: (winner: StoredConfiguration) => Parsed<TwinPatchWrite>;
    appliedOf: (ref: AppliedRef) => string | undefined;
  },
  logger: HubLogger,
): void {
  const { patchOf, appliedOf } = lookups;
  const { deviceId, moduleId, generationId } = row.identity;
  const ref = { deviceId, moduleId, generationId };
  const key = winner ? appliedKey(winner) : undefined;
  if (appliedOf(ref) === key) return;
  if (!winner) {
    ctx.configurations.setApplied(ref, undefined);
    return;
  }
  try {
    // The same write as a service PATCH with If-Match `*` (new desired `$version`, patch pushed).
    patchLoadedTwin(ctx, row, unwrap(patchOf(winner)));
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
