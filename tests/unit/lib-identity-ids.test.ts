import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { validateDeviceId, validateModuleId } from '../../lib/identity-ids';

const LENIENT_CHARS = [..."ABCXYZabcxyz0189-.+%_#*?!(),=@$':;"];

describe('validateDeviceId / validateModuleId', () => {
  test('accepts every documented character (strict mode drops +, # and ;)', () => {
    assert.deepEqual(validateDeviceId("aZ09-.%_*?!(),=@$':", 'd'), []);
    assert.deepEqual(validateModuleId("aZ09-.%_*?!(),=@$':", 'm'), []);
    assert.deepEqual(validateDeviceId('a+b#c;d', 'd', { strict: false }), []);
  });

  test('strict mode rejects ";": the connection string the stack outputs would cut the id there', () => {
    const problems = validateModuleId('edge;1', 'devices[0].modules[0].moduleId');
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /";" \(a connection string's field separator\)/);
    assert.match(problems[0]!.message, /device SDKs could not use the identity/);
  });

  test('strict is the default and rejects the MQTT wildcards + and #', () => {
    const problems = validateDeviceId('a+b#c', 'devices[0].id');
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.path, 'devices[0].id');
    assert.match(problems[0]!.message, /"\+" \(an MQTT topic wildcard\) and "#" \(an MQTT topic wildcard\)/);
    assert.equal(validateModuleId('m#1', 'm', { strict: true }).length, 1);
  });

  test('length 1 to 128', () => {
    assert.deepEqual(validateDeviceId('x'.repeat(128), 'd'), []);
    const [tooLong] = validateDeviceId('x'.repeat(129), 'd');
    assert.match(tooLong!.message, /129 characters long; the maximum is 128/);
    const [empty] = validateModuleId('', 'devices[1].modules[0].id');
    assert.equal(empty!.path, 'devices[1].modules[0].id');
    assert.match(empty!.message, /module id is empty/);
  });

  test('names every invalid character once and says what is allowed', () => {
    const problems = validateDeviceId('bad id/é/ ', 'd');
    assert.equal(problems.length, 1);
    assert.match(
      problems[0]!.message,
      /invalid characters " ", "\/", "é"; allowed: 1-128 characters from A-Z a-z 0-9/,
    );
    assert.ok(!problems[0]!.message.includes('+'), 'strict list of allowed characters omits +');
  });

  test('reports several problems at once', () => {
    const problems = validateDeviceId(`${'/'.repeat(129)}#`, 'd');
    assert.equal(problems.length, 3);
  });

  test('non-strings are rejected with their type', () => {
    assert.match(validateDeviceId(42, 'd')[0]!.message, /must be a string.*got number/);
    assert.match(validateDeviceId(null, 'd')[0]!.message, /got null/);
    assert.match(validateModuleId(['m'], 'm')[0]!.message, /got an array/);
  });

  test('agrees with the documented id regex for any string', () => {
    const lenient = /^[A-Za-z0-9\-.+%_#*?!(),=@$':;]{1,128}$/;
    const strict = /^[A-Za-z0-9\-.%_*?!(),=@$':]{1,128}$/;
    const ids = fc.oneof(
      fc.string({ maxLength: 140 }),
      fc.array(fc.constantFrom(...LENIENT_CHARS), { maxLength: 140 }).map((cs) => cs.join('')),
    );
    fc.assert(
      fc.property(ids, (id) => {
        assert.equal(validateDeviceId(id, 'd', { strict: false }).length === 0, lenient.test(id));
        assert.equal(validateDeviceId(id, 'd').length === 0, strict.test(id));
      }),
    );
  });
});
