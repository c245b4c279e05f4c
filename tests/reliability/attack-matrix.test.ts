/**
 * Attack matrix (issue #5): forged signatures, expired tokens, tokens for another device or module,
 * policies without the needed right for each operation, device keys on the service API, snooping
 * subscriptions, publishing on other identities' and the hub's topics, X.509 thumbprint mismatch,
 * disabled identities, malformed tokens, user names and client ids — over REST and MQTT; and (issue
 * #10) wills, retained copies, persistent sessions, token expiry, id enumeration, hostile client ids,
 * log floods and unbounded queries.
 * Every case must be refused, leave every identity and twin as it was, and leak nothing: no key,
 * token or victim data in any answer, and no key or token in any hub log line (debug included).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type AttackCase,
  type AttackStage,
  setUpAttackStage,
  snapshotRegistry,
} from '../support/reliability-attacks';
import { hardeningAttackCases } from '../support/reliability-hardening-attacks';
import { mqttAttackCases } from '../support/reliability-mqtt-attacks';
import { restAttackCases } from '../support/reliability-rest-attacks';

const CASES: AttackCase[] = [...restAttackCases(), ...mqttAttackCases(), ...hardeningAttackCases()];

let stage: AttackStage;

before(async () => {
  stage = await setUpAttackStage();
});
after(async () => {
  stage.rest.close();
  await stage.hub.close();
});

describe('attack matrix', () => {
  test('covers at least 30 cases across REST and MQTT', () => {
    const rest = CASES.filter((c) => c.transport === 'REST').length;
    const mqtt = CASES.filter((c) => c.transport === 'MQTT').length;
    assert.ok(rest + mqtt >= 30 && rest > 0 && mqtt > 0, `${rest} REST and ${mqtt} MQTT cases`);
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names are unique');
  });

  for (const attackCase of CASES) {
    test(`${attackCase.transport}: ${attackCase.name}`, async () => {
      const before = snapshotRegistry(stage.hub);
      await attackCase.run(stage);
      assert.deepEqual(snapshotRegistry(stage.hub), before, 'the attack changed an identity or a twin');
    });
  }

  test('no key, token or certificate key appears in any hub log line', () => {
    assert.ok(stage.logLines.length > CASES.length, 'the hub logged the attempts (debug level)');
    const log = stage.logLines.join('\n');
    const found = [...stage.secrets].filter((secret) => log.includes(secret));
    const where = found.map((secret) =>
      stage.logLines.find((line) => line.includes(secret))!.replace(secret, '<secret>'),
    );
    assert.deepEqual(where, [], `${found.length} secrets appear in the hub log`);
  });
});
