/**
 * Tier 8: `npm run check` says what `pulumi preview` says. One broken stack file, written and then edited
 * by the real CLI (secrets encrypted by `pulumi config set --secret`), checked both ways: the check prints
 * the very lines of preview's error, never a ciphertext or a key, and needs neither the CLI nor the
 * passphrase. Also: the schema reference line survives the CLI rewriting the file.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { SCHEMA_REFERENCE_LINE } from '../../infra/stack-config-schema';
import { runCheck } from '../../scripts/check';
import {
  type CliStack,
  createCliStack,
  killProcessesIn,
  spawnPulumiScript,
  startCliHub,
} from '../support/cli-stack';
import { within } from '../support/runtime-wait';

const BROKEN = `    - deviceId: gw
      protect: maybe
      modules:
        - moduleId: m
          twin:
            desired:
              a.b: 1
        - moduleId: m
          retainOnDelete: true
    - deviceId: bad id
    - deviceId: ok
      statusReason: ${'x'.repeat(129)}
`;

const KEY = Buffer.alloc(32, 9).toString('base64');

describe('real CLI: npm run check reports what pulumi preview reports', { timeout: 300_000 }, () => {
  let hub: Awaited<ReturnType<typeof startCliHub>>;
  let stack: CliStack;
  before(async () => {
    hub = await startCliHub();
    stack = await createCliStack('checked', hub, BROKEN);
    stack.setConfigYaml('device', '    []\n');
    fs.writeFileSync(
      stack.configFile,
      `${SCHEMA_REFERENCE_LINE}\n${fs.readFileSync(stack.configFile, 'utf8')}`,
    );
    // The CLI rewrites the file, encrypting the key in place (a nested `secure:` value).
    await stack.stack.setConfig('devices[2].auth.primaryKey', { value: KEY, secret: true }, true);
  });
  after(async () => {
    killProcessesIn(stack.workDir);
    stack.remove();
    await hub.closeAndRemove();
  });

  test('the CLI keeps the schema reference line and encrypts the key', () => {
    const text = fs.readFileSync(stack.configFile, 'utf8');
    assert.equal(text.split('\n')[0], SCHEMA_REFERENCE_LINE);
    assert.ok(!text.includes(KEY));
    assert.match(text, /primaryKey:\n\s+secure: v1:/);
  });

  test('every line of the error is the same, and nothing secret is printed', async () => {
    const run = spawnPulumiScript(['preview', '--stack', stack.name, '--cwd', stack.workDir]);
    const code = await within(() => `pulumi preview to end; output:\n${run.output()}`, run.exited, 120_000);
    const preview = run.output();
    assert.equal(code, 1, preview);

    const out: string[] = [];
    const checkCode = runCheck(['--cwd', stack.workDir, '--stack', stack.name], {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
    });
    assert.equal(checkCode, 1, out.join('\n'));
    const message = out.join('\n').split('\n').slice(1);
    assert.match(
      message[0] ?? '',
      /^Invalid stack config under "iothub-as-code" \(7 problems; see docs\/stack-config\.md\):$/,
    );
    // Preview's diagnostics print the same message, its first line after "error: ", indented: compare
    // the lines, in order, as one block.
    const previewLines = preview.split('\n').map((l) => l.trim().replace(/^error: /, ''));
    const lines = message.map((l) => l.trim());
    const start = previewLines.lastIndexOf(lines[0]!);
    assert.ok(start >= 0, `preview has no such error:\n${preview}`);
    assert.deepEqual(previewLines.slice(start, start + lines.length), lines, preview);
    const checked = out.join('\n');
    assert.ok(!checked.includes(KEY) && !checked.includes('secure') && !checked.includes('v1:'), checked);
  });
});
