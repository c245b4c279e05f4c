/**
 * Runs the Pulumi program (index.ts) under `pulumi.runtime.setMocks` (test tier 4) and records every
 * resource it registers: type, name, inputs (secrets unwrapped, and which were secret), dependencies
 * and options, plus the serialized `__provider` of dynamic resources. Mocks stand in only for the
 * engine and ARM (ResourceGroup, IotHubResource, the key/resource-group invokes); `onNewResource`
 * lets the lifecycle harness (tier 6) route dynamic resources to the real provider host instead.
 *
 * In-process, not a child process: `setMocks` resets the runtime's global state (monitor, options,
 * rpc queue, stack resource) and config is rewritten by `setAllConfig`, so consecutive runs in one
 * process are independent as long as runs do not overlap; this module serializes them. Staying
 * in-process is what lets `onNewResource` be a plain function with access to the caller's state.
 * (tests/program runs the program several times per file this way.) A failed registration is
 * re-rejected by @pulumi/pulumi as an unhandled rejection, as under `pulumi up`; callers that expect
 * failures contain them (tests/support/lifecycle-rejections.ts).
 */

import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';

export const PROJECT_NAME = 'iothub-as-code';
export const PROJECT_DIR = path.resolve(__dirname, '..', '..');
const DEFAULT_PROGRAM = path.join(PROJECT_DIR, 'index.ts');

/** The key the ARM mock returns for every policy: known, so tests can search serialized text for it. */
export const MOCK_ARM_PRIMARY_KEY = Buffer.from('mock-arm-primary-key-0123456789ab').toString('base64');
export const MOCK_ARM_SECONDARY_KEY = Buffer.from('mock-arm-secondary-key-0123456789').toString('base64');
export const MOCK_SUBSCRIPTION = '00000000-0000-0000-0000-000000000000';

/** The type tokens the providers register (`pulumi-nodejs:dynamic/<module>:<Kind>`). */
export const DYNAMIC_TYPES = {
  device: 'pulumi-nodejs:dynamic/iothub:DeviceIdentity',
  module: 'pulumi-nodejs:dynamic/iothub:ModuleIdentity',
  moduleTwin: 'pulumi-nodejs:dynamic/iothub:ModuleTwin',
  deviceTwin: 'pulumi-nodejs:dynamic/iothub:DeviceTwin',
  configuration: 'pulumi-nodejs:dynamic/iothub:Configuration',
} as const;

/** Options of the registration request that the mock API itself does not pass on. */
export interface Registration {
  urn: string;
  parent: string;
  /** URNs from `dependsOn` and from Outputs used as inputs. */
  dependencies: string[];
  deletedWith: string;
  additionalSecretOutputs: string[];
  deleteBeforeReplace: boolean;
  replaceOnChanges: string[];
  ignoreChanges: string[];
  protect: boolean;
  /** `retainOnDelete`: a delete leaves the object on the hub (only the state forgets it). */
  retainOnDelete: boolean;
}

/**
 * What `onNewResource` receives: Pulumi's MockResourceArgs (its `inputs` still carry Pulumi's RPC
 * secret wrappers, ready to re-serialize for a provider) plus the registration options.
 */
export type NewResourceArgs = pulumi.runtime.MockResourceArgs & { registration: Registration };

/** Return a result to decide the resource's id and state, or undefined to use the default mocks. */
export type NewResourceHandler = (
  args: NewResourceArgs,
) => Promise<pulumi.runtime.MockResourceResult | undefined> | pulumi.runtime.MockResourceResult | undefined;

export interface RecordedResource extends Registration {
  type: string;
  name: string;
  custom: boolean;
  /** Inputs with secrets unwrapped; dynamic resources include the serialized `__provider`. */
  inputs: Record<string, unknown>;
  /** Top-level input keys whose value was secret. */
  secretInputs: string[];
  id: string;
  state: Record<string, unknown>;
}

export interface RecordedInvoke {
  token: string;
  inputs: Record<string, unknown>;
}

export interface ProgramRun {
  resources: RecordedResource[];
  invokes: RecordedInvoke[];
  /** The program's exports, resolved (secrets unwrapped). */
  outputs: Record<string, unknown>;
  /** Names of exports that are secret Outputs. */
  secretOutputs: string[];
}

export interface RunOptions {
  stack: string;
  /** Keys as in a stack file (`iothub-as-code:hub`) or bare (`hub`); objects are JSON-encoded. */
  config: Record<string, unknown>;
  /** Config keys set as secrets (bare or namespaced); default: every key, as `pulumi config set --secret`. */
  secretKeys?: string[];
  onNewResource?: NewResourceHandler;
  /** Defaults to the project's index.ts. */
  programPath?: string;
}

// Pulumi's own secret marker in deserialized inputs (runtime/rpc.ts); not exported in its typings.
const rpc = require('@pulumi/pulumi/runtime/rpc') as {
  isRpcSecret(value: unknown): boolean;
  unwrapRpcSecret(value: unknown): unknown;
};

