/** The hub's registry/twin store: `openHubState` and the service-side types. */
export { BULK_MAX_ENTRIES } from './bulk-operations';
export { type OpenHubStateOptions, openHubState } from './hub-state-store';
export type {
  BulkRegistryError,
  BulkRegistryOperationResult,
  ConnectionState,
  DeviceIdentity,
  HubState,
  IdentityStatus,
  ModuleIdentity,
  QueryPage,
  RegistryStatistics,
  ServiceTwin,
} from './hub-state-types';
export { LIST_DEVICES_MAX } from './identity-operations';
export { NEVER_SET_TIME } from './identity-records';
export { RECENT_MESSAGES_PER_IDENTITY } from './identity-runtime';
export { QUERY_PAGE_DEFAULT, QUERY_PAGE_MAX } from './query-operations';
export { DATABASE_FILE } from './sqlite-registry';
export { QUERY_GRAMMAR } from './twin-query';
