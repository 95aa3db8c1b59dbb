/**
 * Repairs for cdktf 0.21's HCL printer, so that `cdk.tf` is what `terraform fmt` would write and
 * `terraform validate` accepts without warnings:
 * - an attribute whose whole value is one interpolation (`vpc_id = "${aws_vpc.x.id}"`) is written as
 *   the bare expression (`vpc_id = aws_vpc.x.id`), as `terraform fmt` writes it;
 * - `depends_on` entries are written as references, not quoted strings (quoted references are
 *   deprecated and warned about).
 * Only these two shapes are rewritten; everything else passes through untouched. Object items (tags)
 * and list elements are left as they are, because `terraform fmt` leaves them too.
 */

/** What an open `{` or `[` on a line started. */
type Context = "block" | "object" | "list" | "depends_on";

/** Rewrites the HCL text as described above; the result is then formatted with hclwrite. */
export function tidyCdktfHcl(text: string): string {
  const stack: Context[] = [];
  const lines = text.split("\n").map((line) => {
    const trimmed = line.trim();
    const top = stack[stack.length - 1];
    let out = line;
    if (top === "depends_on" && /^"[A-Za-z0-9_.-]+",?$/.test(trimmed)) {
      out = line.replace(/"([A-Za-z0-9_.-]+)"/, "$1");
    } else if (top === "block" || top === undefined) {
      out = unwrapAttribute(line);
    }
    const closers = trimmed.match(/^[}\]]+/)?.[0].length ?? 0;
    stack.splice(stack.length - closers, closers);
    if (trimmed.endsWith("{")) {
      stack.push(/^[^"=]*(=|"[^"]*"\s*=)/.test(trimmed) ? "object" : "block");
    } else if (trimmed.endsWith("[")) {
      stack.push(/^depends_on\s*=/.test(trimmed) ? "depends_on" : "list");
    }
    return out;
  });
  return lines.join("\n");
}

/** `name = "${EXPR}"` -> `name = EXPR` when the string is exactly one interpolation. */
function unwrapAttribute(line: string): string {
  const m = /^(\s*[A-Za-z_][A-Za-z0-9_-]*\s*=\s*)"\$\{(.*)\}"\s*$/.exec(line);
  // The interpolation opened by `"${` must close at the very end, not before (`"${a}-${b}"`).
  if (!m || closingBrace(`{${m[2]}}`, 0) !== m[2].length + 1) {
    return line;
  }
  return `${m[1]}${m[2]}`;
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
    } else if (ch === "$" && text[i + 1] === "{") {
      i = closingBrace(text, i + 1);
      if (i < 0) {
        return -1;
      }
    }
  }
  return -1;
}
