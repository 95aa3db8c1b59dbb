/**
 * Markdown for pull request comments, with every value taken from a plan shown as data. A plan value
 * (an address with a `for_each` key, an output name, a tag key, an error message) may hold anything:
 * raw, it could close the hidden marker comment, a code span or `<details>`, add headings, links,
 * images or `@team` mentions, or forge another stack's marker. So a value is only ever shown inside a
 * code span built here, where GitHub renders text as it is (no HTML, links, mentions or emphasis).
 */

/** Control characters, and the Unicode line and paragraph separators, shown as `\uXXXX`. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/gu;

/**
 * `value` as an inline code span that shows it literally: control characters (line breaks included)
 * written as `\uXXXX`, and a run of backticks longer than any inside it as the delimiter (with a
 * space inside when the value starts or ends with a backtick, which CommonMark strips again).
 */
export function code(value: unknown): string {
  const text = String(value).replace(CONTROL, (ch) => `\\u${(ch.codePointAt(0) as number).toString(16).padStart(4, "0")}`);
  if (text === "") {
    return "` `";
  }
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") || (text.startsWith(" ") && text.endsWith(" ")) ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A list of values as code spans, `a`, `b` and `c` style, at most `max` shown (then "and N more"). */
export function codeList(values: readonly unknown[], max = 10): string {
  const shown = values.slice(0, max).map(code);
  const more = values.length > max ? [`${values.length - max} more`] : [];
  const all = [...shown, ...more];
  return all.length <= 1 ? all.join("") : `${all.slice(0, -1).join(", ")} and ${all[all.length - 1]}`;
}

/**
 * The name in a hidden marker (`<!-- kopsform-plan: NAME -->`): only letters, digits, `.`, `_` and
 * `-`, so that it can neither end the comment nor look like another marker. A cluster name passes
 * unchanged; anything else has its other characters as `-`.
 */
export function markerName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, "-");
  return safe === "" ? "-" : safe;
}
