/**
 * The device runtime against a real local hub, driven through the official service SDK: desired updates are
 * applied and acknowledged (PnP acks carrying the desired $version), invalid and unknown values are rejected
 * with 400 / 404, a runtime that was offline catches up once with the final state, and a token renewal
 * (SDK reconnect with the session kept) is followed by a re-GET.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type DeviceRuntimeOptions, startDeviceRuntime } from '../../device-runtime/index';
import type { AppliedEvent, ReconciledEvent } from '../../device-runtime/runtime-events';
import { createHubClient, type HubClient } from '../../dynamic-providers/iothub-client';
import { evaluateAcks } from '../../lib/pnp-ack';
import type { LocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';
import { waitFor, within } from '../support/runtime-wait';

const DEVICE = 'runtime-device';

let hub: LocalHub;
let service: HubClient;

async function addModule(moduleId: string): Promise<void> {
  await service.registry.addModule({ deviceId: DEVICE, moduleId } as Parameters<
    HubClient['registry']['addModule']
  >[0]);
}

/** Writes desired properties through the service SDK; returns the desired $version the hub assigned. */
async function writeDesired(moduleId: string, desired: Record<string, unknown>): Promise<number> {
  const result = await service.registry.updateModuleTwin(DEVICE, moduleId, { properties: { desired } }, '*');
  return (result.responseBody as unknown as { properties: { desired: { $version: number } } }).properties
    .desired.$version;
}

async function reported(moduleId: string): Promise<Record<string, unknown>> {
  const result = await service.registry.getModuleTwin(DEVICE, moduleId);
  return (result.responseBody as unknown as { properties: { reported: Record<string, unknown> } }).properties
    .reported;
}

/** Waits until the hub holds an ack for `key` at `version` or later; returns it. */
function ackAt(moduleId: string, key: string, version: number) {
  return waitFor(`${moduleId}.${key} ack at version ${version}`, async () => {
    const ack = (await reported(moduleId))[key] as
      | { value: unknown; ac: number; av: number; ad?: string }
      | undefined;
    return ack && ack.av >= version ? ack : undefined;
  });
}

async function startRuntime(moduleId: string, extra: Partial<DeviceRuntimeOptions> = {}) {
  const lines: string[] = [];
  const runtime = await startDeviceRuntime({
    connectionString: hub.deviceConnectionString(DEVICE, moduleId),
    ca: hub.caCertificatePem,
    env: {},
    config: { telemetryIntervalSeconds: 1, operationTimeoutSeconds: 10, reconnectMinDelaySeconds: 0.1 },
    logger: { info: (line) => lines.push(line), warn: (line) => lines.push(`WARN ${line}`) },
    ...extra,
  });
  const applied: AppliedEvent[] = [];
  runtime.on('applied', (event) => applied.push(event));
  return { runtime, lines, applied };
}

function telemetryStamps(moduleId: string, interval: number): number[] {
  return hub.state
    .recentMessages(DEVICE, moduleId)
    .filter(
      (m) =>
        (JSON.parse(m.body.toString('utf8')) as { telemetryInterval: number }).telemetryInterval === interval,
    )
    .map((m) => Date.parse(m.receivedAt));
}

function medianGap(stamps: number[]): number {
  const gaps = stamps.slice(1).map((t, i) => t - stamps[i]!);
  return gaps.sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
}

before(async () => {
  hub = await startTestHub();
  service = createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificatePem });
  await service.registry.create({ deviceId: DEVICE });
});

after(async () => {
  await hub.close();
});

