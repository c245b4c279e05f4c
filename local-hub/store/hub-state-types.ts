/**
 * The service-side half of the hub state (the device-facing half is `DeviceFacingHubState` in
 * ../hub-state.ts). Wire shapes mirror docs/iot-hub-behaviour.md §1.3 field for field and casing for casing, so the
 * REST layer can serialize them as they are.
 */
import type { JsonObject } from '../../lib/json-types';
import type { Authentication, DeviceFacingHubState } from '../hub-state';
import type { TelemetryWindow } from '../telemetry/telemetry-window';

export type ConnectionState = 'Connected' | 'Disconnected';
export type IdentityStatus = 'enabled' | 'disabled';

/** Device identity as the hub returns it (docs/iot-hub-behaviour.md §1.3). */
export interface DeviceIdentity {
  deviceId: string;
  generationId: string;
  etag: string;
  connectionState: ConnectionState;
  status: IdentityStatus;
  statusReason: string | null;
  connectionStateUpdatedTime: string;
  statusUpdatedTime: string;
  lastActivityTime: string;
  cloudToDeviceMessageCount: number;
  authentication: Authentication;
  capabilities: { iotEdge: boolean };
  deviceScope: string | null;
  parentScopes: string[];
}

/** Module identity: no `status`, no `capabilities` (docs/iot-hub-behaviour.md §1.3). */
export interface ModuleIdentity {
  deviceId: string;
  moduleId: string;
  managedBy: string | null;
  generationId: string;
  etag: string;
  connectionState: ConnectionState;
  connectionStateUpdatedTime: string;
  lastActivityTime: string;
  cloudToDeviceMessageCount: number;
  authentication: Authentication;
}

/** Service-side twin (GET/PATCH/PUT `/twins/...`), docs/iot-hub-behaviour.md §1.3. */
export interface ServiceTwin {
  deviceId: string;
  moduleId?: string;
  etag: string;
  deviceEtag: string;
  version: number;
  status: IdentityStatus;
  statusReason: string | null;
  statusUpdateTime: string;
  connectionState: ConnectionState;
  lastActivityTime: string;
  cloudToDeviceMessageCount: number;
  authenticationType: Authentication['type'];
  x509Thumbprint: Authentication['x509Thumbprint'];
  modelId: string;
  capabilities?: { iotEdge: boolean };
  /** Absent when the twin has no tags (docs/iot-hub-behaviour.md §8.2). */
  tags?: JsonObject;
  properties: { desired: JsonObject; reported: JsonObject };
}

export interface BulkRegistryError {
  deviceId: string;
  moduleId?: string;
  errorCode: string;
  errorStatus: string;
  operation?: string;
}

/** docs/iot-hub-behaviour.md §1.3 "Bulk result". */
export interface BulkRegistryOperationResult {
  isSuccessful: boolean;
  errors: BulkRegistryError[];
  warnings: { deviceId: string; warningCode: string; warningStatus: string }[];
}

export interface RegistryStatistics {
  totalDeviceCount: number;
  enabledDeviceCount: number;
  disabledDeviceCount: number;
}

export interface QueryPage {
  items: JsonObject[];
  /** Opaque token for the next page; absent on the last page (docs/iot-hub-behaviour.md §0.10). */
  continuationToken?: string;
}

/**
 * `ifMatch` arguments are unquoted etags or `*` (the REST layer strips the quotes). On identity
 * updates and twin writes an `ifMatch` is required by the callers' contract; `*` always matches.
 */
export interface HubState extends DeviceFacingHubState {
  /** Create-only (PUT without If-Match): an existing id is 409 DeviceAlreadyExists. */
  createDevice(deviceId: string, body: unknown): DeviceIdentity;
  /** PUT with If-Match: full replace of the updatable fields; missing id 404, stale etag 412. */
  updateDevice(deviceId: string, body: unknown, ifMatch: string): DeviceIdentity;
  getDevice(deviceId: string): DeviceIdentity;
  /** At most `top` devices (default and maximum 1000, as the REST API documents). */
  listDevices(top?: number): DeviceIdentity[];
  /** Deletes the device, its twin, its modules and their twins. No ifMatch = unconditional. */
  deleteDevice(deviceId: string, ifMatch?: string): void;

  createModule(deviceId: string, moduleId: string, body: unknown): ModuleIdentity;
  updateModule(deviceId: string, moduleId: string, body: unknown, ifMatch: string): ModuleIdentity;
  getModule(deviceId: string, moduleId: string): ModuleIdentity;
  listModules(deviceId: string): ModuleIdentity[];
  deleteModule(deviceId: string, moduleId: string, ifMatch?: string): void;

  getTwin(deviceId: string, moduleId: string | null): ServiceTwin;
  /** Merge-patch of `tags` and/or `properties.desired`. */
  patchTwin(deviceId: string, moduleId: string | null, patch: unknown, ifMatch: string): ServiceTwin;
  /** Replaces `tags` and `properties.desired` wholesale. */
  replaceTwin(deviceId: string, moduleId: string | null, twin: unknown, ifMatch: string): ServiceTwin;

  /** POST /devices (ExportImportDevice[]). Throws HubError for a malformed request as a whole. */
  bulk(operations: unknown): BulkRegistryOperationResult;
  statistics(): RegistryStatistics;
  /** The subset of the IoT Hub query language described in twin-query.ts. */
  queryTwins(query: unknown, pageSize: number, continuationToken?: string): QueryPage;

  /**
   * Configurations (docs/iot-hub-behaviour.md §8.4): PUT without ifMatch creates, with it updates; GET and
   * the list carry metrics computed now. Bodies are the REST wire shape.
   */
  putConfiguration(id: string, body: unknown, ifMatch?: string): JsonObject;
  getConfiguration(id: string): JsonObject;
  listConfigurations(top?: number): JsonObject[];
  deleteConfiguration(id: string, ifMatch?: string): void;

  /** The latest device-to-cloud messages, in memory only (GET /local-hub/telemetry, the web view). */
  readonly telemetry: TelemetryWindow;

  close(): void;
}
