/**
 * A validation problem: where (a path readable by humans, e.g. `devices[0].modules[1].desired.a.b`)
 * and what is wrong. Validators return every problem at once instead of throwing on the first.
 */

export interface Problem {
  path: string;
  message: string;
}

/** One line per problem, `<path>: <message>`; an empty path (the input itself) prints as `(root)`. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.path === '' ? '(root)' : p.path}: ${p.message}`).join('\n');
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Extends a path by an object key (`a.b`) or an array index (`a[0]`). Keys that would read
 * ambiguously (empty, containing dots, spaces, brackets…) are quoted: `a["x.y"]`.
 */
export function childPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (PLAIN_KEY.test(key)) return base === '' ? key : `${base}.${key}`;
  // JSON.stringify escapes C0 controls; DEL and C1 are escaped too so a path never prints raw controls.
  const quoted = JSON.stringify(key).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `${base}[${quoted}]`;
}
