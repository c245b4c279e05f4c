/**
 * The service REST API as one `http.RequestListener`. The pipeline order is written once, here:
 *   1. parse the path (percent-decoded segments) → 2. route (404 / 405) → 3. api-version (400)
 *   → 4. authenticate + authorize (401) → 5. read the JSON body (415 / 413 / 400)
 *   → 6. throttle (wait or 429) → 7. handler over the store → 8. wait the added latency, if any
 *   → 9. respond, log one line.
 * Every failure is a HubError rendered by errors.ts in the legacy wire shape (docs/iot-hub-behaviour.md §1.4).
 */
import type * as http from 'node:http';
import type { PolicyDefinition } from '../../lib/local-hub-defaults';
import { type HubError, hubErrors, isHubError, writeHubErrorResponse } from '../errors';
import type { HubLogger } from '../hub-logger';
import { MethodDispatcher } from '../methods/method-dispatcher';
import type { HubState } from '../store';
import type { RequestThrottle } from '../throttle/request-throttle';
import { readJsonBody } from './request-body';
import { matchRoute, ROUTES, type Route, type RouteResult } from './routes';
import { authorizeServiceRequest } from './service-auth';
import { VerifiedTokenCache } from './verified-tokens';

export interface RestHandlerOptions {
  state: HubState;
  policies: readonly PolicyDefinition[];
  /** Whether a SAS `sr` host (possibly with `:port`) names this hub. */
  isOwnHostName: (host: string) => boolean;
  logger: HubLogger;
  throttle?: RequestThrottle;
  /** Direct methods; default one with no device-facing transport (every identity is offline). */
  methods?: MethodDispatcher;
  /** Clock in ms for token expiry (tests); default Date.now. */
  now?: () => number;
  /**
   * Added round-trip latency (`--latency-ms`): every response, errors included, is written this many
   * ms after the request was handled, as a distant hub answers. Default 0: no delay, no timer.
   */
  latencyMs?: number;
  /** Routes served next to the service API (the web view's, when it is on); default none. */
  extraRoutes?: readonly Route[];
}

/** The options plus what the handler keeps across requests. */
interface HandlerContext extends RestHandlerOptions {
  verifiedTokens: VerifiedTokenCache;
  methods: MethodDispatcher;
  routes: readonly Route[];
}

interface ParsedTarget {
  path: string;
  segments: string[];
  query: URLSearchParams;
}

export function createRestHandler(options: RestHandlerOptions): http.RequestListener {
  const o: HandlerContext = {
    ...options,
    verifiedTokens: new VerifiedTokenCache(),
    methods: options.methods ?? new MethodDispatcher(options.logger),
    routes: options.extraRoutes?.length ? [...ROUTES, ...options.extraRoutes] : ROUTES,
  };
  return (req, res) => {
    const started = process.hrtime.bigint();
    let path = '';
    answer(req, res, o, (p) => {
      path = p;
    }).then((status) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      o.logger.info('request', { method: req.method, path, status, ms: Math.round(ms * 10) / 10 });
    });
  };
}

/** Handles the request, waits the configured latency, then writes the answer or the error. */
async function answer(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  o: HandlerContext,
  notePath: (path: string) => void,
): Promise<number> {
  let outcome: { result: RouteResult } | { error: unknown };
  try {
    outcome = { result: await handle(req, res, o, notePath) };
  } catch (error) {
    outcome = { error };
  }
  const latencyMs = o.latencyMs ?? 0;
  if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
  return 'result' in outcome ? respond(res, outcome.result) : fail(res, outcome.error, o.logger);
}

