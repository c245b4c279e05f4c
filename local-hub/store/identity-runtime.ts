/**
 * In-memory, hub-maintained facts about identities: connection state, last activity and recent
 * device-to-cloud messages. Kept out of SQLite on purpose: recordActivity runs for every MQTT packet,
 * and after a restart every identity is disconnected anyway (docs/iot-hub-behaviour.md §2: these fields are
 * read-only, lag on a real hub and are "for debugging only").
 */
import type { DeviceToCloudMessage } from '../hub-state';
import { type ConnectionRuntime, DISCONNECTED } from './identity-records';

export const RECENT_MESSAGES_PER_IDENTITY = 50;

function keyOf(deviceId: string, moduleId: string | null): string {
  // NUL cannot occur in ids (lib/identity-ids.ts), so the key is unambiguous.
  return `${deviceId}\u0000${moduleId ?? ''}`;
}

export class IdentityRuntime {
  private readonly connections = new Map<string, ConnectionRuntime>();
  private readonly messages = new Map<string, DeviceToCloudMessage[]>();

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
    const key = keyOf(message.deviceId, message.moduleId);
    const list = this.messages.get(key) ?? [];
    list.push(message);
    if (list.length > RECENT_MESSAGES_PER_IDENTITY)
      list.splice(0, list.length - RECENT_MESSAGES_PER_IDENTITY);
    this.messages.set(key, list);
  }

  recentMessages(deviceId: string, moduleId: string | null): DeviceToCloudMessage[] {
    return [...(this.messages.get(keyOf(deviceId, moduleId)) ?? [])];
  }

  /** A deleted identity starts from scratch if it is created again. */
  forget(deviceId: string, moduleId: string | null): void {
    this.connections.delete(keyOf(deviceId, moduleId));
    this.messages.delete(keyOf(deviceId, moduleId));
  }
}
