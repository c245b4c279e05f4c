/**
 * The rules of `npm run hub -- <command>` (scripts/hub-commands/), pure so they are unit-tested: the
 * command words, their positional ids, which flags each takes, where the hub connection comes from, and
 * the exit codes (docs/hub-commands.md).
 *
 * As for `npm run invoke-method` (lib/invoke-method-args.ts), a connection string is never taken from argv
 * (`ps` and shell history show it): IOTHUB_CONNECTION_STRING, or a file. Without either, the commands
 * talk to the local hub at its default address with its documented well-known key.
 */
import { INVOKE_ENV, refuseConnectionStringFlag } from './invoke-method-args';
import type { Problem } from './problems';

/** Documented in docs/hub-commands.md; scripts branch on them. */
export const HUB_EXIT = {
  ok: 0,
  /** invoke-method only: the device answered a status outside 200-299. */
  deviceStatus: 1,
  usage: 2,
  /** The hub answered with an error (refused, throttled, invalid request). */
  failed: 3,
  /** The device or module named does not exist. */
  notFound: 4,
  /** No TLS session with the hub: unreachable, or its certificate is not trusted. */
  unreachable: 5,
} as const;

export type HubConnectionSource =
  | { kind: 'env'; value: string }
  | { kind: 'file'; path: string; origin: string }
  /** The local hub at its default address with its well-known owner key (lib/local-hub-defaults.ts). */
  | { kind: 'local-default' };

export type TwinPatchSource = { kind: 'inline'; text: string } | { kind: 'file'; path: string };

export type HubCommandAction =
  | { command: 'devices list' }
  | { command: 'devices show'; deviceId: string }
  | { command: 'modules list'; deviceId: string }
  | { command: 'modules show'; deviceId: string; moduleId: string }
  | { command: 'twin show'; deviceId: string; moduleId?: string }
  | { command: 'twin set-desired'; deviceId: string; moduleId?: string; patch: TwinPatchSource }
  | { command: 'query'; sql: string }
  | { command: 'telemetry tail'; deviceId?: string; moduleId?: string; count?: number; onlyNew: boolean };

export interface HubCommandRequest {
  action: HubCommandAction;
  connection: HubConnectionSource;
  caFile?: string;
  json: boolean;
  showKeys: boolean;
}

export type HubCommandArgs =
  | { kind: 'help'; text: string }
  /** `invoke-method` keeps its own flags (lib/invoke-method-args.ts); only the connection default is added. */
  | { kind: 'invoke-method'; argv: string[] }
  | { kind: 'run'; request: HubCommandRequest }
  | { kind: 'problems'; problems: Problem[]; help: string };

interface CommandSpec {
  words: string;
  /** Positional ids: required names, then optional ones. */
  required: readonly string[];
  optional: readonly string[];
  flags: readonly string[];
  summary: string;
}

const CONNECTION_FLAGS = ['json', 'ca', 'connection-string-file'] as const;
const SWITCHES = ['json', 'show-keys', 'only-new'] as const;

const COMMANDS: readonly CommandSpec[] = [
  { words: 'devices list', required: [], optional: [], flags: [], summary: 'every device identity' },
  {
    words: 'devices show',
    required: ['deviceId'],
    optional: [],
    flags: ['show-keys'],
    summary: 'one device (keys masked unless --show-keys)',
  },
  {
    words: 'modules list',
    required: ['deviceId'],
    optional: [],
    flags: [],
    summary: "a device's module identities",
  },
  {
    words: 'modules show',
    required: ['deviceId', 'moduleId'],
    optional: [],
    flags: ['show-keys'],
    summary: 'one module (keys masked unless --show-keys)',
  },
  {
    words: 'twin show',
    required: ['deviceId'],
    optional: ['moduleId'],
    flags: [],
    summary: 'desired vs reported, $version and acknowledgements',
  },
  {
    words: 'twin set-desired',
    required: ['deviceId'],
    optional: ['moduleId'],
    flags: ['patch', 'patch-file'],
    summary: 'merge-patch desired properties (--patch <json> | --patch-file <file>)',
  },
  {
    words: 'query',
    required: ['"SELECT ..."'],
    optional: [],
    flags: [],
    summary: 'an IoT Hub query, every page',
  },
  {
    words: 'telemetry tail',
    required: [],
    optional: ['deviceId', 'moduleId'],
    flags: ['count', 'only-new'],
    summary: "the local hub's telemetry, one line per message (--count <n> then exit)",
  },
];

