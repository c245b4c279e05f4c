/**
 * `npm run check` (scripts/check.ts): stack files checked without the Pulumi CLI, every problem with its
 * path in the message `pulumi preview` prints, encrypted values present but never decrypted or printed,
 * unknown stacks listed, exit codes 0 / 1 / 2. In-process, plus one run as the process users start.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SCHEMA_REFERENCE_LINE } from '../../infra/stack-config-schema';
import { runCheck } from '../../scripts/check';

const PROJECT_DIR = path.resolve(__dirname, '..', '..');
const CIPHERTEXT = 'v1:c2VjcmV0LWNpcGhlcnRleHQ=:not-for-your-eyes';

function check(argv: string[]): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = runCheck(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A project folder as Pulumi expects it: Pulumi.yaml with stackConfigDir, stack files in it. */
function project(stacks: Record<string, string>): string {
  const root = path.join(PROJECT_DIR, '.test-work');
  fs.mkdirSync(root, { recursive: true });
  const dir = fs.mkdtempSync(path.join(root, 'check-'));
  fs.writeFileSync(
    path.join(dir, 'Pulumi.yaml'),
    'name: iothub-as-code\nruntime: nodejs\nstackConfigDir: stacks\n',
  );
  fs.mkdirSync(path.join(dir, 'stacks'));
  for (const [name, text] of Object.entries(stacks))
    fs.writeFileSync(path.join(dir, 'stacks', `Pulumi.${name}.yaml`), text);
  return dir;
}

/** As the repository's stack files start: the schema reference for editors is a comment to the CLI. */
const GOOD = `${SCHEMA_REFERENCE_LINE}
config:
  iothub-as-code:hub:
    mode: local
  iothub-as-code:devices:
    - deviceId: gw
      modules: [{ moduleId: m, twin: { desired: { telemetryInterval: 5 } } }]
`;

const BROKEN = `config:
  aws:region: eu-west-1
  iothub-as-code:hub:
    mode: local
    local:
      caCertifcatePath: ca.pem
  iothub-as-code:device: []
  iothub-as-code:devices:
    - deviceId: gw
      protect: yes
      modules:
        - moduleId: m
          twin:
            desired:
              a.b: 1
        - moduleId: m
    - deviceId: bad id
`;

const BROKEN_LINES = [
  'Invalid stack config under "iothub-as-code" (6 problems; see docs/stack-config.md):',
  '  device: unknown config key "iothub-as-code:device"; valid keys: hub, devices, configurations',
  '  hub.local.caCertifcatePath: unknown key; valid keys: connectionString, caCertificatePath',
  '  devices[0].protect: Invalid input: expected boolean, received string',
  '  devices[0].modules[0].twin.desired["a.b"]: property name contains "."; names must not contain ".", "$", space or control characters',
  '  devices[0].modules[1].moduleId: duplicate moduleId "m": modules[0] already declares it (ids are case-sensitive)',
  `  devices[1].deviceId: device id contains invalid characters " "; allowed: 1-128 characters from A-Z a-z 0-9 and - . % _ * ? ! ( ) , = @ $ ' :`,
];

/** Secrets as `pulumi config set --secret --path` writes them: nested `secure:` values. */
const ENCRYPTED = `encryptionsalt: v1:abc=:v1:def:ghi
config:
  iothub-as-code:hub:
    mode: local
    local:
      connectionString:
        secure: ${CIPHERTEXT}
  iothub-as-code:devices:
    - deviceId: fixed
      auth:
        type: sas
        primaryKey:
          secure: ${CIPHERTEXT}
`;

