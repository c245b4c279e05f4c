/** `npm run invoke-method`'s argument rules (lib/invoke-method-args.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInvokeMethodArgs, parseMethodPayload } from '../../lib/invoke-method-args';

const env = { IOTHUB_CONNECTION_STRING: 'HostName=h;SharedAccessKeyName=service;SharedAccessKey=k' };

test('defaults: payload null, response timeout 30 s, connect timeout 0 s; CA from the environment', () => {
  const parsed = parseInvokeMethodArgs(['--device', 'd', '--method', 'm'], {
    ...env,
    IOTHUB_CA_FILE: 'ca.pem',
  });
  assert.deepEqual(parsed, {
    help: false,
    request: {
      connection: { kind: 'env', value: env.IOTHUB_CONNECTION_STRING },
      caFile: 'ca.pem',
      deviceId: 'd',
      methodName: 'm',
      payload: { kind: 'inline', text: 'null' },
      responseTimeoutSeconds: 30,
      connectTimeoutSeconds: 0,
    },
  });
});

test('flags with = or a separate value; the file flag wins over the environment', () => {
  const parsed = parseInvokeMethodArgs(
    [
      '--device=d',
      '--module',
      'm1',
      '--method=reboot',
      '--payload-file',
      'p.json',
      '--connect-timeout=300',
      '--connection-string-file',
      'cs.txt',
    ],
    env,
  );
  assert.ok(!parsed.help && 'request' in parsed);
  assert.deepEqual(parsed.request.connection, {
    kind: 'file',
    path: 'cs.txt',
    origin: '--connection-string-file',
  });
  assert.equal(parsed.request.moduleId, 'm1');
  assert.deepEqual(parsed.request.payload, { kind: 'file', path: 'p.json' });
  assert.equal(parsed.request.connectTimeoutSeconds, 300);
});

test('every problem at once, with its flag; the connection string is never taken from argv', () => {
  const parsed = parseInvokeMethodArgs(
    [
      '--connection-string=HostName=h;SharedAccessKey=k',
      '--bogus',
      '--payload',
      '1',
      '--payload-file',
      'f',
      '--connect-timeout',
      '-1',
      '--device',
    ],
    {},
  );
  assert.ok(!parsed.help && 'problems' in parsed);
  assert.deepEqual(
    parsed.problems.map((p) => p.path),
    [
      '--connection-string',
      '--bogus',
      '--device',
      'IOTHUB_CONNECTION_STRING',
      '--device',
      '--method',
      '--payload',
      '--connect-timeout',
    ],
  );
  assert.doesNotMatch(JSON.stringify(parsed.problems), /SharedAccessKey=k/);
});

test('payloads: JSON only, at most 128 KB', () => {
  assert.deepEqual(parseMethodPayload('{"a":1}', '--payload'), { payload: { a: 1 } });
  assert.deepEqual(parseMethodPayload('null', '--payload'), { payload: null });
  const text = parseMethodPayload('hello', '--payload');
  assert.ok('problem' in text && /is not JSON .*quoted/.test(text.problem.message));
  const big = parseMethodPayload(JSON.stringify('x'.repeat(128 * 1024)), '--payload-file');
  assert.ok(
    'problem' in big &&
      big.problem.path === '--payload-file' &&
      /at most 131072 bytes/.test(big.problem.message),
  );
});