function usageLines(group?: string): string[] {
  const specs = COMMANDS.filter((c) => group === undefined || c.words.split(' ')[0] === group);
  const lines = specs.map(
    (c) =>
      `  ${[c.words, ...c.required.map((r) => `<${r}>`), ...c.optional.map((o) => `[<${o}>]`)].join(' ')}\n      ${c.summary}`,
  );
  if (group === undefined || group === 'invoke-method') {
    lines.push(
      '  invoke-method --device <id> [--module <id>] --method <name> [--payload <json> | --payload-file <file>] ...',
      '      a direct method (the flags of npm run invoke-method; --help for them)',
    );
  }
  return lines;
}

export const HUB_COMMANDS_HELP = [
  'npm run hub -- <command> [flags]        (no command: serve the local hub)',
  '',
  ...usageLines(),
  '',
  'Every command: --json (stable JSON for scripts), --ca <file>, --connection-string-file <file>.',
  `The hub: ${INVOKE_ENV.connectionString}, or a file (--connection-string-file / ${INVOKE_ENV.connectionStringFile});`,
  '  without either, the local hub at 127.0.0.1:8443 with its well-known iothubowner key and .local-hub/ca.pem.',
  `  --ca <file> or ${INVOKE_ENV.caFile}: a CA to trust (an --in-memory hub names its CA file in its banner).`,
  'Exit codes: 0 ok, 1 invoke-method: the device answered a non-2xx status, 2 bad usage, 3 the hub answered',
  '  with an error, 4 the device or module does not exist, 5 the hub cannot be reached or is not trusted.',
  'Details: docs/hub-commands.md',
].join('\n');

/** After a usage problem: the usage of that command only, and where the rest is. */
function shortHelp(group?: string): string {
  return [
    'Usage:',
    ...usageLines(group),
    'Flags of every command: --json, --ca <file>, --connection-string-file <file>. `npm run hub -- <command> --help` for more.',
  ].join('\n');
}

const GROUPS = ['devices', 'modules', 'twin', 'query', 'telemetry', 'invoke-method'] as const;

/** Parses `npm run hub -- <argv>`; every problem at once, each naming the word or flag it concerns. */
export function parseHubCommandArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): HubCommandArgs {
  const [group, ...rest] = argv;
  if (group === 'invoke-method') return { kind: 'invoke-method', argv: rest };
  if (group === undefined || group === '--help' || group === '-h' || group === 'help') {
    return { kind: 'help', text: HUB_COMMANDS_HELP };
  }
  if (!(GROUPS as readonly string[]).includes(group)) {
    return problem(`${group}`, `unknown command; valid commands: ${GROUPS.join(', ')}`);
  }
  const single = COMMANDS.find((c) => c.words === group);
  const spec =
    single ??
    COMMANDS.find((c) => c.words === `${group} ${rest[0] ?? ''}`) ??
    (rest[0] === '--help' || rest[0] === '-h' ? 'help' : undefined);
  if (spec === 'help') return { kind: 'help', text: HUB_COMMANDS_HELP };
  if (spec === undefined) {
    const valid = COMMANDS.filter((c) => c.words.startsWith(`${group} `)).map((c) => c.words.split(' ')[1]);
    const shown = rest[0] === undefined ? '(nothing)' : JSON.stringify(rest[0]);
    return problem(group, `needs a subcommand, got ${shown}; valid: ${valid.join(', ')}`, group);
  }
  const args = single ? rest : rest.slice(1);
  if (args.includes('--help') || args.includes('-h')) return { kind: 'help', text: HUB_COMMANDS_HELP };
  return parseCommand(spec, args, env);
}

