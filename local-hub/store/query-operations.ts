/**
 * POST /devices/query over the twins (docs/iot-hub-behaviour.md §1.2): the language subset of twin-query.ts, paged
 * with an opaque continuation token that is absent on the last page (docs/iot-hub-behaviour.md §0.10).
 *
 * Paging is keyset paging in the store: the token names the last row returned (its rowid), and a page
 * reads rows after it in rowid (creation) order, rendering only until one match beyond the page is
 * found. A page costs O(page + rows skipped by WHERE), not O(registry), and deleting rows between
 * pages neither skips nor repeats the rows that remain.
 */
import type { JsonObject } from '../../lib/json-types';
import { hubErrors } from '../errors';
import type { QueryPage } from './hub-state-types';
import type { IdentityRow, PositionedRow } from './sqlite-registry';
import type { StoreContext } from './store-context';
import { matchesQuery, parseQuery } from './twin-query';
import { renderServiceTwin } from './twin-records';

/** Page size bounds from the SDK JSDoc (docs/iot-hub-behaviour.md §5: default 1000, max 10000). */
export const QUERY_PAGE_DEFAULT = 1000;
export const QUERY_PAGE_MAX = 10000;

/** Device rows kept per page for rendering module twins: bounds memory when WHERE skips many rows. */
const DEVICE_CACHE_MAX = 1000;
const TOKEN_TEXT = /^after:([1-9]\d{0,15})$/;

function encodeToken(position: number): string {
  return Buffer.from(`after:${position}`, 'utf8').toString('base64');
}

/** 0 (start) without a token; anything but a token this hub issued is refused. */
function decodeToken(token: string | undefined): number {
  if (token === undefined) return 0;
  const match = TOKEN_TEXT.exec(Buffer.from(token, 'base64').toString('utf8'));
  const position = match ? Number(match[1]) : Number.NaN;
  // Node's base64 decoder skips characters it does not know: also require the exact encoding back.
  if (!Number.isSafeInteger(position) || encodeToken(position) !== token) {
    throw hubErrors.argumentInvalid('x-ms-continuation: not a token this hub issued');
  }
  return position;
}

/** A module twin shows its device's status (twin-records.ts): each device row is read by key, once. */
export function deviceRowOf(ctx: StoreContext): (row: IdentityRow) => IdentityRow {
  const cache = new Map<string, IdentityRow | undefined>();
  return (row) => {
    const { deviceId, moduleId } = row.identity;
    if (moduleId === null) return row;
    if (!cache.has(deviceId)) {
      if (cache.size >= DEVICE_CACHE_MAX) cache.clear();
      cache.set(deviceId, ctx.db.get(deviceId, null));
    }
    return cache.get(deviceId) ?? row;
  };
}

/**
 * Renders scanned rows as the service sees their twins (what queries and conditions are evaluated
 * against), each module's device row read once (deviceRowOf). `copy: false` for twins that are only
 * matched or counted, never returned.
 */
export function rowTwinRenderer(
  ctx: StoreContext,
): (row: IdentityRow, options?: { copy?: boolean }) => JsonObject {
  const deviceOf = deviceRowOf(ctx);
  return (row, options) => {
    const { deviceId, moduleId } = row.identity;
    return renderServiceTwin(
      deviceOf(row).identity,
      row.identity,
      row.twin,
      ctx.runtime.get(deviceId, moduleId),
      options,
    ) as unknown as JsonObject;
  };
}

/** Twins of devices or modules matching the query, one page after the token's row. */
export function queryTwins(ctx: StoreContext, query: unknown, pageSize: number, token?: string): QueryPage {
  const text = typeof query === 'string' ? query : undefined;
  if (text === undefined) throw hubErrors.argumentInvalid('query: the body must be {"query": "<text>"}');
  const parsed = parseQuery(text);
  if (typeof parsed === 'string') throw hubErrors.argumentInvalid(`query: ${parsed}`);
  const after = decodeToken(token);
  const wanted = Number.isFinite(pageSize) ? Math.floor(pageSize) : QUERY_PAGE_DEFAULT;
  const size = Math.max(1, Math.min(QUERY_PAGE_MAX, wanted));
  const twinOf = rowTwinRenderer(ctx);
  const items: JsonObject[] = [];
  let last = after;
  let more = false;
  const visit = (row: PositionedRow): boolean => {
    const twin = twinOf(row);
    if (!matchesQuery(twin, parsed.where)) return true;
    // One match beyond the page: there is a next page, and the last page gets no token (§0.10).
    if (items.length === size) {
      more = true;
      return false;
    }
    items.push(twin);
    last = row.position;
    return true;
  };
  ctx.db.scanAfter(parsed.source === 'devices.modules' ? 'module' : 'device', after, visit);
  return more ? { items, continuationToken: encodeToken(last) } : { items };
}
