/**
 * The contract between the hub's registry/twin store and its transports (REST and MQTT).
 *
 * The store owns every rule about identities and twins (validation, etags, versions, $metadata,
 * persistence) and throws `HubError`s (see errors.ts). Transports only translate wire formats
 * and decide who may call what. Keeping this interface small is what lets AMQP or WebSockets
 * be added later without reshaping the hub.
 */

export type AuthenticationType = 'sas' | 'selfSigned' | 'certificateAuthority' | 'none';

export interface Authentication {
  type: AuthenticationType;
  symmetricKey: { primaryKey: string | null; secondaryKey: string | null };
  x509Thumbprint: { primaryThumbprint: string | null; secondaryThumbprint: string | null };
}

/** What a device-facing transport needs to know to authenticate and authorize a connection. */
export interface IdentityView {
  deviceId: string;
  moduleId: string | null;
  authentication: Authentication;
  /** The device's status; a module inherits its device's (modules have no status of their own). */
  status: 'enabled' | 'disabled';
}

/** Device-facing twin view, as the MQTT twin GET returns it (no `properties` wrapper). */
export interface DeviceFacingTwin {
  desired: Record<string, unknown> & { $version: number };
  reported: Record<string, unknown> & { $version: number };
}

/** A desired-property change, as delivered to the one connection of that identity. */
export interface DesiredChange {
  deviceId: string;
  moduleId: string | null;
  /** The desired patch (null = delete) plus `$version`, or the whole desired document after a replace. */
  patch: Record<string, unknown> & { $version: number };
}

/** An identity was deleted or disabled: its device-facing connections must be dropped. */
export interface IdentityRevoked {
  deviceId: string;
  moduleId: string | null;
  reason: 'deleted' | 'disabled' | 'credentialsChanged';
}

export interface DeviceToCloudMessage {
  deviceId: string;
  moduleId: string | null;
  /** Topic property bag, decoded (e.g. `$.on` for module outputs, user properties). */
  properties: Record<string, string>;
  body: Buffer;
  receivedAt: string;
}

/** The part of the hub state that device-facing transports (MQTT today) use. */
export interface DeviceFacingHubState {
  findIdentity(deviceId: string, moduleId: string | null): IdentityView | undefined;
  getDeviceFacingTwin(deviceId: string, moduleId: string | null): DeviceFacingTwin;
  /** Merge-patches reported properties; returns the new reported `$version`. Throws HubError on bad input. */
  patchReported(deviceId: string, moduleId: string | null, patch: unknown): number;
  /**
   * `patchReported` answered later: the patches queued in one turn of the event loop are committed in one
   * transaction, and `done` gets the new `$version` (or the error, a HubError when the patch was refused)
   * only after that commit (local-hub/store/reported-batch.ts).
   */
  queueReported(
    deviceId: string,
    moduleId: string | null,
    patch: unknown,
    done: (outcome: { version: number } | { error: unknown }) => void,
  ): void;
  setConnectionState(deviceId: string, moduleId: string | null, connected: boolean): void;
  recordActivity(deviceId: string, moduleId: string | null): void;
  recordMessage(message: DeviceToCloudMessage): void;
  /** Latest device-to-cloud messages kept for inspection (bounded per identity). */
  recentMessages(deviceId: string, moduleId: string | null): DeviceToCloudMessage[];
  onDesiredChange(listener: (change: DesiredChange) => void): () => void;
  onIdentityRevoked(listener: (event: IdentityRevoked) => void): () => void;
}
