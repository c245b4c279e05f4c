/**
 * In-memory, hub-maintained facts about identities: connection state, last activity and recent
 * device-to-cloud messages. Kept out of SQLite on purpose: recordActivity runs for every MQTT packet,
 * and after a restart every identity is disconnected anyway (docs/iot-hub-behaviour.md §2: these fields are
 * read-only, lag on a real hub and are "for debugging only").
 */
import type { DeviceToCloudMessage } from '../hub-state';
import { DEFAULT_TELEMETRY_LIMITS, TelemetryWindow } from '../telemetry/telemetry-window';
import { type ConnectionRuntime, DISCONNECTED } from './identity-records';

export const RECENT_MESSAGES_PER_IDENTITY = DEFAULT_TELEMETRY_LIMITS.perIdentity;

function keyOf(deviceId: string, moduleId: string | null): string {
  // NUL cannot occur in ids (lib/identity-ids.ts), so the key is unambiguous.
  return `${deviceId}\u0000${moduleId ?? ''}`;
}

export class IdentityRuntime {
  private readonly connections = new Map<string, ConnectionRuntime>();
  /** Recent messages live in the telemetry window, which readers of the hub also see (GET /local-hub/telemetry). */
  readonly telemetry = new TelemetryWindow();

  constructor(private readonly now: () => string) {}

  get(deviceId: string, moduleId: string | null): ConnectionRuntime {
    return this.connections.get(keyOf(deviceId, moduleId)) ?? DISCONNECTED;
  }

  setConnectionState(deviceId: string, moduleId: string | null, connected: boolean): void {
    const key = keyOf(deviceId, moduleId);
    const current = this.connections.get(key) ?? DISCONNECTED;
    const now = this.now();
    this.connections.set(key, {
      connectionState: connected ? 'Connected' : 'Disconnected',
      connectionStateUpdatedTime: now,
      lastActivityTime: connected ? now : current.lastActivityTime,
    });
  }

  recordActivity(deviceId: string, moduleId: string | null): void {
    const key = keyOf(deviceId, moduleId);
    const current = this.connections.get(key) ?? DISCONNECTED;
    this.connections.set(key, { ...current, lastActivityTime: this.now() });
  }

  recordMessage(message: DeviceToCloudMessage): void {
    this.telemetry.record(message);
  }

  recentMessages(deviceId: string, moduleId: string | null): DeviceToCloudMessage[] {
    return this.telemetry.recent(deviceId, moduleId);
  }

  /** A deleted identity starts from scratch if it is created again. */
  forget(deviceId: string, moduleId: string | null): void {
    this.connections.delete(keyOf(deviceId, moduleId));
    this.telemetry.forget(deviceId, moduleId);
  }
}