function parseCommand(
  spec: CommandSpec,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): HubCommandArgs {
  const problems: Problem[] = [];
  const allowed = [...CONNECTION_FLAGS, ...spec.flags];
  const values = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const refused = refuseConnectionStringFlag(arg, problems);
    if (refused) {
      if (refused === 'with-value') i++;
      continue;
    }
    if (arg === '--' || !arg.startsWith('--')) {
      positionals.push(...(arg === '--' ? args.slice(i + 1) : [arg]));
      if (arg === '--') break;
      continue;
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    const flag = match?.[1];
    if (!match || flag === undefined || !allowed.includes(flag)) {
      problems.push({
        path: arg.replace(/=.*$/s, ''),
        message: `unknown flag for "${spec.words}"; valid flags: ${allowed.map((f) => `--${f}`).join(', ')}`,
      });
      continue;
    }
    const isSwitch = (SWITCHES as readonly string[]).includes(flag);
    if (isSwitch && match[2] !== undefined) {
      problems.push({ path: `--${flag}`, message: 'is a switch; it takes no value' });
      continue;
    }
    const value = isSwitch ? true : (match[2] ?? args[++i]);
    if (value === undefined) problems.push({ path: `--${flag}`, message: 'needs a value' });
    else if (values.has(flag)) problems.push({ path: `--${flag}`, message: 'given twice' });
    else values.set(flag, value);
  }

  const names = [...spec.required, ...spec.optional];
  if (positionals.length < spec.required.length) {
    const missing = spec.required.slice(positionals.length).map((r) => `<${r}>`);
    problems.push({ path: spec.words, message: `needs ${missing.join(' ')}` });
  } else if (positionals.length > names.length) {
    const extra = positionals.slice(names.length).map((p) => JSON.stringify(p));
    const usage = names.length === 0 ? 'no arguments' : names.map((n) => `<${n}>`).join(' ');
    // An unquoted query arrives as many words (and the shell may have expanded its `*`).
    const hint = spec.words === 'query' ? `; put the query in quotes: query "SELECT * FROM devices"` : '';
    problems.push({ path: spec.words, message: `takes ${usage}; unexpected ${extra.join(' ')}${hint}` });
  }
  for (const [i, value] of positionals.entries()) {
    if (value.trim() === '') problems.push({ path: `<${names[i] ?? 'argument'}>`, message: 'is empty' });
  }
  const action = buildAction(spec.words, positionals, values, problems);
  const connection = connectionSource(values.get('connection-string-file'), env);
  if (problems.length > 0 || action === undefined)
    return { kind: 'problems', problems, help: shortHelp(spec.words.split(' ')[0]) };
  const caFlag = values.get('ca');
  const caFile = typeof caFlag === 'string' ? caFlag : env[INVOKE_ENV.caFile] || undefined;
  return {
    kind: 'run',
    request: {
      action,
      connection,
      ...(caFile === undefined ? {} : { caFile }),
      json: values.get('json') === true,
      showKeys: values.get('show-keys') === true,
    },
  };
}

function buildAction(
  words: string,
  positionals: readonly string[],
  values: ReadonlyMap<string, string | true>,
  problems: Problem[],
): HubCommandAction | undefined {
  const [first, second] = positionals;
  const module = second === undefined ? {} : { moduleId: second };
  switch (words) {
    case 'devices list':
      return { command: words };
    case 'devices show':
    case 'modules list':
      return { command: words, deviceId: first ?? '' };
    case 'modules show':
      return { command: words, deviceId: first ?? '', moduleId: second ?? '' };
    case 'twin show':
      return { command: words, deviceId: first ?? '', ...module };
    case 'twin set-desired': {
      const inline = values.get('patch');
      const file = values.get('patch-file');
      if (inline !== undefined && file !== undefined) {
        problems.push({ path: '--patch', message: 'and --patch-file: choose one' });
        return undefined;
      }
      if (typeof inline === 'string')
        return { command: words, deviceId: first ?? '', ...module, patch: { kind: 'inline', text: inline } };
      if (typeof file === 'string')
        return { command: words, deviceId: first ?? '', ...module, patch: { kind: 'file', path: file } };
      problems.push({ path: '--patch', message: 'is required: --patch <json> or --patch-file <file>' });
      return undefined;
    }
    case 'query':
      return { command: words, sql: first ?? '' };
    case 'telemetry tail': {
      const count = countValue(values.get('count'), problems);
      return {
        command: words,
        ...(first === undefined ? {} : { deviceId: first }),
        ...module,
        ...(count === undefined ? {} : { count }),
        onlyNew: values.get('only-new') === true,
      };
    }
    default:
      return undefined;
  }
}

function countValue(text: string | true | undefined, problems: Problem[]): number | undefined {
  if (text === undefined || text === true) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    problems.push({
      path: '--count',
      message: `must be a whole number of messages, at least 1; got ${JSON.stringify(text)}`,
    });
    return undefined;
  }
  return n;
}

function connectionSource(
  file: string | true | undefined,
  env: Readonly<Record<string, string | undefined>>,
): HubConnectionSource {
  if (typeof file === 'string') return { kind: 'file', path: file, origin: '--connection-string-file' };
  const value = env[INVOKE_ENV.connectionString];
  if (value) return { kind: 'env', value };
  const envFile = env[INVOKE_ENV.connectionStringFile];
  if (envFile) return { kind: 'file', path: envFile, origin: INVOKE_ENV.connectionStringFile };
  return { kind: 'local-default' };
}

function problem(path: string, message: string, group?: string): HubCommandArgs {
  return { kind: 'problems', problems: [{ path, message }], help: shortHelp(group) };
}
