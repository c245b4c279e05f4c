/**
 * The web view's page, script and style, served as static text under `/local-hub/view/` on the hub's one
 * TLS port (docs/local-hub-web-view.md). They hold nothing secret, so they are served without a credential;
 * everything the page shows comes from JSON endpoints that verify a SAS token on every request
 * (web-view-routes.ts and the service routes). The headers keep the page to its own origin: a CSP
 * without inline scripts or styles (so injected markup cannot run), no framing, no referrer, no caching.
 */
import { readFileSync } from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import type { HubLogger } from '../hub-logger';

export const WEB_VIEW_PATH = '/local-hub/view';
const API_PREFIX = `${WEB_VIEW_PATH}/api/`;

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

interface Asset {
  contentType: string;
  body: Buffer;
}

const JS = 'text/javascript; charset=utf-8';
/** Route under /local-hub/view → file in ./assets (plain ES modules: no build step). */
const FILES: Readonly<Record<string, { file: string; contentType: string }>> = {
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/app.css': { file: 'app.css', contentType: 'text/css; charset=utf-8' },
  ...Object.fromEntries(
    ['app.js', 'api.js', 'auth.js', 'pages.js', 'render.js', 'telemetry-feed.js', 'twin-page.js'].map(
      (file) => [`/${file}`, { file, contentType: JS }],
    ),
  ),
};

/** Read once at start: a missing file fails the hub's start, not a user's first page load. */
function loadAssets(): Map<string, Asset> {
  const dir = path.join(__dirname, 'assets');
  return new Map(
    Object.entries(FILES).map(([route, { file, contentType }]) => [
      route,
      { contentType, body: readFileSync(path.join(dir, file)) },
    ]),
  );
}

/** The path without its query, when it is one of the view's static paths (not its API). */
export function isWebViewAssetPath(url: string): boolean {
  const target = url.split('?', 1)[0]!;
  return (
    (target === WEB_VIEW_PATH || target.startsWith(`${WEB_VIEW_PATH}/`)) && !target.startsWith(API_PREFIX)
  );
}

/**
 * Wraps the REST listener: static view paths are answered here, everything else (the view's API
 * included) goes through the REST pipeline.
 */
export function withWebViewAssets(rest: http.RequestListener, logger: HubLogger): http.RequestListener {
  const assets = loadAssets();
  return (req, res) => {
    if (!isWebViewAssetPath(req.url ?? '/')) {
      rest(req, res);
      return;
    }
    const target = (req.url ?? '/').split('?', 1)[0]!;
    const status = serveAsset(req, res, target, assets);
    logger.info('request', { method: req.method, path: target, status });
  };
}

function serveAsset(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: string,
  assets: Map<string, Asset>,
): number {
  if (target === WEB_VIEW_PATH) {
    // Relative URLs in the page (app.js, app.css) resolve against the trailing slash.
    res.writeHead(308, { ...SECURITY_HEADERS, location: `${WEB_VIEW_PATH}/`, 'content-length': 0 });
    res.end();
    return 308;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return plain(res, 405, `${req.method} is not allowed here; use GET`, { allow: 'GET, HEAD' });
  }
  const asset = assets.get(target.slice(WEB_VIEW_PATH.length));
  if (!asset)
    return plain(res, 404, 'not found: the web view serves /local-hub/view/ and its scripts and style');
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': asset.contentType,
    'content-length': asset.body.length,
  });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
  return 200;
}

function plain(
  res: http.ServerResponse,
  status: number,
  text: string,
  extra: Record<string, string> = {},
): number {
  const body = Buffer.from(`${text}\n`);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...extra,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': body.length,
  });
  res.end(body);
  return status;
}
