/**
 * The HCL of `kopsform synth --hcl` (`cdk.tf`), written from the very configuration the JSON output
 * holds (`cdk.tf.json`), so that both plan to the same values.
 *
 * Why not cdktf's printer: cdktf 0.21 writes a string with a newline as a heredoc (`<<EOF`), which a
 * value holding a line `EOF` ends, leaves quotes unescaped in any string with `${`, never escapes
 * backslashes, and reads `$${` (Terraform's escape) as an interpolation. Here every string of the
 * JSON configuration, a Terraform template in both syntaxes, becomes an HCL quoted template: its
 * literal text escaped (backslashes, quotes, control characters) with the template escapes (`$${`,
 * `%%{`) kept, its interpolations copied as the expressions they are. A string that is a single
 * interpolation is written as the bare expression, as `terraform fmt` writes it. No heredoc is ever
 * written.
 *
 * JSON does not say which objects are nested blocks (`root_block_device { ... }`) and which are map
 * values (`tags = { ... }`); the provider schema does, through cdktf's HCL metadata of each element
 * ({@link blockPaths}).
 */
import { TerraformElement, TerraformStack, Tokenization } from "cdktf";
import { hclQuotedText } from "./literals";

/** A synthesized configuration, as in `cdk.tf.json`. */
type Json = Record<string, unknown>;

/** Meta-argument blocks, whatever the resource type. */
const META_BLOCKS = new Set(["lifecycle", "precondition", "postcondition"]);

/** HCL keywords that are written quoted when they are object keys. */
const KEYWORDS = new Set(["true", "false", "null", "for", "in", "if", "else", "endif", "endfor"]);

/** A Terraform traversal (`aws_vpc.main`, `aws_vpc.main.id`, `aws.west`, `tags["Name"]`). */
const TRAVERSAL = /^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*|\[\d+\]|\["[^"\\$%]*"\])*$/;

/** The order of top-level blocks in `cdk.tf`. */
const TOP_LEVEL = ["terraform", "provider", "locals", "variable", "data", "resource", "moved", "import", "removed", "output"];

/**
 * The `cdk.tf` and `metadata.json` of a stack: the HCL from the stack's JSON configuration (with
 * every literal escaped, see stacks/literals.ts), the metadata as cdktf writes it for HCL output.
 */
export function writeStackHcl(stack: TerraformStack): { hcl: string; metadata: Json } {
  const config = stack.toTerraform() as Json;
  return { hcl: renderConfig(config, blockPaths(stack)), metadata: metadataOf(config) };
}

/**
 * Where a configuration has nested blocks, by schema: `resource.aws_launch_template.metadata_options`,
 * `resource.aws_launch_template.block_device_mappings.ebs`, `provider.aws.default_tags`. Read from
 * cdktf's HCL metadata of each element (`isBlock`), which the provider bindings generate from the
 * provider's schema.
 */
export function blockPaths(stack: TerraformStack): Set<string> {
  const paths = new Set<string>();
  const visitAttributes = (attributes: unknown, prefix: string) => {
    if (!isPlainObject(attributes)) {
      return;
    }
    for (const [name, attribute] of Object.entries(attributes)) {
      if (!isPlainObject(attribute) || !("value" in attribute)) {
        continue;
      }
      if (attribute.isBlock === true || attribute.is_block === true) {
        const path = `${prefix}.${name}`;
        paths.add(path);
        const value = attribute.value;
        (Array.isArray(value) ? value : [value]).forEach((item) => visitAttributes(item, path));
      }
    }
  };
  for (const node of stack.node.findAll()) {
    if (!TerraformElement.isTerraformElement(node)) {
      continue;
    }
    const hcl = (node as unknown as { toHclTerraform(): Json }).toHclTerraform();
    for (const kind of ["resource", "data"]) {
      for (const [type, byName] of Object.entries((hcl[kind] as Json | undefined) ?? {})) {
        Object.values(byName as Json).forEach((attributes) => visitAttributes(attributes, `${kind}.${type}`));
      }
    }
    for (const [name, instances] of Object.entries((hcl.provider as Json | undefined) ?? {})) {
      (Array.isArray(instances) ? instances : [instances]).forEach((attributes) => visitAttributes(attributes, `provider.${name}`));
    }
  }
  return paths;
}

