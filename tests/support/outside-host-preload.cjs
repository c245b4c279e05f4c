/**
 * Test-only preload (NODE_OPTIONS=--require) for the processes the Pulumi CLI starts for an outside
 * program, i.e. its dynamic-provider host: appends to the file named by OUTSIDE_LOADED_LOG every
 * provider table and every tsx module a process resolves, one `<pid> <file>` line each, so a test can
 * tell which providers served the resources (the package's compiled table, not this repository's
 * sources) and that no TypeScript tooling was needed at deploy time.
 */
'use strict';
const fs = require('node:fs');
const Module = require('node:module');

const log = process.env.OUTSIDE_LOADED_LOG;
if (log) {
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (...args) {
    const resolved = resolveFilename.apply(this, args);
    if (/provider-table|[\\/]tsx[\\/]/.test(resolved)) fs.appendFileSync(log, `${process.pid} ${resolved}\n`);
    return resolved;
  };
}
