/**
 * The gRPC pieces the provider host speaks, loaded from `@pulumi/pulumi`'s OWN resolution
 * (docs/testing-tiers.md "Tier 5"): google-protobuf keeps message classes per module instance, so a
 * Struct built by a second copy is not the Struct the generated stubs expect and the channel breaks.
 * Only types are imported statically (erased at runtime); values come through `pulumiRequire`.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type * as grpcTypes from '@grpc/grpc-js';
import type * as providerGrpcTypes from '@pulumi/pulumi/proto/provider_grpc_pb';
import type * as providerPbTypes from '@pulumi/pulumi/proto/provider_pb';
import type * as statusPbTypes from '@pulumi/pulumi/proto/status_pb';
import type * as structPbTypes from 'google-protobuf/google/protobuf/struct_pb';

/** package.json of the `@pulumi/pulumi` that `pulumi up` would run. */
export const PULUMI_PACKAGE_JSON = require.resolve('@pulumi/pulumi/package.json');
/** The script the engine launches as the provider of every `pulumi.dynamic.Resource`. */
export const DYNAMIC_PROVIDER_SCRIPT = path.join(
  path.dirname(PULUMI_PACKAGE_JSON),
  'cmd',
  'dynamic-provider',
  'index.js',
);

const pulumiRequire = createRequire(PULUMI_PACKAGE_JSON);

export interface HostGrpc {
  grpc: typeof grpcTypes;
  providerPb: typeof providerPbTypes;
  providerGrpc: typeof providerGrpcTypes;
  /** google.rpc.Status, which carries ErrorResourceInitFailed details of a failed Create/Update. */
  statusPb: typeof statusPbTypes;
  Struct: typeof structPbTypes.Struct;
}

let loaded: HostGrpc | undefined;

/** Loads the modules once per process (they are module singletons anyway). */
export function loadHostGrpc(): HostGrpc {
  loaded ??= {
    grpc: pulumiRequire('@grpc/grpc-js'),
    providerPb: pulumiRequire('./proto/provider_pb'),
    providerGrpc: pulumiRequire('./proto/provider_grpc_pb'),
    statusPb: pulumiRequire('./proto/status_pb'),
    Struct: pulumiRequire('google-protobuf/google/protobuf/struct_pb').Struct,
  };
  return loaded;
}

export type PlainObject = Record<string, unknown>;
export type StructMessage = structPbTypes.Struct;

/**
 * Plain object -> Struct. `undefined` members are dropped, as the engine's marshaller has no
 * `undefined` (Struct.fromJavaScript would fail with "Unexpected struct type").
 */
export function toStruct(value: PlainObject): StructMessage {
  const { Struct } = loadHostGrpc();
  return Struct.fromJavaScript(dropUndefined(value) as Record<string, any>);
}

export function fromStruct(struct: StructMessage | undefined): PlainObject {
  return struct ? (struct.toJavaScript() as PlainObject) : {};
}

function dropUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : dropUndefined(item)));
  if (value === null || typeof value !== 'object') return value;
  const out: PlainObject = {};
  for (const [key, member] of Object.entries(value)) {
    if (member !== undefined) out[key] = dropUndefined(member);
  }
  return out;
}
