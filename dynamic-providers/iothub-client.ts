/**
 * The only place that builds an `azure-iothub` Registry (docs/architecture.md: the only file that
 * loads azure-iothub at run time; the others import its types).
 *
 * Why a factory: the service SDK cannot take a port in `HostName` (docs/iot-hub-behaviour.md §0.1, §4) and drops any
 * `ca` passed through `setOptions`. Its supported hook is `new Registry(config, restApiClient)` with an
 * `Http` whose `buildRequest` receives the port and a request function. The SAS token keeps the host
 * *with* its port as `sr` (what the hub verifies), and is re-extended per request by the SDK, so long
 * runs never expire.
 *
 * Why `require` inside the function: Pulumi serializes every dynamic provider with everything its
 * methods reference, and local modules are captured by value. Requiring the SDK at call time makes
 * the serialized provider say `require("azure-iothub")` instead of embedding a copy of the SDK's
 * `Http` class (and its `debug` dependency) in the state file.
 *
 * Nothing here is captured with a secret: providers call `createHubClient` inside their methods, with
 * the connection string they received as a secret input.
 */
import type { Client, Registry } from 'azure-iothub';
import type { Http } from 'azure-iothub/dist/common-http/http';
import type { RestApiClient } from 'azure-iothub/dist/common-http/rest_api_client';
import { processWide } from './process-wide';

export interface HubClientOptions {
  /** PEM of a CA to trust in addition to Node's roots (the local hub's generated CA). */
  caCertificate?: string;
}

export interface HubClient {
  registry: Registry;
  /** The same REST client the Registry uses, for calls the Registry lacks (twin replace). */
  rest: RestApiClient;
  /** HostName as written in the connection string (may include a port). */
  hostName: string;
}

export const SERVICE_API_VERSION = '2021-04-12';
const USER_AGENT = 'azure-iothub/1.16.6';
const TOKEN_LIFETIME_SECONDS = 3600;

/** Splits `host:port`; IPv6 literals in brackets are kept whole. */
function splitPort(hostName: string): { host: string; port: number | undefined } {
  const match = /^(.*):(\d+)$/.exec(hostName);
  if (!match || match[1]!.endsWith(':')) return { host: hostName, port: undefined };
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) };
}

/**
 * An Http that honours a port in the host name and trusts an extra CA (docs/iot-hub-behaviour.md §4 recipe). Built
 * per client from the required base class (see the header: nothing of the SDK is captured by value).
 */
function createPortAwareHttp(caCertificate: string | undefined): Http {
  const https: typeof import('node:https') = require('node:https');
  const tls: typeof import('node:tls') = require('node:tls');
  const {
    Http: BaseHttp,
  }: typeof import('azure-iothub/dist/common-http/http') = require('azure-iothub/dist/common-http/http');
  // `ca` replaces the default trust store, so Node's roots are listed alongside the extra CA. The
  // context is built once: passing `ca` per request re-parses ~150 roots per TLS connection (18 ms
  // of CPU each, measured in bench/provider-overhead.ts).
  const secureContext = caCertificate
    ? tls.createSecureContext({ ca: [...tls.rootCertificates, caCertificate] })
    : undefined;

  class PortAwareHttp extends BaseHttp {
    override buildRequest(
      method: any,
      path: string,
      headers: any,
      host: any,
      options?: any,
      done?: any,
    ): ReturnType<Http['buildRequest']> {
      if (!done && typeof options === 'function') {
        done = options;
        options = undefined;
      }
      const { host: bareHost, port } = typeof host === 'string' ? splitPort(host) : { host, port: undefined };
      const requestOptions = {
        port: port ?? 443,
        request: (requestArgs: any, callback?: any) =>
          https.request(secureContext ? { ...requestArgs, secureContext } : requestArgs, callback),
      };
      return super.buildRequest(method, path, headers, bareHost, requestOptions, done);
    }
  }
  return new PortAwareHttp();
}

/**
 * One client per (connection string, CA) per process: the Registry keeps its connections alive, so
 * a `pulumi up` that calls the providers hundreds of times reuses a handful of TLS connections
 * instead of opening one per call. Process-wide (process-wide.ts), so the closure serializer never
 * captures it (nor the connection string).
 */
function hubClientCache(): Map<string, HubClient> {
  return processWide('hub-clients', () => new Map<string, HubClient>());
}

/**
 * Builds a Registry (and its REST client) for any service connection string: an Azure host name as
 * usual, or `HostName=127.0.0.1:<port>` for the local hub, trusting its CA.
 */
export function createHubClient(connectionString: string, options: HubClientOptions = {}): HubClient {
  const cache = hubClientCache();
  const cacheKey = `${connectionString}\n${options.caCertificate ?? ''}`;
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  const client = buildHubClient(connectionString, options);
  cache.set(cacheKey, client);
  return client;
}

function buildHubClient(connectionString: string, options: HubClientOptions): HubClient {
  const sdk: typeof import('azure-iothub') = require('azure-iothub');
  const { config, hostName } = serviceConfig(sdk, connectionString);
  const rest = newRestClient(config, options);
  const registry = new sdk.Registry(config as any, rest);
  return { registry, rest, hostName };
}

/**
 * The service SDK's `Client` (direct methods: `invokeDeviceMethod`), for the same connection strings as
 * `createHubClient`. Its REST calls go through a port-aware REST client of its own, for the reason the
 * Registry needs one (docs/iot-hub-behaviour.md §4); the Client also sets its own keep-alive agent on it.
 * Its AMQP transport (cloud-to-device messages, feedback) is the SDK's, used only if called.
 */
export function createServiceClient(connectionString: string, options: HubClientOptions = {}): Client {
  const sdk: typeof import('azure-iothub') = require('azure-iothub');
  const { config } = serviceConfig(sdk, connectionString);
  return new sdk.Client(new sdk.Amqp(config as any), newRestClient(config, options));
}

function newRestClient(config: object, options: HubClientOptions): RestApiClient {
  const {
    RestApiClient: RestClient,
  }: typeof import('azure-iothub/dist/common-http/rest_api_client') = require('azure-iothub/dist/common-http/rest_api_client');
  return new RestClient(config as any, USER_AGENT, createPortAwareHttp(options.caCertificate));
}

function serviceConfig(
  sdk: typeof import('azure-iothub'),
  connectionString: string,
): { config: { host: string; keyName: string; sharedAccessSignature: object }; hostName: string } {
  const parsed = sdk.ConnectionString.parse(connectionString);
  const missing = ['HostName', 'SharedAccessKeyName', 'SharedAccessKey'].filter(
    (field) => !(parsed as unknown as Record<string, unknown>)[field],
  );
  if (missing.length > 0) {
    // Never echo the string itself: it holds a key.
    throw new Error(
      `The hub connection string is missing ${missing.join(', ')}; expected ` +
        '"HostName=<host>[:<port>];SharedAccessKeyName=<policy>;SharedAccessKey=<base64 key>"',
    );
  }
  const hostName = parsed.HostName!;
  const expiry = Math.ceil(Date.now() / 1000) + TOKEN_LIFETIME_SECONDS;
  // The signature object, not its string: the REST client extends it before every request.
  const config = {
    host: hostName,
    keyName: parsed.SharedAccessKeyName!,
    sharedAccessSignature: sdk.SharedAccessSignature.create(
      hostName,
      parsed.SharedAccessKeyName!,
      parsed.SharedAccessKey!,
      expiry,
    ),
  };
  return { config, hostName };
}