/** `metadata.json`: the configuration's `//` entries and its `terraform` block, as cdktf writes it. */
function metadataOf(config: Json): Json {
  const metadata: Json = { "//": config["//"] };
  for (const kind of ["resource", "data"]) {
    const byType = config[kind] as Record<string, Record<string, Json>> | undefined;
    if (byType) {
      metadata[kind] = Object.fromEntries(
        Object.entries(byType).map(([type, byName]) => [
          type,
          Object.fromEntries(Object.entries(byName).map(([name, body]) => [name, { "//": body["//"] }])),
        ]),
      );
    }
  }
  metadata.terraform = config.terraform;
  return metadata;
}

/** The HCL text of a whole configuration (unformatted: hclwrite aligns it afterwards). */
export function renderConfig(config: Json, blocks: ReadonlySet<string>): string {
  const unknown = Object.keys(config).filter((key) => key !== "//" && !TOP_LEVEL.includes(key));
  if (unknown.length > 0) {
    throw new Error(`HCL export does not support top-level ${unknown.join(", ")}`);
  }
  const out: string[] = [];
  const section = (text: string) => out.push(text);
  const all = (kind: string) => (config[kind] ?? {}) as Record<string, unknown>;

  if (config.terraform) {
    section(renderTerraformBlock(config.terraform as Json));
  }
  for (const [name, instances] of Object.entries(all("provider"))) {
    for (const body of Array.isArray(instances) ? instances : [instances]) {
      section(block(`provider ${quote(name)}`, body as Json, `provider.${name}`, blocks, 0));
    }
  }
  if (config.locals) {
    section(block("locals", config.locals as Json, "locals", blocks, 0));
  }
  for (const [name, body] of Object.entries(all("variable"))) {
    const { type, ...rest } = body as Json;
    const typeLine = type === undefined ? "" : `  type = ${rawExpression(type, "variable type")}\n`;
    section(`variable ${quote(name)} {\n${typeLine}${attributes(rest, "variable", blocks, 1)}}`);
  }
  for (const kind of ["data", "resource"]) {
    for (const [type, byName] of Object.entries(all(kind))) {
      for (const [name, body] of Object.entries(byName as Json)) {
        const header = `${kind} ${quote(type)} ${quote(name)}`;
        section(block(header, body as Json, `${kind}.${type}`, blocks, 0));
      }
    }
  }
  for (const kind of ["moved", "import", "removed"]) {
    const entries = config[kind];
    for (const body of (Array.isArray(entries) ? entries : entries ? [entries] : []) as Json[]) {
      section(block(kind, body, kind, blocks, 0));
    }
  }
  for (const [name, body] of Object.entries(all("output"))) {
    section(block(`output ${quote(name)}`, body as Json, "output", blocks, 0));
  }
  return `${out.join("\n\n")}\n`;
}

/**
 * `terraform { required_providers { ... } backend "TYPE" { ... } cloud { workspaces { ... } } }`.
 * Terraform reads the strings of this block in JSON as they are, and in HCL as templates that may not
 * refer to anything: they are written as literals, every template sequence escaped.
 */
function renderTerraformBlock(terraform: Json): string {
  const body = (values: Json, level: number, blockNames: readonly string[] = []): string =>
    Object.entries(values)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) =>
        blockNames.includes(key)
          ? `${indent(level)}${key} {\n${body(value as Json, level + 1)}${indent(level)}}\n`
          : `${indent(level)}${key} = ${literal(value, level)}\n`,
      )
      .join("");
  let text = "terraform {\n";
  for (const [key, value] of Object.entries(terraform)) {
    if (key === "required_providers") {
      text += `${indent(1)}required_providers {\n${body(value as Json, 2)}${indent(1)}}\n`;
    } else if (key === "backend") {
      for (const [type, config] of Object.entries(value as Json)) {
        text += `${indent(1)}backend ${quote(type)} {\n${body(config as Json, 2)}${indent(1)}}\n`;
      }
    } else if (key === "cloud") {
      text += `${indent(1)}cloud {\n${body(value as Json, 2, ["workspaces"])}${indent(1)}}\n`;
    } else {
      text += `${indent(1)}${key} = ${literal(value, 1)}\n`;
    }
  }
  return `${text}}`;
}

