/**
 * A string in a stack is data unless it came from a cdktf token. Terraform reads every string of a
 * configuration as a template, in JSON as in HCL: `${...}` is an interpolation and `%{...}` a
 * directive, so a cloud label `X=${file("/etc/hostname")}` would have Terraform read files and
 * environment variables (credentials included) into tags and error output. cdktf passes such text
 * through on purpose (its "escape hatch"). Here, at synthesis, over every element of a cluster stack,
 * every literal part of every string (values and map keys of resources, data sources, providers and
 * outputs) is escaped (`$${`, `%%{`), and only cdktf's own tokens stay interpolations. The `terraform`
 * block (backend, cloud) is the exception: Terraform reads its JSON strings as they are, never as
 * templates (the HCL writer escapes them for HCL, where every quoted string is a template). Values
 * inside Terraform expressions that cdktf builds (`Fn.jsonencode({...})`, conditionals, operators)
 * are written as HCL string literals with every escape HCL needs. This is the one place every
 * field of the spec goes through, so a field added later inherits it.
 */
import { IResolvable, IResolveContext, TerraformElement, TerraformStack, Tokenization } from "cdktf";

/** cdktf's token markers in strings: `${TfToken[TOKEN.12]}` and its list and map forms. */
const TOKEN_MARKER = /(\$\{TfToken\[[a-zA-Z0-9:._-]+\]\}|#\{TfToken\[[a-zA-Z0-9:._-]+\]\}|&\{TfToken\[[a-zA-Z0-9:._-]+\]\})/;

/**
 * Escapes the template sequences of a literal as Terraform's template syntax requires: `${` becomes
 * `$${` and `%{` becomes `%%{`, so that Terraform reads back exactly `text` (also `$${`, which
 * becomes `$$${`: a `$` followed by an escaped `${`).
 */
export function escapeTemplateText(text: string, beforeInterpolation = false): string {
  const escaped = text
    .replace(/\$\{/g, () => "$${")
    .replace(/%\{/g, () => "%%{")
    // HCL's template scanner loses the interpolations that follow a lone carriage return in JSON.
    .replace(/\r/g, () => '${"\\r"}');
  // `$` right before an interpolation would make `$${`, the escape; write it as an interpolation.
  return beforeInterpolation && escaped.endsWith("$") ? `${escaped.slice(0, -1)}\${"$"}` : escaped;
}

/**
 * The body of an HCL quoted string that reads back exactly `text`: backslash escapes for `\`, `"`
 * and control characters, and the template escapes of {@link escapeTemplateText}.
 */
export function hclQuotedText(text: string, beforeInterpolation = false): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (ch === "\\") {
      out += "\\\\";
    } else if (ch === '"') {
      out += '\\"';
    } else if (ch === "\n") {
      out += "\\n";
    } else if (ch === "\r") {
      out += "\\r";
    } else if (ch === "\t") {
      out += "\\t";
    } else if (code < 0x20 || (code >= 0x7f && code < 0xa0) || code === 0x2028 || code === 0x2029) {
      out += `\\u${code.toString(16).padStart(4, "0")}`;
    } else {
      out += ch;
    }
  }
  return escapeTemplateText(out, beforeInterpolation);
}

/**
 * A copy of a value from an element's `toTerraform()` in which every literal part of every string,
 * map keys included, is escaped, and cdktf's tokens are left as they are (their expressions are
 * made safe in place, see {@link neutralizeExpression}).
 */
export function escapeLiterals(value: unknown): unknown {
  if (typeof value === "string") {
    return escapeStringLiterals(value);
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const escaped = escapeLiterals(value[i]);
      if (escaped !== value[i]) {
        copy ??= [...value];
        copy[i] = escaped;
      }
    }
    return copy ?? value;
  }
  if (value !== null && typeof value === "object") {
    if (Tokenization.isResolvable(value)) {
      neutralizeExpression(value);
      return value;
    }
    // A new object only where something changed: most of a configuration has nothing to escape.
    const object = value as Record<string, unknown>;
    let changed = false;
    const keys = Object.keys(object);
    const escapedKeys: string[] = [];
    const escapedValues: unknown[] = [];
    for (const key of keys) {
      const escapedKey = escapeStringLiterals(key);
      const escapedValue = escapeLiterals(object[key]);
      changed ||= escapedKey !== key || escapedValue !== object[key];
      escapedKeys.push(escapedKey);
      escapedValues.push(escapedValue);
    }
    return changed ? Object.fromEntries(escapedKeys.map((key, i) => [key, escapedValues[i]])) : value;
  }
  return value;
}

