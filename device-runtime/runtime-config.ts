/**
 * The device runtime's configuration as one table, key -> { type, default, env, flag, description }
 * (balena-supervisor habit): the CLI, the environment and the library options all resolve through it,
 * and every problem is reported at once with the key, flag and variable that set it.
 */
import { ConnectionStringError, parseDeviceConnectionString } from '../lib/connection-string';
import type { Problem } from '../lib/problems';
import { RuntimeConfigError } from './errors';

interface NumberEntry {
  type: 'number';
  default: number;
  min: number;
  max: number;
  env: string;
  flag: string;
  description: string;
}

interface StringEntry {
  type: 'string';
  default?: string;
  env: string;
  flag: string;
  description: string;
  /** Never printed, not even in errors (it holds a key). */
  secret?: boolean;
}

export const RUNTIME_CONFIG_TABLE = {
  connectionString: {
    type: 'string',
    env: 'IOTHUB_MODULE_CONNECTION_STRING',
    flag: 'connection-string',
    secret: true,
    description:
      'Module connection string "HostName=<host[:port]>;DeviceId=<d>;ModuleId=<m>;SharedAccessKey=<key>". ' +
      'Without it, inside IoT Edge (IOTEDGE_WORKLOADURI or EdgeHubConnectionString set) the Edge environment is used.',
  },
  caFile: {
    type: 'string',
    env: 'IOTHUB_CA_FILE',
    flag: 'ca',
    description: 'PEM file of a CA to trust for the hub (the local hub writes <data dir>/ca.pem).',
  },
  telemetryIntervalSeconds: {
    type: 'number',
    default: 10,
    min: 0.1,
    max: 86_400,
    env: 'DEVICE_TELEMETRY_INTERVAL_SECONDS',
    flag: 'telemetry-interval',
    description: 'Telemetry interval until the desired property telemetryInterval sets one.',
  },
  telemetryOutputName: {
    type: 'string',
    default: 'telemetry',
    env: 'DEVICE_TELEMETRY_OUTPUT',
    flag: 'telemetry-output',
    description: 'Module output name telemetry is sent on (topic property $.on).',
  },
  operationTimeoutSeconds: {
    type: 'number',
    default: 30,
    min: 1,
    max: 600,
    env: 'DEVICE_OPERATION_TIMEOUT_SECONDS',
    flag: 'operation-timeout',
    description: 'How long a connect, twin GET or reported PATCH may take before the connection is rebuilt.',
  },
  reconnectMinDelaySeconds: {
    type: 'number',
    default: 1,
    min: 0.05,
    max: 600,
    env: 'DEVICE_RECONNECT_MIN_DELAY_SECONDS',
    flag: 'reconnect-min-delay',
    description: 'First delay of the runtime own reconnect loop (after the SDK gives up).',
  },
  reconnectMaxDelaySeconds: {
    type: 'number',
    default: 60,
    min: 0.05,
    max: 3_600,
    env: 'DEVICE_RECONNECT_MAX_DELAY_SECONDS',
    flag: 'reconnect-max-delay',
    description: 'Ceiling of the reconnect backoff.',
  },
  sasTokenLifetimeSeconds: {
    type: 'number',
    default: 3_600,
    min: 2,
    max: 86_400,
    env: 'DEVICE_SAS_TOKEN_LIFETIME_SECONDS',
    flag: 'sas-token-lifetime',
    description:
      'Validity of each SAS token the SDK mints (docs/iot-hub-behaviour.md §1.5: 3600 by default).',
  },
  sasTokenRenewalMarginSeconds: {
    type: 'number',
    default: 900,
    min: 1,
    max: 86_399,
    env: 'DEVICE_SAS_TOKEN_RENEWAL_MARGIN_SECONDS',
    flag: 'sas-token-renewal-margin',
    description: 'Renew the token this long before it expires (the SDK reconnects to do it).',
  },
} as const satisfies Record<string, NumberEntry | StringEntry>;

type Table = typeof RUNTIME_CONFIG_TABLE;
export type RuntimeConfigKey = keyof Table;

export type RuntimeConfig = {
  [K in RuntimeConfigKey]: Table[K] extends NumberEntry
    ? number
    : Table[K] extends { default: string }
      ? string
      : string | undefined;
};

export interface ResolveInput {
  /** Command-line arguments after the script name (`--flag value` or `--flag=value`). */
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  /** Library callers' values; they win over flags and environment. */
  overrides?: Partial<RuntimeConfig>;
}

const ENTRIES = Object.entries(RUNTIME_CONFIG_TABLE) as [RuntimeConfigKey, NumberEntry | StringEntry][];