/** Deeply unwraps secrets; reports whether any part was secret. */
function unwrapSecrets(value: unknown): { value: unknown; secret: boolean } {
  if (rpc.isRpcSecret(value)) return { value: unwrapSecrets(rpc.unwrapRpcSecret(value)).value, secret: true };
  if (Array.isArray(value)) {
    const items = value.map(unwrapSecrets);
    return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)] as const);
    return {
      value: Object.fromEntries(entries.map(([k, v]) => [k, v.value])),
      secret: entries.some(([, v]) => v.secret),
    };
  }
  return { value, secret: false };
}

function namespaced(key: string): string {
  return key.includes(':') ? key : `${PROJECT_NAME}:${key}`;
}

function setConfig(options: RunOptions): void {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.config)) {
    values[namespaced(key)] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  const secretKeys = (options.secretKeys ?? Object.keys(options.config)).map(namespaced);
  pulumi.runtime.setAllConfig(values, secretKeys);
}

/** The program and infra/ are required fresh each run: their module state is per run. */
function clearProgramModules(programPath: string): void {
  const infraDir = path.join(PROJECT_DIR, 'infra') + path.sep;
  for (const key of Object.keys(require.cache)) {
    if (key === programPath || key.startsWith(infraDir)) delete require.cache[key];
  }
}

let queue: Promise<unknown> = Promise.resolve();

export function runProgramUnderMocks(options: RunOptions): Promise<ProgramRun> {
  const run = queue.then(() => runOnce(options));
  queue = run.catch(() => undefined);
  return run;
}

async function runOnce(options: RunOptions): Promise<ProgramRun> {
  const resources: RecordedResource[] = [];
  const invokes: RecordedInvoke[] = [];
  const registrations = new Map<string, Registration>();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => recordResource(args, registrations, resources, options.onNewResource),
      call: (args) => {
        invokes.push({
          token: args.token,
          inputs: unwrapSecrets(args.inputs).value as Record<string, unknown>,
        });
        return mockInvoke(args.token, args.inputs);
      },
    },
    PROJECT_NAME,
    options.stack,
    false,
  );
  captureRegistrations(registrations);
  setConfig(options);
  const programPath = path.resolve(options.programPath ?? DEFAULT_PROGRAM);
  clearProgramModules(programPath);
  try {
    const program = require(programPath) as Record<string, unknown>;
    const { outputs, secretOutputs } = await resolveExports(program);
    return { resources, invokes, outputs, secretOutputs };
  } finally {
    // Also on failure: the next run's setMocks must not reset the runtime under registrations in flight.
    await waitForRegistrations();
  }
}

/** The mock API passes no dependencies/options to `newResource`; read them off the request. */
function captureRegistrations(registrations: Map<string, Registration>): void {
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: unknown) => {
    registrations.set(`${req.getType()}::${req.getName()}`, {
      urn: `urn:pulumi:${pulumi.getStack()}::${PROJECT_NAME}::${req.getType()}::${req.getName()}`,
      parent: req.getParent(),
      dependencies: req.getDependenciesList(),
      deletedWith: req.getDeletedwith(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      deleteBeforeReplace: req.getDeletebeforereplace(),
      replaceOnChanges: req.getReplaceonchangesList(),
      ignoreChanges: req.getIgnorechangesList(),
      protect: req.getProtect() ?? false,
      retainOnDelete: req.hasRetainondelete?.() ? req.getRetainondelete() : false,
    });
    return register(req, callback);
  };
}

async function recordResource(
  args: pulumi.runtime.MockResourceArgs,
  registrations: Map<string, Registration>,
  resources: RecordedResource[],
  onNewResource: NewResourceHandler | undefined,
): Promise<pulumi.runtime.MockResourceResult> {
  const registration = registrations.get(`${args.type}::${args.name}`);
  if (!registration)
    throw new Error(`program-under-mocks: no registration captured for ${args.type} ${args.name}`);
  const result = (await onNewResource?.({ ...args, registration })) ?? defaultResource(args);
  const inputs: Record<string, unknown> = {};
  const secretInputs: string[] = [];
  for (const [key, raw] of Object.entries(args.inputs)) {
    const { value, secret } = unwrapSecrets(raw);
    inputs[key] = value;
    if (secret) secretInputs.push(key);
  }
  resources.push({
    ...registration,
    type: args.type,
    name: args.name,
    custom: args.custom ?? true,
    inputs,
    secretInputs,
    id: result.id ?? '',
    state: unwrapSecrets(result.state).value as Record<string, unknown>,
  });
  return result;
}