/** Characters without which a string has nothing to escape and holds no token. */
const NEEDS_WORK = /[$%#&\r]/;

/** Token markers already seen: a reference is used many times, and is neutralized once. */
let seenMarkers = new Set<string>();

/** Escapes the literal parts of a string, keeping its token markers. */
function escapeStringLiterals(text: string): string {
  if (!NEEDS_WORK.test(text)) {
    return text;
  }
  const parts = text.split(TOKEN_MARKER);
  if (parts.length === 3 && parts[0] === "" && parts[2] === "") {
    neutralizeMarker(parts[1]);
    return text;
  }
  return parts
    .map((part, i) => {
      if (i % 2 === 1) {
        neutralizeMarker(part);
        return part;
      }
      return escapeTemplateText(part, i + 1 < parts.length);
    })
    .join("");
}

/** Neutralizes the expression behind a token marker, once per marker. */
function neutralizeMarker(marker: string): void {
  if (!seenMarkers.has(marker)) {
    seenMarkers.add(marker);
    tokensOf(marker).forEach(neutralizeExpression);
  }
}

/** The tokens a string holds (as cdktf will resolve them). */
function tokensOf(text: string): unknown[] {
  return Tokenization.reverseString(text).tokens;
}

/** Expressions already made safe: cdktf may resolve an element more than once. */
const neutralized = new WeakSet<object>();

/** The fields in which cdktf's expression classes keep their operands. */
const OPERAND_FIELDS = ["args", "target", "condition", "trueValue", "falseValue", "left", "right", "input", "valueExpression", "keyExpression"];

/**
 * Makes the literal strings inside a cdktf expression (a function call's arguments, a conditional's
 * branches, an operator's operands) safe, in place. cdktf writes such a literal as `"TEXT"` with only
 * newlines and `${` escaped, takes a literal that starts and ends with a quote for an expression of
 * its own, and writes object keys as they are: each literal is replaced by an exact HCL string
 * literal, each key by its escaped text.
 */
function neutralizeExpression(token: unknown): void {
  if (!Tokenization.isResolvable(token) || token instanceof HclStringTemplate || neutralized.has(token)) {
    return;
  }
  neutralized.add(token);
  const holder = token as unknown as Record<string, unknown>;
  // A property access (`x.name`, `x["key"]`): names stay names; other keys are literals.
  const propertyAccess = "target" in holder;
  for (const field of OPERAND_FIELDS) {
    const value = holder[field];
    if (!(field in holder) || value === undefined) {
      continue;
    }
    if (propertyAccess && field === "target") {
      if (typeof value === "string" || Tokenization.isResolvable(value)) {
        tokensOf(String(value)).forEach(neutralizeExpression);
        neutralizeExpression(value);
      }
    } else if (propertyAccess && field === "args" && Array.isArray(value)) {
      holder[field] = value.map((arg) => (typeof arg === "string" && (arg === "*" || /^[_a-zA-Z][_a-zA-Z0-9]*$/.test(arg)) ? arg : operand(arg)));
    } else {
      holder[field] = operand(value);
    }
  }
}

/**
 * An operand, made safe: a string (a literal, or literals around tokens) becomes an exact HCL string
 * template; objects and lists are made safe element by element, their keys escaped; a string that is
 * one token alone stays as it is (cdktf writes the token's expression).
 */
function operand(value: unknown): unknown {
  if (typeof value === "string") {
    const parts = value.split(TOKEN_MARKER);
    parts.filter((_, i) => i % 2 === 1).forEach((marker) => tokensOf(marker).forEach(neutralizeExpression));
    if (parts.length === 3 && parts[0] === "" && parts[2] === "") {
      return value;
    }
    return new HclStringTemplate(parts);
  }
  if (Array.isArray(value)) {
    return value.map(operand);
  }
  if (value !== null && typeof value === "object") {
    if (Tokenization.isResolvable(value)) {
      neutralizeExpression(value);
      return value;
    }
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [hclQuotedText(key), operand(v)]));
  }
  return value;
}

/**
 * A string inside a Terraform expression, written as an exact HCL quoted template: its literal parts
 * escaped, its tokens as interpolations. `parts` alternates literal text and token markers.
 */
class HclStringTemplate implements IResolvable {
  readonly creationStack: string[] = [];

  constructor(private readonly parts: readonly string[]) {}

  resolve(context: IResolveContext): string {
    const body = this.parts.map((part, i) =>
      i % 2 === 1 ? `\${${String(context.resolve(part))}}` : hclQuotedText(part, i + 1 < this.parts.length),
    );
    return `"${body.join("")}"`;
  }

  toString(): string {
    return this.parts.join("");
  }
}

/**
 * An element's configuration with its literals escaped, except in the `terraform` block (backend,
 * cloud, required providers): Terraform reads those strings as they are, never as templates.
 */
function escapeElement(fragment: unknown): unknown {
  if (fragment === null || typeof fragment !== "object" || Array.isArray(fragment)) {
    return escapeLiterals(fragment);
  }
  return Object.fromEntries(
    Object.entries(fragment).map(([key, value]) => [key, key === "terraform" ? value : escapeLiterals(value)]),
  );
}

/**
 * Runs `synthesize` (the stack's `toTerraform()`) with every element's configuration passed through
 * {@link escapeLiterals}: the JSON written, and the HCL made from it, hold every literal as data.
 */
export function withEscapedLiterals<T>(stack: TerraformStack, synthesize: () => T): T {
  const elements = stack.node.findAll().filter((node): node is TerraformElement => TerraformElement.isTerraformElement(node));
  const patched: { element: TerraformElement; own?: PropertyDescriptor }[] = [];
  try {
    for (const element of elements) {
      const own = Object.getOwnPropertyDescriptor(element, "toTerraform");
      const original = element.toTerraform;
      patched.push({ element, own });
      Object.defineProperty(element, "toTerraform", {
        configurable: true,
        writable: true,
        value: () => escapeElement(original.call(element)),
      });
    }
    return synthesize();
  } finally {
    seenMarkers = new Set<string>();
    for (const { element, own } of patched) {
      if (own) {
        Object.defineProperty(element, "toTerraform", own);
      } else {
        delete (element as { toTerraform?: unknown }).toTerraform;
      }
    }
  }
}
