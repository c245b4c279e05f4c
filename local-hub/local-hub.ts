/**
 * The embedded local IoT hub: one object that owns start and close and only wires the parts together
 * (docs/architecture.md: Azurite style). Parts: TLS material (tls/), the store (store/), the REST handler
 * (rest/), the MQTT broker (mqtt/) and the single-port TLS dispatcher (transport/).
 */
import * as path from 'node:path';
import { buildDeviceConnectionString, buildServiceConnectionString } from '../lib/connection-string';
import {
  DEFAULT_LOCAL_HUB_DATA_DIR,
  DEFAULT_LOCAL_HUB_HOST,
  DEFAULT_LOCAL_HUB_PORT,
  type PolicyDefinition,
  PROGRAM_POLICY_NAME,
  WELL_KNOWN_POLICIES,
  type WellKnownKeyInForce,
  wellKnownKeysInForce,
} from '../lib/local-hub-defaults';
import { exposureWarning } from './exposure-warning';
import { createHubLogger, type HubLogger, type LogLevel } from './hub-logger';
import { createLogBudget } from './log-budget';
import { MethodDispatcher } from './methods/method-dispatcher';
import { createMqttBroker, type MqttBroker } from './mqtt/mqtt-broker';
import { createRestHandler } from './rest/rest-handler';
import { type HubState, openHubState } from './store';
import { createRequestThrottle, type HubTier, type RequestThrottle } from './throttle/request-throttle';
import { loadOrCreateTlsMaterial, type TlsMaterial } from './tls/tls-material';
import { defaultConnectionLimits } from './transport/connection-limits';
import { createDispatchedHttpServer, type DispatchedHttpServer } from './transport/dispatched-http-server';
import { createHostNameMatcher, dialHost, listenOn } from './transport/host-names';
import { acceptMqttOverWebSockets, WEBSOCKET_PATH } from './transport/mqtt-over-websockets';
import { createTlsDispatcher, type DispatcherEvent, type TlsDispatcher } from './transport/tls-dispatcher';
import { WEB_VIEW_PATH, withWebViewAssets } from './web-view/web-view-assets';
import { webViewRoutes } from './web-view/web-view-routes';

export { exposureWarning } from './exposure-warning';

export interface LocalHubOptions {
  /** Default DEFAULT_LOCAL_HUB_PORT (8443); 0 = any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  bindAddress?: string;
  /** Default DEFAULT_LOCAL_HUB_DATA_DIR (relative to the working directory). */
  dataDir?: string;
  /** Keep nothing on disk (tests): in-memory store and a CA generated for this run only. */
  inMemory?: boolean;
  /** Extra names for the certificate SANs and accepted in SAS `sr` / MQTT user names. */
  hostNames?: string[];
  /** Default WELL_KNOWN_POLICIES. */
  policies?: readonly PolicyDefinition[];
  logLevel?: LogLevel;
  logWrite?: (line: string) => void;
  /**
   * Also listen on 443 (HTTPS) and 8883 (MQTTS) for clients that cannot take a port
   * (docs/iot-hub-behaviour.md §3.8).
   */
  standardPorts?: boolean;
  throttle?: { tier: HubTier; units: number };
  /** Per listening port; defaults from transport/connection-limits.ts (under the open-file limit). */
  maxConnections?: number;
  /** Per listening port and remote address; default half of maxConnections. */
  maxConnectionsPerAddress?: number;
  /**
   * Round-trip latency added to every service REST request (ms, default 0): the answer is written
   * this long after the request was handled, to test timeouts or benchmark against a distant hub.
   */
  latencyMs?: number;
  /**
   * Serve the web view under `/local-hub/view/` (default true; docs/local-hub-web-view.md). When false
   * its paths answer 404 like any unknown path. `GET /local-hub/telemetry` stays either way.
   */
  webView?: boolean;
}

