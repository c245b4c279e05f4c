/**
 * The telemetry window (local-hub/telemetry/): sequence numbers, per-identity and total bounds with the
 * oldest evicted, filters and `after`, the body as JSON / text / base64, the properties a reader gets, and
 * the long poll (woken by a message, ended by abort or close; never timed, only bounded).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DeviceToCloudMessage } from '../../local-hub/hub-state';
import { readerProperties, renderBody } from '../../local-hub/telemetry/telemetry-body';
import { TELEMETRY_PAGE_MAX, TelemetryWindow } from '../../local-hub/telemetry/telemetry-window';
import { within } from '../support/runtime-wait';

function message(
  deviceId: string,
  moduleId: string | null,
  body: string,
  properties = {},
): DeviceToCloudMessage {
  return { deviceId, moduleId, properties, body: Buffer.from(body), receivedAt: '2026-01-01T00:00:00.000Z' };
}

const sequences = (w: TelemetryWindow, filter = {}, after = 0) =>
  w.read(filter, after).messages.map((m) => m.sequence);

describe('telemetry window', () => {
  test('numbers messages 1, 2, 3 … and reads those after a sequence, oldest first', () => {
    const w = new TelemetryWindow();
    assert.equal(w.record(message('d', null, '1')), 1);
    assert.equal(w.record(message('d', 'm', '2')), 2);
    assert.equal(w.record(message('e', null, '3')), 3);
    assert.deepEqual(sequences(w), [1, 2, 3]);
    assert.deepEqual(w.read({}, 1), { messages: w.read({}).messages.slice(1), next: 3 });
    assert.deepEqual(w.read({}, 3), { messages: [], next: 3 });
  });

  test("filters: a device (its own and its modules' messages), or one module", () => {
    const w = new TelemetryWindow();
    w.record(message('d', null, '1'));
    w.record(message('d', 'm', '2'));
    w.record(message('d', 'n', '3'));
    w.record(message('e', 'm', '4'));
    assert.deepEqual(sequences(w, { deviceId: 'd' }), [1, 2, 3]);
    assert.deepEqual(sequences(w, { deviceId: 'd', moduleId: 'm' }), [2]);
    assert.deepEqual(sequences(w, { deviceId: 'nobody' }), []);
    // Nothing matched: next is the last sequence given out, since later messages are all above it.
    assert.equal(w.read({ deviceId: 'nobody' }).next, 4);
  });

  test('keeps the latest per identity and evicts the oldest beyond the total count or bytes', () => {
    const perIdentity = new TelemetryWindow({ perIdentity: 3 });
    for (let i = 1; i <= 5; i++) perIdentity.record(message('d', null, String(i)));
    perIdentity.record(message('e', null, '6'));
    assert.deepEqual(sequences(perIdentity), [3, 4, 5, 6]);
    assert.deepEqual(
      perIdentity.recent('d', null).map((m) => m.body.toString()),
      ['3', '4', '5'],
    );

    const total = new TelemetryWindow({ total: 4 });
    for (let i = 1; i <= 6; i++) total.record(message(i % 2 ? 'odd' : 'even', null, String(i)));
    assert.deepEqual(sequences(total), [3, 4, 5, 6]);
    assert.equal(total.recent('odd', null).length, 2);

    const bytes = new TelemetryWindow({ totalBytes: 2 * (1000 + 2) });
    for (let i = 1; i <= 3; i++) bytes.record(message('d', null, 'x'.repeat(1000)));
    assert.deepEqual(sequences(bytes), [2, 3]);
  });

  test('stays bounded under a long run of one chatty identity (tombstones are compacted)', () => {
    const w = new TelemetryWindow({ perIdentity: 10 });
    for (let i = 0; i < 20_000; i++) w.record(message('chatty', null, 'x'));
    w.record(message('quiet', null, 'y'));
    assert.deepEqual(sequences(w).length, 11);
    const internals = w as unknown as { all: unknown[] };
    assert.ok(internals.all.length < 200, `the window holds ${internals.all.length} entries`);
  });

  test("a forgotten identity's messages are gone; sequence numbers are never reused", () => {
    const w = new TelemetryWindow();
    w.record(message('d', 'm', '1'));
    w.record(message('d', null, '2'));
    w.forget('d', 'm');
    assert.deepEqual(sequences(w), [2]);
    assert.equal(w.record(message('d', 'm', '3')), 3);
  });

  test('an `after` from before a restart (beyond the last sequence) reads from the start', () => {
    const w = new TelemetryWindow();
    w.record(message('d', null, '1'));
    assert.deepEqual(w.read({}, 500), { messages: w.read({}).messages, next: 1 });
  });

  test('answers at most a page, and next continues from its last message', () => {
    const w = new TelemetryWindow({ perIdentity: 2000, total: 2000 });
    for (let i = 0; i < TELEMETRY_PAGE_MAX + 5; i++) w.record(message('d', null, '{}'));
    const first = w.read({});
    assert.equal(first.messages.length, TELEMETRY_PAGE_MAX);
    assert.equal(first.next, TELEMETRY_PAGE_MAX);
    assert.equal(w.read({}, first.next).messages.length, 5);
  });

  test('the wire shape: moduleId only for modules, enqueuedTimeUtc, reader properties, rendered body', () => {
    const w = new TelemetryWindow();
    w.record(
      message('d', 'm', '{"t":21.5}', {
        '$.ct': 'application/json',
        '$.ce': 'utf-8',
        '$.on': 'out',
        '$.to': 'x',
        unit: 'C',
      }),
    );
    w.record(message('d', null, 'plain'));
    const [fromModule, fromDevice] = w.read({}).messages;
    assert.deepEqual(fromModule, {
      sequence: 1,
      deviceId: 'd',
      moduleId: 'm',
      enqueuedTimeUtc: '2026-01-01T00:00:00.000Z',
      properties: { '$.ct': 'application/json', '$.ce': 'utf-8', '$.on': 'out', unit: 'C' },
      body: { t: 21.5 },
      bodyEncoding: 'json',
    });
    assert.equal('moduleId' in fromDevice!, false);
    assert.deepEqual([fromDevice!.body, fromDevice!.bodyEncoding], ['plain', 'utf8']);
  });

  test("long poll: resolves when a matching message arrives, not for another identity's", async () => {
    const w = new TelemetryWindow();
    const waiting = w.waitForMessages({ deviceId: 'd', moduleId: 'm' }, 0, 20_000);
    w.record(message('other', null, 'x'));
    w.record(message('d', 'm', 'y'));
    const page = await within("the long poll to see the module's message", waiting);
    assert.deepEqual(
      page.messages.map((m) => [m.sequence, m.body]),
      [[2, 'y']],
    );
  });

  test('long poll: ends with an empty page at the wait, on abort and on close', async () => {
    const w = new TelemetryWindow();
    assert.deepEqual(await within('a 1 ms wait to end', w.waitForMessages({}, 0, 1)), {
      messages: [],
      next: 0,
    });
    const aborted = new AbortController();
    const waiting = w.waitForMessages({}, 0, 20_000, aborted.signal);
    aborted.abort();
    assert.deepEqual(await within('the aborted poll to end', waiting), { messages: [], next: 0 });
    const closing = w.waitForMessages({}, 0, 20_000);
    w.close();
    assert.deepEqual(await within('the poll to end when the window closes', closing), {
      messages: [],
      next: 0,
    });
  });
});

describe('telemetry body and properties', () => {
  test('JSON by content type or, without one, when it parses; text otherwise; base64 for bytes', () => {
    assert.deepEqual(renderBody(Buffer.from('[1,2]'), { '$.ct': 'application/json' }), {
      body: [1, 2],
      bodyEncoding: 'json',
    });
    assert.deepEqual(renderBody(Buffer.from('{"a":1}'), {}), { body: { a: 1 }, bodyEncoding: 'json' });
    assert.deepEqual(renderBody(Buffer.from('{"a":1}'), { '$.ct': 'text/plain' }), {
      body: '{"a":1}',
      bodyEncoding: 'utf8',
    });
    assert.deepEqual(renderBody(Buffer.from('not json'), { '$.ct': 'application/json' }), {
      body: 'not json',
      bodyEncoding: 'utf8',
    });
    assert.deepEqual(renderBody(Buffer.from(''), {}), { body: '', bodyEncoding: 'utf8' });
    assert.deepEqual(renderBody(Buffer.from([0xff, 0x00, 0xfe]), {}), {
      body: '/wD+',
      bodyEncoding: 'base64',
    });
    assert.deepEqual(renderBody(Buffer.from('hi'), { '$.ce': 'utf-16' }), {
      body: 'aGk=',
      bodyEncoding: 'base64',
    });
    assert.deepEqual(
      renderBody(Buffer.from('"ok"'), { '$.ce': 'UTF-8', '$.ct': 'application/json; charset=utf-8' }),
      { body: 'ok', bodyEncoding: 'json' },
    );
  });

  test('application properties plus the useful system ones; __proto__ stays a key', () => {
    const bag = JSON.parse(
      '{"$.mid":"1","$.cid":"2","$.to":"x","$.exp":"y","a":"b","__proto__":"p"}',
    ) as Record<string, string>;
    const kept = readerProperties(bag);
    assert.deepEqual(Object.keys(kept), ['$.mid', '$.cid', 'a', '__proto__']);
    assert.equal(Object.getPrototypeOf(kept), Object.prototype);
  });
});
