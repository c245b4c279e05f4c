/**
 * The last step of `npm start`: run the device runtime for every module the local stack declared, so a
 * newcomer sees each module receive its desired properties (the tutorial's `telemetryInterval: 122`) and
 * acknowledge them. One runtime per module, all in this process, each log line prefixed with its module.
 */
import type { DeviceRuntime } from '../device-runtime';

export interface ModuleRuntimeSet {
  runtimes: ReadonlyMap<string, DeviceRuntime>;
  stop(): Promise<void>;
}

/**
 * `connectionStrings` is the stack output `moduleConnectionStrings` ("<device>/<module>" → connection
 * string); `ca` is the local hub's CA PEM. `write` receives one line per runtime event.
 */
export async function runModuleRuntimes(
  connectionStrings: Readonly<Record<string, string>>,
  ca: string,
  write: (line: string) => void,
): Promise<ModuleRuntimeSet> {
  // Loaded here, not at import: `npm start` without a CLI must not load the device SDK.
  const { startDeviceRuntime } = require('../device-runtime') as typeof import('../device-runtime');
  const runtimes = new Map<string, DeviceRuntime>();
  for (const [name, connectionString] of Object.entries(connectionStrings)) {
    const prefix = `[${name}]`;
    const runtime = await startDeviceRuntime({
      connectionString,
      ca,
      // Only the table's defaults: the stack's connection string wins over the caller's environment.
      env: {},
      logger: {
        info: (line) => write(`${prefix} ${line}`),
        warn: (line) => write(`${prefix} warning: ${line}`),
      },
    });
    runtimes.set(name, runtime);
  }
  return {
    runtimes,
    stop: async () => {
      await Promise.all([...runtimes.values()].map((runtime) => runtime.stop()));
    },
  };
}

/** Parses `pulumi stack output moduleConnectionStrings --show-secrets --json`; names what is wrong. */
export function parseModuleConnectionStrings(json: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error('the stack output moduleConnectionStrings is not JSON (was the stack deployed?)');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(
      'the stack output moduleConnectionStrings should be an object of "<device>/<module>" keys',
    );
  }
  const entries = Object.entries(parsed).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string',
  );
  // Modules with X.509 authentication have no SAS connection string; the runtime needs one.
  return Object.fromEntries(entries.filter(([, value]) => value.includes('SharedAccessKey=')));
}
