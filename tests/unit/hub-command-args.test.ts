/**
 * The rules of `npm run hub -- <command>` (lib/hub-command-args.ts): positional ids, flags per command,
 * every problem at once naming the valid words or flags, the connection string never from argv, and
 * the local hub as the default.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type HubCommandArgs, parseHubCommandArgs } from '../../lib/hub-command-args';

const run = (argv: string[], env: Record<string, string> = {}) => {
  const parsed = parseHubCommandArgs(argv, env);
  assert.equal(parsed.kind, 'run', JSON.stringify(parsed));
  return (parsed as Extract<HubCommandArgs, { kind: 'run' }>).request;
};

const problems = (argv: string[], env: Record<string, string> = {}) => {
  const parsed = parseHubCommandArgs(argv, env);
  assert.equal(parsed.kind, 'problems', JSON.stringify(parsed));
  return (parsed as Extract<HubCommandArgs, { kind: 'problems' }>).problems
    .map((p) => `${p.path}: ${p.message}`)
    .join('\n');
};

describe('hub command words', () => {
  test('each command with its ids', () => {
    assert.deepEqual(run(['devices', 'list']).action, { command: 'devices list' });
    assert.deepEqual(run(['devices', 'show', 'd1']).action, { command: 'devices show', deviceId: 'd1' });
    assert.deepEqual(run(['modules', 'list', 'd1']).action, { command: 'modules list', deviceId: 'd1' });
    assert.deepEqual(run(['modules', 'show', 'd1', 'm1']).action, {
      command: 'modules show',
      deviceId: 'd1',
      moduleId: 'm1',
    });
    assert.deepEqual(run(['twin', 'show', 'd1']).action, { command: 'twin show', deviceId: 'd1' });
    assert.deepEqual(run(['twin', 'show', 'd1', 'm1']).action, {
      command: 'twin show',
      deviceId: 'd1',
      moduleId: 'm1',
    });
    assert.deepEqual(run(['twin', 'set-desired', 'd1', 'm1', '--patch', '{"a":1}']).action, {
      command: 'twin set-desired',
      deviceId: 'd1',
      moduleId: 'm1',
      patch: { kind: 'inline', text: '{"a":1}' },
    });
    assert.deepEqual(run(['twin', 'set-desired', 'd1', '--patch-file=p.json']).action, {
      command: 'twin set-desired',
      deviceId: 'd1',
      patch: { kind: 'file', path: 'p.json' },
    });
    assert.deepEqual(run(['query', 'SELECT * FROM devices']).action, {
      command: 'query',
      sql: 'SELECT * FROM devices',
    });
    assert.deepEqual(run(['telemetry', 'tail', 'd1', 'm1', '--count', '3', '--only-new']).action, {
      command: 'telemetry tail',
      deviceId: 'd1',
      moduleId: 'm1',
      count: 3,
      onlyNew: true,
    });
    assert.deepEqual(run(['telemetry', 'tail']).action, { command: 'telemetry tail', onlyNew: false });
  });

  test('invoke-method keeps its own flags; help for the bare word and --help', () => {
    assert.deepEqual(parseHubCommandArgs(['invoke-method', '--device', 'd', '--method', 'ping'], {}), {
      kind: 'invoke-method',
      argv: ['--device', 'd', '--method', 'ping'],
    });
    for (const argv of [['devices', '--help'], ['twin', 'show', '--help'], ['help']]) {
      const parsed = parseHubCommandArgs(argv, {});
      assert.equal(parsed.kind, 'help', argv.join(' '));
      assert.match((parsed as { text: string }).text, /Exit codes: 0 ok/);
    }
  });

  test('an unknown command or subcommand lists the valid ones', () => {
    assert.match(
      problems(['device', 'list']),
      /device: unknown command; valid commands: devices, modules, twin, query, telemetry, invoke-method/,
    );
    assert.match(problems(['devices', 'lst']), /devices: needs a subcommand, got "lst"; valid: list, show/);
    assert.match(problems(['twin']), /twin: needs a subcommand, got \(nothing\); valid: show, set-desired/);
  });

  test('an unknown flag lists the flags of that command', () => {
    assert.match(
      problems(['devices', 'list', '--show-keys']),
      /--show-keys: unknown flag for "devices list"; valid flags: --json, --ca, --connection-string-file$/m,
    );
    assert.match(problems(['devices', 'show', 'd', '--frob=1']), /--frob: unknown flag .* --show-keys/);
  });

  test('every problem at once: missing and extra ids, missing patch, bad count, switch with a value', () => {
    const text = problems(['twin', 'set-desired', '--json=yes']);
    assert.match(text, /twin set-desired: needs <deviceId>/);
    assert.match(text, /--patch: is required/);
    assert.match(text, /--json: is a switch/);
    assert.match(problems(['modules', 'show', 'd']), /needs <moduleId>/);
    assert.match(problems(['devices', 'list', 'extra']), /takes no arguments; unexpected "extra"/);
    assert.match(problems(['query', 'SELECT', 'x', 'FROM', 'devices']), /put the query in quotes/);
    assert.match(problems(['telemetry', 'tail', '--count', '0']), /--count: must be a whole number/);
    assert.match(problems(['twin', 'set-desired', 'd', '--patch', '{}', '--patch-file', 'f']), /choose one/);
    assert.match(problems(['devices', 'show', ' ']), /<deviceId>: is empty/);
  });

  test('a connection string on the command line is refused without echoing it', () => {
    const text = problems(['devices', 'list', '--connection-string', 'HostName=h;SharedAccessKey=SECRET']);
    assert.match(text, /--connection-string: not accepted/);
    assert.ok(!text.includes('SECRET'));
  });

  test('the hub: environment, then a file, else the local default; the CA from --ca or IOTHUB_CA_FILE', () => {
    assert.deepEqual(run(['devices', 'list']).connection, { kind: 'local-default' });
    assert.deepEqual(run(['devices', 'list'], { IOTHUB_CONNECTION_STRING: 'cs' }).connection, {
      kind: 'env',
      value: 'cs',
    });
    assert.deepEqual(run(['devices', 'list'], { IOTHUB_CONNECTION_STRING_FILE: '/f' }).connection, {
      kind: 'file',
      path: '/f',
      origin: 'IOTHUB_CONNECTION_STRING_FILE',
    });
    assert.deepEqual(
      run(['devices', 'list', '--connection-string-file', '/g'], { IOTHUB_CONNECTION_STRING: 'cs' })
        .connection,
      { kind: 'file', path: '/g', origin: '--connection-string-file' },
    );
    assert.equal(run(['devices', 'list'], { IOTHUB_CA_FILE: '/ca' }).caFile, '/ca');
    assert.equal(run(['devices', 'list', '--ca', '/mine'], { IOTHUB_CA_FILE: '/ca' }).caFile, '/mine');
    const request = run(['devices', 'show', 'd', '--json', '--show-keys']);
    assert.deepEqual({ json: request.json, showKeys: request.showKeys }, { json: true, showKeys: true });
  });
});
