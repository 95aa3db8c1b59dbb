/**
 * The picture of a cluster's availability: the region's zones side by side, the masters and etcd
 * members in each, the nodes per zone, and whether losing the zone keeps etcd quorum. Drawn as a
 * Mermaid flowchart (GitHub renders it in Markdown files and comments) for the HA report and the pull
 * request summary, and as a plain-text table for terminals (`kopsform synth`). Both render the same
 * {@link ClusterPicture}, which is an {@link HaAnalysis} plus what the zones hold, so that the synthesis
 * summary, the report and the pull request agree.
 *
 * Every name in a picture (zones, clusters, groups) is data: it may come from a plan file that anyone
 * wrote. Mermaid has a syntax of its own (quotes, brackets, `%%` comments, `#...;` entity codes, HTML
 * in labels), so node ids are generated (`s0z1m2`) and names appear only inside quoted labels, with
 * every character that could mean something to Mermaid, HTML or Markdown written as an entity code.
 */
import type { HaAnalysis, ZoneOutage } from "./ha";
import { ClusterSpec, NodeGroupSpec } from "./types";

/** The instances of one node group expected in one zone. */
export interface NodeShare {
  /** The node group's name (`nodes`, or a `nodeGroups` entry's). */
  readonly group: string;
  /** Fewest instances in the zone: the group's minimum size, balanced over its zones. */
  readonly min: number;
  /** Most instances in the zone: the group's maximum size, balanced over its zones. */
  readonly max: number;
}

/** What one zone holds. */
export interface ZoneColumn {
  readonly zone: string;
  /** The master instance groups (auto-scaling groups) in the zone. */
  readonly masters: readonly string[];
  /** The etcd members whose volumes are in the zone (what quorum counts). */
  readonly members: readonly string[];
  /** The node groups with instances in the zone. */
  readonly nodes: readonly NodeShare[];
  /** What losing the zone does; undefined when the picture cannot tell (see {@link ClusterPicture.notes}). */
  readonly outage?: ZoneOutage;
}

/** A cluster's picture: its analysis and what each zone holds. */
export interface ClusterPicture {
  readonly ha: HaAnalysis;
  /** The region, when known. */
  readonly region?: string;
  /** One column per zone of the cluster, in the cluster's zone order. */
  readonly zones: readonly ZoneColumn[];
  /** What the picture cannot show, said plainly (for example zones only known after apply). */
  readonly notes: readonly string[];
}

/** One picture with its caption: a cluster, or one side of a change (`before`, `after`). */
export interface PictureSide {
  readonly title: string;
  readonly picture: ClusterPicture;
}

/**
 * Mermaid refuses diagrams longer than this many characters (its `maxTextSize`, which GitHub keeps),
 * rendering an error instead.
 */
export const MERMAID_MAX_TEXT_SIZE = 50_000;

/** The longest name shown in a picture; longer ones are cut with an ellipsis (a name is not a layout). */
const MAX_LABEL_NAME = 80;

/**
 * How many instances of a group of `min`..`max` over `zones` zones one zone gets: AWS balances an
 * auto-scaling group over its zones, so a zone holds `floor(min / zones)` to `ceil(max / zones)`.
 */
export function nodeShare(group: Pick<NodeGroupSpec, "name" | "minSize" | "maxSize">, zones: number): NodeShare {
  return { group: group.name, min: Math.floor(group.minSize / zones), max: Math.ceil(group.maxSize / zones) };
}

/** The picture of a validated spec and its analysis (what `kopsform synth` prints and the HA report draws). */
export function specPicture(spec: ClusterSpec, ha: HaAnalysis): ClusterPicture {
  const zones = [...ha.mastersPerZone.map((z) => z.zone)];
  for (const group of spec.nodeGroups) {
    zones.push(...group.zones.filter((zone) => !zones.includes(zone)));
  }
  return {
    ha,
    region: spec.region,
    zones: zones.map((zone) => ({
      zone,
      masters: spec.masters.filter((m) => m.zone === zone).map((m) => m.name),
      members: ha.mastersPerZone.find((z) => z.zone === zone)?.members ?? [],
      nodes: spec.nodeGroups.filter((g) => g.zones.includes(zone)).map((g) => nodeShare(g, g.zones.length)),
      outage: ha.zoneOutages.find((o) => o.zone === zone) ?? { zone, mastersLost: 0, keepsQuorum: true },
    })),
    notes: [],
  };
}

/** `1` or `0-1`. */
function range(share: NodeShare): string {
  return share.min === share.max ? String(share.min) : `${share.min}-${share.max}`;
}

