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
  if (!m || !isWholeInterpolation(m[2])) {
    return line;
  }
  return `${m[1]}${m[2]}`;
}

/**
 * True when `inner` (the text between `"${` and the final `}"`) is one expression: the interpolation
 * opened before it closes only at its very end. Strings inside the expression (with their own
 * interpolations and escapes) are skipped.
 */
function isWholeInterpolation(inner: string): boolean {
  let depth = 1;
  let inString = false;
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i];
    if (inString) {
      if (ch === "\\") {
        i++;
      } else if (ch === '"') {
        inString = false;
      } else if (ch === "$" && inner[i + 1] === "{") {
        // An interpolation inside a nested string: its braces balance by themselves.
        const end = matchingBrace(inner, i + 1);
        if (end < 0) {
          return false;
        }
        i = end;
      }
      continue;
    }
    if (ch === '"') {
      inString = true;
    } else if (ch === "{") {
      depth++;
    } else if (ch === "}") {
      depth--;
      if (depth === 0) {
        return false;
      }
    }
  }
  return depth === 1 && !inString;
}

/** Index of the `}` closing the `{` at `open`, skipping nested strings; -1 when unbalanced. */
function matchingBrace(text: string, open: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") {
        i++;
      } else if (ch === '"') {
        inString = false;
      }
    } else if (ch === '"') {
      inString = true;
    } else if (ch === "{") {
      depth++;
    } else if (ch === "}" && --depth === 0) {
      return i;
    }
  }
  return -1;
}