export interface LocalHub {
  /** `127.0.0.1:<port>`: the HostName for every connection string. */
  hostName: string;
  /**
   * MQTT over WebSockets (docs/iot-hub-behaviour.md §8.3): `wss://<hostName>/$iothub/websocket`, and on 443
   * with standardPorts, the port the SDKs' MqttWs transports always dial.
   */
  webSocketUrls: string[];
  /** `https://<hostName>/local-hub/view/`, or null when the web view is off. */
  webViewUrl: string | null;
  port: number;
  caCertificatePem: string;
  /** `<dataDir>/ca.pem`, or null for an in-memory hub. */
  caCertificatePath: string | null;
  dataDir: string | null;
  /** Service connection string per policy name (primary key). */
  connectionStrings: Record<string, string>;
  /** The documented public keys that still sign valid tokens on this hub (see describeHub). */
  wellKnownKeys: WellKnownKeyInForce[];
  /** Set when the hub listens beyond loopback with well-known keys in force (exposure-warning.ts). */
  exposureWarning: string | undefined;
  /** Default PROGRAM_POLICY_NAME. */
  serviceConnectionString(policy?: string): string;
  /** From the identity's primary key (`x509=true` for certificate identities). */
  deviceConnectionString(deviceId: string, moduleId?: string): string;
  /** For test inspection. */
  state: HubState;
  /** Ends every connection (HTTP keep-alive and MQTT) and the store; resolves when fully closed. */
  close(): Promise<void>;
}

const STANDARD_PORTS = { https: 443, mqtts: 8883 } as const;
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
/** Above every client's idle-socket time (Node's agent: 5 s), like load balancers' 60 s + margin. */
const HTTP_KEEP_ALIVE_MS = 65_000;
/** Ten minutes: more than any SDK timeout a user would test against. */
export const MAX_LATENCY_MS = 600_000;

interface ResolvedOptions {
  port: number;
  bindAddress: string;
  dataDir: string | null;
  hostNames: string[];
  policies: readonly PolicyDefinition[];
  logLevel: LogLevel;
  latencyMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

/** Every problem at once, each naming the option and what would be valid. */
export function resolveLocalHubOptions(options: LocalHubOptions): ResolvedOptions {
  const problems: string[] = [];
  const port = options.port ?? DEFAULT_LOCAL_HUB_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`port: ${String(port)} is not a port; use an integer from 0 (any free port) to 65535`);
  }
  if (options.inMemory && options.dataDir !== undefined) {
    problems.push('inMemory and dataDir: choose one (in-memory keeps nothing on disk)');
  }
  const logLevel = options.logLevel ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(
      `logLevel: ${JSON.stringify(logLevel)} is not valid; valid levels: ${LOG_LEVELS.join(', ')}`,
    );
  }
  const policies = options.policies ?? WELL_KNOWN_POLICIES;
  if (policies.length === 0) problems.push('policies: at least one shared access policy is needed');
  const names = policies.map((p) => p.keyName);
  for (const [i, name] of names.entries()) {
    if (names.indexOf(name) !== i)
      problems.push(`policies[${i}].keyName: ${JSON.stringify(name)} appears twice`);
  }
  const limits = connectionLimits(options, problems);
  const latencyMs = options.latencyMs ?? 0;
  if (!Number.isInteger(latencyMs) || latencyMs < 0 || latencyMs > MAX_LATENCY_MS) {
    problems.push(
      `latencyMs: ${String(latencyMs)} is not valid; use an integer from 0 (none) to ${MAX_LATENCY_MS}`,
    );
  }
  if (problems.length > 0) throw new Error(`Invalid local hub options:\n  ${problems.join('\n  ')}`);
  const bindAddress = options.bindAddress ?? DEFAULT_LOCAL_HUB_HOST;
  const wildcard = bindAddress === '0.0.0.0' || bindAddress === '::';
  return {
    port,
    bindAddress,
    dataDir: options.inMemory ? null : path.resolve(options.dataDir ?? DEFAULT_LOCAL_HUB_DATA_DIR),
    // A specific bind address is what clients dial, so the certificate must name it too.
    hostNames: [...(options.hostNames ?? []), ...(wildcard ? [] : [bindAddress])],
    policies,
    logLevel,
    latencyMs,
    ...limits,
  };
}

function connectionLimits(options: LocalHubOptions, problems: string[]) {
  const defaults = defaultConnectionLimits();
  const maxConnections = options.maxConnections ?? defaults.maxConnections;
  const maxConnectionsPerAddress =
    options.maxConnectionsPerAddress ??
    (options.maxConnections === undefined
      ? defaults.maxConnectionsPerAddress
      : Math.ceil(maxConnections / 2));
  for (const [name, value] of [
    ['maxConnections', maxConnections],
    ['maxConnectionsPerAddress', maxConnectionsPerAddress],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      problems.push(`${name}: ${String(value)} is not valid; use an integer of at least 1`);
    }
  }
  return { maxConnections, maxConnectionsPerAddress };
}