/** A JSON value whose strings are literal text (not templates), as an HCL expression. */
function literal(value: unknown, level: number): string {
  if (typeof value === "string") {
    return `"${hclQuotedText(value)}"`;
  }
  if (Array.isArray(value)) {
    return list(
      value.map((item) => literal(item, level + 1)),
      level,
    );
  }
  if (isPlainObject(value)) {
    const lines = Object.entries(value).map(([key, v]) => `${indent(level + 1)}${objectKey(escapeTemplateKey(key))} = ${literal(v, level + 1)}`);
    return lines.length === 0 ? "{}" : `{\n${lines.join("\n")}\n${indent(level)}}`;
  }
  return expression(value, level);
}

/** A literal key as the template text {@link objectKey} expects. */
function escapeTemplateKey(key: string): string {
  return key.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

/** `HEADER { BODY }` at `level`; `path` locates the body for {@link blockPaths}. */
function block(header: string, body: Json, path: string, blocks: ReadonlySet<string>, level: number): string {
  return `${header} {\n${attributes(body, path, blocks, level + 1)}${indent(level)}}`;
}

/** The arguments and nested blocks of a block body, one per line, at `level`. */
function attributes(body: Json, path: string, blocks: ReadonlySet<string>, level: number): string {
  let text = "";
  for (const [name, value] of Object.entries(body)) {
    if (name === "//" || value === undefined) {
      continue;
    }
    const childPath = `${path}.${name}`;
    if (name === "dynamic" || name === "provisioner" || name === "connection") {
      throw new Error(`HCL export does not support ${name} blocks (${path})`);
    }
    if (blocks.has(childPath) || META_BLOCKS.has(name)) {
      for (const item of Array.isArray(value) ? value : [value]) {
        text += indent(level) + block(name, item as Json, childPath, blocks, level) + "\n";
      }
      continue;
    }
    text += `${indent(level)}${name} = ${argument(name, value, level)}\n`;
  }
  return text;
}

/** An argument's value: a reference where Terraform expects one, an expression otherwise. */
function argument(name: string, value: unknown, level: number): string {
  switch (name) {
    case "depends_on":
    case "ignore_changes":
    case "replace_triggered_by":
      return list((value as unknown[]).map((item) => reference(item, name)), level);
    case "provider":
    case "from":
    case "to":
      return reference(value, name);
    default:
      return expression(value, level);
  }
}

/** A reference given as a string in JSON (`"aws_vpc.main"`, `"${aws_vpc.main}"`, `"all"`), bare in HCL. */
function reference(value: unknown, what: string): string {
  if (typeof value === "string") {
    const unwrapped = singleInterpolation(value) ?? value;
    if (TRAVERSAL.test(unwrapped)) {
      return unwrapped;
    }
  }
  throw new Error(`HCL export: ${JSON.stringify(value)} is not a reference (${what})`);
}

/** A type constraint or other bare expression given as a string. */
function rawExpression(value: unknown, what: string): string {
  if (typeof value === "string" && /^[\w(), ]+$/.test(value)) {
    return value;
  }
  throw new Error(`HCL export: ${JSON.stringify(value)} is not a plain expression (${what})`);
}

/** A JSON value as an HCL expression at `level`. */
function expression(value: unknown, level: number): string {
  if (typeof value === "string") {
    return singleInterpolation(value) ?? `"${templateToHcl(value)}"`;
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new Error(`HCL export: ${value} is not a number Terraform can read`);
    }
    return String(value);
  }
  if (typeof value === "boolean") {
    return String(value);
  }
  if (value === null) {
    return "null";
  }
  if (Array.isArray(value)) {
    return list(
      value.map((item) => expression(item, level + 1)),
      level,
    );
  }
  if (isPlainObject(value) && !Tokenization.isResolvable(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) {
      return "{}";
    }
    const lines = entries.map(([key, v]) => `${indent(level + 1)}${objectKey(key)} = ${expression(v, level + 1)}`);
    return `{\n${lines.join("\n")}\n${indent(level)}}`;
  }
  throw new Error(`HCL export: cannot write ${String(value)}`);
}

