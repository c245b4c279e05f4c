/**
 * The service REST routes (docs/iot-hub-behaviour.md §1.2 table), each with the right it needs, its throttle class
 * and a thin handler over the HubState. Handlers translate wire details (If-Match, query string,
 * paging headers) and nothing else: every rule lives in the store.
 */
import type * as http from 'node:http';
import { hubErrors } from '../errors';
import type { MethodDispatcher } from '../methods/method-dispatcher';
import type { HubState } from '../store';
import { QUERY_PAGE_DEFAULT } from '../store';
import type { ThrottleClass } from '../throttle/request-throttle';
import { configurationRoutes } from './configuration-routes';
import { methodRoutes } from './method-routes';
import type { Access } from './service-auth';
import { telemetryRoutes } from './telemetry-routes';

export interface RouteCall {
  state: HubState;
  methods: MethodDispatcher;
  params: Record<string, string>;
  body: unknown;
  /** Unquoted If-Match value, if the header was sent. */
  ifMatch: string | undefined;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** Aborts when the client goes away or the hub closes (long polls stop waiting). */
  signal: AbortSignal;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';
  /** Literal segments match case-insensitively; `:name` captures one decoded segment. */
  pattern: readonly string[];
  access: Access;
  throttle?: ThrottleClass;
  hasBody: boolean;
  /** Throttle cost; bulk counts each device (docs/iot-hub-behaviour.md §1.2 notes). */
  cost?: (body: unknown) => number;
  handle: (call: RouteCall) => RouteResult | Promise<RouteResult>;
}

const ok = (body: unknown): RouteResult => ({ status: 200, body });
const noContent: RouteResult = { status: 204 };
const moduleOf = (p: Record<string, string>) => p['moduleId'] ?? null;

export const ROUTES: readonly Route[] = [
  {
    method: 'POST',
    pattern: ['devices', 'query'],
    access: 'query',
    throttle: 'query',
    hasBody: true,
    handle: queryHandler,
  },
  {
    method: 'GET',
    pattern: ['devices'],
    access: 'registryRead',
    throttle: 'identityRegistry',
    hasBody: false,
    handle: ({ state, query }) => ok(state.listDevices(parseTop(query.get('top')))),
  },
  {
    method: 'POST',
    pattern: ['devices'],
    access: 'registryWrite',
    throttle: 'identityRegistry',
    hasBody: true,
    cost: (body) => (Array.isArray(body) ? Math.max(1, body.length) : 1),
    handle: ({ state, body }) => {
      const result = state.bulk(body);
      return { status: result.isSuccessful ? 200 : 400, body: result };
    },
  },
  ...identityRoutes(['devices', ':deviceId'], {
    get: (c) => c.state.getDevice(c.params['deviceId']!),
    put: (c) =>
      c.ifMatch === undefined
        ? c.state.createDevice(c.params['deviceId']!, c.body)
        : c.state.updateDevice(c.params['deviceId']!, c.body, c.ifMatch),
    del: (c) => c.state.deleteDevice(c.params['deviceId']!, c.ifMatch),
  }),
  {
    method: 'GET',
    pattern: ['devices', ':deviceId', 'modules'],
    access: 'registryRead',
    throttle: 'identityRegistry',
    hasBody: false,
    handle: ({ state, params }) => ok(state.listModules(params['deviceId']!)),
  },
  ...identityRoutes(['devices', ':deviceId', 'modules', ':moduleId'], {
    get: (c) => c.state.getModule(c.params['deviceId']!, c.params['moduleId']!),
    put: (c) =>
      c.ifMatch === undefined
        ? c.state.createModule(c.params['deviceId']!, c.params['moduleId']!, c.body)
        : c.state.updateModule(c.params['deviceId']!, c.params['moduleId']!, c.body, c.ifMatch),
    del: (c) => c.state.deleteModule(c.params['deviceId']!, c.params['moduleId']!, c.ifMatch),
  }),
  ...twinRoutes(['twins', ':deviceId']),
  ...twinRoutes(['twins', ':deviceId', 'modules', ':moduleId']),
  ...methodRoutes(),
  ...configurationRoutes(),
  ...telemetryRoutes(),
  {
    method: 'GET',
    pattern: ['statistics', 'devices'],
    access: 'registryRead',
    hasBody: false,
    handle: ({ state }) => ok(state.statistics()),
  },
];

