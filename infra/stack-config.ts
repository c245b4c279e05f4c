/**
 * The whole stack config, validated in one pass: every problem is reported at once with its path
 * (e.g. `devices[0].modules[1].twin.desired.a.b: property name contains "."`), so a user fixes a
 * config in one round instead of one error per `pulumi up`. Pure: no Pulumi, no I/O.
 */
import { formatProblems, type Problem } from '../lib/problems';
import { problemsFromIssues } from './config-problems';
import { type ConfigurationConfig, configurationsSchema } from './configurations-config';
import { type DeviceConfig, devicesSchema } from './devices-config';
import { type HubConfig, hubSchema } from './hub-config';

export const CONFIG_NAMESPACE = 'iothub-as-code';
export const CONFIG_KEYS = ['hub', 'devices', 'configurations'] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

export interface StackConfig {
  hub: HubConfig;
  devices: DeviceConfig[];
  /** Automatic device and module configurations (infra/configurations-config.ts); default none. */
  configurations: ConfigurationConfig[];
}

/** Values as read from the stack (already JSON-parsed), plus what the reader knows about them. */
export interface RawStackConfig {
  hub?: unknown;
  devices?: unknown;
  configurations?: unknown;
  /** Keys found under the namespace that are not `hub`/`devices`/`configurations` (typos). */
  unknownKeys?: readonly string[];
  /**
   * Which keys were set as secrets. When given, a key or connection string in a non-secret key is a
   * problem: it would sit in clear text in Pulumi.<stack>.yaml.
   */
  secretKeys?: ReadonlySet<ConfigKey>;
}

export type ValidationResult = { ok: true; config: StackConfig } | { ok: false; problems: Problem[] };

export class StackConfigError extends Error {
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = formatProblems(problems)
      .split('\n')
      .map((line) => `  ${line}`)
      .join('\n');
    super(`Invalid stack config under "${CONFIG_NAMESPACE}" (${count}; see docs/stack-config.md):\n${lines}`);
    this.name = 'StackConfigError';
    this.problems = problems;
  }
}

export function isStackConfigError(error: unknown): error is StackConfigError {
  return error instanceof Error && error.name === 'StackConfigError' && 'problems' in error;
}

export function validateStackConfig(raw: RawStackConfig): ValidationResult {
  const problems: Problem[] = (raw.unknownKeys ?? []).map((key) => ({
    path: key,
    message: `unknown config key "${CONFIG_NAMESPACE}:${key}"; valid keys: ${CONFIG_KEYS.join(', ')}`,
  }));
  if (raw.hub === undefined) {
    problems.push({
      path: 'hub',
      message: `is required: set "${CONFIG_NAMESPACE}:hub", e.g. { mode: local } or { mode: azure, azure: {...} }`,
    });
  }
  const hub = raw.hub === undefined ? undefined : hubSchema.safeParse(raw.hub);
  if (hub && !hub.success) problems.push(...problemsFromIssues(hub.error.issues, 'hub'));
  const devices = devicesSchema.safeParse(raw.devices ?? []);
  if (!devices.success) problems.push(...problemsFromIssues(devices.error.issues, 'devices'));
  const configurations = configurationsSchema.safeParse(raw.configurations ?? []);
  if (!configurations.success) {
    problems.push(...problemsFromIssues(configurations.error.issues, 'configurations'));
  }
  if (raw.secretKeys) problems.push(...clearTextSecrets(raw, raw.secretKeys));
  if (problems.length === 0 && hub?.success && devices.success && configurations.success) {
    return {
      ok: true,
      config: { hub: hub.data, devices: devices.data, configurations: configurations.data },
    };
  }
  return { ok: false, problems };
}

/** Validates, or throws one StackConfigError listing every problem (Pulumi prints it as is). */
export function parseStackConfig(raw: RawStackConfig): StackConfig {
  const result = validateStackConfig(raw);
  if (!result.ok) throw new StackConfigError(result.problems);
  return result.config;
}

function secretProblem(path: string): Problem {
  return {
    path,
    message: `is a secret but its config key is stored in clear text; set it with: pulumi config set --secret --path '${path}' <value>`,
  };
}

/** Reads `value.a.b` of unknown input without trusting its shape. */
function at(value: unknown, ...keys: (string | number)[]): unknown {
  return keys.reduce<unknown>(
    (v, k) => (v !== null && typeof v === 'object' ? (v as any)[k] : undefined),
    value,
  );
}

/** Runs on the raw input so it reports alongside every other problem, whatever else is wrong. */
function clearTextSecrets(raw: RawStackConfig, secretKeys: ReadonlySet<ConfigKey>): Problem[] {
  const paths: string[] = [];
  if (!secretKeys.has('hub') && typeof at(raw.hub, 'local', 'connectionString') === 'string') {
    paths.push('hub.local.connectionString');
  }
  const devices = secretKeys.has('devices') || !Array.isArray(raw.devices) ? [] : raw.devices;
  devices.forEach((device, d) => {
    const modules = at(device, 'modules');
    const owners = [
      { auth: at(device, 'auth'), path: `devices[${d}].auth` },
      ...(Array.isArray(modules) ? modules : []).map((m, i) => ({
        auth: at(m, 'auth'),
        path: `devices[${d}].modules[${i}].auth`,
      })),
    ];
    for (const { auth, path } of owners) {
      for (const key of ['primaryKey', 'secondaryKey']) {
        if (typeof at(auth, key) === 'string') paths.push(`${path}.${key}`);
      }
    }
  });
  return paths.map(secretProblem);
}
