import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type ApplyFailures,
  concludeReconcile,
  type DesiredInput,
  EMPTY_RECONCILE_STATE,
  type PropertyRule,
  planReconcile,
  type ReconcilePlan,
  type ReconcileState,
} from '../../lib/desired-reconcile';
import type { JsonObject } from '../../lib/json-types';
import { applyMergePatch } from '../../lib/merge-patch';

const positive: PropertyRule = {
  validate: (value) =>
    typeof value === 'number' && value > 0 ? undefined : `must be positive; got ${value}`,
};
const anything: PropertyRule = { validate: () => undefined };
const rules = { interval: positive, mode: anything };

type Reconcile = Extract<ReconcilePlan, { kind: 'reconcile' }>;

function reconcile(state: ReconcileState, input: DesiredInput, failures: ApplyFailures = {}) {
  const plan = planReconcile(state, input, rules);
  assert.equal(plan.kind, 'reconcile', `expected a reconcile plan, got ${JSON.stringify(plan)}`);
  const conclusion = concludeReconcile(state, plan as Reconcile, failures);
  return {
    plan: plan as Reconcile,
    ...conclusion,
    next: { ...conclusion.state, reported: conclusion.reportedAfter },
  };
}

const full = (desired: JsonObject, reported: JsonObject = { $version: 1 }): DesiredInput => ({
  source: 'full',
  desired,
  reported,
});
const patch = (p: JsonObject): DesiredInput => ({ source: 'patch', patch: p });

describe('planReconcile', () => {
  test('a first full GET applies valid keys and rejects invalid and unknown ones with acks', () => {
    const { plan, reportPatch, next } = reconcile(
      EMPTY_RECONCILE_STATE,
      full({ interval: 5, mode: 'eco', speed: 3, $version: 4, $metadata: {} }),
    );
    assert.deepEqual(plan.steps, [
      { action: 'apply', key: 'interval', value: 5 },
      { action: 'apply', key: 'mode', value: 'eco' },
      {
        action: 'reject',
        key: 'speed',
        value: 3,
        ac: 404,
        ad: 'no handler for property "speed"; this runtime handles: interval, mode',
      },
    ]);
    assert.deepEqual(reportPatch, {
      interval: { value: 5, ac: 200, av: 4 },
      mode: { value: 'eco', ac: 200, av: 4 },
      speed: {
        value: 3,
        ac: 404,
        av: 4,
        ad: 'no handler for property "speed"; this runtime handles: interval, mode',
      },
    });
    assert.deepEqual(next.applied, { interval: 5, mode: 'eco' });
    assert.equal(next.version, 4);
  });

  test('an invalid value is acknowledged 400 with the reason and keeps the last valid value running', () => {
    const first = reconcile(EMPTY_RECONCILE_STATE, full({ interval: 5, $version: 2 }));
    const second = reconcile(first.next, patch({ interval: -5, $version: 3 }));
    assert.deepEqual(second.reportPatch, {
      interval: { value: -5, ac: 400, av: 3, ad: 'must be positive; got -5' },
    });
    assert.deepEqual(second.next.applied, { interval: 5 });
  });

  test('stale and duplicate patches are ignored; a gap asks for a full GET', () => {
    const { next } = reconcile(EMPTY_RECONCILE_STATE, full({ interval: 5, $version: 7 }));
    assert.equal(planReconcile(next, patch({ interval: 1, $version: 7 }), rules).kind, 'ignore');
    assert.equal(planReconcile(next, patch({ interval: 1, $version: 3 }), rules).kind, 'ignore');
    assert.equal(planReconcile(next, patch({ interval: 1, $version: 9 }), rules).kind, 'resync');
    assert.equal(planReconcile(next, patch({ interval: 1 }), rules).kind, 'resync');
    assert.equal(
      planReconcile(EMPTY_RECONCILE_STATE, patch({ interval: 1, $version: 1 }), rules).kind,
      'resync',
    );
    assert.equal(planReconcile(next, full({ interval: 1, $version: 6 }), rules).kind, 'ignore');
  });

  test('a patch touching one key re-acknowledges every desired key at the new version', () => {
    const first = reconcile(EMPTY_RECONCILE_STATE, full({ interval: 5, mode: 'eco', $version: 2 }));
    const second = reconcile(first.next, patch({ mode: 'fast', $version: 3 }));
    assert.deepEqual(
      second.plan.steps.map((s) => s.action),
      ['keep', 'apply'],
    );
    assert.deepEqual(second.plan.touched, ['mode']);
    assert.deepEqual(second.reportPatch, { interval: { av: 3 }, mode: { value: 'fast', av: 3 } });
    assert.deepEqual(second.next.reported.interval, { value: 5, ac: 200, av: 3 });
  });

  test('a resync at the same version with acks in place reports nothing and applies nothing', () => {
    const first = reconcile(EMPTY_RECONCILE_STATE, full({ interval: 5, $version: 2 }));
    const again = reconcile(
      first.next,
      full({ interval: 5, $version: 2 }, { ...first.reportedAfter, $version: 9 }),
    );
    assert.deepEqual(
      again.plan.steps.map((s) => s.action),
      ['keep'],
    );
    assert.deepEqual(again.reportPatch, {});
  });

  test('after a restart (nothing applied) the same version is applied again but not re-reported', () => {
    const first = reconcile(EMPTY_RECONCILE_STATE, full({ interval: 5, $version: 2 }));
    const restarted = reconcile(
      EMPTY_RECONCILE_STATE,
      full({ interval: 5, $version: 2 }, first.reportedAfter),
    );
    assert.deepEqual(
      restarted.plan.steps.map((s) => s.action),
      ['apply'],
    );
    assert.deepEqual(restarted.reportPatch, {});
  });

  test('a deleted desired key is removed from the handlers and its ack deleted', () => {
    const first = reconcile(EMPTY_RECONCILE_STATE, full({ interval: 5, mode: 'eco', $version: 2 }));
    const second = reconcile(first.next, patch({ mode: null, $version: 3 }));
    assert.deepEqual(second.plan.steps, [
      { action: 'keep', key: 'interval', value: 5 },
      { action: 'remove', key: 'mode' },
    ]);
    assert.deepEqual(second.reportPatch, { interval: { av: 3 }, mode: null });
    assert.deepEqual(second.next.applied, { interval: 5 });
  });

  test('reported values that are not acks are left alone', () => {
    const { reportPatch } = reconcile(
      EMPTY_RECONCILE_STATE,
      full({ interval: 5, $version: 2 }, { firmware: '1.0', $version: 3 }),
    );
    assert.deepEqual(reportPatch, { interval: { value: 5, ac: 200, av: 2 } });
  });

  test('a failed apply is acknowledged 500 and not recorded as applied', () => {
    const { reportPatch, next } = reconcile(EMPTY_RECONCILE_STATE, full({ interval: 5, $version: 2 }), {
      interval: 'timer failed',
    });
    assert.deepEqual(reportPatch, { interval: { value: 5, ac: 500, av: 2, ad: 'timer failed' } });
    assert.deepEqual(next.applied, {});
  });

  test('an object value is replaced, not merged, in the ack', () => {
    const first = reconcile(EMPTY_RECONCILE_STATE, full({ mode: { a: 1, b: 2 }, $version: 2 }));
    const second = reconcile(first.next, patch({ mode: { b: null }, $version: 3 }));
    const reported = applyMergePatch(first.reportedAfter, second.reportPatch);
    assert.deepEqual(reported.mode, { value: { a: 1 }, ac: 200, av: 3 });
  });

  test('unknown reported basis after a failed report forces a full GET before patches', () => {
    const first = reconcile(EMPTY_RECONCILE_STATE, full({ interval: 5, $version: 2 }));
    const unsure = { ...first.next, reported: undefined };
    assert.equal(planReconcile(unsure, patch({ interval: 6, $version: 3 }), rules).kind, 'resync');
  });
});

