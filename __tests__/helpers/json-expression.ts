/**
 * Reads the policies kopsform emits. IAM documents are built with `Fn.jsonencode`, so the synthesized
 * JSON holds a Terraform expression string, not JSON:
 *
 *   "${jsonencode({\"Version\" = \"2012-10-17\", \"Statement\" = [{\"Effect\" = \"Allow\", ...}]})}"
 *
 * `parseJsonencode` parses exactly that string, the text Terraform will evaluate, with a small parser
 * for the HCL value syntax cdktf writes (objects with `=` or `:`, tuples, quoted strings with escapes and
 * `${...}` templates, numbers, true/false/null, and bare references such as
 * `aws_cloudwatch_log_group.x.arn`). Reading the emitted text rather than the construct's input means a
 * change in how the policy is rendered (an override, an escape hatch, a different function) is tested
 * too. Bare references come back as `${reference}` strings, as they would appear after interpolation.
 * Anything else (a function call, an operator) makes the parser throw, so the tests never pass by
 * reading a policy they do not understand.
 */

/** A parsed HCL value. */
export type HclValue = string | number | boolean | null | HclValue[] | { [key: string]: HclValue };

/** The value inside `${jsonencode(...)}`; throws when the string is not exactly such an expression. */
export function parseJsonencode(expression: string): HclValue {
  const match = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(expression);
  if (!match) {
    throw new Error(`not a \${jsonencode(...)} expression: ${expression.slice(0, 120)}`);
  }
  const parser = new Parser(match[1]);
  const value = parser.value();
  parser.end();
  return value;
}

/** A parsed policy document (only the parts the tests read). */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: PolicyStatement[];
}

/** One statement, with Action/Resource normalized to arrays. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string[];
  readonly NotAction?: unknown;
  readonly Resource: string[];
  readonly NotResource?: unknown;
  readonly Principal?: unknown;
  readonly NotPrincipal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** Parses an emitted policy (`${jsonencode(...)}`) into a document with normalized statements. */
export function parsePolicy(expression: string): PolicyDocument {
  const doc = parseJsonencode(expression);
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new Error(`a policy must be an object: ${expression.slice(0, 120)}`);
  }
  const raw = doc.Statement;
  const statements = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return {
    Version: typeof doc.Version === "string" ? doc.Version : undefined,
    Statement: statements.map((s) => {
      if (typeof s !== "object" || s === null || Array.isArray(s)) {
        throw new Error(`a statement must be an object: ${JSON.stringify(s)}`);
      }
      return {
        ...(s as Record<string, unknown>),
        Effect: String(s.Effect),
        Action: asStrings(s.Action),
        Resource: asStrings(s.Resource),
      } as PolicyStatement;
    }),
  };
}

function asStrings(value: HclValue | undefined): string[] {
  if (value === undefined) {
    return [];
  }
  return (Array.isArray(value) ? value : [value]).map((v) => {
    if (typeof v !== "string") {
      throw new Error(`expected strings, got ${JSON.stringify(v)}`);
    }
    return v;
  });
}

class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  value(): HclValue {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === "{") {
      return this.object();
    }
    if (c === "[") {
      return this.tuple();
    }
    if (c === '"') {
      return this.string();
    }
    if (c !== undefined && /[-0-9]/.test(c)) {
      return this.number();
    }
    if (c !== undefined && /[A-Za-z_]/.test(c)) {
      return this.identifierOrReference();
    }
    throw this.error("a value");
  }

  end(): void {
    this.skipSpace();
    if (this.pos !== this.text.length) {
      throw this.error("the end of the expression");
    }
  }

  private object(): { [key: string]: HclValue } {
    const result: { [key: string]: HclValue } = {};
    this.expect("{");
    for (;;) {
      this.skipSpace();
      if (this.peek("}")) {
        this.pos++;
        return result;
      }
      const key = this.text[this.pos] === '"' ? this.string() : this.bareWord();
      this.skipSpace();
      if (this.peek("=") || this.peek(":")) {
        this.pos++;
      } else {
        throw this.error('"=" or ":"');
      }
      if (Object.prototype.hasOwnProperty.call(result, key)) {
        throw new Error(`duplicate key ${key} in a jsonencode object`);
      }
      result[key] = this.value();
      this.skipSpace();
      if (this.peek(",")) {
        this.pos++;
      }
    }
  }

  private tuple(): HclValue[] {
    const result: HclValue[] = [];
    this.expect("[");
    for (;;) {
      this.skipSpace();
      if (this.peek("]")) {
        this.pos++;
        return result;
      }
      result.push(this.value());
      this.skipSpace();
      if (this.peek(",")) {
        this.pos++;
      } else if (!this.peek("]")) {
        throw this.error('"," or "]"');
      }
    }
  }

  /** A quoted string; `${...}` templates are kept verbatim (with their nested quotes and braces). */
  private string(): string {
    this.expect('"');
    let out = "";
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) {
        throw this.error("a closing quote");
      }
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === "\\") {
        const e = this.text[this.pos + 1];
        const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };
        if (e !== undefined && e in simple) {
          out += simple[e];
          this.pos += 2;
        } else if (e === "u") {
          out += String.fromCharCode(parseInt(this.text.slice(this.pos + 2, this.pos + 6), 16));
          this.pos += 6;
        } else {
          throw this.error("a known escape");
        }
        continue;
      }
      if (c === "$" && this.text[this.pos + 1] === "{") {
        out += this.template();
        continue;
      }
      out += c;
      this.pos++;
    }
  }

  /** `${ ... }` up to its matching brace, skipping quoted strings inside. */
  private template(): string {
    const start = this.pos;
    this.pos += 2;
    let depth = 1;
    while (depth > 0) {
      const c = this.text[this.pos];
      if (c === undefined) {
        throw this.error("the end of a template");
      }
      if (c === '"') {
        this.string();
        continue;
      }
      if (c === "{") {
        depth++;
      } else if (c === "}") {
        depth--;
      }
      this.pos++;
    }
    return this.text.slice(start, this.pos);
  }

  private number(): number {
    const m = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(this.text.slice(this.pos));
    if (!m) {
      throw this.error("a number");
    }
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private bareWord(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.text.slice(this.pos));
    if (!m) {
      throw this.error("a key");
    }
    this.pos += m[0].length;
    return m[0];
  }

  /** true, false, null, or a traversal (`aws_x.name.attr`, `data.aws_y.name.attr`), returned as `${...}`. */
  private identifierOrReference(): HclValue {
    const m = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*/.exec(this.text.slice(this.pos));
    if (!m) {
      throw this.error("a reference");
    }
    this.pos += m[0].length;
    if (m[0] === "true") {
      return true;
    }
    if (m[0] === "false") {
      return false;
    }
    if (m[0] === "null") {
      return null;
    }
    this.skipSpace();
    if (this.peek("(")) {
      throw this.error(`no function call (${m[0]}(...)) inside a policy`);
    }
    return `\${${m[0]}}`;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) {
      this.pos++;
    }
  }

  private peek(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }

  private expect(s: string): void {
    this.skipSpace();
    if (!this.peek(s)) {
      throw this.error(`"${s}"`);
    }
    this.pos += s.length;
  }

  private error(what: string): Error {
    return new Error(`jsonencode parser: expected ${what} at ${this.pos}: ...${this.text.slice(this.pos, this.pos + 60)}`);
  }
}
