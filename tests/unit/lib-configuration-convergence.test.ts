/**
 * `waitForConvergence` of a Configuration (issue #12 item 2), pure: the provider's check (every problem at its
 * path), the stack config's (the same rules, plus `after`), and the decision at each poll of the metrics.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type RawStackConfig, validateStackConfig } from '../../infra/stack-config';
import {
  describeRejections,
  evaluateConvergence,
  rejectionQuery,
  requiredTwins,
} from '../../lib/configuration-convergence';
import { checkConfigurationInputs, diffConfiguration } from '../../lib/resource-configuration-state';

const CONNECTION = 'HostName=h.example;SharedAccessKeyName=iothubowner;SharedAccessKey=a2V5';
const BASE = {
  hubConnectionString: CONNECTION,
  configurationId: 'ring0',
  moduleContent: { 'properties.desired.mode': 'eco' },
  targetCondition: "FROM devices.modules WHERE tags.ring='0'",
  metrics: { acked: 'SELECT deviceId FROM devices.modules WHERE properties.reported.mode.ac = 200' },
};
const WAIT = { minimum: { percent: 90 }, successMetric: 'acked', timeoutSeconds: 60 };

function failures(extra: Record<string, unknown>): Map<string, string> {
  return new Map(checkConfigurationInputs({ ...BASE, ...extra }).failures.map((f) => [f.property, f.reason]));
}

describe('check: waitForConvergence', () => {
  test('a valid wait is kept, onTimeout defaults to fail, and it never causes an update', () => {
    const { inputs, failures } = checkConfigurationInputs({ ...BASE, waitForConvergence: WAIT });
    assert.deepEqual(failures, []);
    assert.deepEqual(inputs['waitForConvergence'], { ...WAIT, onTimeout: 'fail' });
    const olds = { ...(inputs as any), etag: 'e' };
    const news = { ...(inputs as any), waitForConvergence: { ...WAIT, timeoutSeconds: 5 } };
    assert.equal(diffConfiguration(olds, news).changes, false);
  });

  test('every problem at its path', () => {
    const problems = failures({
      waitForConvergence: {
        minimum: { count: 0, percent: 150, ratio: 1 },
        successMetric: 'ackd',
        timeoutSeconds: 0,
        onTimeout: 'ignore',
        poll: 1,
      },
    });
    assert.match(problems.get('waitForConvergence.minimum.count')!, /integer of at least 1/);
    assert.match(problems.get('waitForConvergence.minimum.percent')!, /above 0 and at most 100/);
    assert.match(problems.get('waitForConvergence.minimum.ratio')!, /valid: count, percent/);
    assert.match(problems.get('waitForConvergence.successMetric')!, /names no metric .*"acked"/);
    assert.match(problems.get('waitForConvergence.timeoutSeconds')!, /above 0 and at most 3600/);
    assert.match(problems.get('waitForConvergence.onTimeout')!, /"fail" \(the default\) or "warn"/);
    assert.match(problems.get('waitForConvergence.poll')!, /is not valid/);
  });

  test('missing pieces and wrong shapes', () => {
    assert.match(failures({ waitForConvergence: 30 }).get('waitForConvergence')!, /must be an object/);
    const empty = failures({ waitForConvergence: { minimum: {}, timeoutSeconds: 10 } });
    assert.match(empty.get('waitForConvergence.minimum')!, /count and\/or percent/);
    assert.match(empty.get('waitForConvergence.successMetric')!, /is required/);
    const noMetrics = failures({ metrics: undefined, waitForConvergence: WAIT });
    assert.match(noMetrics.get('waitForConvergence.successMetric')!, /declares none/);
  });
});

describe('convergence decision', () => {
  test('required: the larger of count and percent of the targeted (rounded up), at least 1', () => {
    assert.equal(requiredTwins({ percent: 90 }, 1000), 900);
    assert.equal(requiredTwins({ percent: 50 }, 3), 2);
    assert.equal(requiredTwins({ count: 10, percent: 50 }, 1000), 500);
    assert.equal(requiredTwins({ count: 10, percent: 50 }, 4), 10);
    assert.equal(requiredTwins({ percent: 100 }, 0), 1, 'a ring that targets nothing has not converged');
  });

  test('converged needs both applied and succeeded; rejections that leave too few end the wait', () => {
    const min = { percent: 100 };
    const at = (applied: number, succeeded: number, rejected: number, targeted = 4) =>
      evaluateConvergence({ targeted, applied, succeeded, rejected }, min).state;
    assert.equal(at(4, 4, 0), 'converged');
    assert.equal(at(4, 3, 0), 'waiting');
    assert.equal(at(3, 4, 0), 'waiting');
    assert.equal(at(4, 3, 1), 'unreachable');
    assert.equal(
      evaluateConvergence({ targeted: 4, applied: 4, succeeded: 2, rejected: 1 }, { count: 3 }).state,
      'waiting',
    );
  });

  test('the rejection query: the target condition and ac >= 400 on each content property', () => {
    assert.equal(
      rejectionQuery("FROM devices.modules WHERE tags.ring='0'", 'moduleContent', {
        'properties.desired.mode': 'eco',
        'properties.desired.limits.max': 3,
      }),
      "SELECT * FROM devices.modules WHERE (tags.ring='0') AND (properties.reported.mode.ac >= 400 OR properties.reported.limits.ac >= 400)",
    );
    assert.equal(
      rejectionQuery('*', 'deviceContent', { 'properties.desired': { a: 1 } }),
      'SELECT * FROM devices WHERE (properties.reported.a.ac >= 400)',
    );
    assert.equal(rejectionQuery('*', 'deviceContent', { 'properties.desired.my-prop': 1 }), undefined);
  });

  test('rejections are described with the device, module, code and reason', () => {
    const twins = [
      {
        deviceId: 'd1',
        moduleId: 'agent',
        properties: { reported: { mode: { value: 'turbo', ac: 400, av: 3, ad: 'no turbo here' } } },
      },
      { deviceId: 'd2', properties: { reported: { mode: { value: 'x', ac: 200, av: 3 } } } },
    ];
    assert.deepEqual(describeRejections(twins, { 'properties.desired.mode': 'turbo' }), [
      'd1/agent: mode (ac 400: no turbo here)',
    ]);
  });
});

describe('stack config: waitForConvergence and after', () => {
  const entry = (extra: Record<string, unknown>) => ({
    configurationId: 'ring0',
    moduleContent: { 'properties.desired.mode': 'eco' },
    targetCondition: "FROM devices.modules WHERE tags.ring='0'",
    metrics: BASE.metrics,
    ...extra,
  });
  const validate = (configurations: unknown[]) =>
    validateStackConfig({ hub: { mode: 'local' }, devices: [], configurations } as RawStackConfig);

  test('a staged rollout is accepted', () => {
    const result = validate([
      entry({ waitForConvergence: WAIT }),
      entry({
        configurationId: 'ring1',
        targetCondition: "FROM devices.modules WHERE tags.ring='1'",
        after: 'ring0',
      }),
    ]);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.config.configurations[1]!.after, 'ring0');
    assert.deepEqual(result.config.configurations[0]!.waitForConvergence, WAIT);
  });

  test('bad waits and after references: every problem at its path', () => {
    const result = validate([
      entry({
        waitForConvergence: { ...WAIT, successMetric: 'nope', minimum: { percent: 0 } },
        after: 'ring1',
      }),
      entry({ configurationId: 'ring1', after: 'ring9' }),
      entry({ configurationId: 'ring2', after: 'ring2' }),
    ]);
    assert.equal(result.ok, false);
    if (result.ok) return;
    const problems = new Map(result.problems.map((p) => [p.path, p.message]));
    assert.match(problems.get('configurations[0].waitForConvergence.successMetric')!, /names no metric/);
    assert.match(problems.get('configurations[0].waitForConvergence.minimum.percent')!, /above 0/);
    assert.match(problems.get('configurations[0].after')!, /declared later in the list/);
    assert.match(problems.get('configurations[1].after')!, /names no configuration .*"ring0"/);
    assert.match(problems.get('configurations[2].after')!, /cannot come after itself/);
  });
});
