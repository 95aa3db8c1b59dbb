/**
 * GitHub's own Markdown parser, cmark-gfm (Debian's `cmark-gfm`, installed by .ci/run), for the tests
 * that a pull request summary renders as intended whatever a plan holds: run with the extensions
 * GitHub enables and with raw HTML passed through (`--unsafe`), so that any HTML a value could smuggle
 * in shows up in the output instead of being dropped.
 */
import { spawnSync } from "child_process";

/** `markdown` as HTML, as cmark-gfm renders it with GitHub's extensions. */
export function gfmHtml(markdown: string): string {
  const r = spawnSync("cmark-gfm", ["--unsafe", "-e", "table", "-e", "autolink", "-e", "strikethrough", "-e", "tasklist"], {
    input: markdown,
    encoding: "utf8",
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(`cmark-gfm did not run (exit ${r.status}, ${r.error ?? ""}; .ci/run installs it):\n${r.stderr}`);
  }
  return r.stdout;
}

/** HTML text as the reader sees it: tags dropped, cmark-gfm's entities decoded. */
export function htmlText(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");
}

/** The names of the HTML elements in `html`, each once, sorted; comments as `!--`. */
export function elementNames(html: string): string[] {
  const names = [...html.matchAll(/<(!--|[A-Za-z][A-Za-z0-9-]*)/g)].map((m) => m[1].toLowerCase());
  return [...new Set(names)].sort();
}
