/**
 * `diff` decisions for the dynamic providers (pure; olds are the previous OUTPUTS, news the checked
 * inputs, as the dynamic provider host passes them).
 *
 * - Replace when the object is a different one: deviceId, moduleId, or the hub host. A different
 *   key for the same host (key rotation, another policy) is an in-place update.
 * - deleteBeforeReplace: ids are fixed names on the hub, and a "new" host may be the same hub under
 *   another name (127.0.0.1 vs localhost): creating first would collide (409) or, for twins, the old
 *   one's delete would null the leaves the new one just wrote.
 * - Values unknown during a preview: an unknown id may be a different id (replace); an unknown
 *   connection string is assumed to be the same hub (hub keys are often unknown while the hub
 *   resource itself updates; planning a replace of every identity would be alarming and wrong).
 * - Fields read by nobody on the hub (`adopt`, `waitForAck`) never cause an update.
 */
import { parseServiceConnectionString } from './connection-string';
import { changedIdentityFields } from './identity-plan';
import type { JsonObject } from './json-types';
import { ownedLeafChanges } from './owned-leaves';
import { isUnknownInput } from './resource-check-fields';
import {
  type IdentityInputs,
  type IdentityOutputs,
  specFromInputs,
  stateFromOutputs,
} from './resource-identity-state';

export interface DiffDecision {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace: boolean;
}

/** The host a service connection string addresses, lower-cased (DNS names are case-insensitive). */
export function hubHostOf(connectionString: unknown): string | undefined {
  if (typeof connectionString !== 'string' || isUnknownInput(connectionString)) return undefined;
  try {
    return parseServiceConnectionString(connectionString).hostName.toLowerCase();
  } catch {
    return undefined;
  }
}

function replacements(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  idKeys: readonly string[],
): string[] {
  const replaces = idKeys.filter((key) => olds[key] !== news[key]);
  const newHost = hubHostOf(news['hubConnectionString']);
  if (newHost !== undefined && newHost !== hubHostOf(olds['hubConnectionString'])) {
    replaces.push('hubConnectionString');
  }
  return replaces;
}

function connectionChanged(olds: Record<string, unknown>, news: Record<string, unknown>): boolean {
  return (
    olds['hubConnectionString'] !== news['hubConnectionString'] ||
    (olds['hubCaCertificate'] ?? null) !== (news['hubCaCertificate'] ?? null)
  );
}

function decision(replaces: string[], changed: boolean): DiffDecision {
  return { changes: replaces.length > 0 || changed, replaces, deleteBeforeReplace: replaces.length > 0 };
}

export function diffIdentity(olds: IdentityOutputs, news: IdentityInputs): DiffDecision {
  const o = olds as unknown as Record<string, unknown>;
  const n = news as unknown as Record<string, unknown>;
  const replaces = replacements(
    o,
    n,
    'moduleId' in olds || 'moduleId' in news ? ['deviceId', 'moduleId'] : ['deviceId'],
  );
  const hubFields = changedIdentityFields(stateFromOutputs(olds), specFromInputs(news));
  const keysSupplied = news.primaryKey !== undefined;
  return decision(
    replaces,
    hubFields.length > 0 || connectionChanged(o, n) || olds.keysSupplied !== keysSupplied,
  );
}

export interface TwinDiffSides {
  hubConnectionString: unknown;
  hubCaCertificate?: unknown;
  deviceId: unknown;
  moduleId?: unknown;
  desired: JsonObject;
  tags: JsonObject;
}

export function diffTwin(olds: TwinDiffSides, news: TwinDiffSides): DiffDecision {
  const o = olds as unknown as Record<string, unknown>;
  const n = news as unknown as Record<string, unknown>;
  const replaces = replacements(
    o,
    n,
    'moduleId' in olds || 'moduleId' in news ? ['deviceId', 'moduleId'] : ['deviceId'],
  );
  const leaves = (previous: unknown, declared: unknown): boolean => {
    if (isUnknownInput(declared)) return true;
    return ownedLeafChanges((previous ?? {}) as JsonObject, (declared ?? {}) as JsonObject).length > 0;
  };
  return decision(
    replaces,
    leaves(olds.desired, news.desired) || leaves(olds.tags, news.tags) || connectionChanged(o, n),
  );
}
