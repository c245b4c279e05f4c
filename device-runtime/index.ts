/**
 * Library entry of the device runtime: `startDeviceRuntime(options)` resolves the configuration table,
 * wires the telemetry loop, the property handlers and the connection policy, and starts connecting.
 * See docs/device-runtime.md for the reconcile and acknowledgement rules.
 */
import { readFileSync } from 'node:fs';
import { builtInMethods } from './built-in-methods';
import { DeviceRuntime } from './device-runtime';
import { describeError, RuntimeConfigError } from './errors';
import type { MethodHandlers } from './method-handlers';
import { type PropertyHandlers, telemetryIntervalHandler } from './property-handlers';
import { connectionSourceOf, type RuntimeConfig, resolveRuntimeConfig } from './runtime-config';
import type { RuntimeLogger } from './runtime-events';
import { startTelemetryLoop, type TelemetryLoop } from './telemetry-loop';
import { createTelemetryReport } from './telemetry-report';

export { DeviceRuntime } from './device-runtime';
export { isOperationTimeoutError, isRuntimeConfigError, isTwinRequestError } from './errors';
export type {
  MethodAnswer,
  MethodCall,
  MethodHandler,
  MethodHandlers,
  MethodResult,
} from './method-handlers';
export { defineMethod, isMethodError, MethodError } from './method-handlers';
export type { PropertyHandler, PropertyHandlers } from './property-handlers';
export type { RuntimeConfig } from './runtime-config';
export type * from './runtime-events';

export interface DeviceRuntimeOptions {
  /** Module connection string; else `config.connectionString`, the environment, or IoT Edge. */
  connectionString?: string;
  /** PEM of a CA to trust (the local hub's); else the file named by `config.caFile` / IOTHUB_CA_FILE. */
  ca?: string;
  /** Values for the configuration table (they win over `argv` and `env`). */
  config?: Partial<RuntimeConfig>;
  argv?: readonly string[];
  /** Defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Extra handlers, next to the built-in `telemetryInterval` (which they may replace). */
  handlers?: PropertyHandlers;
  /** Direct-method handlers, next to the built-in `ping` and `getState` (which they may replace). */
  methods?: MethodHandlers;
  /** Receives one line per event; defaults to nothing (the CLI prints to the console). */
  logger?: RuntimeLogger;
}

const SILENT: RuntimeLogger = { info: () => undefined, warn: () => undefined };

/**
 * Starts the runtime and returns at once: connecting happens in the background (and is retried), so
 * listen for `connected` / `reconciled`. Throws RuntimeConfigError for bad configuration.
 */
export async function startDeviceRuntime(options: DeviceRuntimeOptions = {}): Promise<DeviceRuntime> {
  const env = options.env ?? process.env;
  const overrides: Partial<RuntimeConfig> = { ...options.config };
  if (options.connectionString !== undefined) overrides.connectionString = options.connectionString;
  const config = resolveRuntimeConfig({ argv: options.argv ?? [], env, overrides });
  const source = connectionSourceOf(config, env);
  const ca = options.ca ?? readCa(config.caFile);
  const logger = options.logger ?? SILENT;

  let runtime: DeviceRuntime | undefined;
  const report = createTelemetryReport(logger, config.telemetryOutputName);
  const loop = startTelemetryLoop({
    intervalSeconds: config.telemetryIntervalSeconds,
    send: async (body) => {
      if (!runtime) return;
      if (await runtime.sendTelemetry(body)) report.sent(body, loop.intervalSeconds);
      else report.skipped(loop.intervalSeconds);
    },
    onSendFailed: (error) => report.failed(describeError(error), loop.intervalSeconds),
  });
  // Stopping writes the telemetry summary in progress before "Device runtime stopped".
  const telemetry: TelemetryLoop = {
    get intervalSeconds() {
      return loop.intervalSeconds;
    },
    setIntervalSeconds: (seconds) => loop.setIntervalSeconds(seconds),
    stop: async () => {
      await loop.stop();
      report.flush();
    },
  };
  runtime = new DeviceRuntime({
    connection: {
      source,
      ...(ca !== undefined ? { ca } : {}),
      timeoutMs: config.operationTimeoutSeconds * 1000,
      sasTokenLifetimeSeconds: config.sasTokenLifetimeSeconds,
      sasTokenRenewalMarginSeconds: config.sasTokenRenewalMarginSeconds,
    },
    handlers: {
      telemetryInterval: telemetryIntervalHandler(telemetry, config.telemetryIntervalSeconds),
      ...options.handlers,
    },
    methods: { ...builtInMethods(() => runtime), ...options.methods },
    telemetry,
    telemetryOutputName: config.telemetryOutputName,
    reconnect: {
      minDelayMs: config.reconnectMinDelaySeconds * 1000,
      maxDelayMs: config.reconnectMaxDelaySeconds * 1000,
    },
    logger,
  });
  runtime.start();
  return runtime;
}

function readCa(caFile: string | undefined): string | undefined {
  if (caFile === undefined) return undefined;
  try {
    return readFileSync(caFile, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? describeError(error);
    throw new RuntimeConfigError([
      {
        path: 'caFile',
        message: `cannot read "${caFile}" (${reason}); expected a PEM file such as .local-hub/ca.pem`,
      },
    ]);
  }
}