async function handle(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  o: HandlerContext,
  notePath: (path: string) => void,
): Promise<RouteResult> {
  const target = parseTarget(req.url ?? '/');
  notePath(target.path);
  const match = matchRoute(req.method ?? 'GET', target.segments, o.routes);
  if (match.kind === 'none') throw hubErrors.routeNotFound(`no route for ${target.path}`);
  if (match.kind === 'wrongMethod') {
    res.setHeader('allow', match.allowed.join(', '));
    throw hubErrors.methodNotAllowed(
      `${req.method} is not allowed on ${target.path}; allowed: ${match.allowed.join(', ')}`,
    );
  }
  const { route, params } = match;
  if (!target.query.get('api-version')) {
    throw hubErrors.argumentInvalid(
      'the api-version query parameter is required, e.g. api-version=2021-04-12',
    );
  }
  authorize(req, route, params, o);
  const body = route.hasBody ? await readJsonBody(req) : undefined;
  if (o.throttle && route.throttle) await o.throttle.acquire(route.throttle, route.cost?.(body) ?? 1);
  // A long poll must stop waiting when its client goes away (or the hub closes every connection).
  const gone = new AbortController();
  const abort = () => gone.abort();
  res.once('close', abort);
  try {
    return await route.handle({
      state: o.state,
      methods: o.methods,
      params,
      body,
      ifMatch: parseIfMatch(req.headers['if-match']),
      query: target.query,
      headers: req.headers,
      signal: gone.signal,
    });
  } finally {
    res.off('close', abort);
  }
}

function authorize(
  req: http.IncomingMessage,
  route: Route,
  params: Record<string, string>,
  o: HandlerContext,
): void {
  const outcome = authorizeServiceRequest({
    authorization: req.headers.authorization,
    access: route.access,
    deviceId: params['deviceId'],
    moduleId: params['moduleId'],
    policies: o.policies,
    isOwnHostName: o.isOwnHostName,
    nowSeconds: Math.floor((o.now ?? Date.now)() / 1000),
    verifiedTokens: o.verifiedTokens,
  });
  if (!outcome.ok) {
    // One generic answer for every auth failure; the specific reason only at debug.
    o.logger.debug('service request refused', { method: req.method, reason: outcome.reason });
    throw hubErrors.unauthorized(
      'the request is not authorized (check the SAS token, its policy and its rights)',
    );
  }
}

/** Splits and percent-decodes the path by hand: WHATWG URL would resolve `..`, a valid device id. */
function parseTarget(url: string): ParsedTarget {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
  const raw = rawPath.split('/');
  if (raw[0] !== '') throw hubErrors.routeNotFound('the request target must be an absolute path');
  raw.shift();
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  const segments = raw.map((s) => {
    // Most segments carry no escape; decoding only those that do keeps the per-request path short.
    if (!s.includes('%')) return s;
    try {
      return decodeURIComponent(s);
    } catch {
      throw hubErrors.argumentInvalid(`path segment ${JSON.stringify(s)} is not valid percent-encoding`);
    }
  });
  return { path: rawPath, segments, query };
}

/** The SDKs always quote If-Match values (docs/iot-hub-behaviour.md §1.1); `W/` weak markers are tolerated. */
function parseIfMatch(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  const value = trimmed.startsWith('W/') ? trimmed.slice(2) : trimmed;
  // Header values never hold line breaks (Node refuses them), so this is /^"(.*)"$/ without a regex.
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** The SDK parses a body only when content-type contains application/json (docs/iot-hub-behaviour.md §0.3). */
function respond(res: http.ServerResponse, result: RouteResult): number {
  const headers: Record<string, string | number> = { ...result.headers };
  if (result.body === undefined) {
    res.writeHead(result.status, headers);
    res.end();
    return result.status;
  }
  const text = JSON.stringify(result.body);
  headers['content-type'] = JSON_CONTENT_TYPE;
  headers['content-length'] = Buffer.byteLength(text);
  res.writeHead(result.status, headers);
  res.end(text);
  return result.status;
}

function fail(res: http.ServerResponse, err: unknown, logger: HubLogger): number {
  let hubError: HubError;
  if (isHubError(err)) {
    hubError = err;
  } else {
    logger.error('request failed', {
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    hubError = hubErrors.serverError('internal error in the local hub (see its log)');
  }
  writeHubErrorResponse(res, hubError);
  return hubError.status;
}
