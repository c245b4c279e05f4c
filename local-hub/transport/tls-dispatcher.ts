/**
 * One TLS port for HTTPS and MQTT: each connection is routed by its first decrypted byte. MQTT
 * connections always start with CONNECT (fixed header 0x10, MQTT 3.1.1 §3.1.1); HTTP/1.1 starts with
 * a method name (ASCII letters). So one `HostName=<host>:<port>` serves the service SDK and the device
 * SDK alike (docs/architecture.md: "One address for everything"; docs/iot-hub-behaviour.md §3.9, whose six points
 * are cited below as "§3.9.n").
 */
import type * as net from 'node:net';
import * as tls from 'node:tls';

/** MQTT control packet type 1 (CONNECT) with flags 0: the only legal first byte of an MQTT session. */
const MQTT_CONNECT_FIRST_BYTE = 0x10;
/** A client that finishes TLS and then sends nothing is dropped after this long (§3.9.5). */
export const DEFAULT_PEEK_TIMEOUT_MS = 30_000;
/**
 * A client that does not finish the TLS handshake is dropped after this long (Node's default is 120 s,
 * and on the server side Node only reports the timeout: the socket stays open until closed here).
 */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export type DispatcherEvent =
  | { kind: 'tls-error'; remoteAddress: string | undefined; message: string }
  | { kind: 'peek-timeout'; remoteAddress: string | undefined }
  | { kind: 'peek-error'; remoteAddress: string | undefined; message: string }
  | { kind: 'dispatched'; protocol: 'mqtt' | 'http'; remoteAddress: string | undefined }
  | {
      kind: 'connection-refused';
      remoteAddress: string | undefined;
      limit: 'total' | 'per-address';
      max: number;
    };

export interface TlsDispatcherOptions {
  certificatePem: string;
  privateKeyPem: string;
  /** Receives sockets whose first byte is MQTT CONNECT; the socket is paused (aedes reads via 'readable'). */
  handleMqtt(socket: tls.TLSSocket): void;
  /** The plain http.Server that serves every other connection (see dispatched-http-server.ts). */
  httpServer: { emit(event: 'connection', socket: net.Socket): boolean };
  peekTimeoutMs?: number;
  /** Default DEFAULT_HANDSHAKE_TIMEOUT_MS. */
  handshakeTimeoutMs?: number;
  /** Open connections on this listener, handshaking or not; default unlimited (the hub sets one). */
  maxConnections?: number;
  /** Open connections from one remote address; default unlimited (the hub sets one). */
  maxConnectionsPerAddress?: number;
  onEvent?(event: DispatcherEvent): void;
}

export interface TlsDispatcher {
  server: tls.Server;
  /** Stops accepting new connections; resolves once every existing one has ended. */
  stopAccepting(): Promise<void>;
  /** Stops accepting, destroys every connection still open, resolves once the server is closed. */
  close(): Promise<void>;
}

export function createTlsDispatcher(options: TlsDispatcherOptions): TlsDispatcher {
  const server = tls.createServer({
    key: options.privateKeyPem,
    cert: options.certificatePem,
    minVersion: 'TLSv1.2',
    // X.509 devices present a client certificate; whether it is acceptable is decided by the MQTT
    // authenticate hook against the identity's thumbprint (docs/iot-hub-behaviour.md §3.5), not by the TLS layer.
    requestCert: true,
    rejectUnauthorized: false,
    // §3.9.3: Nagle is on by default for tls.Server; aedes writes CONNACK in small pieces.
    noDelay: true,
    handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  });
  const sockets = new Set<net.Socket>();
  const admit = connectionLimiter(options);
  server.on('connection', (raw: net.Socket) => {
    if (!admit(raw, sockets.size)) return;
    sockets.add(raw);
    raw.once('close', () => sockets.delete(raw));
  });
  server.on('tlsClientError', (error, socket) => {
    options.onEvent?.({ kind: 'tls-error', remoteAddress: socket.remoteAddress, message: error.message });
    // Node reports a handshake timeout (and other pre-handshake failures) without closing the socket:
    // without this, clients that never finish TLS hold a file descriptor each, for ever (item 3).
    socket.destroy();
  });
  server.on('secureConnection', (socket) => peekAndDispatch(socket, options));

  // net.Server.close(cb) only calls back on a 'close' that is still to come, so the first call's
  // promise is kept and shared; a server that never listened has nothing to wait for.
  let stopped: Promise<void> | undefined;
  const stopAccepting = (): Promise<void> => {
    stopped ??= server.listening
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    return stopped;
  };
  const close = async (): Promise<void> => {
    const done = stopAccepting();
    for (const socket of sockets) socket.destroy();
    await done;
  };
  return { server, stopAccepting, close };
}