/**
 * A hub that takes desired writes (+1 version each) and a device that sees any interleaving of: patch
 * notifications (lost, duplicated, reordered) and full GETs (of any version up to the latest written,
 * i.e. possibly stale). A `resync` plan is answered with a GET of the latest version.
 */
describe('planReconcile over random interleavings', () => {
  const writeArb = fc.dictionary(
    fc.constantFrom('interval', 'mode', 'other'),
    fc.oneof(fc.constant(null), fc.integer({ min: -2, max: 5 }), fc.constantFrom('eco', 'fast')),
    { minKeys: 1, maxKeys: 3 },
  );
  const scenario = fc.record({
    writes: fc.array(writeArb, { minLength: 1, maxLength: 12 }),
    deliveries: fc.array(fc.record({ kind: fc.constantFrom('patch', 'get'), at: fc.nat() }), {
      maxLength: 40,
    }),
  });

  function historyOf(writes: JsonObject[]): JsonObject[] {
    const history: JsonObject[] = [{}];
    for (const write of writes) history.push(applyMergePatch(history.at(-1)!, write));
    return history; // history[v - 1] is the desired document at $version v
  }

  test('never applies an older version after a newer one, and state always equals one hub version', () => {
    fc.assert(
      fc.property(scenario, ({ writes, deliveries }) => {
        const history = historyOf(writes);
        const latest = history.length;
        const snapshot = (v: number) => ({ ...history[v - 1], $version: v });
        let state: ReconcileState = EMPTY_RECONCILE_STATE;
        const appliedVersions: number[] = [];
        const feed = (input: DesiredInput): void => {
          const plan = planReconcile(state, input, rules);
          if (plan.kind === 'resync') {
            feed(full(snapshot(latest)));
            return;
          }
          if (plan.kind === 'ignore') return;
          if (plan.steps.some((s) => s.action === 'apply' || s.action === 'remove'))
            appliedVersions.push(plan.version);
          const done = concludeReconcile(state, plan, {});
          state = { ...done.state, reported: done.reportedAfter };
          // Invariant: the cached document is exactly the hub's document at that version, never a mixture.
          assert.deepEqual(state.desired, history[plan.version - 1]);
        };
        for (const d of deliveries) {
          const version = (d.at % latest) + 1;
          if (d.kind === 'get') feed(full(snapshot(version)));
          else if (version > 1) feed(patch({ ...writes[version - 2], $version: version }));
        }
        feed(full(snapshot(latest)));
        for (let i = 1; i < appliedVersions.length; i++) {
          assert.ok(appliedVersions[i]! >= appliedVersions[i - 1]!, `applied ${appliedVersions.join(',')}`);
        }
        assert.equal(state.version, latest);
        // Valid keys run with the latest value; a rejected key keeps its last valid value (or none);
        // a deleted key is no longer applied.
        const final = history[latest - 1]!;
        for (const [key, value] of Object.entries(state.applied)) {
          assert.ok(key in final, `deleted key ${key} still applied`);
          assert.equal(rules[key as keyof typeof rules].validate(value), undefined);
          if (rules[key as keyof typeof rules].validate(final[key]) === undefined)
            assert.equal(value, final[key]);
        }
        if (positive.validate(final.interval) === undefined)
          assert.equal(state.applied.interval, final.interval);
        if ('mode' in final) assert.equal(state.applied.mode, final.mode);
        const reported = state.reported ?? {};
        for (const key of Object.keys(final)) assert.equal((reported[key] as { av: number }).av, latest);
      }),
    );
  });
});
