/**
 * `npm run hub`: the local IoT hub in the foreground, like Azurite. Prints the address, the CA to
 * trust and every policy's connection string (the documented well-known local keys: printing them is
 * intended), then serves until SIGINT/SIGTERM, closes cleanly and exits 0.
 *
 * Flags (all optional; `--config <file.json>` takes the same names as keys, flags win):
 *   --port <n>  --bind <addr>  --data-dir <dir>  --in-memory  --host-name <name> (repeatable)
 *   --standard-ports  --log-level <level>  --throttle <F1|S1|S2|S3> --units <n>
 *   --policy-key <policy>=<base64 key> (repeatable)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type PolicyDefinition, WELL_KNOWN_POLICIES } from '../lib/local-hub-defaults';
import type { LogLevel } from './hub-logger';
import { type LocalHub, type LocalHubOptions, startLocalHub } from './local-hub';
import { type HubTier, validateThrottleOptions } from './throttle/request-throttle';

const FLAGS = {
  port: { type: 'string' },
  bind: { type: 'string' },
  'data-dir': { type: 'string' },
  'in-memory': { type: 'boolean' },
  'host-name': { type: 'string', multiple: true },
  'standard-ports': { type: 'boolean' },
  'log-level': { type: 'string' },
  throttle: { type: 'string' },
  units: { type: 'string' },
  'policy-key': { type: 'string', multiple: true },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type FlagName = Exclude<keyof typeof FLAGS, 'config' | 'help'>;
type RawSettings = Partial<Record<FlagName, unknown>>;

const USAGE = `Usage: npm run hub -- [options]
  --port <n>                 TLS port for HTTPS and MQTT (default 8443; 0 = any free port)
  --bind <address>           listen address (default 127.0.0.1; 0.0.0.0 = all interfaces)
  --data-dir <dir>           registry, twins and CA (default .local-hub)
  --in-memory                keep nothing on disk
  --host-name <name>         extra certificate/hub name, repeatable (e.g. myhub.local)
  --standard-ports           also listen on 443 (HTTPS) and 8883 (MQTTS)
  --log-level <level>        debug | info | warn | error | silent (default info)
  --throttle <tier>          enforce IoT Hub quotas of F1 | S1 | S2 | S3
  --units <n>                units of that tier (default 1)
  --policy-key <name>=<key>  override a policy's primary key (base64), repeatable
  --config <file.json>       the same settings as a JSON object (flags win)`;

class UsageError extends Error {}

/** Settings from `--config`, checked for unknown keys so a typo is reported, not ignored. */
function readConfigFile(file: string): RawSettings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--config ${file}: cannot read it as JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--config ${file}: expected a JSON object of settings`);
  }
  const valid = Object.keys(FLAGS).filter((k) => k !== 'config' && k !== 'help');
  const unknown = Object.keys(parsed).filter((key) => !valid.includes(key));
  if (unknown.length > 0) {
    throw new UsageError(
      `--config ${file}: unknown keys ${unknown.join(', ')}; valid keys: ${valid.join(', ')}`,
    );
  }
  return parsed as RawSettings;
}

/** Turns flags + config into LocalHubOptions; every problem is reported at once. */
export function parseHubArguments(argv: readonly string[]): LocalHubOptions | 'help' {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values['help']) return 'help';
  const fromFile = typeof values['config'] === 'string' ? readConfigFile(values['config']) : {};
  const raw: RawSettings = { ...fromFile };
  for (const name of Object.keys(FLAGS) as FlagName[]) {
    if (values[name] !== undefined) raw[name] = values[name];
  }
  const problems: string[] = [];
  const options = toOptions(raw, problems);
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return options;
}

function toOptions(raw: RawSettings, problems: string[]): LocalHubOptions {
  const options: LocalHubOptions = {};
  const port = integerSetting(raw.port, '--port', 0, 65535, problems);
  if (port !== undefined) options.port = port;
  const bind = stringSetting(raw.bind, '--bind', problems);
  if (bind !== undefined) options.bindAddress = bind;
  const dataDir = stringSetting(raw['data-dir'], '--data-dir', problems);
  if (dataDir !== undefined) options.dataDir = dataDir;
  if (booleanSetting(raw['in-memory'], '--in-memory', problems)) options.inMemory = true;
  if (options.inMemory && dataDir !== undefined) problems.push('--in-memory and --data-dir: choose one');
  const hostNames = listSetting(raw['host-name'], '--host-name', problems);
  if (hostNames.length > 0) options.hostNames = hostNames;
  if (booleanSetting(raw['standard-ports'], '--standard-ports', problems)) options.standardPorts = true;
  const level = stringSetting(raw['log-level'], '--log-level', problems);
  if (level !== undefined) {
    const levels = ['debug', 'info', 'warn', 'error', 'silent'];
    if (levels.includes(level)) options.logLevel = level as LogLevel;
    else
      problems.push(`--log-level ${JSON.stringify(level)} is not valid; valid levels: ${levels.join(', ')}`);
  }
  const throttle = throttleSetting(raw, problems);
  if (throttle) options.throttle = throttle;
  const policies = policySetting(raw['policy-key'], problems);
  if (policies) options.policies = policies;
  return options;
}

function throttleSetting(raw: RawSettings, problems: string[]): LocalHubOptions['throttle'] {
  const tier = stringSetting(raw.throttle, '--throttle', problems);
  const units = integerSetting(raw.units, '--units', 1, Number.MAX_SAFE_INTEGER, problems);
  if (tier === undefined) {
    if (units !== undefined) problems.push('--units needs --throttle <F1|S1|S2|S3>');
    return undefined;
  }
  const found = validateThrottleOptions(tier, units ?? 1);
  problems.push(...found.map((message) => `--throttle/--units: ${message}`));
  return found.length === 0 ? { tier: tier as HubTier, units: units ?? 1 } : undefined;
}

/** `--policy-key <name>=<base64>` replaces that well-known policy's primary key. */
function policySetting(value: unknown, problems: string[]): PolicyDefinition[] | undefined {
  const entries =
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.entries(value).map(([name, key]) => `${name}=${String(key)}`)
      : listSetting(value, '--policy-key', problems);
  if (entries.length === 0) return undefined;
  const policies = WELL_KNOWN_POLICIES.map((policy) => ({ ...policy }));
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const key = eq < 0 ? '' : entry.slice(eq + 1);
    const policy = policies.find((p) => p.keyName === name);
    if (!policy) {
      const valid = policies.map((p) => p.keyName).join(', ');
      problems.push(`--policy-key: unknown policy ${JSON.stringify(name)}; valid policies: ${valid}`);
      continue;
    }
    // Never echo the key itself: it is a secret even when it is wrong.
    const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(key) ? Buffer.from(key, 'base64').length : 0;
    if (bytes < 16 || bytes > 64) {
      problems.push(
        `--policy-key ${name}=<key>: the key must be base64 of 16 to 64 bytes (44 characters for 32 bytes)`,
      );
      continue;
    }
    policy.primaryKey = key;
  }
  return policies;
}

function stringSetting(value: unknown, flag: string, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.trim() !== '') return value;
  problems.push(`${flag} needs a non-empty value`);
  return undefined;
}

function integerSetting(
  value: unknown,
  flag: string,
  min: number,
  max: number,
  problems: string[],
): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : /^\d+$/.test(String(value)) ? Number(value) : Number.NaN;
  if (Number.isInteger(n) && n >= min && n <= max) return n;
  problems.push(`${flag} ${JSON.stringify(value)} is not valid; expected an integer from ${min} to ${max}`);
  return undefined;
}

function booleanSetting(value: unknown, flag: string, problems: string[]): boolean {
  if (value === undefined || typeof value === 'boolean') return value === true;
  problems.push(`${flag} is a switch; in --config use true or false`);
  return false;
}

function listSetting(value: unknown, flag: string, problems: string[]): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  if (list.every((item) => typeof item === 'string' && item !== '')) return list as string[];
  problems.push(`${flag} needs non-empty string values`);
  return [];
}

/** The banner; `listening on <hostName>` is what tests/support/local-hub-fixture.ts reads. */
function isWellKnownKey(policyName: string, connectionString: string): boolean {
  const wellKnown = WELL_KNOWN_POLICIES.find((policy) => policy.keyName === policyName);
  return wellKnown !== undefined && connectionString.endsWith(`;SharedAccessKey=${wellKnown.primaryKey}`);
}

export function describeHub(hub: LocalHub): string {
  const lines = [
    `Local IoT hub listening on ${hub.hostName} (HTTPS and MQTTS on one port)`,
    `  data directory: ${hub.dataDir ?? 'none (in memory)'}`,
    hub.caCertificatePath
      ? `  CA certificate: ${hub.caCertificatePath}  (trust it: NODE_EXTRA_CA_CERTS=${hub.caCertificatePath} or the SDKs' ca option)`
      : `  CA certificate (in memory; trust this PEM):\n${hub.caCertificatePem.trim()}`,
    '  Service connection strings (well-known local keys, valid only against this hub):',
    ...Object.entries(hub.connectionStrings).map(([policy, cs]) =>
      // A key set with --policy-key / --config is the user's own secret: never print it.
      isWellKnownKey(policy, cs)
        ? `    ${policy}: ${cs}`
        : `    ${policy}: key overridden (not printed); HostName=${hub.hostName};SharedAccessKeyName=${policy};SharedAccessKey=<your key>`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  let options: LocalHubOptions | 'help';
  try {
    options = parseHubArguments(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`npm run hub: ${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const hub = await startLocalHub(options);
  process.stdout.write(describeHub(hub));
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`Second ${signal}: exiting without waiting for connections to close\n`);
      process.exit(1);
    }
    stopping = true;
    hub.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`Closing the hub failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`npm run hub: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
