/**
 * Where a JSON text first goes wrong. Node 20's `JSON.parse` messages sometimes give a position and
 * sometimes quote the input instead — and the input may hold keys — so the hub finds the position
 * itself and never echoes the body (working agreement: secrets never appear in error messages).
 * Only run after `JSON.parse` has already failed.
 */

export interface JsonSyntaxError {
  /** 0-based character offset. */
  position: number;
  line: number;
  column: number;
  message: string;
}

class Stop extends Error {
  constructor(
    readonly position: number,
    message: string,
  ) {
    super(message);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const scanner = new JsonScanner(text);
  try {
    scanner.document();
    return undefined;
  } catch (err) {
    if (err instanceof Stop) return locate(text, err.position, err.message);
    // RangeError: nesting deeper than the call stack; report where scanning stopped.
    return locate(text, scanner.i, 'JSON is nested too deeply');
  }
}

/** A recursive-descent JSON recognizer (RFC 8259 grammar) that throws `Stop` at the first error. */
class JsonScanner {
  i = 0;

  constructor(private readonly text: string) {}

  document(): void {
    this.value();
    this.ws();
    if (this.i < this.text.length) this.fail('unexpected content after the JSON value');
  }

  private fail(message: string): never {
    throw new Stop(this.i, message);
  }

  private ws(): void {
    while (this.i < this.text.length && ' \t\n\r'.includes(this.text[this.i]!)) this.i++;
  }

  private value(): void {
    this.ws();
    const c = this.text[this.i];
    if (c === '{') this.container('}');
    else if (c === '[') this.container(']');
    else if (c === '"') this.string();
    else if (c === 't') this.literal('true');
    else if (c === 'f') this.literal('false');
    else if (c === 'n') this.literal('null');
    else this.number(c);
  }

  private literal(word: string): void {
    if (this.text.startsWith(word, this.i)) this.i += word.length;
    else this.fail('expected a JSON value');
  }

  private number(c: string | undefined): void {
    NUMBER.lastIndex = this.i;
    if (NUMBER.test(this.text)) this.i = NUMBER.lastIndex;
    else this.fail(c === undefined ? 'unexpected end of input' : 'expected a JSON value');
  }

  private string(): void {
    const { text } = this;
    this.i++;
    for (;;) {
      const c = text[this.i];
      if (c === undefined) this.fail('unterminated string');
      if (c === '"') break;
      if (c === '\\') this.escape();
      else if (c.charCodeAt(0) < 0x20) this.fail('control character inside a string (escape it)');
      else this.i++;
    }
    this.i++;
  }

  private escape(): void {
    const e = this.text[this.i + 1];
    if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.i + 2, this.i + 6))) this.i += 6;
    else if (e !== undefined && ESCAPES.has(e)) this.i += 2;
    else this.fail('invalid escape sequence in string');
  }

  private container(close: '}' | ']'): void {
    this.i++;
    this.ws();
    if (this.text[this.i] === close) {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      if (close === '}') this.member();
      this.value();
      this.ws();
      const c = this.text[this.i];
      if (c !== ',' && c !== close) this.fail(`expected ',' or '${close}'`);
      this.i++;
      if (c === close) return;
    }
  }

  /** `"name":` before an object member's value. */
  private member(): void {
    if (this.text[this.i] !== '"') this.fail('expected a property name in double quotes');
    this.string();
    this.ws();
    if (this.text[this.i] !== ':') this.fail("expected ':' after the property name");
    this.i++;
  }
}

function locate(text: string, position: number, message: string): JsonSyntaxError {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return { position, line, column, message };
}
