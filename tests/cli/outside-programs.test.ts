/**
 * Tier 8: the package (docs/package.md). `npm pack` of this project, installed into a folder that is
 * not this project; a TypeScript and a plain JavaScript program there declare a device, a module and its
 * twin on a local hub, and the real CLI runs `up`, an `up` after a desired edit, and `destroy`. The
 * resources are served by the package's compiled providers (the dynamic-provider host resolves them
 * from the program's node_modules, without tsx), never by this repository's sources.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import { PROJECT_DIR } from '../../scripts/pulumi-engine';
import {
  hubRegistry,
  killProcessesIn,
  programConnectionString,
  requireCli,
  startCliHub,
  WORK_ROOT,
} from '../support/cli-stack';
import { readHub } from '../support/lifecycle-hub-view';
import {
  createOutsideProgram,
  installOutsideRoot,
  loadedFiles,
  modulesLoadedFromOutside,
  type PackedPackage,
  type ProgramLanguage,
  packProject,
  TYPESCRIPT_PROGRAM,
  typeCheckEntryPoints,
} from '../support/outside-programs';

const ENTRY_POINTS = [
  'iothub-as-code',
  'iothub-as-code/device-runtime',
  'iothub-as-code/client',
  'iothub-as-code/provider-table',
];

describe('real CLI: programs outside this repository install the packed package', {
  timeout: 600_000,
}, () => {
  const hubs: Awaited<ReturnType<typeof startCliHub>>[] = [];
  let root: string;
  let packed: PackedPackage;

  before(async () => {
    requireCli();
    fs.mkdirSync(WORK_ROOT, { recursive: true });
    root = fs.mkdtempSync(path.join(WORK_ROOT, 'outside-'));
    packed = await packProject(path.join(root, 'tarball'));
    await installOutsideRoot(root, packed.tarball);
  });
  after(async () => {
    if (root) {
      killProcessesIn(root);
      fs.rmSync(root, { recursive: true, force: true });
    }
    for (const hub of hubs) await hub.closeAndRemove();
  });

  test("this repository's Pulumi.yaml names its program: package.json's exports are the library now", () => {
    // Without `main:` in Pulumi.yaml, Pulumi's Node.js runner would take exports["."] as the program,
    // which declares nothing: the engine would delete every resource of the stack.
    const project = fs.readFileSync(path.join(PROJECT_DIR, 'Pulumi.yaml'), 'utf8');
    assert.match(project, /^main: index\.ts$/m);
  });

  test("the TypeScript program run below is the README's example, as written", () => {
    const readme = fs.readFileSync(path.join(PROJECT_DIR, 'README.md'), 'utf8');
    assert.ok(
      readme.includes(`\`\`\`ts\n${TYPESCRIPT_PROGRAM}\`\`\``),
      'README.md shows the program the test runs',
    );
  });

  test('the tarball holds the compiled package only; it loads from its own install and type-checks', async () => {
    const outsideDist = packed.files.filter((file) => !file.startsWith('dist/'));
    assert.deepEqual(outsideDist.sort(), ['README.md', 'package.json']);
    assert.ok(
      packed.files.every((file) => !file.endsWith('.ts') || file.endsWith('.d.ts')),
      'no TypeScript sources',
    );
    for (const file of [
      'dist/dynamic-providers/index.js',
      'dist/dynamic-providers/index.d.ts',
      'dist/dynamic-providers/provider-table.js',
      'dist/dynamic-providers/iothub-client.d.ts',
      'dist/device-runtime/index.js',
      'dist/device-runtime/index.d.ts',
    ]) {
      assert.ok(packed.files.includes(file), `${file} is packed`);
    }
    const manifest = JSON.parse(
      fs.readFileSync(path.join(root, 'node_modules', 'iothub-as-code', 'package.json'), 'utf8'),
    ) as { dependencies: Record<string, string>; peerDependencies: Record<string, string> };
    assert.deepEqual(Object.keys(manifest.peerDependencies), ['@pulumi/pulumi']);
    for (const devOnly of ['tsx', 'better-sqlite3', 'aedes', '@pulumi/pulumi']) {
      assert.ok(!(devOnly in manifest.dependencies), `${devOnly} is not a dependency of the package`);
    }
    // A dependency the package forgot to declare would be found in this project's node_modules.
    assert.deepEqual(await modulesLoadedFromOutside(root, ENTRY_POINTS), []);
    // The declarations type-check for programs resolving by `types`/`typesVersions` and by `exports`.
    assert.deepEqual(await typeCheckEntryPoints(root), []);
  });

  const programs: [ProgramLanguage, string][] = [
    ['typescript', 'ts-fleet'],
    ['javascript', 'js-fleet'],
  ];
  for (const [language, name] of programs) {
    test(`a ${language} program: up, a desired edit, destroy, served by the package's providers`, async () => {
      const hub = await startCliHub();
      hubs.push(hub);
      const registry = hubRegistry(hub);
      const program = await createOutsideProgram(root, name, language);
      const connectionString = programConnectionString(hub.hostName);
      await program.setConfig('hubConnectionString', connectionString, { secret: true });
      await program.setConfig('hubCaCertificatePath', hub.caCertificatePath!);
      await program.setConfig('telemetryInterval', '10');

      const created = await program.operation('up');
      assert.deepEqual(created.resourceChanges, { create: 4 }, created.output);
      assert.equal(
        created.sdk,
        path.join(root, 'node_modules', '@pulumi', 'pulumi', 'index.js'),
        "the program ran with its own @pulumi/pulumi (the package's peer)",
      );
      const afterCreate = await readHub(registry);
      assert.deepEqual(
        afterCreate.map((d) => [d.deviceId, Object.keys(d.modules)]),
        [['sensor-1', ['telemetry']]],
      );
      assert.deepEqual(afterCreate[0]!.modules['telemetry']!.desired, { telemetryInterval: 10 });

      // The state: each resource's __provider is the package's forwarder, and no key is in clear.
      const state = await program.exportState();
      const dynamic = state.deployment.resources.filter((r) => r.type.startsWith('pulumi-nodejs:dynamic/'));
      assert.equal(dynamic.length, 3);
      for (const resource of dynamic) {
        const text = String(resource.inputs?.['__provider']);
        assert.match(text, /PACKAGE_FIRST: true/, `${resource.type} stores the package's forwarder`);
        assert.ok(text.includes('"iothub-as-code/provider-table"'), resource.type);
      }
      const stateText = JSON.stringify(state);
      assert.ok(!stateText.includes(connectionString), 'the connection string is not in the state in clear');
      for (const policy of WELL_KNOWN_POLICIES) assert.ok(!stateText.includes(policy.primaryKey));

      // The provider host loaded the package's compiled table, and neither tsx nor this repository's sources.
      const packageTable = path.join(
        root,
        'node_modules',
        'iothub-as-code',
        'dist',
        'dynamic-providers',
        'provider-table.js',
      );
      const loaded = loadedFiles(program.loadedLog);
      assert.ok(loaded.length > 0, 'the provider host loaded a provider table');
      assert.deepEqual([...new Set(loaded)], [packageTable]);

      await program.setConfig('telemetryInterval', '20');
      const edited = await program.operation('up');
      assert.deepEqual(edited.resourceChanges, { same: 3, update: 1 }, edited.output);
      assert.match(
        edited.output,
        /~ pulumi-nodejs:dynamic\/iothub:ModuleTwin: \(update\)\n.*\n.*::sensor-1-telemetry-twin\]/,
      );
      assert.match(edited.output, /telemetryInterval\s*:\s*10\s*=>\s*20/);
      assert.deepEqual((await readHub(registry))[0]!.modules['telemetry']!.desired, {
        telemetryInterval: 20,
      });

      const destroyed = await program.operation('destroy');
      assert.deepEqual(destroyed.resourceChanges, { delete: 4 });
      assert.deepEqual(await readHub(registry), [], 'the identities are gone from the hub');
      assert.deepEqual([...new Set(loadedFiles(program.loadedLog))], [packageTable]);
    });
  }
});