/** `nodes: 1 instance`, `gpu: 0-2 instances`. */
export function nodeShareText(share: NodeShare): string {
  return `${share.group}: ${range(share)} ${share.max === 1 && share.min === 1 ? "instance" : "instances"}`;
}

/** `3 masters, etcd quorum 2 of 3`, or `no masters`. */
export function mastersText(ha: HaAnalysis): string {
  if (ha.masterCount === 0) {
    return "no masters";
  }
  return `${ha.masterCount} ${ha.masterCount === 1 ? "master" : "masters"}, etcd quorum ${ha.quorum} of ${ha.masterCount}`;
}

/**
 * What losing a zone does, in a few words: `API up: quorum kept, 2 of 3 left`, or for a terminal's
 * narrow columns (`short`) `API up, 2 of 3 left` / `API DOWN, 0 of 3 left`.
 */
export function outageText(ha: HaAnalysis, outage: ZoneOutage | undefined, short = false): string {
  if (!outage) {
    return "unknown";
  }
  if (ha.masterCount === 0) {
    return "no masters to lose";
  }
  const left = `${ha.masterCount - outage.mastersLost} of ${ha.masterCount} left`;
  if (short) {
    return outage.keepsQuorum ? `API up, ${left}` : `API DOWN, ${left}`;
  }
  return outage.keepsQuorum ? `API up: quorum kept, ${left}` : `API down: quorum lost, ${left}`;
}

/** Control characters, and the Unicode line and paragraph separators. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** `text` on one line: control characters (line breaks included) as spaces. */
export function plainText(text: string): string {
  return text.replace(CONTROL, " ");
}

/** A name as shown: at most {@link MAX_LABEL_NAME} characters, control characters as spaces. */
function shown(name: string): string {
  const flat = plainText(name);
  const chars = [...flat];
  return chars.length <= MAX_LABEL_NAME ? flat : `${chars.slice(0, MAX_LABEL_NAME - 1).join("")}…`;
}

/**
 * Every character but letters, digits, space and `._,/()-`, which mean nothing to Mermaid, HTML or
 * Markdown inside a quoted label. The others are written as entity codes: `"` ends the label, `#...;`
 * is an entity, `<` and `&` are HTML, `%%` starts a comment, a backtick a Markdown string (and three
 * end the Markdown fence), `:` and `;` take part in Mermaid's rewriting of `style` and `classDef` lines.
 */
const NOT_PLAIN = /[^A-Za-z0-9 ._,/()-]/gu;

/**
 * `text` as the quoted label of a Mermaid node or subgraph: `"..."`, with every character outside
 * {@link NOT_PLAIN}'s set as Mermaid's entity code (`#quot;`, `#35;`), which Mermaid shows as the
 * character.
 */
export function mermaidLabel(text: string): string {
  return `"${shown(text).replace(NOT_PLAIN, (char) => (char === '"' ? "#quot;" : `#${char.codePointAt(0)};`))}"`;
}

/** Several texts as one label, a line each (Mermaid's `<br>`). */
function mermaidLines(texts: readonly string[]): string {
  return `"${texts.map((t) => mermaidLabel(t).slice(1, -1)).join("<br>")}"`;
}

/** The style classes of the outage boxes, readable in GitHub's light and dark themes. */
const CLASS_DEFS = {
  kept: "fill:#e6f4ea,stroke:#1e8e3e,color:#000000",
  lost: "fill:#fce8e6,stroke:#d93025,color:#000000",
  unknown: "fill:#f1f3f4,stroke:#5f6368,color:#000000",
} as const;

/**
 * The Mermaid flowchart of one or more pictures side by side (a change: before, an arrow, after),
 * without the Markdown fence. Each side is a box holding its zones as columns, left to right; each
 * zone stacks its masters, its etcd members (a cylinder), its nodes and, last, what losing it does
 * (green: quorum kept, red: quorum lost). Deterministic: the same pictures give the same text.
 *
 * Layout: the chart runs left to right, and invisible links (`~~~`) chain the zones and, inside a
 * zone, its boxes, so that Mermaid keeps the order given (unlinked boxes it may reverse) and draws
 * each zone top to bottom (`direction TB`, which holds because no link leaves a zone's box).
 */
