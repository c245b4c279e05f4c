/**
 * The program's dynamic resources as `pulumi up` compiles them: index.ts loaded through ts-node,
 * registered exactly as @pulumi/pulumi/cmd/run/run.js registers it (ts-node-register.cjs), in a
 * plain `node` child process — not tsx/esbuild, which every other tier uses. Pulumi's closure
 * serializer turns the compiled functions into each `__provider`, so a different compiler output
 * (tsc's `__importStar`, class emit, ...) yields a different provider text that must work as well.
 *
 * One child run type-checks the program (ts-node's default under `pulumi up`), which takes several
 * seconds: callers capture once per file.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import type { CapturedResource } from './host-program';
import { within } from './runtime-wait';
import type { ChildRequest, ChildResult, CompilerReport } from './ts-node-capture-child';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const BOOTSTRAP = path.join(__dirname, 'ts-node-register.cjs');
const CHILD = path.join(__dirname, 'ts-node-capture-child.ts');
/** Type-checking the program's whole import graph on a shared 2-core machine: be generous. */
const CHILD_TIMEOUT_MS = 240_000;

export interface TsNodeCapture {
  /** Dynamic resources by name, inputs as the mocks received them (secrets marked, `__provider`). */
  resources: Map<string, CapturedResource>;
  compiler: CompilerReport;
}

export interface TsNodeCaptureOptions {
  stack?: string;
  /** Values that must never appear in an error message (the connection string, keys). */
  redact?: string[];
  /** Extra environment for the child, e.g. PULUMI_NODEJS_TRANSPILE_ONLY (run.js reads it). */
  env?: NodeJS.ProcessEnv;
}

/** Runs index.ts under tier 4's mocks in a ts-node child and returns its dynamic resources. */
export async function captureDynamicResourcesUnderTsNode(
  config: Record<string, unknown>,
  options: TsNodeCaptureOptions = {},
): Promise<TsNodeCapture> {
  const request: ChildRequest = { stack: options.stack ?? 'local', config };
  const { stdout, stderr, code, signal } = await runChild(JSON.stringify(request), options.env ?? {});
  const redact = (text: string) => redacted(text, options.redact ?? []);
  if (code !== 0) {
    throw new Error(
      `The ts-node child (node ${path.relative(PROJECT_ROOT, BOOTSTRAP)} ${path.relative(PROJECT_ROOT, CHILD)}) ` +
        `exited with ${signal ?? `code ${code}`}; its stderr:\n${redact(stderr.slice(-8000))}`,
    );
  }
  const result = parseResult(stdout, redact);
  return {
    resources: new Map(result.resources.map((resource) => [resource.name, resource])),
    compiler: result.compiler,
  };
}

interface ChildOutput {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

async function runChild(input: string, extraEnv: NodeJS.ProcessEnv): Promise<ChildOutput> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The child is not a node:test child, and must not inherit a loader (tsx) through NODE_OPTIONS.
  delete env['NODE_TEST_CONTEXT'];
  delete env['NODE_OPTIONS'];
  // run.js reads these; the capture is deterministic unless the caller sets them explicitly.
  delete env['PULUMI_NODEJS_TRANSPILE_ONLY'];
  delete env['PULUMI_NODEJS_TSCONFIG_PATH'];
  Object.assign(env, extraEnv);
  const child = spawn(process.execPath, [BOOTSTRAP, path.relative(PROJECT_ROOT, CHILD)], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  const exited = once(child, 'exit');
  child.stdin.end(input);
  try {
    const [code, signal] = (await within('the ts-node capture child to exit', exited, 120_000)) as [
      number | null,
      NodeJS.Signals | null,
    ];
    return { stdout, stderr, code, signal };
  } finally {
    clearTimeout(timer);
  }
}

/** The child's result is its last stdout line (anything the program logged comes before it). */
function parseResult(stdout: string, redact: (text: string) => string): ChildResult {
  const lines = stdout.trimEnd().split('\n');
  const last = lines[lines.length - 1] ?? '';
  try {
    return JSON.parse(last) as ChildResult;
  } catch {
    throw new Error(
      `The ts-node child printed no JSON result as its last stdout line; it printed:\n${redact(stdout.slice(-2000))}`,
    );
  }
}

function redacted(text: string, secrets: string[]): string {
  return secrets
    .filter((secret) => secret.length > 0)
    .reduce((result, secret) => result.split(secret).join('<redacted>'), text);
}
