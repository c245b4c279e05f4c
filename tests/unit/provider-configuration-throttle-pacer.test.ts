/**
 * Configuration calls are paced in their own lane (lib/throttle-pacer.ts, dynamic-providers/hub-pacer.ts):
 * IoT Hub allows 20 configuration operations per minute per unit (docs/iot-hub-behaviour.md §5), so the
 * lane starts slower than the identity and twin lanes; and the convergence wait's metric polls join the
 * hub's `configuration` lane, so a 429 on a poll waits its turn there and the wait still succeeds.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RestApiClient } from 'azure-iothub/dist/common-http/rest_api_client';
import { waitForConvergence } from '../../dynamic-providers/configuration-convergence';
import { laneState, reportOutcome } from '../../dynamic-providers/hub-pacer';
import type { ConfigurationInputs } from '../../lib/resource-configuration-state';
import {
  afterThrottled,
  CONFIGURATION_PACER_POLICY,
  DEFAULT_PACER_POLICY,
  initialPacerState,
  pacerPolicyFor,
} from '../../lib/throttle-pacer';

function throttlingError(): Error {
  const body = JSON.stringify({ Message: 'ErrorCode:ThrottlingException;over quota', ExceptionMessage: '' });
  return RestApiClient.translateError(body, { statusCode: 429, headers: {} } as any) as Error;
}

describe('configuration lane policy', () => {
  test('the configuration lane starts slower and paces longer; the other lanes keep the default', () => {
    assert.equal(pacerPolicyFor('configuration'), CONFIGURATION_PACER_POLICY);
    for (const lane of ['identityRegistry', 'twinRead', 'twinUpdate'] as const) {
      assert.equal(pacerPolicyFor(lane), DEFAULT_PACER_POLICY, lane);
    }
    assert.ok(CONFIGURATION_PACER_POLICY.initialGapMs > DEFAULT_PACER_POLICY.initialGapMs);
    assert.ok(CONFIGURATION_PACER_POLICY.quietMs > DEFAULT_PACER_POLICY.quietMs);
    // One unit allows one operation every 3 s: three 429s from the start reach it.
    const policy = CONFIGURATION_PACER_POLICY;
    let state = initialPacerState(policy);
    for (let round = 1; round <= 3; round++)
      state = afterThrottled(state, policy, round * 10, round * 10 + 1);
    assert.ok(state.gapMs >= 3_000, `gap ${state.gapMs} after three 429s`);
  });

  test('a new configuration lane starts from the configuration policy', () => {
    const paced = { hostName: 'policy-start.local', lane: 'configuration' } as const;
    assert.equal(laneState(paced), undefined, 'no call has used the lane yet');
    reportOutcome(paced, 'throttled', Date.now());
    assert.equal(
      laneState(paced)?.gapMs,
      CONFIGURATION_PACER_POLICY.initialGapMs * DEFAULT_PACER_POLICY.slowFactor,
    );
  });
});

describe('convergence wait on a throttled hub', () => {
  test('a poll answered 429 waits in the configuration lane of its host, then the wait converges', async () => {
    const hostName = 'convergence-throttled.local';
    const lane = { hostName, lane: 'configuration' } as const;
    let gets = 0;
    const registry = {
      getConfiguration: async (id: string) => {
        gets++;
        assert.equal(id, 'paced-wait');
        if (gets === 1) throw throttlingError();
        return {
          responseBody: {
            id,
            systemMetrics: { results: { targetedCount: 2, appliedCount: 2 } },
            metrics: { results: { acked: 2 } },
          },
        };
      },
    };
    const progress: string[] = [];
    const inputs = {
      configurationId: 'paced-wait',
      targetCondition: "tags.ring='a'",
      moduleContent: { 'properties.desired.mode': 'eco' },
    } as unknown as ConfigurationInputs;
    await waitForConvergence(
      {
        registry: registry as any,
        lane,
        label: 'Configuration paced-wait',
        progress: (l) => progress.push(l),
      },
      inputs,
      { minimum: { percent: 100 }, successMetric: 'acked', timeoutSeconds: 30, onTimeout: 'fail' },
    );
    assert.equal(gets, 2, 'the throttled poll was retried once, not failed');
    assert.match(progress.at(-1)!, /2 of 2 required twins report success/);
    const state = laneState(lane);
    assert.ok(state?.lastThrottledMs !== undefined, 'the 429 was reported to the configuration lane');
    assert.equal(
      state.gapMs,
      CONFIGURATION_PACER_POLICY.initialGapMs *
        CONFIGURATION_PACER_POLICY.slowFactor *
        CONFIGURATION_PACER_POLICY.speedFactor,
      'slowed by the 429, then sped up once by the successful retry',
    );
    for (const other of ['identityRegistry', 'twinRead', 'twinUpdate'] as const) {
      assert.equal(laneState({ hostName, lane: other }), undefined, `${other} lane untouched`);
    }
  });
});
