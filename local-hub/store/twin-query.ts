/**
 * A small, pure subset of the IoT Hub query language, enough for `Registry.createQuery` over twins
 * (docs/iot-hub-behaviour.md §1.2): `SELECT * FROM devices|devices.modules [WHERE <cond>]`, where <cond> combines
 * `<path> <op> <literal>` with AND / OR / NOT and parentheses; op is = != <> < > <= >=; literals are
 * 'strings' ('' escapes a quote), numbers, true, false, null. Paths address the twin as GET returns
 * it (`deviceId`, `tags.site`, `properties.reported.fw`). Anything else is refused with the grammar.
 */
import { deepEqualJson, isJsonObject, type JsonValue } from '../../lib/json-types';

export const QUERY_GRAMMAR =
  "SELECT * FROM devices | devices.modules [WHERE <path> <op> <literal> [AND|OR ...]] (op: = != <> < > <= >=; literals: 'text', numbers, true, false, null)";

/**
 * Bounds of the local hub's own (issue #10 item 8): parsing and matching recurse per nesting level and
 * per AND/OR, so a 12,000-term chain under the body limit overflowed the stack (a 500). Far above any
 * query a deployment writes; past them the query is a 400 that names the limit.
 */
export const QUERY_MAX_CONDITIONS = 500;
export const QUERY_MAX_NESTING = 50;

export type QuerySource = 'devices' | 'devices.modules';
type Condition =
  | { kind: 'cmp'; path: string[]; op: string; value: JsonValue }
  | { kind: 'and' | 'or'; left: Condition; right: Condition }
  | { kind: 'not'; inner: Condition };

export interface ParsedQuery {
  source: QuerySource;
  where: Condition | null;
}

const TOKEN =
  /\s*(?:('(?:[^']|'')*')|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(<=|>=|<>|!=|[=<>()*,])|([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*))/y;

function tokenize(text: string): string[] | string {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) return `unexpected character at position ${at}`;
    tokens.push(m[0].trim());
  }
  return tokens;
}

/** Returns the parsed query, or a message saying what is wrong and what is supported. */
export function parseQuery(text: string): ParsedQuery | string {
  const tokens = tokenize(text);
  if (typeof tokens === 'string') return `${tokens}; supported: ${QUERY_GRAMMAR}`;
  let pos = 0;
  const peek = () => tokens[pos]?.toUpperCase();
  const expect = (word: string) => {
    if (peek() !== word) throw new Error(`expected ${word} at token ${pos + 1}`);
    pos++;
  };
  try {
    expect('SELECT');
    expect('*');
    expect('FROM');
    const source = tokens[pos++]?.toLowerCase();
    if (source !== 'devices' && source !== 'devices.modules')
      throw new Error('FROM must be devices or devices.modules');
    let where: Condition | null = null;
    if (peek() === 'WHERE') {
      pos++;
      const parser = conditionParser(tokens, pos);
      where = parser.parse();
      pos = parser.position();
    }
    if (pos < tokens.length) throw new Error(`unexpected ${JSON.stringify(tokens[pos])}`);
    return { source, where };
  } catch (err) {
    return `${(err as Error).message}; supported: ${QUERY_GRAMMAR}`;
  }
}

function conditionParser(tokens: string[], start: number) {
  let pos = start;
  let conditions = 0;
  let depth = 0;
  const peek = () => tokens[pos]?.toUpperCase();
  const nest = <T>(inner: () => T): T => {
    if (++depth > QUERY_MAX_NESTING) {
      throw new Error(`the WHERE clause nests deeper than ${QUERY_MAX_NESTING} levels of ( ) and NOT`);
    }
    const result = inner();
    depth--;
    return result;
  };
  const orExpr = (): Condition => {
    let left = andExpr();
    while (peek() === 'OR') {
      pos++;
      left = { kind: 'or', left, right: andExpr() };
    }
    return left;
  };
  const andExpr = (): Condition => {
    let left = unary();
    while (peek() === 'AND') {
      pos++;
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  };
  const unary = (): Condition => {
    if (peek() === 'NOT') {
      pos++;
      return nest(() => ({ kind: 'not', inner: unary() }));
    }
    if (peek() === '(') {
      pos++;
      const inner = nest(orExpr);
      if (tokens[pos++] !== ')') throw new Error('missing )');
      return inner;
    }
    if (++conditions > QUERY_MAX_CONDITIONS) {
      throw new Error(
        `the WHERE clause has more than ${QUERY_MAX_CONDITIONS} conditions; the local hub allows at most ${QUERY_MAX_CONDITIONS}`,
      );
    }
    return comparison();
  };
  const comparison = (): Condition => {
    const path = tokens[pos++];
    if (!path || !/^[A-Za-z_$]/.test(path)) throw new Error(`expected a property path at token ${pos}`);
    const op = tokens[pos++];
    if (!op || !['=', '!=', '<>', '<', '>', '<=', '>='].includes(op))
      throw new Error(`expected an operator after ${path}`);
    return { kind: 'cmp', path: path.split('.'), op, value: literal(tokens[pos++]) };
  };
  return { parse: orExpr, position: () => pos };
}

function literal(token: string | undefined): JsonValue {
  if (token === undefined) throw new Error('expected a value');
  if (token.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'");
  const lower = token.toLowerCase();
  if (lower === 'true' || lower === 'false') return lower === 'true';
  if (lower === 'null') return null;
  const n = Number(token);
  if (token !== '' && Number.isFinite(n)) return n;
  throw new Error(`${JSON.stringify(token)} is not a value`);
}

function lookup(doc: JsonValue, path: string[]): JsonValue | undefined {
  let current: JsonValue | undefined = doc;
  for (const key of path) {
    if (!isJsonObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

export function matchesQuery(doc: JsonValue, where: Condition | null): boolean {
  if (where === null) return true;
  switch (where.kind) {
    case 'and':
      return matchesQuery(doc, where.left) && matchesQuery(doc, where.right);
    case 'or':
      return matchesQuery(doc, where.left) || matchesQuery(doc, where.right);
    case 'not':
      return !matchesQuery(doc, where.inner);
    case 'cmp':
      return compare(lookup(doc, where.path), where.op, where.value);
  }
}

function compare(actual: JsonValue | undefined, op: string, expected: JsonValue): boolean {
  if (actual === undefined) return false;
  if (op === '=') return deepEqualJson(actual, expected);
  if (op === '!=' || op === '<>') return !deepEqualJson(actual, expected);
  const comparable =
    (typeof actual === 'number' && typeof expected === 'number') ||
    (typeof actual === 'string' && typeof expected === 'string');
  if (!comparable) return false;
  const a = actual as number | string;
  const b = expected as number | string;
  return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
}
