/**
 * What each resource stores as its `__provider`: a small forwarder that, inside the dynamic-provider
 * host, loads the real provider objects (provider-table) once per process and calls them.
 *
 * Why not serialize the real objects, as Pulumi's examples do: the closure serializer copies every
 * function they reach (the lib/ rules, the operations), ~73 KiB per resource. Pulumi stores that text
 * in each resource's state (inputs and outputs) and sends it in every host call, where it was ~80% of
 * the host's CPU per call (bench/provider-text-cost.ts: 5.3 ms per Check at 73 KiB, 0.7 ms at 0.5 KiB).
 * The host already resolves the SDKs from the program's node_modules, so loading our own code from
 * there as well adds no new dependency; and a fixed provider also applies to the deletes of resources
 * created by an older version.
 *
 * Two places hold the table (docs/package.md):
 * - this repository: `dynamic-providers/provider-table.ts` in the project, loaded with tsx's scoped
 *   require (no global hook). Every state this repository's program wrote before the package existed
 *   names that path, so it stays where it is;
 * - the installed package (`npm install iothub-as-code`): its compiled `iothub-as-code/provider-table`,
 *   resolved from the host's directory like any dependency of the program and loaded with plain
 *   `require` (no TypeScript tooling at deploy time).
 *
 * The forwarder captures nothing but its own functions and constants: a captured module object of a
 * file inside node_modules (the installed package) would be serialized as `require("<its dist path>")`,
 * which the package's `exports` do not allow.
 */
import type * as pulumi from '@pulumi/pulumi';

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

/** The package's compiled table (package.json `exports`), resolved from the host's directory. */
const PACKAGE_PROVIDER_TABLE = 'iothub-as-code/provider-table';

/**
 * Which table the forwarders built here look for first, captured into each forwarder by value. This
 * file loaded as TypeScript is this repository's program (tsx or ts-node): its own sources first, then
 * an installed package. Loaded as the package's compiled JavaScript: the package first, so a program
 * that installed the package uses the code it installed even inside a checkout of this repository.
 */
const PACKAGE_FIRST = !__filename.endsWith('.ts');

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

/**
 * The table, loaded once per host process. Kept on `globalThis` under the key process-wide.ts uses
 * (`iothub-as-code.provider-table`), written out here rather than imported (see the header), so the
 * forwarders of older states and these share one table.
 */
function providerOf(kind: ProviderKind): pulumi.dynamic.ResourceProvider {
  const slot = Symbol.for('iothub-as-code.provider-table');
  const global = globalThis as unknown as Record<symbol, ProviderTable | undefined>;
  let table = global[slot];
  if (table === undefined) {
    table = loadProviderTable(process.cwd(), PACKAGE_FIRST);
    global[slot] = table;
  }
  return table[kind];
}

/**
 * The table for a host running in `startDir` (Pulumi starts the host where
 * `require.resolve('@pulumi/pulumi/cmd/dynamic-provider')` works, i.e. in the program's directory):
 * the project's own `dynamic-providers/provider-table.ts` in `startDir` or its nearest ancestor, or the
 * installed package's compiled table, resolved from `startDir` as Node resolves the SDKs.
 */
function loadProviderTable(startDir: string, packageFirst: boolean): ProviderTable {
  const path: typeof import('node:path') = require('node:path');
  const fs: typeof import('node:fs') = require('node:fs');
  const fromProject = (): ProviderTable | undefined => {
    let projectDir = path.resolve(startDir);
    while (!fs.existsSync(path.join(projectDir, PROVIDER_TABLE_FILE))) {
      const parent = path.dirname(projectDir);
      if (parent === projectDir) return undefined;
      projectDir = parent;
    }
    // tsx's scoped require (tsx/cjs/api), typed by hand for the same reason as ProviderTable.
    const tsx = require('tsx/cjs/api') as { require(id: string, fromFile: string): unknown };
    const file = path.join(projectDir, PROVIDER_TABLE_FILE);
    return (tsx.require(file, path.join(projectDir, 'index.ts')) as { PROVIDERS: ProviderTable }).PROVIDERS;
  };
  const fromPackage = (): ProviderTable | undefined => {
    let file: string;
    try {
      file = require.resolve(PACKAGE_PROVIDER_TABLE, { paths: [startDir] });
    } catch {
      return undefined;
    }
    return (require(file) as { PROVIDERS: ProviderTable }).PROVIDERS;
  };
  const table = packageFirst ? (fromPackage() ?? fromProject()) : (fromProject() ?? fromPackage());
  if (table) return table;
  throw new Error(
    `iothub-as-code: the dynamic-provider host runs in ${startDir}, and neither it nor a parent ` +
      `holds ${PROVIDER_TABLE_FILE}, nor does ${PACKAGE_PROVIDER_TABLE} resolve from there; ` +
      'run pulumi from the project directory (the one with Pulumi.yaml and node_modules, ' +
      'where `npm install iothub-as-code` put the package)',
  );
}
