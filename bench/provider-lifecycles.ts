/**
 * One device + module + module-twin lifecycle (create, change desired, delete), done three ways that
 * make the same hub calls in the same order:
 *  - `plainRegistryLifecycle`: the baseline, a plain azure-iothub script with ONE Registry (keep-alive)
 *    built by the project's client factory (the SDK cannot take a port otherwise, docs/iot-hub-behaviour.md §4);
 *  - `inProcessProviderLifecycle`: the provider objects' methods called in-process, in engine order
 *    (check → create; check → diff → update; delete);
 *  - `hostProviderLifecycle`: the same through the real dynamic-provider host over gRPC.
 *
 * Hub calls per lifecycle, all three: PUT device, PUT module, PATCH twin (If-Match *), PATCH twin
 * (If-Match etag), DELETE module, DELETE device. The twin's own delete is skipped, as the engine does
 * for `deletedWith: moduleIdentity` (index.ts).
 */
import type * as pulumi from '@pulumi/pulumi';
import { createHubClient } from '../dynamic-providers/iothub-client';
import {
  deviceIdentityProvider,
  moduleIdentityProvider,
  moduleTwinProvider,
} from '../dynamic-providers/provider-table';
import type { PlainObject } from '../tests/support/host-grpc';
import { secret } from '../tests/support/host-secrets';
import type { ProviderHost } from '../tests/support/provider-host';
import { type ProviderTexts, providerText } from './pulumi-up-providers';

export interface HubTarget {
  connectionString: string;
  caCertificate: string;
}

export type Lifecycle = (deviceId: string) => Promise<void>;

export const MODULE_ID = 'bench-module';
export const HUB_CALLS_PER_LIFECYCLE = 6;

/** Ask the hub to generate SAS keys (docs/iot-hub-behaviour.md §2), as the providers' create bodies do. */
const GENERATED_SAS = {
  type: 'sas',
  symmetricKey: { primaryKey: '', secondaryKey: '' },
  x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
};

const desired = (generation: number) => ({ telemetryInterval: 10 * generation, mode: `bench-${generation}` });

export function plainRegistryLifecycle(target: HubTarget): Lifecycle {
  const { registry } = createHubClient(target.connectionString, { caCertificate: target.caCertificate });
  return (deviceId) => registryCalls(() => registry, deviceId);
}

async function registryCalls(
  registry: () => ReturnType<typeof createHubClient>['registry'],
  deviceId: string,
) {
  const device = {
    deviceId,
    status: 'enabled',
    authentication: GENERATED_SAS,
    capabilities: { iotEdge: false },
  };
  await registry().create(device as any);
  await registry().addModule({ deviceId, moduleId: MODULE_ID, authentication: GENERATED_SAS } as any);
  const first = await registry().updateModuleTwin(
    deviceId,
    MODULE_ID,
    { properties: { desired: desired(1) } },
    '*',
  );
  const etag = (first.responseBody as unknown as { etag: string }).etag;
  await registry().updateModuleTwin(deviceId, MODULE_ID, { properties: { desired: desired(2) } }, etag);
  await registry().removeModule(deviceId, MODULE_ID);
  await registry().delete(deviceId);
}

type AnyProvider = pulumi.dynamic.ResourceProvider<any, any>;

async function checked(provider: AnyProvider, olds: PlainObject, news: PlainObject): Promise<any> {
  const result = await provider.check!(olds, news);
  if (result.failures && result.failures.length > 0) {
    throw new Error(`check failed: ${result.failures.map((f) => `${f.property}: ${f.reason}`).join('; ')}`);
  }
  return result.inputs;
}

/** Raw inputs as the resource classes register them (index.ts via infra/identity-args.ts). */
function rawInputs(target: HubTarget, deviceId: string) {
  const hub = { hubConnectionString: target.connectionString, hubCaCertificate: target.caCertificate };
  return {
    device: {
      ...hub,
      deviceId,
      status: 'enabled',
      authentication: { type: 'sas' },
      iotEdge: false,
      adopt: false,
    },
    module: { ...hub, deviceId, moduleId: MODULE_ID, authentication: { type: 'sas' }, adopt: false },
    twin: (generation: number) => ({
      ...hub,
      deviceId,
      moduleId: MODULE_ID,
      desired: desired(generation),
      tags: {},
    }),
  };
}

