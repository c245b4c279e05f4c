/**
 * The stage for the attack matrix (issue #5): a hub with a victim, an attacker and a few special
 * identities, every key and token an attack uses remembered so the suite can prove none of them
 * ever appears in an answer or a log line, and a snapshot of what the attacks must not change.
 */
import assert from 'node:assert/strict';
import { WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import type { LocalHub } from '../../local-hub/index';
import {
  certificateThumbprints,
  createSelfSignedClientCertificate,
  type PemKeyPair,
} from '../../local-hub/tls/certificates';
import { startTestHub } from './local-hub-fixture';
import type { RawConnectResult } from './raw-mqtt';
import { installBrokerProbe } from './reliability-broker-probe';
import { createRestCaller, type RestCaller, type RestReply } from './reliability-rest';

/** The victim's desired value: must never reach anyone but the victim. */
export const VICTIM_SECRET = 'victim-desired-7f3a9c';

export const IDS = {
  victim: { deviceId: 'victim' },
  victimModule: { deviceId: 'victim', moduleId: 'vm' },
  victimSibling: { deviceId: 'victim', moduleId: 'vm2' },
  attacker: { deviceId: 'attacker' },
  attackerModule: { deviceId: 'attacker', moduleId: 'am' },
  disabled: { deviceId: 'disabled' },
  disabledModule: { deviceId: 'disabled', moduleId: 'dm' },
  x509: { deviceId: 'x509-dev' },
} as const;

export interface AttackStage {
  hub: LocalHub;
  rest: RestCaller;
  /** Primary keys by identity name of IDS. */
  keys: Record<keyof typeof IDS, string>;
  x509Certificate: PemKeyPair;
  /** Everything secret an attack used or could expose: keys, tokens, passwords. */
  secrets: Set<string>;
  logLines: string[];
  /** The hub's aedes broker, for what no client can observe (retained messages). */
  broker: Awaited<ReturnType<typeof installBrokerProbe>>['brokers'][number];
}

export interface AttackCase {
  name: string;
  transport: 'REST' | 'MQTT';
  run(stage: AttackStage): Promise<void>;
}

export async function setUpAttackStage(): Promise<AttackStage> {
  const logLines: string[] = [];
  const probe = await installBrokerProbe();
  const hub = await startTestHub({ logLevel: 'debug', logWrite: (line) => logLines.push(line) }).finally(() =>
    probe.uninstall(),
  );
  const broker = probe.brokers[0]!;
  const { state } = hub;
  const x509Certificate = await createSelfSignedClientCertificate(IDS.x509.deviceId);
  state.createDevice('victim', {});
  state.createModule('victim', 'vm', {});
  state.createModule('victim', 'vm2', {});
  state.createDevice('attacker', {});
  state.createModule('attacker', 'am', {});
  state.createDevice('disabled', { status: 'disabled' });
  state.createModule('disabled', 'dm', {});
  state.createDevice('x509-dev', {
    authentication: {
      type: 'selfSigned',
      x509Thumbprint: { primaryThumbprint: certificateThumbprints(x509Certificate.certificatePem).sha256 },
    },
  });
  state.patchTwin('victim', null, { properties: { desired: { secret: VICTIM_SECRET } } }, '*');
  state.patchTwin('victim', 'vm', { properties: { desired: { secret: VICTIM_SECRET } } }, '*');
  const keyOf = (ids: { deviceId: string; moduleId?: string }): string => {
    const identity = state.findIdentity(ids.deviceId, ids.moduleId ?? null)!;
    return identity.authentication.symmetricKey.primaryKey ?? '';
  };
  const keys = Object.fromEntries(
    Object.entries(IDS).map(([name, ids]) => [name, keyOf(ids)]),
  ) as AttackStage['keys'];
  const secrets = new Set<string>([
    ...WELL_KNOWN_POLICIES.flatMap((p) => [p.primaryKey, p.secondaryKey]),
    ...Object.values(keys).filter((k) => k !== ''),
    x509Certificate.privateKeyPem,
  ]);
  return { hub, rest: createRestCaller(hub), keys, x509Certificate, secrets, logLines, broker };
}

/**
 * Remembers a token an attack sent, and its signature on its own (a log line could carry either).
 * Fragments too short to be a credential (an empty token is just the scheme word) are not secrets.
 */
export function rememberToken(stage: AttackStage, token: string): void {
  const sig = /sig=([^&]{16,})/.exec(token)?.[1];
  if (!sig) return;
  stage.secrets.add(token);
  stage.secrets.add(sig);
  try {
    stage.secrets.add(decodeURIComponent(sig));
  } catch {
    // A deliberately broken encoding: the raw form is remembered already.
  }
}

/** What the attacks must not change: identities (keys, etags, status) and twin content of everyone. */
export function snapshotRegistry(hub: LocalHub): unknown {
  const { state } = hub;
  return state.listDevices().map((device) => ({
    device: { id: device.deviceId, etag: device.etag, status: device.status, auth: device.authentication },
    twin: pickTwin(state.getTwin(device.deviceId, null)),
    modules: state.listModules(device.deviceId).map((m) => ({
      id: m.moduleId,
      etag: m.etag,
      auth: m.authentication,
      twin: pickTwin(state.getTwin(device.deviceId, m.moduleId)),
    })),
  }));
}

/**
 * Twin content without `$version`/`$metadata`: the matrix itself re-sends the victim's desired value
 * unchanged to produce a notification, which bumps versions but must leave content as it was.
 */
function pickTwin(twin: { tags?: unknown; properties: { desired: object; reported: object } }) {
  const content = (section: object) =>
    Object.fromEntries(Object.entries(section).filter(([key]) => !key.startsWith('$')));
  return {
    tags: twin.tags,
    desired: content(twin.properties.desired),
    reported: content(twin.properties.reported),
  };
}

/** A refusal on the service API: the status, the legacy error shape, and nothing secret in it. */
export function expectRestRefused(stage: AttackStage, reply: RestReply, status = 401): void {
  assert.equal(reply.status, status, `expected ${status}, got ${reply.status}: ${reply.text.slice(0, 200)}`);
  const body = JSON.parse(reply.text) as { Message: string };
  assert.match(body.Message, /^ErrorCode:[A-Za-z]+;/);
  if (status === 401) assert.equal(reply.headers['iothub-errorcode'], 'IotHubUnauthorizedAccess');
  assertNothingSecret(stage, reply.text);
}

export function assertNothingSecret(stage: AttackStage, text: string): void {
  assert.ok(!text.includes(VICTIM_SECRET), 'the answer carries the victim twin');
  for (const secret of stage.secrets) assert.ok(!text.includes(secret), 'the answer carries a key or token');
}

/** A refused CONNECT: CONNACK with this return code (MQTT 3.1.1 §3.2.2.3), never a session. */
export function expectConnectRefused(result: RawConnectResult, returnCode: 2 | 4 | 5): void {
  if (result.kind === 'connected') {
    result.client.end(true);
    assert.fail(`the connection was accepted; expected CONNACK ${returnCode}`);
  }
  assert.deepEqual(result, { kind: 'refused', returnCode });
}