/** PUT without If-Match creates (409 if it exists); with If-Match updates (docs/iot-hub-behaviour.md §1.4). */
function identityRoutes(
  pattern: string[],
  ops: { get: (c: RouteCall) => unknown; put: (c: RouteCall) => unknown; del: (c: RouteCall) => void },
): Route[] {
  const base = { pattern, throttle: 'identityRegistry' as const };
  return [
    { ...base, method: 'GET', access: 'registryRead', hasBody: false, handle: (c) => ok(ops.get(c)) },
    { ...base, method: 'PUT', access: 'registryWrite', hasBody: true, handle: (c) => ok(ops.put(c)) },
    {
      ...base,
      method: 'DELETE',
      access: 'registryWrite',
      hasBody: false,
      handle: (c) => {
        ops.del(c);
        return noContent;
      },
    },
  ];
}

/** A twin write without If-Match is unconditional, like `If-Match: *`. */
function twinRoutes(pattern: string[]): Route[] {
  const base = { pattern, access: 'serviceConnect' as const };
  const d = (c: RouteCall) => c.params['deviceId']!;
  return [
    {
      ...base,
      method: 'GET',
      throttle: 'twinRead',
      hasBody: false,
      handle: (c) => ok(c.state.getTwin(d(c), moduleOf(c.params))),
    },
    {
      ...base,
      method: 'PATCH',
      throttle: 'twinUpdate',
      hasBody: true,
      handle: (c) => ok(c.state.patchTwin(d(c), moduleOf(c.params), c.body, c.ifMatch ?? '*')),
    },
    {
      ...base,
      method: 'PUT',
      throttle: 'twinUpdate',
      hasBody: true,
      handle: (c) => ok(c.state.replaceTwin(d(c), moduleOf(c.params), c.body, c.ifMatch ?? '*')),
    },
  ];
}

function parseTop(value: string | null): number | undefined {
  if (value === null) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw hubErrors.argumentInvalid(`top=${JSON.stringify(value)} must be a positive integer (at most 1000)`);
  }
  return n;
}

/**
 * Paging headers per the SDK (docs/iot-hub-behaviour.md §0.10, §1.2): the continuation header is omitted on the
 * last page.
 */
function queryHandler({ state, body, headers }: RouteCall): RouteResult {
  const query =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['query'] : undefined;
  const sizeHeader = headers['x-ms-max-item-count'];
  const pageSize = sizeHeader === undefined ? QUERY_PAGE_DEFAULT : Number(sizeHeader);
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw hubErrors.argumentInvalid('x-ms-max-item-count must be a positive integer');
  }
  const token = headers['x-ms-continuation'];
  const page = state.queryTwins(
    query,
    pageSize,
    typeof token === 'string' && token !== '' ? token : undefined,
  );
  return {
    status: 200,
    body: page.items,
    headers: page.continuationToken ? { 'x-ms-continuation': page.continuationToken } : {},
  };
}

export type RouteMatch =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'wrongMethod'; allowed: string[] }
  | { kind: 'none' };

/** `routes` defaults to ROUTES; the hub adds the web view's routes when it serves the view. */
export function matchRoute(
  method: string,
  segments: readonly string[],
  routes: readonly Route[] = ROUTES,
): RouteMatch {
  const allowed: string[] = [];
  for (const route of routes) {
    const params = matchPattern(route.pattern, segments);
    if (!params) continue;
    if (route.method === method) return { kind: 'found', route, params };
    allowed.push(route.method);
  }
  return allowed.length > 0 ? { kind: 'wrongMethod', allowed: [...new Set(allowed)] } : { kind: 'none' };
}

function matchPattern(
  pattern: readonly string[],
  segments: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of pattern.entries()) {
    const segment = segments[i]!;
    if (part.startsWith(':')) params[part.slice(1)] = segment;
    else if (part !== segment.toLowerCase()) return undefined;
  }
  return params;
}
