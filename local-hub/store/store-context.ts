/**
 * What every store operation works with: the SQLite rows, in-memory runtime facts, the event queue,
 * and injected time/randomness (so tests can pin them). Shared helpers for etag checks and for
 * turning validation problems into HubErrors live here too.
 */
import { formatProblems, type Problem } from '../../lib/problems';
import { type HubError, hubErrors } from '../errors';
import type { HubEvents } from './hub-events';
import type { Parsed } from './identity-input';
import type { IdentityRuntime } from './identity-runtime';
import type { SqliteConfigurations } from './sqlite-configurations';
import type { IdentityRow, SqliteRegistry } from './sqlite-registry';

export interface StoreContext {
  db: SqliteRegistry;
  configurations: SqliteConfigurations;
  runtime: IdentityRuntime;
  events: HubEvents;
  /** ISO-8601 UTC with milliseconds (docs/iot-hub-behaviour.md §6 `$lastUpdated`). */
  now: () => string;
  /** Base64 of 32 random bytes. */
  mintKey: () => string;
  /** 0–9999, for generationId. */
  random4: () => number;
}

/** Validation problems become one 400 ArgumentInvalid naming every path (working agreement). */
export function unwrap<T>(parsed: Parsed<T>): T {
  if (parsed.ok) return parsed.value;
  throw invalid(parsed.problems);
}

export function invalid(problems: readonly Problem[]): HubError {
  return hubErrors.argumentInvalid(formatProblems(problems).split('\n').join(' | '));
}

/** `*` always matches (docs/iot-hub-behaviour.md §1.4); anything else must equal the current etag exactly. */
export function checkEtag(current: string, ifMatch: string | undefined, what: string): void {
  if (ifMatch === undefined || ifMatch === '*' || ifMatch === current) return;
  throw hubErrors.preconditionFailed(
    `If-Match ${JSON.stringify(ifMatch)} does not match the current ${what} etag ${JSON.stringify(current)}`,
  );
}

export function requireDevice(ctx: StoreContext, deviceId: string): IdentityRow {
  const row = ctx.db.get(deviceId, null);
  if (!row) throw hubErrors.deviceNotFound(deviceId);
  return row;
}

/** Module operations on a missing device answer DeviceNotFound (docs/iot-hub-behaviour.md §1.4 [unverified code]). */
export function requireModule(
  ctx: StoreContext,
  deviceId: string,
  moduleId: string,
): { device: IdentityRow; module: IdentityRow } {
  const device = requireDevice(ctx, deviceId);
  const module = ctx.db.get(deviceId, moduleId);
  if (!module) throw hubErrors.moduleNotFound(deviceId, moduleId);
  return { device, module };
}
