import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertLegacyError, RestTestServer } from '../support/rest-test-server';

function nested(depth: number): Record<string, unknown> {
  let doc: Record<string, unknown> = { leaf: 1 };
  for (let i = depth; i >= 1; i--) doc = { [`l${i}`]: doc };
  return doc;
}

describe('service API bad input: 4xx in the legacy shape naming the problem, and the server keeps serving', () => {
  const hub = new RestTestServer();
  before(async () => {
    await hub.start();
    hub.state.createDevice('seed', {});
  });
  after(() => hub.stop());

  /** After every bad request the same keep-alive connection still serves a normal request. */
  async function stillServing(): Promise<void> {
    const r = await hub.call('GET', '/twins/seed');
    assert.equal(r.status, 200);
  }

  test('malformed JSON: 400 IotHubFormatError with the position, never echoing the body', async () => {
    const raw = '{"authentication":{"symmetricKey":{"primaryKey":"U0VDUkVUS0VZU0VDUkVUS0VZ", }}}';
    const r = await hub.call('PUT', '/devices/newdev', { raw });
    assertLegacyError(r, 400, 'IotHubFormatError', `position ${raw.indexOf(' }') + 1}`, 'line 1');
    assert.ok(!r.text.includes('U0VDUkVUS0VZ'), 'the key in the body is not echoed');
    await stillServing();
    const truncated = await hub.call('PATCH', '/twins/seed', { raw: '{"tags": {"a": ' });
    assertLegacyError(truncated, 400, 'IotHubFormatError', 'position 15', 'unexpected end of input');
    await stillServing();
  });

  test('empty body, non-JSON content types and bodies over 256 KB', async () => {
    assertLegacyError(
      await hub.call('PUT', '/devices/newdev', { raw: '' }),
      400,
      'IotHubFormatError',
      'empty',
    );
    const plain = await hub.call('PUT', '/devices/newdev', {
      raw: '{}',
      headers: { 'content-type': 'text/plain' },
    });
    assertLegacyError(plain, 415, 'GenericUnsupportedMediaType', 'application/json');
    const big = JSON.stringify({ tags: { blob: 'x'.repeat(300 * 1024) } });
    assertLegacyError(await hub.call('PATCH', '/twins/seed', { raw: big }), 413, 'MessageTooLarge', '262144');
    await stillServing();
  });

  test('twin content: over-size, depth 11, keys with "." or "$" — each 400 naming its path', async () => {
    const props = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`p${i}`, 'v'.repeat(4000)]));
    assertLegacyError(
      await hub.call('PATCH', '/twins/seed', { body: { properties: { desired: props } } }),
      400,
      'ArgumentInvalid',
      'properties.desired: desired is',
      '32768',
    );
    assertLegacyError(
      await hub.call('PATCH', '/twins/seed', { body: { tags: nested(11) } }),
      400,
      'ArgumentInvalid',
      'tags.l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11',
    );
    assertLegacyError(
      await hub.call('PUT', '/twins/seed', {
        body: { tags: { $x: 1 }, properties: { desired: { 'a.b': 1 } } },
      }),
      400,
      'ArgumentInvalid',
      'tags["$x"]',
      'properties.desired["a.b"]',
    );
    assert.equal((await hub.call('PATCH', '/twins/seed', { body: { tags: nested(10) } })).status, 200);
    await stillServing();
  });

  test('invalid ids and malformed paths', async () => {
    assertLegacyError(
      await hub.call('PUT', '/devices/bad%20id', { body: {} }),
      400,
      'ArgumentInvalid',
      'deviceId',
    );
    assertLegacyError(
      await hub.call('PUT', `/devices/${'x'.repeat(129)}`, { body: {} }),
      400,
      'ArgumentInvalid',
      'deviceId',
      '129',
    );
    assertLegacyError(await hub.call('GET', '/devices/%E0%A4%A'), 400, 'ArgumentInvalid', 'percent-encoding');
    await stillServing();
  });

  test('hostile nesting is refused without crashing the server', async () => {
    const deep = `${'['.repeat(100000)}${']'.repeat(100000)}`;
    assertLegacyError(
      await hub.call('PATCH', '/twins/seed', { raw: deep }),
      400,
      'IotHubFormatError',
      'nesting',
    );
    const unbalanced = '['.repeat(100000);
    assertLegacyError(await hub.call('PATCH', '/twins/seed', { raw: unbalanced }), 400, 'IotHubFormatError');
    await stillServing();
  });
});
