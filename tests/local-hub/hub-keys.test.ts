/**
 * Policy keys of `npm run hub` (issue #10 items 1 and 12): overriding a policy replaces both of its
 * keys (the documented well-known secondary key must stop working), the banner says which well-known
 * keys are still in force, keys can come from a file or an environment variable instead of the
 * command line, and a non-loopback bind with well-known keys in force gets a loud warning.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import { describeHub, parseHubArguments } from '../../local-hub/cli';
import type { LocalHub, LocalHubOptions } from '../../local-hub/index';
import { exposureWarning } from '../../local-hub/local-hub';
import { startTestHub } from '../support/local-hub-fixture';
import { createRestCaller, serviceToken, wellKnownPolicy, withApiVersion } from '../support/reliability-rest';

const OWN_PRIMARY = Buffer.alloc(32, 1).toString('base64');
const OWN_SECONDARY = Buffer.alloc(32, 2).toString('base64');
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function options(argv: string[], env: Record<string, string> = {}): LocalHubOptions {
  const parsed = parseHubArguments(['--in-memory', ...argv], env);
  assert.notEqual(parsed, 'help');
  return parsed as LocalHubOptions;
}

function ownerKeys(o: LocalHubOptions): { primaryKey: string; secondaryKey: string } | undefined {
  return o.policies?.find((p) => p.keyName === 'iothubowner');
}

/** The status of GET /devices signed with the iothubowner name and `key`. */
async function statusWith(hub: LocalHub, key: string): Promise<number> {
  const rest = createRestCaller(hub);
  try {
    const token = serviceToken(hub.hostName, wellKnownPolicy('iothubowner'), { key });
    return (await rest.request({ method: 'GET', path: withApiVersion('/devices'), authorization: token }))
      .status;
  } finally {
    rest.close();
  }
}

describe('overriding a policy replaces both keys (item 1)', () => {
  test('with --policy-key, the well-known secondary key of that policy no longer signs', async () => {
    const hub = await startTestHub(options(['--policy-key', `iothubowner=${OWN_PRIMARY}`]));
    try {
      const wellKnown = wellKnownPolicy('iothubowner');
      assert.equal(await statusWith(hub, OWN_PRIMARY), 200, 'the own key works');
      assert.equal(await statusWith(hub, wellKnown.secondaryKey), 401, 'the well-known secondary key works');
      assert.equal(await statusWith(hub, wellKnown.primaryKey), 401, 'the well-known primary key works');
    } finally {
      await hub.close();
    }
  });

  test('"<primary>,<secondary>" sets both; the banner lists the well-known keys still in force', async () => {
    const o = options(['--policy-key', `iothubowner=${OWN_PRIMARY},${OWN_SECONDARY}`]);
    assert.deepEqual(
      { ...ownerKeys(o) },
      { ...ownerKeys(o), primaryKey: OWN_PRIMARY, secondaryKey: OWN_SECONDARY },
    );
    const hub = await startTestHub(o);
    try {
      const banner = describeHub(hub);
      assert.match(banner, /well-known/i);
      const inForce = /well-known \(public\) keys in force: ([^\n]*)/i.exec(banner)?.[1] ?? '';
      assert.ok(!inForce.includes('iothubowner'), banner);
      assert.ok(inForce.includes('serviceAndRegistryReadWrite'), banner);
      assert.ok(!banner.includes(OWN_PRIMARY) && !banner.includes(OWN_SECONDARY), 'the banner printed a key');
    } finally {
      await hub.close();
    }
  });
});

describe('keys from a file or the environment (item 12)', () => {
  test('LOCAL_HUB_POLICY_KEYS sets keys without the command line', () => {
    const o = options([], {
      LOCAL_HUB_POLICY_KEYS: `iothubowner=${OWN_PRIMARY},${OWN_SECONDARY}; service=${OWN_PRIMARY}`,
    });
    assert.equal(ownerKeys(o)?.primaryKey, OWN_PRIMARY);
    assert.equal(ownerKeys(o)?.secondaryKey, OWN_SECONDARY);
    const service = o.policies?.find((p) => p.keyName === 'service');
    assert.deepEqual([service?.primaryKey, service?.secondaryKey], [OWN_PRIMARY, OWN_PRIMARY]);
  });

  test('--policy-key-file <policy>=<file> reads the keys from a file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hub-keys-'));
    dirs.push(dir);
    const file = path.join(dir, 'owner.key');
    writeFileSync(file, `${OWN_PRIMARY}\n${OWN_SECONDARY}\n`, { mode: 0o600 });
    const o = options(['--policy-key-file', `iothubowner=${file}`]);
    assert.equal(ownerKeys(o)?.primaryKey, OWN_PRIMARY);
    assert.equal(ownerKeys(o)?.secondaryKey, OWN_SECONDARY);
  });

  test('a bad key in the environment is reported without echoing it', () => {
    assert.throws(
      () => options([], { LOCAL_HUB_POLICY_KEYS: 'iothubowner=not-base64!' }),
      (error: Error) => /LOCAL_HUB_POLICY_KEYS/.test(error.message) && !error.message.includes('not-base64!'),
    );
  });
});

describe('a non-loopback bind with well-known keys warns loudly', () => {
  const wellKnown = WELL_KNOWN_POLICIES;
  const own = WELL_KNOWN_POLICIES.map((p) => ({
    ...p,
    primaryKey: OWN_PRIMARY,
    secondaryKey: OWN_SECONDARY,
  }));
  test('0.0.0.0, :: and a LAN address warn and name the policies; loopback and own keys do not', () => {
    for (const bind of ['0.0.0.0', '::', '192.168.1.20']) {
      const warning = exposureWarning(bind, wellKnown);
      assert.ok(warning, `no warning for ${bind}`);
      assert.match(warning, /iothubowner/);
    }
    for (const bind of ['127.0.0.1', '127.0.0.2', '::1', 'localhost'])
      assert.equal(exposureWarning(bind, wellKnown), undefined);
    assert.equal(exposureWarning('0.0.0.0', own), undefined);
  });
});

describe('connection caps are flags (item 3)', () => {
  test('--max-connections and --max-connections-per-address', () => {
    const o = options(['--max-connections', '100', '--max-connections-per-address', '10']);
    assert.equal(o.maxConnections, 100);
    assert.equal(o.maxConnectionsPerAddress, 10);
  });
});