export async function startLocalHub(options: LocalHubOptions = {}): Promise<LocalHub> {
  const config = resolveLocalHubOptions(options);
  const logger = createHubLogger({
    level: config.logLevel,
    ...(options.logWrite ? { write: options.logWrite } : {}),
  });
  const tlsMaterial = await loadOrCreateTlsMaterial({ dataDir: config.dataDir, hostNames: config.hostNames });
  const parts = new HubParts(logger);
  try {
    parts.state = openHubState(
      config.dataDir === null ? { inMemory: true, logger } : { dataDir: config.dataDir, logger },
    );
    if (options.throttle) parts.throttle = createRequestThrottle(options.throttle);
    return await wire(config, options, tlsMaterial, parts);
  } catch (error) {
    await parts.close();
    throw error;
  }
}

async function wire(
  config: ResolvedOptions,
  options: LocalHubOptions,
  tlsMaterial: TlsMaterial,
  parts: HubParts,
): Promise<LocalHub> {
  const { logger } = parts;
  // Dispatcher events are caused by clients (resets, refused connections): their lines are budgeted.
  const clientLog = createLogBudget(logger);
  const state = parts.state!;
  const methods = new MethodDispatcher(logger);
  parts.methods = methods;
  const isOwnHostName = createHostNameMatcher(tlsMaterial.names, () => parts.ports);
  const webView = options.webView ?? true;
  const rest = createRestHandler({
    state,
    policies: config.policies,
    isOwnHostName,
    logger,
    methods,
    latencyMs: config.latencyMs,
    ...(parts.throttle ? { throttle: parts.throttle } : {}),
    ...(webView ? { extraRoutes: webViewRoutes() } : {}),
  });
  // Idle keep-alive sockets are closed by the client, never under it: Node's client agent drops an idle
  // socket after 5 s, which was also the server's default, so a request sent on a reused socket could meet
  // the server's close (ECONNRESET, retried after a backoff; docs/benchmarks.md, fleet-wide configuration).
  // Headers may take a little longer than the idle time (Node's rule: a keep-alive socket must not hit
  // headersTimeout while idle); requestTimeout stays Node's 300 s.
  parts.http = createDispatchedHttpServer(webView ? withWebViewAssets(rest, logger) : rest, {
    keepAliveTimeout: HTTP_KEEP_ALIVE_MS,
    headersTimeout: HTTP_KEEP_ALIVE_MS + 1000,
  });
  const broker = await createMqttBroker({ state, isOwnHostName, logger, methods });
  parts.broker = broker;
  parts.stopWebSockets = acceptMqttOverWebSockets(parts.http.server, (stream) => broker.handle(stream));
  const listenPorts = [
    config.port,
    ...(options.standardPorts ? [STANDARD_PORTS.https, STANDARD_PORTS.mqtts] : []),
  ];
  for (const wanted of listenPorts) {
    const dispatcher = createTlsDispatcher({
      certificatePem: tlsMaterial.server.certificatePem,
      privateKeyPem: tlsMaterial.server.privateKeyPem,
      handleMqtt: (socket) => broker.handle(socket),
      httpServer: parts.http.server,
      maxConnections: config.maxConnections,
      maxConnectionsPerAddress: config.maxConnectionsPerAddress,
      onEvent: (event) => logDispatcherEvent(clientLog, event),
    });
    parts.dispatchers.push(dispatcher);
    parts.ports.push(await listenOn(dispatcher.server, wanted, config.bindAddress));
  }
  const port = parts.ports[0]!;
  const hostName = `${dialHost(config.bindAddress)}:${port}`;
  if (tlsMaterial.caRegeneratedBecause) {
    logger.warn('local CA regenerated: clients must trust the new CA certificate', {
      reason: tlsMaterial.caRegeneratedBecause,
      ca: tlsMaterial.caCertificatePath ?? 'in-memory',
    });
  }
  const warning = exposureWarning(config.bindAddress, config.policies);
  if (warning) logger.warn(warning);
  logger.info('local hub listening', {
    hostName,
    ports: parts.ports.join(','),
    dataDir: config.dataDir ?? 'in-memory',
    ca: tlsMaterial.caCertificatePath ?? 'in-memory',
    certificate: `${tlsMaterial.origin.ca} CA, ${tlsMaterial.origin.server} server certificate`,
    webView: webView ? `https://${hostName}${WEB_VIEW_PATH}/` : 'off',
  });
  return {
    hostName,
    webSocketUrls: [
      `wss://${hostName}${WEBSOCKET_PATH}`,
      ...(options.standardPorts ? [`wss://${dialHost(config.bindAddress)}${WEBSOCKET_PATH}`] : []),
    ],
    webViewUrl: webView ? `https://${hostName}${WEB_VIEW_PATH}/` : null,
    port,
    caCertificatePem: tlsMaterial.ca.certificatePem,
    caCertificatePath: tlsMaterial.caCertificatePath,
    dataDir: config.dataDir,
    connectionStrings: Object.fromEntries(
      config.policies.map((p) => [p.keyName, serviceString(hostName, p)]),
    ),
    wellKnownKeys: wellKnownKeysInForce(config.policies),
    exposureWarning: warning,
    serviceConnectionString: (policy = PROGRAM_POLICY_NAME) => {
      const found = config.policies.find((p) => p.keyName === policy);
      if (!found) {
        const valid = config.policies.map((p) => p.keyName).join(', ');
        throw new Error(`Unknown policy ${JSON.stringify(policy)}; this hub's policies: ${valid}`);
      }
      return serviceString(hostName, found);
    },
    deviceConnectionString: (deviceId, moduleId) => deviceString(state, hostName, deviceId, moduleId),
    state,
    close: () => parts.close(),
  };
}