/**
 * Admits a new raw connection or destroys it: at most `maxConnections` open in total and
 * `maxConnectionsPerAddress` from one remote address, so idle or slow clients cannot take every file
 * descriptor, and one host cannot take every slot (issue #10 item 3).
 */
function connectionLimiter(options: TlsDispatcherOptions): (raw: net.Socket, open: number) => boolean {
  const perAddress = new Map<string, number>();
  const total = options.maxConnections ?? Number.POSITIVE_INFINITY;
  const each = options.maxConnectionsPerAddress ?? Number.POSITIVE_INFINITY;
  return (raw, open) => {
    const address = raw.remoteAddress ?? 'unknown';
    const fromAddress = perAddress.get(address) ?? 0;
    const over = open >= total ? 'total' : fromAddress >= each ? 'per-address' : undefined;
    if (over) {
      raw.on('error', () => {}); // a reset while we close it is not news
      raw.destroy();
      const max = over === 'total' ? total : each;
      options.onEvent?.({ kind: 'connection-refused', remoteAddress: raw.remoteAddress, limit: over, max });
      return false;
    }
    perAddress.set(address, fromAddress + 1);
    raw.once('close', () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
    return true;
  };
}

function peekAndDispatch(socket: tls.TLSSocket, options: TlsDispatcherOptions): void {
  const remoteAddress = socket.remoteAddress;
  // §3.9.5: a reset during the peek would otherwise be an unhandled 'error' and crash the process.
  const drop = () => {
    cleanup();
    socket.on('error', () => {}); // late errors from a socket we already gave up on are not news
    socket.destroy();
  };
  const onEarlyError = (error: Error) => {
    options.onEvent?.({ kind: 'peek-error', remoteAddress, message: error.message });
    drop();
  };
  const onEarlyEnd = () => drop();
  const timer = setTimeout(() => {
    options.onEvent?.({ kind: 'peek-timeout', remoteAddress });
    drop();
  }, options.peekTimeoutMs ?? DEFAULT_PEEK_TIMEOUT_MS);
  timer.unref();

  const onFirstChunk = (chunk: Buffer) => {
    cleanup();
    // §3.9.1: stop the flow the 'data' listener started and put the bytes back, so whichever handler
    // takes the socket reads the stream from its first byte.
    socket.pause();
    socket.unshift(chunk);
    const protocol = chunk[0] === MQTT_CONNECT_FIRST_BYTE ? 'mqtt' : 'http';
    options.onEvent?.({ kind: 'dispatched', protocol, remoteAddress });
    // §3.9.6: both handlers get the original TLS socket, so getPeerCertificate() keeps working.
    if (protocol === 'mqtt') {
      options.handleMqtt(socket);
    } else {
      options.httpServer.emit('connection', socket);
      // §3.9.2: http.Server does not resume a paused socket; without this the first request hangs.
      socket.resume();
    }
  };

  function cleanup(): void {
    clearTimeout(timer);
    socket.off('data', onFirstChunk);
    socket.off('error', onEarlyError);
    socket.off('end', onEarlyEnd);
  }

  socket.on('error', onEarlyError);
  socket.once('end', onEarlyEnd);
  socket.once('data', onFirstChunk);
}
