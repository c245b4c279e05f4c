/**
 * What a client can do to the hub's log (issue #10 items 9 and 10): no terminal escape sequence or
 * other control character reaches a line intact, no client-supplied value makes a line long, and a
 * client cannot make the hub write lines faster than a fixed budget. The MQTT cases drive a real hub
 * with raw packets; the logger cases call it directly.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHubLogger, MAX_LOG_FIELD_CHARS } from '../../local-hub/hub-logger';
import type { LocalHub } from '../../local-hub/index';
import { createLogBudget } from '../../local-hub/log-budget';
import { startTestHub } from '../support/local-hub-fixture';
import { deviceToken, encodeMqttPacket, mqttUsername, RawMqttSession } from '../support/raw-mqtt';

const ESC = '\u001b';

describe('log lines carry no control characters (item 9)', () => {
  test('ESC, BEL, NUL, C1 controls and bidi overrides in messages and fields are escaped', () => {
    const lines: string[] = [];
    const logger = createHubLogger({ level: 'debug', write: (line) => lines.push(line) });
    const hostile = `evil${ESC}[2J${ESC}]0;pwned\u0007\u0000\u009b31m\u202egnp.exe`;
    logger.warn(`message ${hostile}`, { clientId: hostile, topic: `a${ESC}[1mb`, note: 'two\r\nlines' });
    assert.equal(lines.length, 1);
    const line = lines[0]!;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u, line);
    assert.ok(line.includes('\\u001b[2J'), `the escape is visible as text: ${line}`);
  });
});

describe('log volume and length are bounded (item 10)', () => {
  test('a 64 KB field value is cut to a bounded length that says how much was cut', () => {
    const lines: string[] = [];
    const logger = createHubLogger({ level: 'debug', write: (line) => lines.push(line) });
    logger.warn('mqtt connect refused', { clientId: 'x'.repeat(65_536) });
    assert.ok(lines[0]!.length < MAX_LOG_FIELD_CHARS + 200, `${lines[0]!.length} characters`);
    assert.match(lines[0]!, /65536 characters/);
  });

  test('a log budget passes a burst, then suppresses and reports the count once it refills', () => {
    const lines: string[] = [];
    let nowMs = 0;
    const logger = createHubLogger({ level: 'debug', write: (line) => lines.push(line) });
    const limited = createLogBudget(logger, { burst: 5, perSecond: 1, now: () => nowMs });
    for (let i = 0; i < 1000; i++) limited.warn('mqtt subscribe refused', { i });
    assert.equal(lines.length, 5, 'the burst passes, the rest is suppressed');
    nowMs += 3000;
    limited.warn('later');
    assert.match(lines[5]!, /995 client-caused log lines suppressed/);
    assert.match(lines[6]!, /later/);
  });
});

describe('MQTT clients cannot flood or bloat the log', () => {
  const lines: string[] = [];
  let hub: LocalHub;
  let key: string;

  before(async () => {
    hub = await startTestHub({ logLevel: 'debug', logWrite: (line) => lines.push(line) });
    hub.state.createDevice('flood', {});
    key = hub.state.findIdentity('flood', null)!.authentication.symmetricKey.primaryKey!;
  });
  after(() => hub.close());

  test('one SUBSCRIBE with 20,000 refused filters writes a bounded number of lines', async () => {
    const session = await RawMqttSession.open(hub);
    try {
      session.write(
        encodeMqttPacket({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: true,
          keepalive: 60,
          clientId: 'flood',
          username: mqttUsername(hub.hostName, 'flood'),
          password: Buffer.from(deviceToken(hub.hostName, { deviceId: 'flood' }, key)),
        }),
      );
      assert.equal(await session.waitFor('connack', 1, 15_000), 'received');
      const before = lines.length;
      const subscriptions = Array.from({ length: 20_000 }, (_, i) => ({
        topic: `spy/${i}`,
        qos: 0 as const,
      }));
      session.write(encodeMqttPacket({ cmd: 'subscribe', messageId: 1, subscriptions }));
      assert.equal(await session.waitFor('suback', 1, 30_000), 'received');
      const written = lines.length - before;
      assert.ok(written < 500, `${written} log lines for one SUBSCRIBE`);
    } finally {
      session.destroy();
      await session.closed;
    }
  });

  test('a 64 KB client id on MQTT 3.1.1 is refused with CONNACK 2 and logged short', async () => {
    const session = await RawMqttSession.open(hub);
    try {
      const clientId = 'c'.repeat(65_000);
      session.write(
        encodeMqttPacket({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: true,
          keepalive: 60,
          clientId,
          username: mqttUsername(hub.hostName, clientId),
          password: Buffer.from('x'),
        }),
      );
      assert.equal(await session.waitFor('connack', 1, 15_000), 'received');
      assert.equal((session.received[0] as { returnCode?: number }).returnCode, 2);
      const longest = Math.max(...lines.map((line) => line.length));
      assert.ok(longest < 4_000, `the longest log line has ${longest} characters`);
    } finally {
      session.destroy();
      await session.closed;
    }
  });
});
