/**
 * Local hubs for every test tier: in-process (`startTestHub`) or as a child process on a data
 * directory (`spawnHubProcess`) for restart, kill -9 and fault tests. Both listen on 127.0.0.1 port 0;
 * the caller closes/kills them. Logs are silent unless HUB_LOG=debug (or another level) is set.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as mqtt from 'mqtt';
import { createSasToken, encodeUriComponentStrict } from '../../lib/sas-token';
import type { LogLevel } from '../../local-hub/hub-logger';
import { type LocalHub, type LocalHubOptions, startLocalHub } from '../../local-hub/index';
import { within } from './runtime-wait';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(PROJECT_ROOT, 'local-hub', 'cli.ts');
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
/** A child starting through tsx on a loaded machine takes seconds; a minute bounds a child that never starts. */
const PROCESS_START_MS = 60_000;

function testLogLevel(): LogLevel {
  const wanted = process.env['HUB_LOG'] as LogLevel | undefined;
  return wanted && LOG_LEVELS.includes(wanted) ? wanted : 'silent';
}

/** An in-process hub: port 0, in memory unless `dataDir` is given, silent unless HUB_LOG is set. */
export function startTestHub(options: LocalHubOptions = {}): Promise<LocalHub> {
  return startLocalHub({
    port: 0,
    logLevel: testLogLevel(),
    ...(options.dataDir === undefined ? { inMemory: true } : {}),
    ...options,
  });
}

export interface HubProcess {
  hostName: string;
  port: number;
  /** `<dataDir>/ca.pem` as the child wrote it. */
  caPem: string;
  /** Everything the child printed on stdout and stderr so far (for assertion messages). */
  output(): string;
  kill(signal: NodeJS.Signals): void;
  /** Resolves with the exit code (null when killed by a signal) and that signal. */
  waitExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnHubOptions {
  dataDir: string;
  /** Default 0 (any free port); pass the previous port to restart on the same address. */
  port?: number;
  extraArgs?: string[];
}

/**
 * Runs `local-hub/cli.ts` (what `npm run hub` runs) in a child process and waits for its banner line
 * `listening on <hostName>`. Rejects with the child's output if it exits first.
 */
export async function spawnHubProcess(options: SpawnHubOptions): Promise<HubProcess> {
  const args = ['--import', 'tsx', CLI, '--port', String(options.port ?? 0), '--data-dir', options.dataDir];
  args.push(
    '--log-level',
    testLogLevel() === 'silent' ? 'warn' : testLogLevel(),
    ...(options.extraArgs ?? []),
  );
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (process.env['HUB_LOG']) process.stderr.write(chunk);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const hostName = await within(
    () => `the hub process to print "listening on <host>"; its output so far:\n${output}`,
    waitForBanner(child, () => output, exited),
    PROCESS_START_MS,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  const port = Number(hostName.slice(hostName.lastIndexOf(':') + 1));
  return {
    hostName,
    port,
    caPem: readFileSync(path.join(options.dataDir, 'ca.pem'), 'utf8'),
    output: () => output,
    kill: (signal) => {
      child.kill(signal);
    },
    waitExit: () => within('the hub process to exit', exited),
  };
}

function waitForBanner(
  child: ChildProcess,
  output: () => string,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = /listening on (\S+)/.exec(output());
      if (match) {
        child.stdout!.off('data', check);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    exited.then(({ code, signal }) =>
      reject(
        new Error(`The hub process exited (code ${code}, signal ${signal}) before listening:\n${output()}`),
      ),
    );
  });
}

/**
 * A device SAS token as the device SDK builds it (docs/iot-hub-behaviour.md §1.5): `sr` is the strictly encoded
 * `<hostName>/devices/<d>[/modules/<m>]`, signed with `key`, valid for an hour unless `expiresAt` is given.
 */
export function deviceSasToken(o: {
  hostName: string;
  deviceId: string;
  moduleId?: string;
  key: string;
  expiresAt?: number;
}): string {
  const resource = `${o.hostName}/devices/${o.deviceId}${o.moduleId === undefined ? '' : `/modules/${o.moduleId}`}`;
  return createSasToken({
    sr: encodeUriComponentStrict(resource),
    base64Key: o.key,
    expiresAt: o.expiresAt ?? Math.floor(Date.now() / 1000) + 3600,
  });
}

export interface RawMqttOptions {
  clientId: string;
  /** Default `<hostName>/<clientId>/?api-version=2021-04-12` (docs/iot-hub-behaviour.md §3.1). */
  username?: string;
  password?: string;
  /** TLS client certificate (X.509 identities). */
  cert?: string;
  key?: string;
}

/**
 * A raw mqtt.js (the client the device SDK wraps) MQTT 3.1.1 connection to the hub, for attempts
 * the SDK never makes. Resolves with the connected client, or with the CONNACK return code.
 */
export function connectRawMqtt(
  hub: { hostName: string; caCertificatePem: string },
  o: RawMqttOptions,
): Promise<{ client: mqtt.MqttClient; returnCode: 0 } | { client: null; returnCode: number }> {
  const client = mqtt.connect(`mqtts://${hub.hostName}`, {
    ca: hub.caCertificatePem,
    clientId: o.clientId,
    username: o.username ?? `${hub.hostName}/${o.clientId}/?api-version=2021-04-12`,
    ...(o.password === undefined ? {} : { password: o.password }),
    ...(o.cert === undefined ? {} : { cert: o.cert, key: o.key }),
    protocolVersion: 4,
    reconnectPeriod: 0,
    clean: true,
  });
  const answered = new Promise<
    { client: mqtt.MqttClient; returnCode: 0 } | { client: null; returnCode: number }
  >((resolve) => {
    client.once('connect', () => resolve({ client, returnCode: 0 }));
    client.once('error', (error: Error & { code?: number }) => {
      client.end(true);
      resolve({ client: null, returnCode: typeof error.code === 'number' ? error.code : -1 });
    });
    // Closed without a CONNACK (the hub dropped the socket): -1, as for an error without a code.
    client.once('close', () => resolve({ client: null, returnCode: -1 }));
  });
  return within(`a CONNACK for client id ${JSON.stringify(o.clientId)}`, answered).catch((error: unknown) => {
    client.end(true);
    throw error;
  });
}
