/**
 * stacks/stack-config.schema.json: generated from the zod definitions the program validates with
 * (infra/stack-config-schema.ts), committed for editors. Fails when the committed file is stale
 * (`npm run check -- --write-schema` regenerates it), and checks that every stack file references it and
 * validates against it. No JSON-schema validator is installed (and none is added), so a small one for
 * exactly the keywords the generated schema uses does it; the test fails if the schema ever uses another.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  SCHEMA_REFERENCE_LINE,
  STACK_CONFIG_SCHEMA_FILE,
  stackConfigJsonSchema,
} from '../../infra/stack-config-schema';

const STACKS_DIR = path.resolve(__dirname, '..', '..', 'stacks');
const yaml = require('js-yaml') as {
  load(text: string, options?: { schema?: unknown }): unknown;
  CORE_SCHEMA: unknown;
};

type Schema = Record<string, any> | boolean;

const KEYWORDS = new Set([
  '$schema',
  '$defs',
  '$ref',
  'title',
  'description',
  'default',
  'type',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'maxItems',
  'enum',
  'const',
  'anyOf',
  'oneOf',
  'not',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Errors of `value` against `schema` (draft 2020-12, the keywords above only). */
function validate(root: Record<string, any>, schema: Schema, value: unknown, at = ''): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${at}: not allowed`];
  const errors: string[] = [];
  for (const key of Object.keys(schema))
    if (!KEYWORDS.has(key)) errors.push(`${at}: unsupported keyword ${key}`);
  if (schema['$ref']) {
    const name = /^#\/\$defs\/(.+)$/.exec(schema['$ref'])?.[1];
    errors.push(...validate(root, name ? root['$defs'][name] : false, value, at));
  }
  const type = typeOf(value);
  if (schema['type'] && !(schema['type'] === type || (schema['type'] === 'number' && type === 'integer'))) {
    return [...errors, `${at}: expected ${schema['type']}, got ${type}`];
  }
  if (schema['enum'] && !schema['enum'].includes(value)) errors.push(`${at}: not one of ${schema['enum']}`);
  if ('const' in schema && schema['const'] !== value) errors.push(`${at}: not ${schema['const']}`);
  if (schema['anyOf'] && !schema['anyOf'].some((s: Schema) => validate(root, s, value, at).length === 0)) {
    errors.push(`${at}: matches none of anyOf`);
  }
  if (schema['oneOf']) {
    const matching = schema['oneOf'].filter((s: Schema) => validate(root, s, value, at).length === 0).length;
    if (matching !== 1) errors.push(`${at}: matches ${matching} of oneOf`);
  }
  if (schema['not'] && validate(root, schema['not'], value, at).length === 0)
    errors.push(`${at}: matches not`);
  if (typeof value === 'string') {
    if (schema['minLength'] !== undefined && [...value].length < schema['minLength'])
      errors.push(`${at}: too short`);
    if (schema['maxLength'] !== undefined && [...value].length > schema['maxLength'])
      errors.push(`${at}: too long`);
    if (schema['pattern'] && !new RegExp(schema['pattern'], 'u').test(value)) errors.push(`${at}: pattern`);
  }
  if (typeof value === 'number') {
    if (schema['minimum'] !== undefined && value < schema['minimum']) errors.push(`${at}: below minimum`);
    if (schema['maximum'] !== undefined && value > schema['maximum']) errors.push(`${at}: above maximum`);
  }
  if (Array.isArray(value)) {
    if (schema['maxItems'] !== undefined && value.length > schema['maxItems'])
      errors.push(`${at}: too many items`);
    if (schema['items']) {
      for (const [i, item] of value.entries())
        errors.push(...validate(root, schema['items'], item, `${at}[${i}]`));
    }
  }
  if (type === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of schema['required'] ?? [])
      if (!(key in object)) errors.push(`${at}: ${key} is required`);
    for (const [key, item] of Object.entries(object)) {
      const where = `${at}.${key}`;
      if (schema['propertyNames'])
        errors.push(...validate(root, schema['propertyNames'], key, `${where} (name)`));
      if (schema['properties'] && key in schema['properties']) {
        errors.push(...validate(root, schema['properties'][key], item, where));
      } else if (schema['additionalProperties'] !== undefined) {
        errors.push(...validate(root, schema['additionalProperties'], item, where));
      }
    }
  }
  return errors;
}

const stackFiles = () => fs.readdirSync(STACKS_DIR).filter((f) => /^Pulumi\..+\.ya?ml$/.test(f));
const load = (text: string) => yaml.load(text, { schema: yaml.CORE_SCHEMA });

describe('stacks/stack-config.schema.json', () => {
  const schema = stackConfigJsonSchema() as Record<string, any>;

  test('the committed file is what infra/ generates (else: npm run check -- --write-schema)', () => {
    const committed = JSON.parse(fs.readFileSync(path.join(STACKS_DIR, STACK_CONFIG_SCHEMA_FILE), 'utf8'));
    assert.deepEqual(committed, schema, 'stale: run `npm run check -- --write-schema` and commit the file');
  });

  test('it describes the whole stack file: config with the three namespaced keys, secrets in encrypted form', () => {
    const config = schema['properties']['config'];
    assert.deepEqual(Object.keys(config['properties']), [
      'iothub-as-code:hub',
      'iothub-as-code:devices',
      'iothub-as-code:configurations',
    ]);
    assert.deepEqual(config['required'], ['iothub-as-code:hub']);
    const device = config['properties']['iothub-as-code:devices']['items'];
    const module = device['properties']['modules']['items'];
    for (const entry of [device, module]) {
      assert.equal(entry['properties']['protect']['type'], 'boolean');
      assert.equal(entry['properties']['retainOnDelete']['type'], 'boolean');
      assert.equal(entry['additionalProperties'], false);
    }
    assert.deepEqual(
      validate(
        schema,
        schema,
        load(
          `config:\n  iothub-as-code:hub:\n    mode: local\n    local:\n      connectionString:\n        secure: v1:x\n`,
        ),
      ),
      [],
    );
  });

  test('every stack file starts with the schema reference for editors', () => {
    for (const file of stackFiles()) {
      const first = fs.readFileSync(path.join(STACKS_DIR, file), 'utf8').split('\n')[0];
      assert.equal(first, SCHEMA_REFERENCE_LINE, `${file}: first line`);
    }
  });

  test('every stack file validates against it', () => {
    assert.ok(stackFiles().length >= 4);
    for (const file of stackFiles()) {
      const document = load(fs.readFileSync(path.join(STACKS_DIR, file), 'utf8'));
      assert.deepEqual(validate(schema, schema, document), [], file);
    }
  });

  test('what it refuses, the program refuses too (structure: unknown keys, types, enums)', () => {
    const refused = [
      'config:\n  iothub-as-code:hub: { mode: cloud }\n',
      'config:\n  iothub-as-code:hubs: { mode: local }\n  iothub-as-code:hub: { mode: local }\n',
      'config:\n  iothub-as-code:hub: { mode: local }\n  iothub-as-code:devices: [{ deviceId: d, protect: "yes" }]\n',
      'config:\n  iothub-as-code:hub: { mode: local }\n  iothub-as-code:devices: [{ deviceId: d, modules: [{ moduleId: m, retain: true }] }]\n',
      'config:\n  iothub-as-code:hub: { mode: local }\n  iothub-as-code:devices: [{ deviceId: d, auth: { type: x509 } }]\n',
      'config:\n  iothub-as-code:devices: []\n',
    ];
    for (const text of refused) assert.notDeepEqual(validate(schema, schema, load(text)), [], text);
    const accepted =
      'config:\n  aws:region: x\n  iothub-as-code:hub: { mode: local }\nencryptionsalt: v1:x\n';
    assert.deepEqual(validate(schema, schema, load(accepted)), []);
  });
});
