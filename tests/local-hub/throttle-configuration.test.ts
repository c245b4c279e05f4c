/**
 * The local hub's configuration throttle class (docs/iot-hub-behaviour.md §5: 20 configuration operations
 * per minute per unit on every tier): its quota, and over HTTP that every configuration route (create and
 * update PUT, GET one, GET list, DELETE) draws on it, with the same shaping and 429 as the other classes,
 * while the other classes keep their own buckets. Without throttling options nothing is throttled.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HUB_TIERS, tierQuotas } from '../../local-hub/throttle/throttle-quotas';
import { assertLegacyError, RestTestServer, throttledS1Server } from '../support/rest-test-server';

const MINUTE = 60_000;

const configuration = (id: string, priority = 1) => ({
  id,
  schemaVersion: '1.0',
  targetCondition: "tags.ring='a'",
  priority,
  content: { deviceContent: { 'properties.desired.mode': 'eco' } },
});

describe('configuration throttle quota (docs/iot-hub-behaviour.md §5)', () => {
  test('20 per minute per unit on every tier, S3 included', () => {
    for (const tier of HUB_TIERS) {
      for (const units of tier === 'F1' ? [1] : [1, 2, 10]) {
        assert.deepEqual(
          tierQuotas(tier, units).configuration,
          { amount: 20 * units, periodMs: MINUTE },
          `${tier} x ${units}`,
        );
      }
    }
    assert.notEqual(
      tierQuotas('S3', 1).configuration.amount,
      tierQuotas('S3', 1).query.amount,
      'unlike queries, S3 buys no higher configuration rate',
    );
  });
});

describe('configuration operations over HTTP (S1, 1 unit, clock pinned)', () => {
  const { hub, advance } = throttledS1Server();

  test('a burst beyond 20 is refused 429 on every configuration route; other classes are unaffected', async () => {
    // 20 operations of every kind spend the bucket: 1 create, 1 update, 9 reads, 8 lists, 1 delete.
    assert.equal((await hub.call('PUT', '/configurations/c1', { body: configuration('c1') })).status, 200);
    assert.equal(
      (
        await hub.call('PUT', '/configurations/c1', {
          body: configuration('c1', 2),
          headers: { 'if-match': '*' },
        })
      ).status,
      200,
    );
    for (let i = 0; i < 9; i++) assert.equal((await hub.call('GET', '/configurations/c1')).status, 200);
    for (let i = 0; i < 8; i++) assert.equal((await hub.call('GET', '/configurations')).status, 200);
    assert.equal((await hub.call('PUT', '/configurations/c2', { body: configuration('c2') })).status, 200);
    // The 21st needs 3 s of refill (20/min), more than the 1 s the shaping queue holds: refused at once.
    const refused = await hub.call('GET', '/configurations/c1');
    assertLegacyError(refused, 429, 'ThrottlingException', 'configuration operations', 'S1', '20/min');
    assert.equal(refused.headers['retry-after'], undefined, 'IoT Hub sends no Retry-After');
    assertLegacyError(await hub.call('GET', '/configurations'), 429, 'ThrottlingException');
    assertLegacyError(
      await hub.call('PUT', '/configurations/late', { body: configuration('late') }),
      429,
      'ThrottlingException',
    );
    assertLegacyError(
      await hub.call('PUT', '/configurations/c1', {
        body: configuration('c1', 3),
        headers: { 'if-match': '*' },
      }),
      429,
      'ThrottlingException',
    );
    assertLegacyError(await hub.call('DELETE', '/configurations/c2'), 429, 'ThrottlingException');
    // The refused calls changed nothing (read through the store: the REST reads are throttled too).
    assert.deepEqual(
      hub.state
        .listConfigurations()
        .map((c) => c['id'])
        .sort(),
      ['c1', 'c2'],
      'the refused create wrote nothing and the refused delete removed nothing',
    );
    assert.equal(hub.state.getConfiguration('c1')['priority'], 2, 'the refused update wrote nothing');

    // Other classes keep their own buckets.
    assert.equal((await hub.call('PUT', '/devices/d1', { body: { deviceId: 'd1' } })).status, 200);
    assert.equal((await hub.call('GET', '/twins/d1')).status, 200, 'twin reads');
    assert.equal(
      (await hub.call('PATCH', '/twins/d1', { body: { tags: { ring: 'a' } } })).status,
      200,
      'twin updates',
    );
    assert.equal(
      (await hub.call('POST', '/devices/query', { body: { query: 'SELECT * FROM devices' } })).status,
      200,
    );

    // Traffic shaping: 2.1 s of refill is 0.7 of a token; the next call borrows the rest (0.9 s of queueing,
    // within the 1 s limit) and succeeds, although its bucket holds less than one token.
    advance(2_100);
    assert.equal((await hub.call('DELETE', '/configurations/c2')).status, 204, 'held, then served');
    assertLegacyError(
      await hub.call('GET', '/configurations/c1'),
      429,
      'ThrottlingException',
      'configuration operations',
    );

    advance(MINUTE);
    assert.equal(
      (await hub.call('GET', '/configurations/c1')).status,
      200,
      'a minute later the quota is back',
    );
  });
});

describe('configuration operations without throttling options', () => {
  const hub = new RestTestServer();
  before(() => hub.start());
  after(() => hub.stop());

  test('a burst of 60 (three times the S1 minute) is never throttled', async () => {
    assert.equal((await hub.call('PUT', '/configurations/c1', { body: configuration('c1') })).status, 200);
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        i % 2 === 0 ? hub.call('GET', '/configurations/c1') : hub.call('GET', '/configurations'),
      ),
    );
    assert.deepEqual(
      replies.map((r) => r.status),
      replies.map(() => 200),
    );
  });
});
