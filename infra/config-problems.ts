/**
 * The bridge between zod and the project's `Problem` (lib/problems.ts): zod reports structure
 * (types, unknown keys, enums), the lib validators report IoT Hub rules (ids, twin documents), and
 * both end up as `<path>: <message>` lines with the same path notation (`devices[0].twin.desired.a`).
 */
import { z } from 'zod';
import { childPath, type Problem } from '../lib/problems';

/**
 * Lib validators build paths themselves (`childPath`), relative to the base they are given. A
 * refinement does not know its absolute position, so it passes '' and keeps the relative result in
 * `params.subPath`; `problemsFromIssues` appends it to the zod path.
 */
interface SubPathParams {
  subPath?: string;
}

/** Renders a zod path (`['devices', 0, 'modules']`) in lib notation (`devices[0].modules`). */
export function renderPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((base, key) => childPath(base, typeof key === 'number' ? key : String(key)), '');
}

function appendSubPath(base: string, subPath: string | undefined): string {
  if (!subPath) return base;
  if (base === '' || subPath.startsWith('[')) return `${base}${subPath}`;
  return `${base}.${subPath}`;
}

/** Turns zod issues into problems; custom issues from `refineWith` keep their lib sub-path. */
export function problemsFromIssues(issues: readonly z.core.$ZodIssue[], basePath: string): Problem[] {
  return issues.flatMap((issue) => {
    const params = (issue as { params?: SubPathParams }).params;
    const path = appendSubPath(appendSubPath(basePath, renderPath(issue.path)), params?.subPath);
    // One problem per unknown key, at the key itself, so each typo is reported where it is.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: childPath(path, key), message: issue.message }));
    }
    return [{ path, message: issue.message }];
  });
}

/** A strict object whose unknown-key message lists the valid keys (typos are the usual cause). */
export function strictObject<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const valid = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key; valid keys: ${valid}` : undefined),
  });
}

/**
 * A zod `superRefine` body that runs a lib validator (`(value, path) => Problem[]`) and reports each
 * problem at its own path below the refined value.
 */
export function refineWith<T>(validate: (value: T, path: string) => readonly Problem[]) {
  return (value: T, ctx: z.core.$RefinementCtx<T>): void => {
    for (const problem of validate(value, '')) {
      ctx.addIssue({ code: 'custom', message: problem.message, params: { subPath: problem.path } });
    }
  };
}

/**
 * Values that must be set with `pulumi config set --secret` (keys, connection strings). The JSON schema
 * (infra/stack-config-schema.ts) also accepts the CLI's encrypted form there, `{ secure: <ciphertext> }`.
 */
export const secretValues = z.registry<{ secret: true }>();
