/**
 * Child process of ts-node-capture.ts, compiled by ts-node as `pulumi up` registers it: started as
 * `node tests/support/ts-node-register.cjs tests/support/ts-node-capture-child.ts`, never under tsx.
 * Reads `{ stack, config }` as JSON on stdin (not argv or env: the config holds the hub connection
 * string), runs index.ts under tier 4's mocks — program-under-mocks.ts and index.ts are both compiled
 * by ts-node here — and writes the result as the LAST stdout line, one JSON object: the dynamic
 * resources as the mocks received them (secrets still in Pulumi's marker, `__provider` serialized from
 * the ts-node-compiled functions), and what compiled this process's TypeScript.
 *
 * Imports stay minimal (types are declared here, not taken from host-program.ts): with type-checking
 * on, ts-node loads the type graph of every file it compiles, and the parent's graph reaches the hub.
 */
import { runProgramUnderMocks } from './program-under-mocks';

export interface ChildRequest {
  stack: string;
  config: Record<string, unknown>;
}

export interface ChildResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/** What the child saw of its own compiler: proof that ts-node, and only ts-node, compiled the program. */
export interface CompilerReport {
  tsNodeVersion: string | null;
  /** ts-node's effective `transpileOnly` (false: every file it compiled was type-checked). */
  transpileOnly: boolean | null;
  /** Effective compiler options: the tsconfig's, over run.js's defaults. */
  target: string | null;
  module: string | null;
  /** Loaded modules from node_modules/tsx (must be none). */
  tsxModules: string[];
  execArgv: string[];
}

export interface ChildResult {
  resources: ChildResource[];
  compiler: CompilerReport;
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

/** ts-node keeps its service on `process` under this registered symbol (ts-node dist/index.js). */
function compilerReport(): CompilerReport {
  const service = (process as any)[Symbol.for('ts-node.register.instance')];
  const ts = service?.ts;
  const options = service?.config?.options ?? {};
  return {
    tsNodeVersion: service ? String(require('ts-node').VERSION) : null,
    transpileOnly: service ? Boolean(service.options?.transpileOnly) : null,
    target: ts && options.target !== undefined ? String(ts.ScriptTarget[options.target]) : null,
    module: ts && options.module !== undefined ? String(ts.ModuleKind[options.module]) : null,
    tsxModules: Object.keys(require.cache).filter((file) => file.includes('/node_modules/tsx/')),
    execArgv: process.execArgv,
  };
}

async function main(): Promise<void> {
  const request = JSON.parse(await readStdin()) as ChildRequest;
  const resources: ChildResource[] = [];
  await runProgramUnderMocks({
    stack: request.stack,
    config: request.config,
    onNewResource: (args) => {
      if (args.type.startsWith('pulumi-nodejs:dynamic')) {
        resources.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
      }
      return undefined;
    },
  });
  const result: ChildResult = { resources, compiler: compilerReport() };
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  // A TSError's message is ts-node's type-check diagnostic: exactly what the parent must show.
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
