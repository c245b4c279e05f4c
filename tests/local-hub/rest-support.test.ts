import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import { createSasToken } from '../../lib/sas-token';
import { HubError, hubErrors, legacyErrorMessage } from '../../local-hub/errors';
import { createHubLogger, redactSecrets } from '../../local-hub/hub-logger';
import { findJsonSyntaxError } from '../../local-hub/rest/json-syntax';

describe('JSON syntax positions', () => {
  const cases: [string, number, string][] = [
    ['{"a": 1,}', 8, 'property name'],
    ['{"a" 1}', 5, "':'"],
    ['[1 2]', 3, "',' or ']'"],
    ['{"a": tru}', 6, 'JSON value'],
    ['"abc', 4, 'unterminated string'],
    ['"a\\x"', 2, 'escape'],
    ['{"a": 1} x', 9, 'after the JSON value'],
    ['{\n  "a": -}', 9, 'JSON value'],
    ['', 0, 'end of input'],
  ];
  for (const [text, position, fragment] of cases) {
    test(`${JSON.stringify(text)} fails at ${position}`, () => {
      assert.throws(() => JSON.parse(text));
      const e = findJsonSyntaxError(text);
      assert.equal(e?.position, position);
      assert.ok(e.message.includes(fragment), e.message);
    });
  }

  test('line and column are 1-based; valid JSON has no error', () => {
    assert.deepEqual(findJsonSyntaxError('{\n  "a": -}'), {
      position: 9,
      line: 2,
      column: 8,
      message: 'expected a JSON value',
    });
    for (const ok of ['{"a":[1,-2.5e3,true,false,null,"\\u00e9\\n"],"b":{}}', ' [] ', '0']) {
      assert.equal(findJsonSyntaxError(ok), undefined, ok);
    }
  });
});

describe('hub logger and redaction', () => {
  const key = WELL_KNOWN_POLICIES[0]!.primaryKey;

  test('SAS tokens, signatures, SharedAccessKey= values and key fields are redacted', () => {
    const token = createSasToken({ sr: 'h', base64Key: key, expiresAt: 1, keyName: 'iothubowner' });
    const sig = /sig=([^&]+)/.exec(token)![1]!;
    const text = [
      `Authorization: ${token}`,
      `HostName=h;SharedAccessKeyName=x;SharedAccessKey=${key}`,
      `{"primaryKey":"${key}","secondaryKey":"${key}"}`,
      `url?sig=${sig}&se=1`,
    ].join('\n');
    const redacted = redactSecrets(text);
    assert.ok(!redacted.includes(key), redacted);
    assert.ok(!redacted.includes(sig), redacted);
    assert.ok(!redacted.includes(decodeURIComponent(sig)), redacted);
    assert.ok(redacted.includes('SharedAccessKeyName=x'), 'names stay readable');
    assert.ok(redacted.includes('"primaryKey":"<redacted>"'));
  });

  test('one line per call, filtered by level, fields rendered and redacted', () => {
    const lines: string[] = [];
    const logger = createHubLogger({ level: 'info', write: (l) => lines.push(l) });
    logger.debug('hidden');
    logger.info('request', { method: 'GET', status: 200, note: 'two\nlines' });
    logger.error('boom', { connectionString: `HostName=h;SharedAccessKey=${key}` });
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^\S+Z INFO request method=GET status=200 note="two\\nlines"$/);
    assert.ok(
      lines.every((l) => !l.includes('\n')),
      'a field cannot forge a second log line',
    );
    assert.ok(lines[1]!.includes('ERROR boom') && !lines[1]!.includes(key));
    const silent: string[] = [];
    createHubLogger({ level: 'silent', write: (l) => silent.push(l) }).error('x');
    assert.deepEqual(silent, []);
  });
});

describe('legacy error message', () => {
  test('";" in the text becomes "," so the SDK split keeps the whole message', () => {
    const err = hubErrors.argumentInvalid('a; b; c');
    assert.ok(err instanceof HubError);
    assert.equal(legacyErrorMessage(err), 'ErrorCode:ArgumentInvalid;a, b, c');
    assert.deepEqual([err.status, err.numericCode], [400, 400004]);
    assert.deepEqual(
      [hubErrors.deviceNotFound('d').numericCode, hubErrors.moduleAlreadyExists('d', 'm').code],
      [404001, 'ModuleAlreadyExistsOnDevice'],
    );
  });
});
