/**
 * What each resource stores as its `__provider`: a small forwarder that, inside the dynamic-provider
 * host, loads the real provider objects from the project (provider-table.ts) once per process.
 *
 * Why not serialize the real objects, as Pulumi's examples do: the closure serializer copies every
 * function they reach (the lib/ rules, the operations), ~73 KiB per resource. Pulumi stores that text
 * in each resource's state (inputs and outputs) and sends it in every host call, where it was ~80% of
 * the host's CPU per call (bench/provider-text-cost.ts: 5.3 ms per Check at 73 KiB, 0.7 ms at 0.5 KiB).
 * The host already resolves the SDKs from the project's node_modules, so loading our own code from
 * the project as well adds no new dependency on the checkout; and a fixed provider also applies to
 * the deletes of resources created by an older version of the project.
 *
 * The host runs in the project (loadProviderTable); TypeScript is loaded with tsx's scoped require,
 * which registers no global hook.
 */
import type * as pulumi from '@pulumi/pulumi';
import { processWide } from './process-wide';

/** The resource kinds, by the type name their classes register. */
export type ProviderKind =
  | 'DeviceIdentity'
  | 'ModuleIdentity'
  | 'DeviceTwin'
  | 'ModuleTwin'
  | 'Configuration';

/**
 * provider-table.ts' export. Typed here rather than imported, even as a type: a program's ts-node
 * type-check would otherwise reach the operations and the azure-iothub SDK's declarations.
 */
export type ProviderTable = Record<ProviderKind, pulumi.dynamic.ResourceProvider>;

/** Relative to the project root. Written into every resource's state: never change it. */
const PROVIDER_TABLE_FILE = 'dynamic-providers/provider-table.ts';

function hostLoadedProvider(kind: ProviderKind): pulumi.dynamic.ResourceProvider {
  return {
    async check(olds, news) {
      return providerOf(kind).check!(olds, news);
    },
    async diff(id, olds, news) {
      return providerOf(kind).diff!(id, olds, news);
    },
    async create(inputs) {
      return providerOf(kind).create(inputs);
    },
    async read(id, props) {
      return providerOf(kind).read!(id, props);
    },
    async update(id, olds, news) {
      return providerOf(kind).update!(id, olds, news);
    },
    async delete(id, props) {
      await providerOf(kind).delete!(id, props);
    },
  };
}

/**
 * What the resource classes register: one forwarder object per kind, built once, because Pulumi
 * serializes a provider object once and reuses its text for every resource that passes it.
 */
export const HOST_PROVIDERS: Readonly<Record<ProviderKind, pulumi.dynamic.ResourceProvider>> = {
  DeviceIdentity: hostLoadedProvider('DeviceIdentity'),
  ModuleIdentity: hostLoadedProvider('ModuleIdentity'),
  DeviceTwin: hostLoadedProvider('DeviceTwin'),
  ModuleTwin: hostLoadedProvider('ModuleTwin'),
  Configuration: hostLoadedProvider('Configuration'),
};

function providerOf(kind: ProviderKind): pulumi.dynamic.ResourceProvider {
  const table = processWide('provider-table', () => loadProviderTable(process.cwd()));
  return table[kind];
}

/**
 * The table from the project containing `startDir`: the nearest ancestor holding it, the same
 * directories Node searches for the SDKs in node_modules (Pulumi starts the host where
 * `require.resolve('@pulumi/pulumi/cmd/dynamic-provider')` works, i.e. in the project).
 */
function loadProviderTable(startDir: string): ProviderTable {
  const path: typeof import('node:path') = require('node:path');
  const fs: typeof import('node:fs') = require('node:fs');
  let projectDir = path.resolve(startDir);
  while (!fs.existsSync(path.join(projectDir, PROVIDER_TABLE_FILE))) {
    const parent = path.dirname(projectDir);
    if (parent === projectDir) {
      throw new Error(
        `iothub-as-code: the dynamic-provider host runs in ${startDir}, and neither it nor a parent ` +
          `holds ${PROVIDER_TABLE_FILE}; run pulumi from the project directory (the one with Pulumi.yaml and node_modules)`,
      );
    }
    projectDir = parent;
  }
  // tsx's scoped require (tsx/cjs/api), typed by hand for the same reason as ProviderTable.
  const tsx = require('tsx/cjs/api') as { require(id: string, fromFile: string): unknown };
  const file = path.join(projectDir, PROVIDER_TABLE_FILE);
  return (tsx.require(file, path.join(projectDir, 'index.ts')) as { PROVIDERS: ProviderTable }).PROVIDERS;
}
