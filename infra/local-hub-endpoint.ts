/**
 * The embedded local hub (`npm run hub`): no cloud resources, the documented well-known policy key
 * (like Azurite's account key; lib/local-hub-defaults.ts) unless the stack overrides the connection
 * string, and the hub's generated CA so the providers verify its TLS certificate (docs/architecture.md
 * "Decisions": never turn verification off).
 */
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { parseServiceConnectionString } from '../lib/connection-string';
import { wellKnownServiceConnectionString } from '../lib/local-hub-defaults';
import type { LocalHubConfig } from './hub-config';
import type { HubEndpoint } from './hub-endpoint';

/** A RunError: the CLI prints the message alone, without a stack trace. */
export class LocalHubCaError extends pulumi.RunError {
  constructor(message: string) {
    super(message);
    this.name = 'LocalHubCaError';
  }
}

/** Reads and checks the CA PEM; a missing file almost always means the hub has never been started. */
export function readLocalHubCa(caPath: string): string {
  let pem: string;
  try {
    pem = fs.readFileSync(caPath, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    throw new LocalHubCaError(
      `The local hub's CA certificate ${caPath} (hub.local.caCertificatePath) ${reason}. ` +
        'Start the local hub first with `npm run hub` (it creates the CA in .local-hub/), ' +
        'or run `npm start`, which starts the hub and then runs `pulumi up`.',
    );
  }
  try {
    new X509Certificate(pem);
  } catch {
    throw new LocalHubCaError(
      `${caPath} (hub.local.caCertificatePath) is not a PEM certificate; point it at the hub's ca.pem.`,
    );
  }
  return pem;
}

/** `projectDir` anchors a relative caCertificatePath, whatever the process's working directory. */
export function localHub(config: LocalHubConfig, projectDir: string): HubEndpoint {
  const connectionString = config.connectionString ?? wellKnownServiceConnectionString();
  const { hostName } = parseServiceConnectionString(connectionString);
  const caCertificate = readLocalHubCa(path.resolve(projectDir, config.caCertificatePath));
  return {
    hostName: pulumi.output(hostName),
    connectionString: pulumi.secret(connectionString),
    caCertificate: pulumi.output(caCertificate),
  };
}