describe('device runtime e2e', () => {
  test('applies a desired update, acks its $version, and telemetry at the hub follows the new interval', async (t) => {
    await addModule('apply');
    const { runtime, lines, applied } = await startRuntime('apply');
    t.after(() => within('the runtime to stop', runtime.stop()));
    const slow = await writeDesired('apply', { telemetryInterval: 1 });
    assert.deepEqual(await ackAt('apply', 'telemetryInterval', slow), { value: 1, ac: 200, av: slow });
    await waitFor('3 messages sent at 1 s', () =>
      telemetryStamps('apply', 1).length >= 3 ? true : undefined,
    );

    const fast = await writeDesired('apply', { telemetryInterval: 0.2 });
    const ack = await ackAt('apply', 'telemetryInterval', fast);
    assert.deepEqual(ack, { value: 0.2, ac: 200, av: fast });
    assert.ok(fast > slow);
    assert.ok(evaluateAcks(await reported('apply'), ['telemetryInterval'], fast).converged);
    assert.deepEqual(
      applied.map((e) => [e.property, e.value, e.version]),
      [
        ['telemetryInterval', 1, slow],
        ['telemetryInterval', 0.2, fast],
      ],
    );
    assert.ok(
      lines.includes(
        `Twin desired properties patch received: version ${fast}, telemetryInterval=0.2 (applied)`,
      ),
      lines.join('\n'),
    );
    // The hub sees the change: messages stamped with the new interval, arriving faster (loose, relative).
    await waitFor('6 messages sent at 0.2 s', () =>
      telemetryStamps('apply', 0.2).length >= 6 ? true : undefined,
    );
    assert.ok(medianGap(telemetryStamps('apply', 0.2)) < medianGap(telemetryStamps('apply', 1)));
    assert.equal(runtime.telemetryIntervalSeconds, 0.2);
  });

  test('an invalid value is acknowledged 400 with a description; an unknown property 404', async (t) => {
    await addModule('invalid');
    const { runtime } = await startRuntime('invalid');
    t.after(() => within('the runtime to stop', runtime.stop()));
    const good = await writeDesired('invalid', { telemetryInterval: 2 });
    await ackAt('invalid', 'telemetryInterval', good);

    const bad = await writeDesired('invalid', { telemetryInterval: -5, colour: 'red' });
    const ack = await ackAt('invalid', 'telemetryInterval', bad);
    assert.deepEqual(ack, {
      value: -5,
      ac: 400,
      av: bad,
      ad: 'telemetryInterval must be a number of seconds from 0.1 to 86400; got -5',
    });
    const unknown = await ackAt('invalid', 'colour', bad);
    assert.equal(unknown.ac, 404);
    assert.match(unknown.ad ?? '', /no handler for property "colour"/);
    // The last valid value keeps running, and the shared convergence check reports both failures.
    assert.equal(runtime.telemetryIntervalSeconds, 2);
    const evaluation = evaluateAcks(await reported('invalid'), ['telemetryInterval', 'colour'], bad);
    assert.deepEqual(
      evaluation.failures.map((f) => [f.key, f.ac]),
      [
        ['telemetryInterval', 400],
        ['colour', 404],
      ],
    );
  });

  test('a handler whose promise rejects later is acknowledged 500 with the reason, never 200', async (t) => {
    await addModule('async-failure');
    const { runtime } = await startRuntime('async-failure', {
      handlers: {
        firmware: {
          validate: (value) => (typeof value === 'string' ? undefined : 'firmware must be a version string'),
          apply: async (value) => {
            await new Promise((resolve) => setImmediate(resolve));
            throw new Error(`download of firmware ${String(value)} failed: disk full`);
          },
        },
      },
    });
    t.after(() => within('the runtime to stop', runtime.stop()));
    const version = await writeDesired('async-failure', { firmware: '2.0' });
    assert.deepEqual(await ackAt('async-failure', 'firmware', version), {
      value: '2.0',
      ac: 500,
      av: version,
      ad: 'Error: download of firmware 2.0 failed: disk full',
    });
    assert.deepEqual(runtime.current.applied, {}, 'a failed apply is not recorded as running');
  });

  test('offline catch-up: three updates while stopped are applied once, at the final version', async () => {
    await addModule('offline');
    const first = await startRuntime('offline');
    const initial = await writeDesired('offline', { telemetryInterval: 5 });
    await ackAt('offline', 'telemetryInterval', initial);
    await within('the first runtime to stop', first.runtime.stop());

    await writeDesired('offline', { telemetryInterval: 6 });
    await writeDesired('offline', { telemetryInterval: 7 });
    const final = await writeDesired('offline', { telemetryInterval: 8 });

    const second = await startRuntime('offline');
    const reconciled: ReconciledEvent[] = [];
    second.runtime.on('reconciled', (event) => reconciled.push(event));
    try {
      assert.deepEqual(await ackAt('offline', 'telemetryInterval', final), { value: 8, ac: 200, av: final });
      await waitFor('the full GET reconciled', () => (reconciled.length > 0 ? true : undefined));
      assert.deepEqual(
        second.applied.map((e) => [e.value, e.version]),
        [[8, final]],
      );
      assert.equal(reconciled[0]!.source, 'full');
      assert.equal(second.runtime.current.version, final);
    } finally {
      await within('the second runtime to stop', second.runtime.stop());
    }
  });

  test('after a token renewal (SDK reconnect, session kept) the runtime re-reads the twin and keeps applying', async (t) => {
    await addModule('renewal');
    const { runtime } = await startRuntime('renewal', {
      config: { telemetryIntervalSeconds: 60, sasTokenLifetimeSeconds: 3, sasTokenRenewalMarginSeconds: 2 },
    });
    t.after(() => within('the runtime to stop', runtime.stop()));
    const resumed: ReconciledEvent[] = [];
    let sawResume = false;
    runtime.on('connected', (event) => {
      if (event.resumed) sawResume = true;
    });
    runtime.on('reconciled', (event) => {
      if (sawResume && event.source === 'full') resumed.push(event);
    });
    await waitFor('a re-GET after the SDK renewed its token', () => (resumed.length > 0 ? true : undefined));
    const version = await writeDesired('renewal', { telemetryInterval: 3 });
    assert.deepEqual(await ackAt('renewal', 'telemetryInterval', version), {
      value: 3,
      ac: 200,
      av: version,
    });
  });
});
