/**
 * Configuration CRUD (docs/iot-hub-behaviour.md §8.4): `PUT` without If-Match creates (409 if it exists),
 * with If-Match (`*` or the etag) updates; content cannot change after creation, as in IoT Hub (a new
 * configuration is made instead); DELETE honours If-Match. GET computes the system metrics (targeted,
 * applied) and the custom metric queries over the twins as they are now.
 */

import { deepEqualJson, type JsonObject } from '../../lib/json-types';
import { HubError, hubErrors } from '../errors';
import { parseConfigurationInput } from './configuration-input';
import {
  appliedKey,
  buildConfiguration,
  type ConfigurationCounts,
  compileQuery,
  metricQueryText,
  renderConfiguration,
  type StoredConfiguration,
  targetQueryText,
} from './configuration-records';
import { identityEtag } from './identity-records';
import { rowTwinRenderer } from './query-operations';
import { appliedRefKey } from './sqlite-configurations';
import type { PositionedRow } from './sqlite-registry';
import { checkEtag, type StoreContext, unwrap } from './store-context';
import { matchesQuery, type ParsedQuery } from './twin-query';

/** IoT Hub allows up to 100 configurations per hub (§8.4); the local hub keeps the same bound. */
export const MAX_CONFIGURATIONS = 100;

function requireConfiguration(ctx: StoreContext, id: string): StoredConfiguration {
  const found = ctx.configurations.get(id);
  if (!found) throw hubErrors.configurationNotFound(id);
  return found;
}

export function putConfiguration(ctx: StoreContext, id: string, body: unknown, ifMatch?: string): JsonObject {
  const input = unwrap(parseConfigurationInput(body, id));
  const problem = [targetQueryText(input), ...Object.values(input.metricQueries).map(metricQueryText)]
    .map((text) => compileQuery(text, 'query'))
    .find((q): q is string => typeof q === 'string');
  if (problem) throw hubErrors.argumentInvalid(problem);
  const previous = ctx.configurations.get(id);
  if (ifMatch === undefined && previous) {
    throw new HubError(
      409,
      'ConfigurationAlreadyExists',
      409001,
      `Configuration ${JSON.stringify(id)} already exists (send If-Match to update it)`,
    );
  }
  if (ifMatch !== undefined && !previous) throw hubErrors.configurationNotFound(id);
  if (previous) {
    checkEtag(previous.etag, ifMatch, 'configuration');
    if (!deepEqualJson(previous.content, input.content)) {
      throw hubErrors.argumentInvalid(
        'the content of a configuration cannot be changed; create a new configuration',
      );
    }
  } else if (ctx.configurations.list().length >= MAX_CONFIGURATIONS) {
    throw hubErrors.argumentInvalid(`a hub holds at most ${MAX_CONFIGURATIONS} configurations`);
  }
  const etag = identityEtag(ctx.db.nextCounter('configurationEtag'));
  const stored = buildConfiguration(id, input, previous, ctx.now(), etag);
  ctx.configurations.put(stored);
  // A new configuration has been applied nowhere yet: it is applied just after this write commits
  // (hub-state-store.ts), as IoT Hub evaluates it after the create (§8.4), so its counts start at zero.
  // Counting here would scan every twin inside the write, before the PUT is answered and the apply can
  // start (docs/benchmarks.md, fleet-wide configuration); a GET counts them as they are.
  return renderConfiguration(stored, previous ? countsOf(ctx, stored) : zeroCounts(stored));
}

function zeroCounts(c: StoredConfiguration): ConfigurationCounts {
  return {
    targeted: 0,
    applied: 0,
    metrics: Object.fromEntries(Object.keys(c.metricQueries).map((name) => [name, 0])),
  };
}

export function getConfiguration(ctx: StoreContext, id: string): JsonObject {
  const stored = requireConfiguration(ctx, id);
  return renderConfiguration(stored, countsOf(ctx, stored));
}

export function listConfigurations(ctx: StoreContext, top = MAX_CONFIGURATIONS): JsonObject[] {
  return ctx.configurations
    .list()
    .slice(0, top)
    .map((c) => renderConfiguration(c, countsOf(ctx, c)));
}

export function deleteConfiguration(ctx: StoreContext, id: string, ifMatch?: string): void {
  const stored = requireConfiguration(ctx, id);
  checkEtag(stored.etag, ifMatch, 'configuration');
  ctx.configurations.delete(id);
}

/** Visits every twin of `kind` as the service sees it (what conditions are evaluated against). */
export function forEachTwin(
  ctx: StoreContext,
  kind: 'devices' | 'devices.modules',
  visit: (twin: JsonObject, row: PositionedRow) => void,
): void {
  const twinOf = rowTwinRenderer(ctx);
  ctx.db.scanAfter(kind === 'devices' ? 'device' : 'module', 0, (row) => {
    // Only matched and counted, never returned: no copies of the freshly read row.
    visit(twinOf(row, { copy: false }), row);
    return true;
  });
}

/**
 * The target and every metric in one pass over each kind of twin they read (usually one scan, not one
 * per query): each twin is read and rendered once, however many queries look at it.
 */
function countsOf(ctx: StoreContext, c: StoredConfiguration): ConfigurationCounts {
  const target = compileQuery(targetQueryText(c), 'targetCondition') as ParsedQuery;
  const key = appliedKey(c);
  const counts: ConfigurationCounts = { targeted: 0, applied: 0, metrics: {} };
  const metrics = Object.entries(c.metricQueries).map(([name, text]) => {
    counts.metrics[name] = 0;
    return { name, query: compileQuery(metricQueryText(text), name) as ParsedQuery };
  });
  const applied = ctx.configurations.allApplied();
  for (const source of new Set([target.source, ...metrics.map((m) => m.query.source)])) {
    const mine = metrics.filter((m) => m.query.source === source);
    const withTarget = target.source === source;
    forEachTwin(ctx, source, (twin, row) => {
      for (const { name, query } of mine) {
        if (matchesQuery(twin, query.where)) counts.metrics[name] = counts.metrics[name]! + 1;
      }
      if (!withTarget || !matchesQuery(twin, target.where)) return;
      counts.targeted += 1;
      const { deviceId, moduleId, generationId } = row.identity;
      if (applied.get(appliedRefKey({ deviceId, moduleId, generationId })) === key) counts.applied += 1;
    });
  }
  return counts;
}
