/**
 * `npm run hub`: the local IoT hub in the foreground, like Azurite. Prints the address, the CA to
 * trust and every policy's connection string (the documented well-known local keys: printing them is
 * intended), then serves until SIGINT/SIGTERM, closes cleanly and exits 0.
 *
 * Flags (all optional; `--config <file.json>` takes the same names as keys, flags win):
 *   --port <n>  --bind <addr>  --data-dir <dir>  --in-memory (its CA written to a temp file the banner
 *   names)  --host-name <name> (repeatable)
 *   --standard-ports  --no-web-view  --log-level <level>  --throttle <F1|S1|S2|S3> --units <n>  --latency-ms <n>
 *   --max-connections <n>  --max-connections-per-address <n>
 *   --policy-key-file <policy>=<file> (repeatable)  --policy-key <policy>=<primary>[,<secondary>] (repeatable)
 * Keys also come from LOCAL_HUB_POLICY_KEYS (policy-keys.ts), which keeps them off the command line.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  describeWellKnownKeys,
  WELL_KNOWN_POLICIES,
  type WellKnownKeyInForce,
} from '../lib/local-hub-defaults';
import type { LogLevel } from './hub-logger';
import { type LocalHub, type LocalHubOptions, MAX_LATENCY_MS, startLocalHub } from './local-hub';
import {
  applyKeyEntries,
  type KeyEntry,
  keyEntriesFromEnvironment,
  keyEntryFromFile,
  POLICY_KEYS_ENV,
} from './policy-keys';
import { type HubTier, validateThrottleOptions } from './throttle/request-throttle';

const FLAGS = {
  port: { type: 'string' },
  bind: { type: 'string' },
  'data-dir': { type: 'string' },
  'in-memory': { type: 'boolean' },
  'host-name': { type: 'string', multiple: true },
  'standard-ports': { type: 'boolean' },
  'no-web-view': { type: 'boolean' },
  'log-level': { type: 'string' },
  throttle: { type: 'string' },
  units: { type: 'string' },
  'latency-ms': { type: 'string' },
  'max-connections': { type: 'string' },
  'max-connections-per-address': { type: 'string' },
  'policy-key': { type: 'string', multiple: true },
  'policy-key-file': { type: 'string', multiple: true },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type FlagName = Exclude<keyof typeof FLAGS, 'config' | 'help'>;
type RawSettings = Partial<Record<FlagName, unknown>>;

const USAGE = `Usage: npm run hub -- [options]
  --port <n>                 TLS port for HTTPS and MQTT (default 8443; 0 = any free port)
  --bind <address>           listen address (default 127.0.0.1; 0.0.0.0 = all interfaces)
  --data-dir <dir>           registry, twins and CA (default .local-hub)
  --in-memory                keep nothing on disk (but the CA certificate, in a private temp file the banner
                             names, removed when the hub stops)
  --host-name <name>         extra certificate/hub name, repeatable (e.g. myhub.local)
  --standard-ports           also listen on 443 (HTTPS) and 8883 (MQTTS)
  --no-web-view              no browser view under /local-hub/view/ (its paths answer 404)
  --log-level <level>        debug | info | warn | error | silent (default info)
  --throttle <tier>          enforce IoT Hub quotas of F1 | S1 | S2 | S3
  --units <n>                units of that tier (default 1)
  --latency-ms <n>           add n ms of round-trip latency to every service REST request (default 0)
  --max-connections <n>      open connections per port (default: under the open-file limit, at most 4000)
  --max-connections-per-address <n>  of those, from one remote address (default half)
  --policy-key-file <name>=<file>  replace a policy's keys with those in <file> ("<primary>[,<secondary>]"), repeatable
  --policy-key <name>=<primary>[,<secondary>]  the same on the command line (visible in ps; prefer the file
                             or ${POLICY_KEYS_ENV}="<name>=<primary>[,<secondary>];..."); one key serves as both
  --config <file.json>       the same settings as a JSON object (flags win)

Commands against a running hub (docs/hub-commands.md; \`npm run hub -- devices --help\`):
  npm run hub -- devices|modules|twin|query|invoke-method|telemetry ...`;

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
export function parseHubArguments(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): LocalHubOptions | 'help' {
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
  // Environment first, then the config file, then flags: the most specific source wins per policy.
  const fileKeys = { 'policy-key': fromFile['policy-key'], 'policy-key-file': fromFile['policy-key-file'] };
  const flagKeys = { 'policy-key': values['policy-key'], 'policy-key-file': values['policy-key-file'] };
  const policies = applyKeyEntries(
    [...keyEntriesFromEnvironment(env), ...keyEntries(fileKeys, problems), ...keyEntries(flagKeys, problems)],
    problems,
  );
  if (policies) options.policies = policies;
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return options;
}

/** `--policy-key` / `--policy-key-file` values (a list, or in --config also an object of policy: value). */
function keyEntries(
  raw: Pick<RawSettings, 'policy-key' | 'policy-key-file'>,
  problems: string[],
): KeyEntry[] {
  const list = (value: unknown, flag: string) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.entries(value).map(([name, v]) => `${name}=${String(v)}`)
      : listSetting(value, flag, problems);
  return [
    ...list(raw['policy-key-file'], '--policy-key-file').flatMap(
      (spec) => keyEntryFromFile(spec, '--policy-key-file', problems) ?? [],
    ),
    ...list(raw['policy-key'], '--policy-key').map((text) => ({ origin: '--policy-key', text })),
  ];
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
  if (booleanSetting(raw['no-web-view'], '--no-web-view', problems)) options.webView = false;
  const level = stringSetting(raw['log-level'], '--log-level', problems);
  if (level !== undefined) {
    const levels = ['debug', 'info', 'warn', 'error', 'silent'];
    if (levels.includes(level)) options.logLevel = level as LogLevel;
    else
      problems.push(`--log-level ${JSON.stringify(level)} is not valid; valid levels: ${levels.join(', ')}`);
  }
  const throttle = throttleSetting(raw, problems);
  if (throttle) options.throttle = throttle;
  const latency = integerSetting(raw['latency-ms'], '--latency-ms', 0, MAX_LATENCY_MS, problems);
  if (latency !== undefined) options.latencyMs = latency;
  const max = integerSetting(raw['max-connections'], '--max-connections', 1, 1_000_000, problems);
  if (max !== undefined) options.maxConnections = max;
  const perAddress = integerSetting(
    raw['max-connections-per-address'],
    '--max-connections-per-address',
    1,
    1_000_000,
    problems,
  );
  if (perAddress !== undefined) options.maxConnectionsPerAddress = perAddress;
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

/**
 * An in-memory hub's CA exists only in this process; devices and the hub commands need it as a file
 * (`--ca <file>`). Written in a directory of its own (0700, mkdtemp's mode) as a 0600 file, removed when
 * the hub stops; a SIGKILL leaves it behind in the OS temp directory (it holds no private key).
 */
export interface InMemoryCaFile {
  path: string;
  remove(): void;
}

export function writeInMemoryCaFile(pem: string): InMemoryCaFile {
  const dir = mkdtempSync(path.join(tmpdir(), 'local-hub-ca-'));
  chmodSync(dir, 0o700);
  const file = path.join(dir, 'ca.pem');
  writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  let removed = false;
  return {
    path: file,
    remove() {
      if (removed) return;
      removed = true;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function describeHub(hub: LocalHub, inMemoryCaFile?: string): string {
  const lines = [
    `Local IoT hub listening on ${hub.hostName} (HTTPS and MQTTS on one port)`,
    `  MQTT over WebSockets: ${(hub.webSocketUrls ?? []).join(' and ')}` +
      ((hub.webSocketUrls ?? []).length > 1
        ? ''
        : " (the SDKs' MqttWs transports always dial port 443: add --standard-ports for them)"),
    `  data directory: ${hub.dataDir ?? 'none (in memory)'}`,
    hub.webViewUrl
      ? `  web view: ${hub.webViewUrl}  (sign in with a service connection string; --no-web-view turns it off)`
      : '  web view: off',
    hub.caCertificatePath
      ? `  CA certificate: ${hub.caCertificatePath}  (trust it: NODE_EXTRA_CA_CERTS=${hub.caCertificatePath} or the SDKs' ca option)`
      : inMemoryCaFile
        ? `  CA certificate: ${inMemoryCaFile}  (this run only, removed when the hub stops; trust it: --ca ${inMemoryCaFile}, NODE_EXTRA_CA_CERTS or the SDKs' ca option)`
        : `  CA certificate (in memory; trust this PEM):\n${hub.caCertificatePem.trim()}`,
    '  Service connection strings (valid only against this hub):',
    ...Object.entries(hub.connectionStrings).map(([policy, cs]) =>
      // A key from --policy-key, a key file, the environment or --config is the user's own secret:
      // never print it.
      isWellKnownKey(policy, cs)
        ? `    ${policy}: ${cs}`
        : `    ${policy}: key overridden (not printed); HostName=${hub.hostName};SharedAccessKeyName=${policy};SharedAccessKey=<your key>`,
    ),
    wellKnownLine(hub),
  ];
  return `${lines.join('\n')}\n`;
}

/** Item 1: say which documented public keys still open this hub, secondary keys included. */
function wellKnownLine(hub: LocalHub): string {
  const inForce: WellKnownKeyInForce[] =
    hub.wellKnownKeys ??
    Object.entries(hub.connectionStrings)
      .filter(([policy, cs]) => isWellKnownKey(policy, cs))
      .map(([policy]) => ({ policy, keys: ['primary', 'secondary'] }));
  return inForce.length === 0
    ? '  No well-known keys in force: every policy uses your own keys.'
    : `  Well-known (public) keys in force: ${describeWellKnownKeys(inForce)}; anyone who can reach this ` +
        `hub can use them. Replace them with ${POLICY_KEYS_ENV} or --policy-key-file.`;
}

export async function main(): Promise<void> {
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
  if (process.argv.slice(2).some((arg) => arg === '--policy-key' || arg.startsWith('--policy-key='))) {
    process.stderr.write(
      `npm run hub: --policy-key puts keys on the command line, where ps and npm's echo show them; ` +
        `prefer ${POLICY_KEYS_ENV} or --policy-key-file.\n`,
    );
  }
  const hub = await startLocalHub(options);
  const caFile = hub.caCertificatePath === null ? writeInMemoryCaFile(hub.caCertificatePem) : undefined;
  // Also on an exit the handlers below do not see (an uncaught error); rmSync is synchronous, as 'exit' needs.
  if (caFile) process.on('exit', () => caFile.remove());
  process.stdout.write(describeHub(hub, caFile?.path));
  // Loud and unconditional (whatever --log-level): a shared network can reach this hub.
  if (hub.exposureWarning) process.stderr.write(`\n${hub.exposureWarning}\n\n`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`Second ${signal}: exiting without waiting for connections to close\n`);
      process.exit(1);
    }
    stopping = true;
    caFile?.remove();
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
