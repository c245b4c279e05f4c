/**
 * `node tests/support/ts-node-register.cjs <file.ts>`: registers ts-node EXACTLY as `pulumi up`'s
 * language host does (@pulumi/pulumi/cmd/run/run.js, `run()`, the "typeScript" block), then requires
 * `<file.ts>` through it. Plain JavaScript on purpose: it runs before any TypeScript compiler exists
 * in the process, as run.js does (tsx must NOT be loaded: its esbuild output is what tiers 4–6 use).
 *
 * Mirrored from run.js (3.276.0), in its order:
 *  - tsconfig path: PULUMI_NODEJS_TSCONFIG_PATH ?? "tsconfig.json", relative to the cwd (the project);
 *    skipProject when that file does not exist;
 *  - compilerOptions read with Pulumi's own tsutils.loadTypeScriptCompilerOptions;
 *  - transpileOnly: PULUMI_NODEJS_TRANSPILE_ONLY when set ("true" or not), else tsconfig's noCheck,
 *    else undefined (ts-node type-checks);
 *  - typescript / ts-node resolved with tsutils.typeScriptRequireStrings and required from run.js's
 *    own location;
 *  - the CommonJS branch (package.json has no "type": "module"): compilerOptions defaults
 *    target ES2020, module/moduleResolution nodenext (TypeScript >= 4.7), sourceMap "true",
 *    overridden by the tsconfig's compilerOptions; then `tsn.register(options)`.
 * The ESM branch (`module.register("./hooks.js")`) is not mirrored: this file refuses to run then.
 */
'use strict';
const fs = require('node:fs');
const { createRequire } = require('node:module');
const path = require('node:path');

const runJs = require.resolve('@pulumi/pulumi/cmd/run/run.js', { paths: [process.cwd()] });
const pulumiRequire = createRequire(runJs);
const tsutils = pulumiRequire('../../tsutils');
const semver = pulumiRequire('semver');

function readPackageType() {
  const manifest = JSON.parse(fs.readFileSync(path.join(process.cwd(), 'package.json'), 'utf8'));
  return manifest.type;
}

function registerLikePulumiRun() {
  if (readPackageType() === 'module') {
    throw new Error(
      'ts-node-register.cjs mirrors only run.js\'s CommonJS branch, but package.json has "type": "module" ' +
        '(run.js would use ts-node/esm hooks): extend this bootstrap before relying on it',
    );
  }
  const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH ?? 'tsconfig.json';
  const skipProject = !fs.existsSync(tsConfigPath);
  const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
  let transpileOnly;
  const transpileOnlyEnv = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
  if (transpileOnlyEnv) {
    transpileOnly = transpileOnlyEnv === 'true';
  } else {
    transpileOnly = compilerOptions.noCheck;
  }
  const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
  const ts = pulumiRequire(typescriptRequire);
  const tsVersion = semver.parse(ts.version);
  const useNodeNext = tsVersion && tsVersion.compare(new semver.SemVer('4.7.0')) >= 0;
  const tsn = pulumiRequire(tsnodeRequire);
  tsn.register({
    compiler: typescriptRequire,
    transpileOnly,
    project: tsConfigPath,
    skipProject,
    compilerOptions: {
      target: 'ES2020',
      module: useNodeNext ? 'nodenext' : 'commonjs',
      moduleResolution: useNodeNext ? 'nodenext' : 'node',
      sourceMap: 'true',
      ...compilerOptions,
    },
  });
}

const target = process.argv[2];
if (!target) {
  throw new Error('usage: node tests/support/ts-node-register.cjs <file.ts> (relative to the project)');
}
registerLikePulumiRun();
require(path.resolve(target));