export function inProcessProviderLifecycle(target: HubTarget): Lifecycle {
  return async (deviceId) => {
    const raw = rawInputs(target, deviceId);
    const device = await deviceIdentityProvider.create(await checked(deviceIdentityProvider, {}, raw.device));
    const module = await moduleIdentityProvider.create(await checked(moduleIdentityProvider, {}, raw.module));
    const twinInputs = await checked(moduleTwinProvider, {}, raw.twin(1));
    const twin = await moduleTwinProvider.create(twinInputs);
    const changed = await checked(moduleTwinProvider, twinInputs, raw.twin(2));
    const diff = await moduleTwinProvider.diff!(twin.id, twin.outs!, changed);
    if (!diff.changes) throw new Error(`${deviceId}: the twin provider saw no change in desired`);
    await moduleTwinProvider.update!(twin.id, twin.outs!, changed);
    await moduleIdentityProvider.delete!(module.id, module.outs!);
    await deviceIdentityProvider.delete!(device.id, device.outs!);
  };
}

export interface SerializedProviders {
  device: string;
  module: string;
  twin: string;
}

export const DYNAMIC_TYPES = {
  device: 'pulumi-nodejs:dynamic/iothub:DeviceIdentity',
  module: 'pulumi-nodejs:dynamic/iothub:ModuleIdentity',
  twin: 'pulumi-nodejs:dynamic/iothub:ModuleTwin',
} as const;

/** The texts `pulumi up` would send (bench/pulumi-up-providers.ts), per provider kind. */
export function serializedProviders(texts: ProviderTexts): SerializedProviders {
  return {
    device: providerText(texts, DYNAMIC_TYPES.device),
    module: providerText(texts, DYNAMIC_TYPES.module),
    twin: providerText(texts, DYNAMIC_TYPES.twin),
  };
}

const urnOf = (type: string, name: string) => `urn:pulumi:bench::iothub-as-code::${type}::${name}`;

/** Inputs as the engine sends them: the connection string as a secret, plus the `__provider` text. */
function engineInputsOf(target: HubTarget, inputs: PlainObject, provider: string): PlainObject {
  return { ...inputs, hubConnectionString: secret(target.connectionString), __provider: provider };
}

/** What the engine sends to Check for a new device resource with the given `__provider` text. */
export function deviceEngineInputs(target: HubTarget, deviceId: string, provider: string): PlainObject {
  return engineInputsOf(target, rawInputs(target, deviceId).device, provider);
}

/** The engine's calls for the same lifecycle. */
export function hostProviderLifecycle(
  target: HubTarget,
  host: ProviderHost,
  providers: SerializedProviders,
): Lifecycle {
  return async (deviceId) => {
    const raw = rawInputs(target, deviceId);
    const engineInputs = (inputs: PlainObject, provider: string) => engineInputsOf(target, inputs, provider);
    const urns = {
      device: urnOf(DYNAMIC_TYPES.device, deviceId),
      module: urnOf(DYNAMIC_TYPES.module, deviceId),
      twin: urnOf(DYNAMIC_TYPES.twin, deviceId),
    };
    const device = await createThroughHost(host, urns.device, engineInputs(raw.device, providers.device));
    const module = await createThroughHost(host, urns.module, engineInputs(raw.module, providers.module));
    const twinChecked = await hostChecked(host, urns.twin, {}, engineInputs(raw.twin(1), providers.twin));
    const twin = await host.create(urns.twin, twinChecked);
    const changed = await hostChecked(
      host,
      urns.twin,
      twinChecked,
      engineInputs(raw.twin(2), providers.twin),
    );
    const diff = await host.diff(twin.id, urns.twin, twin.properties, changed, twinChecked);
    if (diff.changes !== 'some') throw new Error(`${deviceId}: the host reported diff ${diff.changes}`);
    await host.update(twin.id, urns.twin, twin.properties, changed, twinChecked);
    await host.delete(module.id, urns.module, module.properties);
    await host.delete(device.id, urns.device, device.properties);
  };
}

async function hostChecked(host: ProviderHost, urn: string, olds: PlainObject, news: PlainObject) {
  const result = await host.check(urn, olds, news);
  if (result.failures.length > 0) {
    throw new Error(`check failed: ${result.failures.map((f) => `${f.property}: ${f.reason}`).join('; ')}`);
  }
  return result.inputs;
}

async function createThroughHost(host: ProviderHost, urn: string, news: PlainObject) {
  return host.create(urn, await hostChecked(host, urn, {}, news));
}
