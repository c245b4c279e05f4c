/**
 * POST /devices/query over the twins (fact sheet §1.2): the language subset of twin-query.ts, paged
 * with an opaque continuation token that is absent on the last page (fact sheet §0.10).
 */
import type { JsonObject } from '../../lib/json-types';
import { hubErrors } from '../errors';
import type { QueryPage } from './hub-state-types';
import type { StoreContext } from './store-context';
import { matchesQuery, parseQuery } from './twin-query';
import { renderServiceTwin } from './twin-records';

/** Page size bounds from the SDK JSDoc (fact sheet §5: default 1000, max 10000). */
export const QUERY_PAGE_DEFAULT = 1000;
export const QUERY_PAGE_MAX = 10000;

/** Twins of devices or modules matching the query, paged by an opaque offset token. */
export function queryTwins(ctx: StoreContext, query: unknown, pageSize: number, token?: string): QueryPage {
  const text = typeof query === 'string' ? query : undefined;
  if (text === undefined) throw hubErrors.argumentInvalid('query: the body must be {"query": "<text>"}');
  const parsed = parseQuery(text);
  if (typeof parsed === 'string') throw hubErrors.argumentInvalid(`query: ${parsed}`);
  const offset = token === undefined ? 0 : Number(Buffer.from(token, 'base64').toString('utf8'));
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw hubErrors.argumentInvalid('x-ms-continuation: not a token this hub issued');
  }
  const size = Math.max(1, Math.min(QUERY_PAGE_MAX, Math.floor(pageSize)));
  const wantModules = parsed.source === 'devices.modules';
  const rows = ctx.db.listAll();
  const devices = new Map(
    rows.filter((r) => r.identity.moduleId === null).map((r) => [r.identity.deviceId, r]),
  );
  const matches: JsonObject[] = [];
  for (const row of rows) {
    if ((row.identity.moduleId !== null) !== wantModules) continue;
    const device = devices.get(row.identity.deviceId) ?? row;
    const twin = renderServiceTwin(
      device.identity,
      row.identity,
      row.twin,
      ctx.runtime.get(row.identity.deviceId, row.identity.moduleId),
    ) as unknown as JsonObject;
    if (matchesQuery(twin, parsed.where)) matches.push(twin);
  }
  const items = matches.slice(offset, offset + size);
  const next = offset + size;
  return next < matches.length
    ? { items, continuationToken: Buffer.from(String(next), 'utf8').toString('base64') }
    : { items };
}