async function resolveExports(
  program: Record<string, unknown>,
): Promise<{ outputs: Record<string, unknown>; secretOutputs: string[] }> {
  const outputs: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  for (const [name, value] of Object.entries(program)) {
    if (!pulumi.Output.isInstance(value)) {
      outputs[name] = value;
      continue;
    }
    if (await pulumi.isSecret(value)) secretOutputs.push(name);
    outputs[name] = await settle(value);
  }
  return { outputs, secretOutputs };
}

/**
 * An Output's value; rejects when the program failed while computing it (an `apply` that throws),
 * where waiting on `apply` would hang. `promise()` is the SDK's own (untyped) accessor.
 */
function settle(value: pulumi.Output<unknown>): Promise<unknown> {
  const promise = (value as unknown as { promise?: () => Promise<unknown> }).promise;
  if (typeof promise !== 'function') throw new Error('@pulumi/pulumi Output no longer has promise()');
  return promise.call(value);
}

/**
 * Resources that feed no export (twins) may still be registering when the exports resolve; wait
 * for the runtime's RPC queue to drain, as `pulumi up` does before it exits.
 */
async function waitForRegistrations(): Promise<void> {
  const waitForRPCs = (pulumi.runtime as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
  if (typeof waitForRPCs !== 'function')
    throw new Error('@pulumi/pulumi no longer exports runtime.waitForRPCs');
  await waitForRPCs();
}

// ---- Default mocks: the engine's bookkeeping and ARM's answers -------------------------------

function armId(...parts: string[]): string {
  return `/subscriptions/${MOCK_SUBSCRIPTION}/${parts.join('/')}`;
}

function defaultResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
  const inputs = args.inputs as Record<string, any>;
  switch (args.type) {
    case 'azure-native:resources:ResourceGroup': {
      const name = inputs.resourceGroupName ?? args.name;
      return { id: armId('resourceGroups', name), state: { ...inputs, name } };
    }
    case 'azure-native:iothub:IotHubResource': {
      const name = inputs.resourceName ?? args.name;
      const id = armId(
        'resourceGroups',
        inputs.resourceGroupName,
        'providers/Microsoft.Devices/IotHubs',
        name,
      );
      const properties = { ...inputs.properties, hostName: `${name}.azure-devices.net` };
      return { id, state: { ...inputs, name, properties } };
    }
    default: {
      // Dynamic resources: echo the inputs (as the providers' outputs do) without the provider text.
      const { __provider: _provider, ...state } = inputs;
      return { id: `mock-${args.name}`, state: { ...state, ...mockIdentityOutputs(args.name, inputs) } };
    }
  }
}

/** Connection strings the providers would return, built from the (mock) hub host. */
function mockIdentityOutputs(name: string, inputs: Record<string, any>): Record<string, unknown> {
  const hub = unwrapSecrets(inputs.hubConnectionString).value;
  const hostName = typeof hub === 'string' ? /HostName=([^;]+)/.exec(hub)?.[1] : undefined;
  const key = Buffer.from(`mock-identity-key-${name}`.padEnd(32, '.').slice(0, 32)).toString('base64');
  if (name.startsWith('module/')) {
    return {
      moduleConnectionString: `HostName=${hostName};DeviceId=${inputs.deviceId};ModuleId=${inputs.moduleId};SharedAccessKey=${key}`,
    };
  }
  if (name.startsWith('device/')) {
    return {
      deviceConnectionString: `HostName=${hostName};DeviceId=${inputs.deviceId};SharedAccessKey=${key}`,
    };
  }
  return {};
}

function mockInvoke(token: string, inputs: Record<string, any>): Record<string, unknown> {
  switch (token) {
    case 'azure-native:iothub:listIotHubResourceKeysForKeyName':
      return {
        keyName: inputs.keyName,
        primaryKey: MOCK_ARM_PRIMARY_KEY,
        secondaryKey: MOCK_ARM_SECONDARY_KEY,
        rights: 'RegistryWrite, ServiceConnect',
      };
    case 'azure-native:resources:getResourceGroup':
      return {
        id: armId('resourceGroups', inputs.resourceGroupName),
        name: inputs.resourceGroupName,
        location: 'westeurope',
        type: 'Microsoft.Resources/resourceGroups',
      };
    default:
      throw new Error(`program-under-mocks: no mock for invoke ${token}`);
  }
}

// ---- Stack files -------------------------------------------------------------------------------

/** js-yaml from @pulumi/pulumi's own resolution (it parses stack files with it), not a new dependency. */
const yaml = createRequire(require.resolve('@pulumi/pulumi'))('js-yaml') as { load(text: string): unknown };

/** The `config:` map of stacks/Pulumi.<stack>.yaml, as the CLI would pass it to the program. */
export function readStackFile(stack: string): Record<string, unknown> {
  const file = path.join(PROJECT_DIR, 'stacks', `Pulumi.${stack}.yaml`);
  const doc = yaml.load(fs.readFileSync(file, 'utf8')) as { config?: Record<string, unknown> } | null;
  return { ...(doc?.config ?? {}) };
}
