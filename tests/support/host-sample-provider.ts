/**
 * A tiny dynamic provider used only to test the harness itself (provider host client and lifecycle
 * engine) independently of the project's providers: "notes" stored as JSON files in a directory the
 * test owns. It is a real `pulumi.dynamic.Resource`, serialized by Pulumi's closure serializer.
 *
 * It follows the project's dynamic provider rules (docs/architecture.md "Dynamic provider rules"): the token
 * arrives as a secret input, no `undefined` in outputs, `read` returns props and inputs, and no id
 * when the note is gone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';

export interface NoteArgs {
  dir: pulumi.Input<string>;
  name: pulumi.Input<string>;
  text: pulumi.Input<string>;
  /** Passed as a secret; the provider stores only its length. */
  token: pulumi.Input<string>;
  meta?: pulumi.Input<{ size?: number; tags?: string[] }>;
}

interface NoteInputs {
  dir: string;
  name: string;
  text: string;
  token: string;
  meta?: { size?: number; tags?: string[] };
}

const NAME_RULE = /^[a-z0-9-]{1,32}$/;

export const noteProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: NoteInputs, news: NoteInputs) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (typeof news.name !== 'string' || !NAME_RULE.test(news.name)) {
      failures.push({
        property: 'name',
        reason: `must match ${NAME_RULE}, got ${JSON.stringify(news.name)}`,
      });
    }
    if (typeof news.text !== 'string') failures.push({ property: 'text', reason: 'must be a string' });
    const size = news.meta?.size;
    if (size !== undefined && (typeof size !== 'number' || size < 0)) {
      failures.push({ property: 'meta.size', reason: `must be a number >= 0, got ${JSON.stringify(size)}` });
    }
    return { inputs: news, failures };
  },

  async diff(_id: string, olds: NoteInputs, news: NoteInputs) {
    const replaces = olds.name !== news.name || olds.dir !== news.dir ? ['name'] : [];
    const changes =
      replaces.length > 0 ||
      olds.text !== news.text ||
      JSON.stringify(olds.meta) !== JSON.stringify(news.meta);
    return { changes, replaces };
  },

  async create(inputs: NoteInputs) {
    const file = path.join(inputs.dir, `${inputs.name}.json`);
    if (fs.existsSync(file)) throw new Error(`note "${inputs.name}" already exists in ${inputs.dir}`);
    fs.writeFileSync(file, JSON.stringify({ text: inputs.text, meta: inputs.meta ?? null }));
    const outs = { ...inputs, tokenLength: inputs.token.length };
    if (inputs.text === 'init-fail') {
      // Made but not ready: an error carrying `id` is the host's "resource initialization failed".
      throw Object.assign(new Error(`note "${inputs.name}" written but not ready`), {
        id: inputs.name,
        properties: outs,
        reasons: ['not ready'],
      });
    }
    return { id: inputs.name, outs };
  },

  async read(id: string, props: NoteInputs & { tokenLength: number }) {
    const file = path.join(props.dir, `${id}.json`);
    if (!fs.existsSync(file)) return {};
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      text: string;
      meta: NoteInputs['meta'] | null;
    };
    const inputs: NoteInputs = { dir: props.dir, name: id, text: stored.text, token: props.token };
    if (stored.meta) inputs.meta = stored.meta;
    return { id, props: { ...inputs, tokenLength: props.tokenLength }, inputs };
  },

  async update(_id: string, _olds: NoteInputs, news: NoteInputs) {
    const file = path.join(news.dir, `${news.name}.json`);
    fs.writeFileSync(file, JSON.stringify({ text: news.text, meta: news.meta ?? null }));
    return { outs: { ...news, tokenLength: news.token.length } };
  },

  async delete(id: string, props: NoteInputs) {
    fs.rmSync(path.join(props.dir, `${id}.json`), { force: true });
  },
};

export class Note extends pulumi.dynamic.Resource {
  declare readonly text: pulumi.Output<string>;
  declare readonly tokenLength: pulumi.Output<number>;

  constructor(name: string, args: NoteArgs, opts?: pulumi.CustomResourceOptions) {
    super(noteProvider, name, { ...args, token: pulumi.secret(args.token), tokenLength: undefined }, opts);
  }
}

/** Reads a note file directly, to assert real outcomes. `undefined` when absent. */
export function readNoteFile(dir: string, name: string): { text: string; meta: unknown } | undefined {
  const file = path.join(dir, `${name}.json`);
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
}
