/** Shared set-up for the program tests: stack files as the CLI would pass them, a real local CA. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import { createCertificateAuthority } from '../../local-hub/tls/certificates';
import {
  DYNAMIC_TYPES,
  MOCK_ARM_PRIMARY_KEY,
  MOCK_ARM_SECONDARY_KEY,
  type ProgramRun,
  type RecordedResource,
  readStackFile,
} from '../support/program-under-mocks';

export { DYNAMIC_TYPES };

export interface TempCa {
  dir: string;
  caPath: string;
  certificatePem: string;
  privateKeyPem: string;
  remove(): void;
}

/** A CA made by the local hub's own certificate code, written where a stack can point at it. */
export async function createTempCa(): Promise<TempCa> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'program-ca-'));
  const ca = await createCertificateAuthority('Program test CA');
  const caPath = path.join(dir, 'ca.pem');
  fs.writeFileSync(caPath, ca.certificatePem);
  return { dir, caPath, ...ca, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** stacks/Pulumi.local.yaml with the CA path redirected (the project's .local-hub may not exist). */
export function localStackConfig(
  caPath: string,
  local: Record<string, unknown> = {},
): Record<string, unknown> {
  const config = readStackFile('local');
  const hub = config['iothub-as-code:hub'] as Record<string, unknown>;
  return { ...config, 'iothub-as-code:hub': { ...hub, local: { caCertificatePath: caPath, ...local } } };
}

export function dynamicResources(run: ProgramRun): RecordedResource[] {
  return run.resources.filter((r) => r.type.startsWith('pulumi-nodejs:dynamic'));
}

export function resource(run: ProgramRun, name: string): RecordedResource {
  const found = run.resources.find((r) => r.name === name);
  assert.ok(found, `no resource named ${name}; have: ${run.resources.map((r) => r.name).join(', ')}`);
  return found;
}

/** Every key the stacks could carry: the local well-known policy keys and the ARM mock's keys. */
export const KNOWN_KEYS = [
  ...WELL_KNOWN_POLICIES.flatMap((p) => [p.primaryKey, p.secondaryKey]),
  MOCK_ARM_PRIMARY_KEY,
  MOCK_ARM_SECONDARY_KEY,
];

/**
 * The serialized provider is written into state in clear (docs/architecture.md, pulumi/pulumi#8265): it must
 * hold no key, no connection string and no private key material.
 */
export function assertProviderCarriesNoSecrets(r: RecordedResource, extra: readonly string[] = []): void {
  const provider = r.inputs['__provider'];
  assert.equal(typeof provider, 'string', `${r.name} has no serialized __provider`);
  const text = provider as string;
  for (const secret of [...KNOWN_KEYS, ...extra]) {
    assert.ok(!text.includes(secret), `${r.name}: __provider contains a key or secret value`);
  }
  assert.doesNotMatch(
    text,
    /SharedAccessKey=[A-Za-z0-9+/]/,
    `${r.name}: __provider contains a connection string`,
  );
  assert.doesNotMatch(text, /PRIVATE KEY-----/, `${r.name}: __provider contains private key material`);
}
