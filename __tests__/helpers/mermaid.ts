/**
 * Mermaid's own parser, for the tests of the cluster pictures: __tests__/helpers/mermaid-check.mjs run
 * in a Node process of its own (Mermaid is an ES module that needs a DOM; jest runs CommonJS).
 * Mermaid and jsdom are development dependencies: kopsform itself never loads them.
 */
import { spawnSync } from "child_process";
import * as path from "path";

/** A node of a parsed flowchart, its label decoded as Mermaid shows it. */
export interface MermaidVertex {
  readonly id: string;
  readonly text: string;
  /** `square`, `cylinder`, ... */
  readonly shape: string;
  readonly classes: readonly string[];
}

/** What Mermaid made of one diagram. */
export type MermaidResult =
  | { readonly ok: false; readonly error: string }
  | {
      readonly ok: true;
      /** `flowchart-v2` for a flowchart. */
      readonly type: string;
      readonly vertices: readonly MermaidVertex[];
      readonly subgraphs: readonly { readonly id: string; readonly title: string; readonly nodes: readonly string[] }[];
      readonly edges: readonly { readonly start: string; readonly end: string; readonly stroke: string }[];
      /** Style classes by name, with their styles. */
      readonly classes: Readonly<Record<string, readonly string[]>>;
    };

/**
 * How long the parser's process may take. Loading jsdom and Mermaid takes seconds, but minutes on this
 * 2-core machine beside the cluster simulations (over 220 s at a load of 24).
 */
export const MERMAID_TIMEOUT_MS = 540_000;

/** The jest timeout of a test or hook that parses: the parser's, and a minute for the rest. */
export const MERMAID_TEST_TIMEOUT_MS = MERMAID_TIMEOUT_MS + 60_000;

/**
 * Parses `diagrams` with Mermaid in one process; `loadMs` is how long loading jsdom and Mermaid took.
 * A caller gives its test or hook {@link MERMAID_TEST_TIMEOUT_MS}, so that a slow machine fails with
 * this function's message, not jest's bare timeout.
 */
export function parseMermaid(diagrams: readonly string[]): { loadMs: number; results: MermaidResult[] } {
  const r = spawnSync(process.execPath, [path.join(__dirname, "mermaid-check.mjs")], {
    input: JSON.stringify(diagrams),
    encoding: "utf8",
    timeout: MERMAID_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(`the Mermaid parser did not run (exit ${r.status}, ${r.error ?? ""}):\n${r.stderr}`);
  }
  return JSON.parse(r.stdout) as { loadMs: number; results: MermaidResult[] };
}
