/**
 * The device runtime's executor (device-runtime/desired-executor.ts) between the pure planner and a hub:
 * how a handler's asynchronous failure is acknowledged, and what the runtime believes the hub holds after
 * a reported PATCH failed. The hub is a small in-memory twin (merge patches, as IoT Hub applies them), and
 * a `resync` plan is answered the way the runtime answers it: with a full GET of that twin.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DesiredExecutor } from '../../device-runtime/desired-executor';
import type { PropertyHandlers } from '../../device-runtime/property-handlers';
import type { DesiredInput } from '../../lib/desired-reconcile';
import type { JsonObject } from '../../lib/json-types';
import { applyMergePatch } from '../../lib/merge-patch';

const SILENT = { info: () => undefined, warn: () => undefined };

/** Resolves on a later turn of the event loop: the handler's work really is asynchronous. */
const laterTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const anyValue: PropertyHandlers[string] = { validate: () => undefined, apply: () => undefined };

/**
 * A module twin: desired writes bump `$version` and are delivered as patch inputs; reported PATCHes are
 * merged in. `nextReport` decides the fate of the next reported PATCH only.
 */
class FakeTwin {
  desired: JsonObject = { $version: 1 };
  reported: JsonObject = {};
  reports: JsonObject[] = [];
  private nextReport: 'accept' | 'refuse' | 'lose-answer' = 'accept';

  writeDesired(patch: JsonObject): DesiredInput {
    const version = (this.desired['$version'] as number) + 1;
    this.desired = { ...applyMergePatch(this.desired, patch), $version: version };
    return { source: 'patch', patch: { ...patch, $version: version } };
  }

  fullGet(): DesiredInput {
    return {
      source: 'full',
      desired: structuredClone(this.desired),
      reported: structuredClone(this.reported),
    };
  }

  failNextReport(how: 'refuse' | 'lose-answer'): void {
    this.nextReport = how;
  }

  readonly report = async (patch: JsonObject): Promise<void> => {
    this.reports.push(patch);
    const fate = this.nextReport;
    this.nextReport = 'accept';
    if (fate === 'refuse') throw new Error('reported PATCH failed: 429 throttled');
    this.reported = applyMergePatch(this.reported, patch);
    // The hub applied it, but the answer never came back (the connection dropped, the request timed out).
    if (fate === 'lose-answer') throw new Error('reported PATCH did not complete within 10000 ms');
  };
}

/** What the runtime does with one input: execute it; a resync is answered with a full GET. */
async function deliver(executor: DesiredExecutor, twin: FakeTwin, input: DesiredInput): Promise<void> {
  const plan = await executor.execute(input, twin.report);
  if (plan.kind === 'resync') await executor.execute(twin.fullGet(), twin.report);
}

describe('DesiredExecutor: a handler that fails asynchronously', () => {
  test('a promise that rejects after a turn is acknowledged 500 with its reason, never 200', async () => {
    const handlers: PropertyHandlers = {
      firmware: {
        validate: () => undefined,
        apply: () => {
          const failing = (async () => {
            await laterTurn();
            throw new Error('download of firmware 2.0 failed: disk full');
          })();
          // Observed here too, so a runtime that forgets to await it fails this test, not the process.
          failing.catch(() => undefined);
          return failing;
        },
      },
    };
    const twin = new FakeTwin();
    const executor = new DesiredExecutor(handlers, SILENT, () => false);
    await executor.execute(twin.fullGet(), twin.report);
    await deliver(executor, twin, twin.writeDesired({ firmware: '2.0' }));

    assert.deepEqual(twin.reported['firmware'], {
      value: '2.0',
      ac: 500,
      av: 2,
      ad: 'Error: download of firmware 2.0 failed: disk full',
    });
    assert.deepEqual(executor.state.applied, {}, 'a failed apply is not recorded as running');
  });
});

describe('DesiredExecutor: after a failed reported PATCH', () => {
  const handlers: PropertyHandlers = { interval: anyValue, mode: anyValue };

  /** The acks the hub must hold once the runtime has caught up with `desired` at `version`. */
  function acksAt(desired: JsonObject, version: number): JsonObject {
    const acks: JsonObject = {};
    for (const [key, value] of Object.entries(desired)) {
      if (!key.startsWith('$')) acks[key] = { value, ac: 200, av: version };
    }
    return acks;
  }

  async function started(): Promise<{ twin: FakeTwin; executor: DesiredExecutor }> {
    const twin = new FakeTwin();
    const executor = new DesiredExecutor(handlers, SILENT, () => false);
    twin.writeDesired({ interval: 5, mode: 'eco' });
    await deliver(executor, twin, twin.fullGet());
    assert.deepEqual(twin.reported, acksAt(twin.desired, 2));
    return { twin, executor };
  }

  test('a report the hub refused: the next patch does not build on acks the hub never got', async () => {
    const { twin, executor } = await started();
    twin.failNextReport('refuse');
    await assert.rejects(deliver(executor, twin, twin.writeDesired({ interval: 6 })), /429 throttled/);

    await deliver(executor, twin, twin.writeDesired({ mode: 'fast' }));
    assert.deepEqual(twin.reported, acksAt(twin.desired, 4), `reports sent: ${JSON.stringify(twin.reports)}`);
  });

  test('a report that landed but whose answer was lost: the next patch does not build on the old acks', async () => {
    const { twin, executor } = await started();
    twin.failNextReport('lose-answer');
    await assert.rejects(deliver(executor, twin, twin.writeDesired({ mode: null })), /did not complete/);

    await deliver(executor, twin, twin.writeDesired({ mode: 'fast' }));
    assert.deepEqual(twin.reported, acksAt(twin.desired, 4), `reports sent: ${JSON.stringify(twin.reports)}`);
  });
});