/** Resolves overrides > flags > environment > defaults, and reports every problem at once. */
export function resolveRuntimeConfig(input: ResolveInput = {}): RuntimeConfig {
  const problems: Problem[] = [];
  const flags = parseFlags(input.argv ?? [], problems);
  const env = input.env ?? {};
  const config: Record<string, string | number | undefined> = {};
  for (const [key, entry] of ENTRIES) {
    const override = input.overrides?.[key];
    const [raw, origin] =
      override !== undefined
        ? [override, `option ${key}`]
        : flags.has(entry.flag)
          ? [flags.get(entry.flag), `--${entry.flag}`]
          : env[entry.env] !== undefined && env[entry.env] !== ''
            ? [env[entry.env], entry.env]
            : [entry.default, 'default'];
    config[key] = entry.type === 'number' ? checkNumber(key, entry, raw, origin, problems) : raw;
  }
  checkRelations(config as RuntimeConfig, problems);
  if (problems.length > 0) throw new RuntimeConfigError(problems);
  return config as RuntimeConfig;
}

function parseFlags(argv: readonly string[], problems: Problem[]): Map<string, string | undefined> {
  const known = new Set(ENTRIES.map(([, entry]) => entry.flag));
  const flags = new Map<string, string | undefined>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!match || !known.has(match[1]!)) {
      const shown = match ? `--${match[1]}` : `argument #${i + 1}`;
      const valid = [...known].map((f) => `--${f}`).join(', ');
      problems.push({ path: 'argv', message: `unknown ${shown}; valid flags: ${valid}, --help` });
      continue;
    }
    const value = match[2] ?? argv[++i];
    if (value === undefined) problems.push({ path: `--${match[1]}`, message: 'needs a value' });
    flags.set(match[1]!, value);
  }
  return flags;
}

function checkNumber(
  key: string,
  entry: NumberEntry,
  raw: unknown,
  origin: string,
  problems: Problem[],
): number | undefined {
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < entry.min || value > entry.max) {
    const shown = typeof raw === 'string' || typeof raw === 'number' ? JSON.stringify(raw) : typeof raw;
    problems.push({
      path: key,
      message: `from ${origin} is ${shown}; expected a number from ${entry.min} to ${entry.max}`,
    });
    return undefined;
  }
  return value;
}

function checkRelations(config: RuntimeConfig, problems: Problem[]): void {
  if (config.sasTokenRenewalMarginSeconds >= config.sasTokenLifetimeSeconds) {
    problems.push({
      path: 'sasTokenRenewalMarginSeconds',
      message: `(${config.sasTokenRenewalMarginSeconds}) must be smaller than sasTokenLifetimeSeconds (${config.sasTokenLifetimeSeconds})`,
    });
  }
  if (config.reconnectMinDelaySeconds > config.reconnectMaxDelaySeconds) {
    problems.push({
      path: 'reconnectMinDelaySeconds',
      message: `(${config.reconnectMinDelaySeconds}) must not exceed reconnectMaxDelaySeconds (${config.reconnectMaxDelaySeconds})`,
    });
  }
  if (config.connectionString !== undefined) checkConnectionString(config.connectionString, problems);
}

/**
 * A module connection string with a key (docs/iot-hub-behaviour.md §3.5: ModuleClient.fromConnectionString is SAS
 * only).
 */
function checkConnectionString(connectionString: string, problems: Problem[]): void {
  try {
    const parsed = parseDeviceConnectionString(connectionString);
    if (parsed.moduleId === undefined || parsed.sharedAccessKey === undefined) {
      problems.push({
        path: 'connectionString',
        message:
          'must name a module and carry its key: HostName=..;DeviceId=..;ModuleId=..;SharedAccessKey=..',
      });
    }
  } catch (error) {
    // The lib's messages name keys, never values, so they are safe to show.
    const reason = error instanceof ConnectionStringError ? error.message : 'cannot be parsed';
    problems.push({ path: 'connectionString', message: reason });
  }
}

/** Where the client's identity comes from. */
export type ConnectionSource = { kind: 'connection-string'; connectionString: string } | { kind: 'edge' };

/** IoT Edge sets these for its modules (docs/iot-hub-behaviour.md §3.6; module_client.js fromEnvironment). */
const EDGE_MARKERS = ['IOTEDGE_WORKLOADURI', 'EdgeHubConnectionString'];

export function connectionSourceOf(
  config: RuntimeConfig,
  env: Readonly<Record<string, string | undefined>>,
): ConnectionSource {
  if (config.connectionString !== undefined) {
    return { kind: 'connection-string', connectionString: config.connectionString };
  }
  if (EDGE_MARKERS.some((name) => env[name])) return { kind: 'edge' };
  const entry = RUNTIME_CONFIG_TABLE.connectionString;
  throw new RuntimeConfigError([
    {
      path: 'connectionString',
      message: `is not set: pass --${entry.flag} or set ${entry.env} (or run inside IoT Edge, where ${EDGE_MARKERS.join(' or ')} is set)`,
    },
  ]);
}

/** `--help` text generated from the table, so it cannot drift from what is accepted. */
export function runtimeConfigHelp(): string {
  const lines = ['Usage: npm run device -- [flags]', ''];
  for (const [key, entry] of ENTRIES) {
    const range = entry.type === 'number' ? ` (${entry.min}..${entry.max})` : '';
    const fallback = entry.default !== undefined ? `, default ${entry.default}` : '';
    lines.push(`  --${entry.flag} <${entry.type}>  [${entry.env}${fallback}]${range}`);
    lines.push(`      ${key}: ${entry.description}`);
  }
  return lines.join('\n');
}
