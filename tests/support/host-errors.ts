/**
 * How a failed provider-host call surfaces in tests: a thrown Error whose message carries the
 * provider's own message, plus, for a Create/Update that made the object before failing, what the
 * engine would keep in the state.
 */
import type { ServiceError } from '@grpc/grpc-js';
import { fromStruct, loadHostGrpc, type PlainObject } from './host-grpc';

/**
 * Create/Update that failed AFTER the object was made (the provider threw an error carrying `id`):
 * the host packs it as `pulumirpc.ErrorResourceInitFailed`, and the engine keeps the resource in the
 * state with these outputs while failing the deployment.
 */
export interface InitFailure {
  id: string;
  properties: PlainObject;
  reasons: string[];
}

/** A failed host call; `message` carries the provider's own error text. */
export class ProviderHostError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
    readonly initFailure?: InitFailure,
  ) {
    super(`${method} failed in the dynamic provider host: ${details}`);
    this.name = 'ProviderHostError';
  }
}

export function isProviderHostError(error: unknown): error is ProviderHostError {
  return error instanceof ProviderHostError;
}

/** The `grpc-status-details-bin` trailer the host sets for `ErrorResourceInitFailed` (its grpcResponseFromError). */
export function initFailureOf(error: ServiceError): InitFailure | undefined {
  const [bin] = error.metadata?.get('grpc-status-details-bin') ?? [];
  if (!bin) return undefined;
  const { statusPb, providerPb } = loadHostGrpc();
  const status = statusPb.Status.deserializeBinary(new Uint8Array(bin as Buffer));
  for (const detail of status.getDetailsList()) {
    if (detail.getTypeName() !== 'pulumirpc.ErrorResourceInitFailed') continue;
    const failed = providerPb.ErrorResourceInitFailed.deserializeBinary(detail.getValue_asU8());
    return {
      id: failed.getId(),
      properties: fromStruct(failed.getProperties()),
      reasons: failed.getReasonsList(),
    };
  }
  return undefined;
}
