/**
 * The `__provider` texts `pulumi up` sends to the dynamic-provider host. Every bench process runs
 * under tsx (esbuild), whose CommonJS output makes Pulumi's closure serializer capture whole modules
 * (about 120–130 KiB per provider); `pulumi up` compiles the program with ts-node, whose output
 * serializes to about half that. What the host receives on every call is the ts-node text, so the
 * host-path benchmarks capture it once per run the way tier 5 does (tests/support/ts-node-capture.ts:
 * index.ts compiled exactly as @pulumi/pulumi/cmd/run/run.js registers ts-node, type-checking
 * included) and send that.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { wellKnownServiceConnectionString } from '../lib/local-hub-defaults';
import { createCertificateAuthority } from '../local-hub/tls/certificates';
import { captureDynamicResourcesUnderTsNode } from '../tests/support/ts-node-capture';

/** Resource type (e.g. `pulumi-nodejs:dynamic/iothub:ModuleTwin`) → its serialized provider. */
export type ProviderTexts = Map<string, string>;

/** The local stack's hub config needs the CA as a file, as `npm start` has it in .local-hub/ca.pem. */
export function writeCaFile(caCertificate: string): { caPath: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ca-'));
  const caPath = path.join(dir, 'ca.pem');
  fs.writeFileSync(caPath, caCertificate);
  return { caPath, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * One device, one module with a twin: every provider kind the benchmarks use, once. The texts hold
 * no hub address or key (those are inputs), so any local hub config serves: the well-known
 * connection string and a throwaway CA.
 */
export async function capturePulumiUpProviders(): Promise<ProviderTexts> {
  const connectionString = wellKnownServiceConnectionString();
  const ca = writeCaFile((await createCertificateAuthority('Bench capture CA')).certificatePem);
  try {
    const config = {
      'iothub-as-code:hub': { mode: 'local', local: { connectionString, caCertificatePath: ca.caPath } },
      'iothub-as-code:devices': [
        { deviceId: 'capture', modules: [{ moduleId: 'm', twin: { desired: { a: 1 } } }] },
      ],
    };
    const capture = await captureDynamicResourcesUnderTsNode(config, { redact: [connectionString] });
    const texts: ProviderTexts = new Map();
    for (const resource of capture.resources.values()) {
      const text = resource.inputs['__provider'];
      if (typeof text !== 'string')
        throw new Error(`${resource.name}: the captured __provider is not a string`);
      texts.set(resource.type, text);
    }
    return texts;
  } finally {
    ca.remove();
  }
}

export function providerText(texts: ProviderTexts, type: string): string {
  const text = texts.get(type);
  if (text === undefined) {
    throw new Error(`no captured provider for ${type}; captured: ${[...texts.keys()].join(', ')}`);
  }
  return text;
}