export function mermaidPicture(sides: readonly PictureSide[]): string {
  const lines = ["flowchart LR"];
  const styled: Record<keyof typeof CLASS_DEFS, string[]> = { kept: [], lost: [], unknown: [] };
  sides.forEach((side, s) => {
    const sideId = `s${s}`;
    const { ha, zones, notes } = side.picture;
    const columns: string[] = [];
    lines.push(`  subgraph ${sideId} [${mermaidLabel(side.title)}]`, "    direction LR");
    zones.forEach((column, z) => {
      const zoneId = `${sideId}z${z}`;
      const chain: string[] = [];
      const box = (suffix: string, open: string, texts: readonly string[], close: string) => {
        if (texts.length > 0) {
          lines.push(`      ${zoneId}${suffix}${open}${mermaidLines(texts)}${close}`);
          chain.push(`${zoneId}${suffix}`);
        }
      };
      lines.push(`    subgraph ${zoneId} [${mermaidLabel(column.zone)}]`, "      direction TB");
      box("m", "[", column.masters, "]");
      box("e", "[(", column.members.map((member) => `etcd ${member}`), ")]");
      box("n", "[", column.nodes.map(nodeShareText), "]");
      box("x", "[", [`if lost: ${outageText(ha, column.outage)}`], "]");
      styled[!column.outage || ha.masterCount === 0 ? "unknown" : column.outage.keepsQuorum ? "kept" : "lost"].push(`${zoneId}x`);
      if (chain.length > 1) {
        lines.push(`      ${chain.join(" ~~~ ")}`);
      }
      lines.push("    end");
      columns.push(zoneId);
    });
    notes.forEach((note, i) => {
      lines.push(`    ${sideId}note${i}[${mermaidLabel(note)}]`);
      columns.push(`${sideId}note${i}`);
    });
    if (columns.length > 1) {
      lines.push(`    ${columns.join(" ~~~ ")}`);
    }
    lines.push("  end");
  });
  if (sides.length > 1) {
    lines.push(`  ${sides.map((_, s) => `s${s}`).join(" --> ")}`);
  }
  for (const [name, ids] of Object.entries(styled)) {
    if (ids.length > 0) {
      lines.push(`  class ${ids.join(",")} ${name}`);
    }
  }
  for (const [name, style] of Object.entries(CLASS_DEFS)) {
    if (styled[name as keyof typeof CLASS_DEFS].length > 0) {
      lines.push(`  classDef ${name} ${style}`);
    }
  }
  return lines.join("\n");
}

/** A Mermaid diagram as a fenced Markdown block. The diagram holds no backtick (see {@link mermaidLabel}). */
export function mermaidBlock(diagram: string): string {
  return ["```mermaid", diagram, "```"].join("\n");
}

/**
 * The picture as a plain-text table for terminals, zones as columns: the masters, the etcd members,
 * the nodes, and what losing each zone does. Columns that do not fit in `width` characters continue
 * in a further table below.
 * @param width @default 100
 */
export function textPicture(picture: ClusterPicture, width = 100): string[] {
  const heads = ["masters", "etcd members", "nodes", "if zone lost"];
  const indent = "  ";
  const headWidth = Math.max(...heads.map((h) => h.length));
  // Per zone: its header and its cells, a list of lines per row (in the order of `heads`).
  const columns = picture.zones.map((c) => {
    const rows = [
      c.masters.map(shown),
      c.members.map(shown),
      c.nodes.map((n) => shown(nodeShareText(n))),
      [outageText(picture.ha, c.outage, true)],
    ];
    const header = shown(c.zone);
    return { header, rows, width: Math.max(header.length, ...rows.flat().map((t) => t.length)) };
  });
  // Zones in chunks that fit the width, each chunk a table of its own.
  const chunks: (typeof columns)[] = [];
  let used = Infinity;
  for (const column of columns) {
    if (used + 3 + column.width > width) {
      chunks.push([]);
      used = indent.length + headWidth;
    }
    chunks[chunks.length - 1].push(column);
    used += 3 + column.width;
  }
  const lines: string[] = [];
  for (const chunk of chunks) {
    const line = (head: string, cells: readonly string[]) =>
      `${indent}${head.padEnd(headWidth)}${cells.map((cell, i) => `   ${cell.padEnd(chunk[i].width)}`).join("")}`.trimEnd();
    lines.push(line("", chunk.map((c) => c.header)));
    heads.forEach((head, r) => {
      const height = Math.max(1, ...chunk.map((c) => c.rows[r].length));
      for (let i = 0; i < height; i++) {
        lines.push(line(i === 0 ? head : "", chunk.map((c) => c.rows[r][i] ?? (i === 0 ? "-" : ""))));
      }
    });
  }
  lines.push(...picture.notes.map((note) => `${indent}note: ${shown(note)}`));
  return lines;
}