describe('npm run check', () => {
  let dir: string;
  before(() => {
    dir = project({ good: GOOD, broken: BROKEN, encrypted: ENCRYPTED });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("the repository's stacks are valid: exit 0, one line each", () => {
    const { code, out, err } = check([]);
    assert.equal(code, 0, `${out}\n${err}`);
    const names = fs
      .readdirSync(path.join(PROJECT_DIR, 'stacks'))
      .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
      .map((f) => f.slice('Pulumi.'.length, -'.yaml'.length));
    assert.ok(names.includes('local') && names.includes('dev'));
    for (const name of names)
      assert.match(out, new RegExp(`^stack ${name} \\(.*Pulumi\\.${name}\\.yaml\\): ok$`, 'm'));
  });

  test('a broken stack: exit 1, every problem with its path, in the message preview prints', () => {
    const { code, out } = check(['--cwd', dir, '--stack', 'broken']);
    assert.equal(code, 1, out);
    const lines = out.split('\n');
    assert.match(lines[0] ?? '', /^stack broken \(.*Pulumi\.broken\.yaml\):$/);
    const problems = lines.slice(1);
    // Same problems in any order of the program's validation; the header counts them.
    assert.equal(problems[0], BROKEN_LINES[0]);
    assert.deepEqual([...problems.slice(1)].sort(), [...BROKEN_LINES.slice(1)].sort());
    assert.doesNotMatch(out, /aws:region/, 'keys of other namespaces are not ours to check');
  });

  test('encrypted values count as present and are never printed; the key is secret, as the CLI marks it', () => {
    assert.equal(check(['--cwd', dir, '--stack', 'encrypted']).code, 0);
    // With a problem elsewhere in the same stack, the report names paths, never the ciphertext.
    fs.writeFileSync(
      path.join(dir, 'stacks', 'Pulumi.encrypted-bad.yaml'),
      `${ENCRYPTED}    - deviceId: other\n      auth: { type: sas, primaryKey: { secure: ${CIPHERTEXT} }, secondaryKey: nope }\n`,
    );
    const { code, out } = check(['--cwd', dir, '--stack', 'encrypted-bad']);
    assert.equal(code, 1, out);
    assert.match(out, /devices\[1\]\.auth\.secondaryKey: key must be base64 of 16-64 bytes/);
    assert.ok(!out.includes(CIPHERTEXT) && !out.includes('c2VjcmV0'), out);
    assert.doesNotMatch(out, /primaryKey|connectionString|clear text/, 'encrypted values are not problems');
  });

  test('a key in clear text is refused with the command to encrypt it', () => {
    const key = Buffer.alloc(32, 1).toString('base64');
    fs.writeFileSync(
      path.join(dir, 'stacks', 'Pulumi.clear.yaml'),
      `${GOOD}    - deviceId: k\n      auth: { type: sas, primaryKey: ${key} }\n`,
    );
    const { code, out } = check(['--cwd', dir, '--stack', 'clear']);
    assert.equal(code, 1);
    assert.match(
      out,
      /devices\[1\]\.auth\.primaryKey: is a secret but its config key is stored in clear text; set it with: pulumi config set --secret --path 'devices\[1\]\.auth\.primaryKey' <value>/,
    );
    assert.ok(!out.includes(key), 'the key leaked');
  });

  test('a whole key encrypted counts as present', () => {
    fs.writeFileSync(
      path.join(dir, 'stacks', 'Pulumi.whole.yaml'),
      `config:\n  iothub-as-code:hub: { mode: local }\n  iothub-as-code:devices:\n    secure: ${CIPHERTEXT}\n`,
    );
    assert.equal(check(['--cwd', dir, '--stack', 'whole']).code, 0);
  });

  test('no flag or --all checks every stack and fails if one fails; --stack may repeat', () => {
    for (const argv of [
      ['--cwd', dir],
      ['--cwd', dir, '--all'],
    ]) {
      const { code, out } = check(argv);
      assert.equal(code, 1);
      assert.match(out, /stack good .*: ok/);
      assert.match(out, /stack encrypted .*: ok/);
      assert.match(out, /stack broken .*:\nInvalid stack config/);
    }
    const { code, out } = check(['--cwd', dir, '--stack', 'good', '--stack=encrypted']);
    assert.equal(code, 0, out);
    assert.equal(out.split('\n').length, 2);
  });

  test('an unknown stack: exit 2, naming the stacks that exist', () => {
    const { code, out, err } = check(['--cwd', dir, '--stack', 'staging']);
    assert.equal(code, 2);
    assert.equal(out, '');
    assert.match(
      err,
      /unknown stack "staging": there is no .*Pulumi\.staging\.yaml; stacks: broken, .*encrypted, .*good/,
    );
  });

  test('usage errors: exit 2 with the usage', () => {
    for (const argv of [
      ['--stack'],
      ['--frobnicate'],
      ['--all', '--stack', 'good'],
      ['--write-schema', '--all'],
    ]) {
      const { code, err } = check(['--cwd', dir, ...argv]);
      assert.equal(code, 2, argv.join(' '));
      assert.match(err, /Usage: npm run check/);
    }
    assert.equal(check(['--cwd', path.join(dir, 'stacks')]).code, 2, 'no Pulumi.yaml there');
    assert.equal(check(['--help']).code, 0);
  });

  test('a file the CLI could not load is a problem, not a crash', () => {
    fs.writeFileSync(path.join(dir, 'stacks', 'Pulumi.yamlerr.yaml'), 'config:\n  iothub-as-code:hub: [\n');
    fs.writeFileSync(path.join(dir, 'stacks', 'Pulumi.nskey.yaml'), 'config:\n  hub: { mode: local }\n');
    const bad = check(['--cwd', dir, '--stack', 'yamlerr']);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /not valid YAML/);
    const ns = check(['--cwd', dir, '--stack', 'nskey']);
    assert.equal(ns.code, 1);
    assert.match(
      ns.out,
      /hub: is not a config key the Pulumi CLI can read: write it as "iothub-as-code:<name>"/,
    );
  });

  test('as a process (what npm run check starts): the exit code and the report', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_DIR, 'scripts', 'check.ts'), '--cwd', dir, '--stack', 'broken'],
      { cwd: PROJECT_DIR, encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /devices\[0\]\.protect: Invalid input: expected boolean/);
  });
});
