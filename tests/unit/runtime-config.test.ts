import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isRuntimeConfigError, RuntimeConfigError, redactSecrets } from '../../device-runtime/errors';
import { validateTelemetryInterval } from '../../device-runtime/property-handlers';
import {
  connectionSourceOf,
  RUNTIME_CONFIG_TABLE,
  resolveRuntimeConfig,
  runtimeConfigHelp,
} from '../../device-runtime/runtime-config';

const KEY = 'c2VjcmV0LWtleS1ub3QtdG8tYmUtcHJpbnRlZA==';
const MODULE_CS = `HostName=127.0.0.1:8443;DeviceId=d1;ModuleId=m1;SharedAccessKey=${KEY}`;

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(isRuntimeConfigError(error), `expected RuntimeConfigError, got ${error}`);
    assert.ok(!error.message.includes(KEY), 'the key leaked into the message');
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('expected a RuntimeConfigError');
}

describe('runtime config table', () => {
  test('defaults come from the table', () => {
    const config = resolveRuntimeConfig({ env: {} });
    for (const [key, entry] of Object.entries(RUNTIME_CONFIG_TABLE)) {
      assert.equal(config[key as keyof typeof config], 'default' in entry ? entry.default : undefined, key);
    }
  });

  test('options beat flags, flags beat the environment, the environment beats defaults', () => {
    const env = {
      IOTHUB_MODULE_CONNECTION_STRING: MODULE_CS,
      DEVICE_TELEMETRY_INTERVAL_SECONDS: '5',
      IOTHUB_CA_FILE: 'env.pem',
    };
    const config = resolveRuntimeConfig({
      env,
      argv: ['--telemetry-interval', '2', '--ca=flag.pem', '--operation-timeout', '7'],
      overrides: { operationTimeoutSeconds: 9 },
    });
    assert.equal(config.connectionString, MODULE_CS);
    assert.equal(config.telemetryIntervalSeconds, 2);
    assert.equal(config.caFile, 'flag.pem');
    assert.equal(config.operationTimeoutSeconds, 9);
  });

  test('every problem is reported at once, with where it came from, and no secret', () => {
    const problems = problemsOf(() =>
      resolveRuntimeConfig({
        env: {
          DEVICE_OPERATION_TIMEOUT_SECONDS: 'soon',
          IOTHUB_MODULE_CONNECTION_STRING: `HostName=h;DeviceId=d;SharedAccessKey=${KEY}`,
        },
        argv: [
          '--telemetry-interval',
          '-5',
          '--sas-token-lifetime',
          '60',
          '--sas-token-renewal-margin',
          '60',
          '--nope',
        ],
      }),
    );
    assert.deepEqual(problems, [
      'argv: unknown --nope; valid flags: --connection-string, --ca, --telemetry-interval, --telemetry-output, --operation-timeout, --reconnect-min-delay, --reconnect-max-delay, --sas-token-lifetime, --sas-token-renewal-margin, --help',
      'telemetryIntervalSeconds: from --telemetry-interval is "-5"; expected a number from 0.1 to 86400',
      'operationTimeoutSeconds: from DEVICE_OPERATION_TIMEOUT_SECONDS is "soon"; expected a number from 1 to 600',
      'sasTokenRenewalMarginSeconds: (60) must be smaller than sasTokenLifetimeSeconds (60)',
      'connectionString: must name a module and carry its key: HostName=..;DeviceId=..;ModuleId=..;SharedAccessKey=..',
    ]);
  });

  test('a flag without a value is a problem', () => {
    assert.deepEqual(
      problemsOf(() => resolveRuntimeConfig({ env: {}, argv: ['--ca'] })),
      ['--ca: needs a value'],
    );
  });

  test('the connection source: a connection string, else IoT Edge, else a clear error', () => {
    const withString = resolveRuntimeConfig({ env: {}, overrides: { connectionString: MODULE_CS } });
    assert.deepEqual(connectionSourceOf(withString, {}), {
      kind: 'connection-string',
      connectionString: MODULE_CS,
    });
    const bare = resolveRuntimeConfig({ env: {} });
    assert.deepEqual(
      connectionSourceOf(bare, { IOTEDGE_WORKLOADURI: 'unix:///var/run/iotedge/workload.sock' }),
      {
        kind: 'edge',
      },
    );
    assert.throws(
      () => connectionSourceOf(bare, {}),
      (error: unknown) =>
        error instanceof RuntimeConfigError &&
        /--connection-string or set IOTHUB_MODULE_CONNECTION_STRING/.test(error.message),
    );
  });

  test('help lists every key with its flag and variable', () => {
    const help = runtimeConfigHelp();
    for (const [key, entry] of Object.entries(RUNTIME_CONFIG_TABLE)) {
      assert.ok(help.includes(`--${entry.flag} `) && help.includes(entry.env) && help.includes(key), key);
    }
  });
});

describe('telemetryInterval rule', () => {
  test('accepts seconds within the limits and explains anything else', () => {
    assert.equal(validateTelemetryInterval(60), undefined);
    assert.equal(validateTelemetryInterval(0.2), undefined);
    assert.equal(
      validateTelemetryInterval(-5),
      'telemetryInterval must be a number of seconds from 0.1 to 86400; got -5',
    );
    assert.match(validateTelemetryInterval('60') ?? '', /got "60"$/);
    assert.match(validateTelemetryInterval(86_401) ?? '', /got 86401$/);
    assert.match(validateTelemetryInterval({ s: 1 }) ?? '', /got \{"s":1\}$/);
  });
});

describe('redaction', () => {
  test('keys, SAS signatures and tokens are removed from any text', () => {
    const token = 'SharedAccessSignature sr=h%2Fdevices%2Fd1&sig=abc%2Bdef%3D&se=1700000000';
    const text = redactSecrets(`failed for ${MODULE_CS}; password ${token}; url ?sig=xyz&se=1`);
    assert.ok(!text.includes(KEY) && !text.includes('abc%2Bdef') && !text.includes('xyz'), text);
    assert.ok(text.includes('SharedAccessKey=<redacted>') && text.includes('DeviceId=d1'), text);
  });
});
