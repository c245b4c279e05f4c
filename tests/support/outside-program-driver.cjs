/**
 * Runs one operation (up, preview, destroy) of a program OUTSIDE this repository with that program's
 * own @pulumi/pulumi, the way scripts/pulumi-engine.ts runs this project's program: the Automation
 * API with an inline program that requires the entry file (there is no Node.js language host here,
 * docs/pulumi-cli-offline.md). Plain JavaScript run by plain `node`: nothing of this repository (tsx,
 * its node_modules) may be loaded, and the program must register with the copy of @pulumi/pulumi it
 * installed, whose Automation API runs the language server, as the package's peer dependency says.
 *
 * Usage: node outside-program-driver.cjs <up|preview|destroy> <request JSON>
 * request: { programDir, entry, stackName, toolsRoot }. The CLI's environment (backend, passphrase
 * file) is this process's environment; `HOST_NODE_OPTIONS` becomes NODE_OPTIONS for the CLI and the
 * processes it starts (the provider host) only. Prints the result as one JSON line on stdout last.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

async function main() {
  const [operation, requestText] = process.argv.slice(2);
  const request = JSON.parse(requestText);
  const programRequire = createRequire(path.join(request.programDir, 'Pulumi.yaml'));
  const { LocalWorkspace, PulumiCommand } = programRequire('@pulumi/pulumi/automation');
  const projectName = /^name:\s*(\S+)/m.exec(
    fs.readFileSync(path.join(request.programDir, 'Pulumi.yaml'), 'utf8'),
  )[1];
  const envVars = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (typeof value === 'string' && key !== 'HOST_NODE_OPTIONS' && key !== 'NODE_OPTIONS') {
      envVars[key] = value;
    }
  }
  if (process.env.HOST_NODE_OPTIONS) envVars.NODE_OPTIONS = process.env.HOST_NODE_OPTIONS;
  const program = async () => {
    // Afresh for each operation, its exports the stack outputs, as Pulumi's Node.js runner does.
    const entry = programRequire.resolve(request.entry);
    delete require.cache[entry];
    const exported = programRequire(entry);
    return Object.fromEntries(Object.entries(exported).filter(([key]) => key !== '__esModule'));
  };
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: request.stackName, projectName, program },
    {
      workDir: request.programDir,
      pulumiCommand: await PulumiCommand.get({ root: request.toolsRoot }),
      secretsProvider: 'passphrase',
      envVars,
    },
  );
  let output = '';
  const onOutput = (text) => {
    output += text;
  };
  let result;
  if (operation === 'up') {
    const up = await stack.up({ onOutput, diff: true });
    result = { resourceChanges: up.summary.resourceChanges ?? {}, outputs: Object.keys(up.outputs) };
  } else if (operation === 'preview') {
    const preview = await stack.preview({ onOutput, diff: true });
    result = { resourceChanges: preview.changeSummary };
  } else if (operation === 'destroy') {
    const destroyed = await stack.destroy({ onOutput });
    result = { resourceChanges: destroyed.summary.resourceChanges ?? {} };
  } else {
    throw new Error(`unknown operation ${operation}`);
  }
  // Which @pulumi/pulumi ran the program, so the test can check it was the program's own.
  result.sdk = programRequire.resolve('@pulumi/pulumi');
  result.output = output;
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? String(error)}\n`);
  process.exit(1);
});
