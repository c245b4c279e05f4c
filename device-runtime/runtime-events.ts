/** What the device runtime tells its embedder (and tests) about its progress. */
import type { JsonValue } from '../lib/json-types';

export interface ConnectedEvent {
  /** Counts connections built by the runtime (1 = first client). */
  generation: number;
  /** True when the SDK reconnected the same client by itself and the hub kept the session. */
  resumed: boolean;
}

export interface DisconnectedEvent {
  reason: string;
}

export interface AppliedEvent {
  property: string;
  value: JsonValue;
  /** Desired `$version` whose value was applied. */
  version: number;
}

export interface RejectedEvent {
  property: string;
  value: JsonValue;
  version: number;
  /** 400 invalid value, 404 no handler, 500 the handler failed. */
  ac: number;
  ad: string;
}

export interface RemovedEvent {
  property: string;
  version: number;
}

export interface ReconciledEvent {
  version: number;
  source: 'full' | 'patch';
  /** Top-level keys whose ack was written in this step (empty when the hub already had them). */
  reportedKeys: string[];
}

export interface IgnoredEvent {
  version: number | undefined;
  source: 'full' | 'patch';
  reason: string;
}

export interface MethodEvent {
  name: string;
  requestId: string;
  /** The status answered: the handler's, 400 invalid payload, 500 failed, 501 no handler, 503 stopping. */
  status: number;
  durationMs: number;
}

/** One telemetry message the hub accepted. */
export interface TelemetryEvent {
  outputName: string;
  body: JsonValue;
}

/**
 * The runtime stopped itself because retrying cannot help: the hub's certificate was not trusted at the
 * very first connection (a wrong or missing CA). `message` says what to pass; the CLI exits 3 with it.
 */
export interface FatalEvent {
  kind: 'untrusted-certificate';
  message: string;
}

export interface RuntimeEventMap {
  connected: [ConnectedEvent];
  disconnected: [DisconnectedEvent];
  applied: [AppliedEvent];
  rejected: [RejectedEvent];
  removed: [RemovedEvent];
  reconciled: [ReconciledEvent];
  ignored: [IgnoredEvent];
  method: [MethodEvent];
  telemetry: [TelemetryEvent];
  fatal: [FatalEvent];
  stopped: [];
}

export interface RuntimeLogger {
  info(line: string): void;
  warn(line: string): void;
}