function serviceString(hostName: string, policy: PolicyDefinition): string {
  return buildServiceConnectionString({
    hostName,
    sharedAccessKeyName: policy.keyName,
    sharedAccessKey: policy.primaryKey,
  });
}

function deviceString(state: HubState, hostName: string, deviceId: string, moduleId?: string): string {
  const identity = state.findIdentity(deviceId, moduleId ?? null);
  const what =
    moduleId === undefined
      ? `Device ${JSON.stringify(deviceId)}`
      : `Module ${JSON.stringify(moduleId)} of device ${JSON.stringify(deviceId)}`;
  if (!identity) throw new Error(`${what} is not registered in this hub`);
  const base = { hostName, deviceId, ...(moduleId === undefined ? {} : { moduleId }) };
  const { type, symmetricKey } = identity.authentication;
  if (type === 'selfSigned' || type === 'certificateAuthority')
    return buildDeviceConnectionString({ ...base, x509: true });
  if (type !== 'sas' || !symmetricKey.primaryKey)
    throw new Error(`${what} has no symmetric key (authentication type ${type})`);
  return buildDeviceConnectionString({ ...base, sharedAccessKey: symmetricKey.primaryKey });
}

function logDispatcherEvent(logger: HubLogger, event: DispatcherEvent): void {
  switch (event.kind) {
    case 'dispatched':
      logger.debug('connection', { protocol: event.protocol, remote: event.remoteAddress });
      break;
    case 'peek-timeout':
      logger.info('connection dropped: nothing sent after TLS', { remote: event.remoteAddress });
      break;
    case 'tls-error':
      logger.debug('tls handshake failed', { remote: event.remoteAddress, error: event.message });
      break;
    case 'peek-error':
      logger.debug('connection failed before dispatch', {
        remote: event.remoteAddress,
        error: event.message,
      });
      break;
    case 'connection-refused':
      logger.warn('connection refused: too many open connections', {
        remote: event.remoteAddress,
        limit: event.limit === 'total' ? 'maxConnections' : 'maxConnectionsPerAddress',
        max: event.max,
        hint: 'raise it with --max-connections / --max-connections-per-address',
      });
      break;
  }
}

/** Everything started so far, closed in reverse dependency order (also after a failed start). */
class HubParts {
  state: HubState | undefined;
  throttle: RequestThrottle | undefined;
  http: DispatchedHttpServer | undefined;
  broker: MqttBroker | undefined;
  methods: MethodDispatcher | undefined;
  stopWebSockets: (() => void) | undefined;
  readonly dispatchers: TlsDispatcher[] = [];
  readonly ports: number[] = [];
  private closing: Promise<void> | undefined;

  constructor(readonly logger: HubLogger) {}

  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  private async closeAll(): Promise<void> {
    // Stop accepting first, then end MQTT sessions (their disconnects still reach the open store),
    // then HTTP connections, then anything still mid-handshake or mid-peek, then the store.
    for (const dispatcher of this.dispatchers) void dispatcher.stopAccepting();
    // Method calls in flight are answered (503) before their HTTP connections are closed.
    this.methods?.close();
    this.stopWebSockets?.();
    await this.broker?.close();
    await this.http?.close();
    await Promise.all(this.dispatchers.map((dispatcher) => dispatcher.close()));
    this.throttle?.close();
    this.state?.close();
    this.logger.info('local hub closed');
  }
}
