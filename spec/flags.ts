/**
 * kops's flag syntaxes that are more than a plain string: comma lists and `--cloud-labels`.
 */

/** `a,b , c` -> `["a","b","c"]` (kops's StringSlice flags; repeated flags are concatenated by the caller). */
export function splitList(value: string): string[] {
  return value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/**
 * Parses `--cloud-labels` as kops does (comma-separated `key=value` pairs read as CSV), so values may
 * hold spaces (`Owner=John Doe`) and commas inside double quotes, either around the whole pair
 * (`"Owner=Doe, John"`) or around the value (`Owner="Doe, John"`).
 * Returns the labels, or a message naming the pair that could not be read.
 */
export function parseCloudLabels(text: string): { labels: Record<string, string> } | { error: string } {
  const pairs: string[] = [];
  let current = "";
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
      current += ch;
    } else if (ch === "," && !quoted) {
      pairs.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  if (quoted) {
    return { error: `${JSON.stringify(text)} has an unclosed double quote; close it after the value.` };
  }
  pairs.push(current);
  const labels: Record<string, string> = {};
  for (const raw of pairs) {
    const pair = unquote(raw.trim());
    if (pair === "") {
      continue;
    }
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      return { error: `${JSON.stringify(pair)} is not key=value; write labels as "Team=Dev,Owner=John Doe".` };
    }
    const key = pair.slice(0, eq).trim();
    if (key in labels) {
      return { error: `label ${JSON.stringify(key)} is given twice; give each key once.` };
    }
    labels[key] = unquote(pair.slice(eq + 1).trim());
  }
  return { labels };
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}