/** A list of already written items. */
function list(items: readonly string[], level: number): string {
  if (items.length === 0) {
    return "[]";
  }
  return `[\n${items.map((item) => `${indent(level + 1)}${item},`).join("\n")}\n${indent(level)}]`;
}

/** An object key: bare when it is a plain identifier, a quoted template otherwise. */
function objectKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) && !KEYWORDS.has(key) ? key : `"${templateToHcl(key)}"`;
}

/** A block label: `"aws_vpc"`. Labels are names, never templates; anything else is a bug. */
function quote(label: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(label)) {
    throw new Error(`HCL export: ${JSON.stringify(label)} is not a block label`);
  }
  return `"${label}"`;
}

function indent(level: number): string {
  return "  ".repeat(level);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The expression of a template that is exactly one interpolation (`${aws_vpc.main.id}`), else undefined. */
export function singleInterpolation(template: string): string | undefined {
  if (!template.startsWith("${")) {
    return undefined;
  }
  const end = closingBrace(template, 1);
  return end === template.length - 1 ? template.slice(2, -1) : undefined;
}

/**
 * The body of an HCL quoted string for a template given as JSON text: literal text escaped
 * (backslashes, quotes, control characters), template escapes (`$${`, `%%{`) kept, interpolations
 * and directives (`${...}`, `%{...}`) copied as written (they are HCL expressions in both syntaxes).
 */
export function templateToHcl(template: string): string {
  let out = "";
  let i = 0;
  while (i < template.length) {
    if (template.startsWith("$${", i) || template.startsWith("%%{", i)) {
      out += template.slice(i, i + 3);
      i += 3;
      continue;
    }
    if (template.startsWith("${", i) || template.startsWith("%{", i)) {
      const end = closingBrace(template, i + 1);
      if (end < 0) {
        throw new Error(`HCL export: unterminated interpolation in ${JSON.stringify(template)}`);
      }
      const sequence = template.slice(i, end + 1);
      if (/[\n\r]/.test(sequence)) {
        throw new Error(`HCL export: a line break inside an interpolation in ${JSON.stringify(template)}`);
      }
      out += sequence;
      i = end + 1;
      continue;
    }
    const ch = String.fromCodePoint(template.codePointAt(i) as number);
    out += escapeCharacter(ch);
    i += ch.length;
  }
  return out;
}

/** One character of literal text in an HCL quoted string. */
function escapeCharacter(ch: string): string {
  const code = ch.codePointAt(0) as number;
  switch (ch) {
    case "\\":
      return "\\\\";
    case '"':
      return '\\"';
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    default:
      return code < 0x20 || (code >= 0x7f && code < 0xa0) || code === 0x2028 || code === 0x2029
        ? `\\u${code.toString(16).padStart(4, "0")}`
        : ch;
  }
}

/**
 * The index of the `}` that closes the `{` at `open`, or -1. Strings inside the expression are
 * skipped, with their escapes and their own `${...}` interpolations (which may hold strings again).
 */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      i = closingQuote(text, i);
      if (i < 0) {
        return -1;
      }
    } else if (ch === "{") {
      depth++;
    } else if (ch === "}" && --depth === 0) {
      return i;
    }
  }
  return -1;
}

/** The index of the `"` that ends the string opened at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\\") {
      i++;
    } else if (ch === '"') {
      return i;
    } else if ((ch === "$" || ch === "%") && text[i + 1] === "{") {
      if (text[i - 1] === ch) {
        continue;
      }
      i = closingBrace(text, i + 1);
      if (i < 0) {
        return -1;
      }
    }
  }
  return -1;
}
