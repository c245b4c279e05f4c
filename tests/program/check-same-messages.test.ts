/**
 * Tier 4: for the same config, `npm run check` (reading a stack file) prints exactly the message the
 * program throws under `pulumi up` (reading `pulumi.Config`), including the problems that depend on how the
 * value reaches the program: a key written as a plain string, unknown keys of the namespace, a key in clear
 * text in a config key that is not secret. tests/cli/check-command.test.ts compares with the real preview.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { runCheck } from '../../scripts/check';
import { runProgramUnderMocks } from '../support/program-under-mocks';

const PROJECT_DIR = path.resolve(__dirname, '..', '..');
const KEY = Buffer.alloc(32, 5).toString('base64');

/** Each case: the stack file's config lines, and the same config as the program receives it. */
const CASES: { name: string; yaml: string; config: Record<string, unknown>; secretKeys: string[] }[] = [
  {
    name: 'plain-string',
    yaml: '  iothub-as-code:hub: local\n  iothub-as-code:devices:\n    - deviceId: ""\n',
    config: { hub: 'local', devices: [{ deviceId: '' }] },
    secretKeys: [],
  },
  {
    name: 'unknown-keys',
    yaml: '  iothub-as-code:hubs: { mode: local }\n  iothub-as-code:device: []\n  iothub-as-code:configurations: [{ configurationId: A }]\n',
    config: { hubs: { mode: 'local' }, device: [], configurations: [{ configurationId: 'A' }] },
    secretKeys: [],
  },
  {
    name: 'clear-key',
    yaml: `  iothub-as-code:hub: { mode: local }\n  iothub-as-code:devices:\n    - { deviceId: d, protect: 1, auth: { type: sas, primaryKey: ${KEY} } }\n`,
    config: {
      hub: { mode: 'local' },
      devices: [{ deviceId: 'd', protect: 1, auth: { type: 'sas', primaryKey: KEY } }],
    },
    secretKeys: [],
  },
];

describe('npm run check and the program: the same message', () => {
  let dir: string;
  before(() => {
    fs.mkdirSync(path.join(PROJECT_DIR, '.test-work'), { recursive: true });
    dir = fs.mkdtempSync(path.join(PROJECT_DIR, '.test-work', 'check-program-'));
    fs.writeFileSync(path.join(dir, 'Pulumi.yaml'), 'name: iothub-as-code\nruntime: nodejs\n');
    for (const c of CASES) fs.writeFileSync(path.join(dir, `Pulumi.${c.name}.yaml`), `config:\n${c.yaml}`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const c of CASES) {
    test(c.name, async () => {
      const programMessage = await runProgramUnderMocks({
        stack: c.name,
        config: c.config,
        secretKeys: c.secretKeys,
      }).then(
        () => assert.fail('the program accepted the config'),
        (error: Error) => {
          assert.ok(pulumi.RunError.isInstance(error), String(error));
          return error.message;
        },
      );
      const out: string[] = [];
      const code = runCheck(['--cwd', dir, '--stack', c.name], {
        out: (l) => out.push(l),
        err: (l) => out.push(l),
      });
      assert.equal(code, 1);
      assert.equal(out.slice(1).join('\n'), programMessage);
      assert.ok(!out.join('\n').includes(KEY));
    });
  }
});
