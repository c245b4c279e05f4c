/**
 * Set-up shared by tiers 5 and 6: a local hub whose CA a local stack can point at, the local stack
 * config aimed at that hub, and the dynamic resources the PROGRAM registers (index.ts under
 * program-under-mocks), with their inputs exactly as the engine would receive them: secrets still
 * marked, `__provider` serialized by Pulumi.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LocalHub } from '../../local-hub/index';
import type { PlainObject } from './host-grpc';
import { startTestHub } from './local-hub-fixture';
import { DYNAMIC_TYPES, type NewResourceHandler, runProgramUnderMocks } from './program-under-mocks';

export { DYNAMIC_TYPES };
export type DynamicKind = keyof typeof DYNAMIC_TYPES;

export interface ProgramHub {
  hub: LocalHub;
  /** Where the stack's `hub.local.caCertificatePath` points. */
  caPath: string;
  /** Service connection string of the program's policy on this hub. */
  connectionString: string;
  close(): Promise<void>;
}

/**
 * A local hub for the program. `onDisk` keeps its data (and CA private key) in a temporary
 * directory, for tests that look for key material; otherwise in memory with the CA written out.
 */
export async function startProgramHub(options: { onDisk?: boolean } = {}): Promise<ProgramHub> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'program-hub-'));
  const hub = await startTestHub(options.onDisk ? { dataDir: dir } : {});
  const caPath = hub.caCertificatePath ?? path.join(dir, 'ca.pem');
  if (!hub.caCertificatePath) fs.writeFileSync(caPath, hub.caCertificatePem);
  return {
    hub,
    caPath,
    connectionString: hub.serviceConnectionString(),
    close: async () => {
      await hub.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The local stack (stacks/Pulumi.local.yaml's shape) aimed at a given hub and CA. */
export function localStackConfig(
  target: { connectionString: string; caPath: string },
  devices: unknown[],
): Record<string, unknown> {
  return {
    'iothub-as-code:hub': {
      mode: 'local',
      local: { connectionString: target.connectionString, caCertificatePath: target.caPath },
    },
    'iothub-as-code:devices': devices,
  };
}

export interface CapturedResource {
  type: string;
  name: string;
  /** As the mocks received them: secrets marked, `__provider` included. */
  inputs: PlainObject;
}

/** Runs the program once under the default mocks and returns its dynamic resources by name. */
export async function captureDynamicResources(
  config: Record<string, unknown>,
): Promise<Map<string, CapturedResource>> {
  const captured = new Map<string, CapturedResource>();
  const onNewResource: NewResourceHandler = (args) => {
    if (args.type.startsWith('pulumi-nodejs:dynamic')) {
      captured.set(args.name, { type: args.type, name: args.name, inputs: args.inputs as PlainObject });
    }
    return undefined;
  };
  await runProgramUnderMocks({ stack: 'local', config, onNewResource });
  return captured;
}

/** The captured resource of a name, or a failure that lists what the program did register. */
export function capturedNamed(resources: Map<string, CapturedResource>, name: string): CapturedResource {
  const found = resources.get(name);
  if (!found)
    throw new Error(
      `The program registered no "${name}"; it registered: ${[...resources.keys()].join(', ')}`,
    );
  return found;
}

/** URN as the engine (and lifecycle-engine.ts) spells it for the local stack. */
export function localUrn(resource: { type: string; name: string }): string {
  return `urn:pulumi:local::iothub-as-code::${resource.type}::${resource.name}`;
}
