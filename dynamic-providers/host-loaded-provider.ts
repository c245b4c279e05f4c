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
 * The host runs in the project directory (Pulumi starts it as `node ./node_modules/@pulumi/pulumi/
 * cmd/dynamic-provider`); TypeScript is loaded with tsx's scoped require, which registers no global hook.
 */
import type * as pulumi from '@pulumi/pulumi';
import { processWide } from './process-wide';
import type { PROVIDERS, ProviderKind } from './provider-table';

/** Relative to the project root. Written into every resource's state: never change it. */
const PROVIDER_TABLE_FILE = 'dynamic-providers/provider-table.ts';

export function hostLoadedProvider(kind: ProviderKind): pulumi.dynamic.ResourceProvider {
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

function providerOf(kind: ProviderKind): pulumi.dynamic.ResourceProvider {
  const table = processWide('provider-table', () => loadProviderTable(process.cwd()));
  return table[kind] as unknown as pulumi.dynamic.ResourceProvider;
}

function loadProviderTable(projectDir: string): typeof PROVIDERS {
  const path: typeof import('node:path') = require('node:path');
  const fs: typeof import('node:fs') = require('node:fs');
  const file = path.join(projectDir, PROVIDER_TABLE_FILE);
  if (!fs.existsSync(file)) {
    throw new Error(
      `iothub-as-code: the dynamic-provider host runs in ${projectDir}, where ${PROVIDER_TABLE_FILE} is ` +
        'missing; run pulumi from the project directory (the one with Pulumi.yaml and node_modules)',
    );
  }
  const tsx: typeof import('tsx/cjs/api') = require('tsx/cjs/api');
  return (tsx.require(file, path.join(projectDir, 'index.ts')) as { PROVIDERS: typeof PROVIDERS }).PROVIDERS;
}
