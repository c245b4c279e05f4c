/**
 * Well-known settings of the embedded local hub, like Azurite's well-known account key: documented,
 * public, and only ever valid against the local hub. They let the local stack work without setup;
 * every one of them can be overridden (hub flags / config file, stack config).
 *
 * Primary keys are base64(sha256("local-iothub-well-known-<policy>")), secondary keys the same with a
 * "-secondary" suffix, so anyone can re-derive them.
 */

export type HubRight = 'RegistryRead' | 'RegistryWrite' | 'ServiceConnect' | 'DeviceConnect';

export interface PolicyDefinition {
  keyName: string;
  rights: readonly HubRight[];
  primaryKey: string;
  secondaryKey: string;
}

/** IoT Hub's default policies plus the one this project's program creates on Azure. */
export const WELL_KNOWN_POLICIES: readonly PolicyDefinition[] = [
  {
    keyName: 'iothubowner',
    rights: ['RegistryRead', 'RegistryWrite', 'ServiceConnect', 'DeviceConnect'],
    primaryKey: 'Z/8R0s68EK9jUlDvChmz7lSNMT4T5Qfr315FT1BoWZQ=',
    secondaryKey: 'bXAhW932BPikZcu/Wh4BWnfn8ohmhpoRxGJnDv3eGqU=',
  },
  {
    keyName: 'service',
    rights: ['ServiceConnect'],
    primaryKey: '7ke/JuPQnVKR0RagXSaCqdqN31TROYGI1jBUvWeb0ZU=',
    secondaryKey: 'SXWmjSGrJYSZgqJT70Jb3kGgstiEL/WTtG0y66n+rYY=',
  },
  {
    keyName: 'device',
    rights: ['DeviceConnect'],
    primaryKey: 'bIE7Nc9ddRAaxgqNatsTWGNeKrynDZhg3khRhguV0/M=',
    secondaryKey: 'Yg6RU0qXj6bfHDmZBNiVdwXLI6+CnytKFzDvbVcGmdc=',
  },
  {
    keyName: 'registryRead',
    rights: ['RegistryRead'],
    primaryKey: 'yIdc3QzhvBqguO7db81z3UW0gIzHVkPLUL5RxSMgT5I=',
    secondaryKey: 'eK0MCt7eJJtHZwF0wDe6BfvyNsRV6VIbW1H35DG6v70=',
  },
  {
    keyName: 'registryReadWrite',
    rights: ['RegistryRead', 'RegistryWrite'],
    primaryKey: 'MV0svwS2rO6DkepA5ZEAULIBz6fTH12r9vakCGsQjd4=',
    secondaryKey: 'vu/ye7PeWMvAQyvBb2u0sk7UYe0nbNlErjCrw/667mk=',
  },
  {
    keyName: 'serviceAndRegistryReadWrite',
    rights: ['RegistryRead', 'RegistryWrite', 'ServiceConnect'],
    primaryKey: 'TqcTZAav6qRb7Pp6NzKPfNw20BdodOZ31rJnKgIqTDQ=',
    secondaryKey: 'KSO80lO0xLpNoelPGUF0UGeYzxYvBSiw6vOHURxfDEQ=',
  },
];

/** The policy the Pulumi program uses: RegistryWrite (which includes RegistryRead) + ServiceConnect. */
export const PROGRAM_POLICY_NAME = 'serviceAndRegistryReadWrite';

/** `npm run hub` listens here by default; tests always use port 0. */
export const DEFAULT_LOCAL_HUB_HOST = '127.0.0.1';
export const DEFAULT_LOCAL_HUB_PORT = 8443;
/** Relative to the project root; holds SQLite data and the generated CA (`ca.pem`). */
export const DEFAULT_LOCAL_HUB_DATA_DIR = '.local-hub';
export const LOCAL_HUB_CA_FILE = 'ca.pem';

export function wellKnownServiceConnectionString(
  policyName = PROGRAM_POLICY_NAME,
  hostName = `${DEFAULT_LOCAL_HUB_HOST}:${DEFAULT_LOCAL_HUB_PORT}`,
): string {
  const policy = WELL_KNOWN_POLICIES.find((p) => p.keyName === policyName);
  if (!policy) {
    const valid = WELL_KNOWN_POLICIES.map((p) => p.keyName).join(', ');
    throw new Error(`Unknown local hub policy "${policyName}"; valid policies: ${valid}`);
  }
  return `HostName=${hostName};SharedAccessKeyName=${policy.keyName};SharedAccessKey=${policy.primaryKey}`;
}

export interface WellKnownKeyInForce {
  policy: string;
  keys: ('primary' | 'secondary')[];
}

/**
 * The well-known (public) keys that still sign valid tokens in `policies`: a policy whose keys were
 * not both replaced keeps full access for anyone who reads this file (issue #10 item 1).
 */
export function wellKnownKeysInForce(policies: readonly PolicyDefinition[]): WellKnownKeyInForce[] {
  const known = new Set(WELL_KNOWN_POLICIES.flatMap((p) => [p.primaryKey, p.secondaryKey]));
  return policies.flatMap((policy) => {
    const keys = (['primary', 'secondary'] as const).filter((which) =>
      known.has(which === 'primary' ? policy.primaryKey : policy.secondaryKey),
    );
    return keys.length > 0 ? [{ policy: policy.keyName, keys }] : [];
  });
}

/** "iothubowner (primary, secondary), device (primary, secondary)". */
export function describeWellKnownKeys(inForce: readonly WellKnownKeyInForce[]): string {
  return inForce.map((entry) => `${entry.policy} (${entry.keys.join(', ')})`).join(', ');
}
