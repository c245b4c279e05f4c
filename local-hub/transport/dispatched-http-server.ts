/**
 * A plain `http.Server` that never listens itself: the TLS dispatcher hands it already-decrypted
 * connections with `emit('connection', socket)` (docs/iot-hub-behaviour.md §3.9 point 4: not `https.Server`, which
 * would start TLS a second time).
 *
 * Why `emit('listening')`: Node sets up its connection tracking (the `headersTimeout`/`requestTimeout`
 * checker and the list `closeAllConnections()` walks) in the `'listening'` handler. A server that
 * never listens has neither, so slow-loris clients would never time out and close() could not end
 * keep-alive sockets. This relies on Node internals; tests/local-hub/tls-dispatcher.test.ts guards it.
 */
import * as http from 'node:http';

export interface DispatchedHttpServerOptions {
  /** Max time to receive the request headers (Node default 60 s). */
  headersTimeout?: number;
  /** Max time to receive the whole request (Node default 300 s). */
  requestTimeout?: number;
  /** Idle time before a keep-alive connection is closed (Node default 5 s). */
  keepAliveTimeout?: number;
  /** How often the timeouts above are checked (Node default 30 s). */
  connectionsCheckingInterval?: number;
}

export interface DispatchedHttpServer {
  server: http.Server;
  /** Ends every connection (idle or busy) and stops the timeout checker; resolves when done. */
  close(): Promise<void>;
}

export function createDispatchedHttpServer(
  listener: http.RequestListener,
  options: DispatchedHttpServerOptions = {},
): DispatchedHttpServer {
  const server = http.createServer(
    {
      ...(options.connectionsCheckingInterval !== undefined
        ? { connectionsCheckingInterval: options.connectionsCheckingInterval }
        : {}),
      // Each dispatched socket already had Nagle disabled on the TLS server (§3.9 point 3).
      noDelay: true,
    },
    listener,
  );
  if (options.headersTimeout !== undefined) server.headersTimeout = options.headersTimeout;
  if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
  if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
  server.emit('listening');

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.closeAllConnections();
      // net.Server.close on a server that never listened reports ERR_SERVER_NOT_RUNNING after it
      // has stopped the connections checker: that is the expected outcome here, not a failure.
      server.close(() => resolve());
    });
    return closed;
  };
  return { server, close };
}
