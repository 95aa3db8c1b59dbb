/**
 * The picture of a cluster's availability: golden files of the seed's three examples, the text table
 * `kopsform synth` prints, and Mermaid's own parser on every diagram, hostile names included.
 */
import * as fs from "fs";
import * as path from "path";
import { analyseHa, renderHaReport } from "../spec/ha";
import {
  ClusterPicture,
  MERMAID_MAX_TEXT_SIZE,
  mermaidBlock,
  mermaidLabel,
  mermaidPicture,
  nodeShare,
  specPicture,
  textPicture,
} from "../spec/ha-picture";
import { SEED_1, SEED_2, SEED_3, validSpec } from "./helpers/cluster";
import { expectGolden, goldenDiagrams } from "./helpers/golden";
import { MERMAID_TEST_TIMEOUT_MS, MermaidResult, parseMermaid } from "./helpers/mermaid";

const SEEDS = [
  { name: "seed-1", fields: SEED_1 },
  { name: "seed-2", fields: SEED_2 },
  { name: "seed-3", fields: SEED_3 },
];

/** A spec's picture, titled as the HA report titles it. */
function pictureOf(fields: Record<string, unknown>) {
  const { spec, ha } = validSpec(fields);
  const picture = specPicture(spec, ha);
  return { spec, ha, picture, diagram: mermaidPicture([{ title: `${spec.name} (${spec.region})`, picture }]) };
}

/** Names that mean something to Mermaid, HTML, Markdown or a terminal. */
const HOSTILE = [
  'us-west-2a"] --> evil["x',
  "zone\nend\nclick s0z0m0 call alert(1)",
  "%% comment %%{init: {'theme':'dark'}}%%",
  "<img src=x onerror=alert(1)>",
  "#quot; &amp; #35; &lt;",
  "```\n# heading",
  "style s0 fill:#f00;",
  "classDef kept fill:#000;",
  "a:#b;c",
  "[(x)]{y}|z|~~~w",
  "naïve 日本 🚀",
  "x".repeat(200),
];

/** A picture whose every name is hostile. */
function hostilePicture(): ClusterPicture {
  const members = HOSTILE.map((name, i) => ({ zone: HOSTILE[i % 3], member: name }));
  const ha = analyseHa(members, HOSTILE.slice(0, 3));
  return {
    ha,
    region: HOSTILE[3],
    zones: HOSTILE.slice(0, 3).map((zone, z) => ({
      zone,
      masters: HOSTILE.filter((_, i) => i % 3 === z),
      members: ha.mastersPerZone[z].members,
      nodes: [nodeShare({ name: HOSTILE[(z + 4) % HOSTILE.length], minSize: 1, maxSize: 3 }, 3)],
      outage: ha.zoneOutages[z],
    })),
    notes: [HOSTILE[5]],
  };
}

/** What each label of a diagram should read as once Mermaid has shown it: the texts given, cut at 80 characters. */
function shownAs(name: string): string {
  const flat = name.replace(/[\u0000-\u001f]/g, " ");
  const chars = [...flat];
  return chars.length <= 80 ? flat : `${chars.slice(0, 79).join("")}…`;
}

// Every diagram of this file, parsed once by Mermaid (loading it takes seconds).
const seedDiagrams = SEEDS.map((s) => pictureOf(s.fields).diagram);
const hostileDiagram = mermaidPicture([
  { title: HOSTILE[0], picture: hostilePicture() },
  { title: HOSTILE[6], picture: hostilePicture() },
]);
const sevenMasters = pictureOf({
  name: "seven.example.com",
  zones: ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"],
  masterZones: ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"],
  masterCount: 7,
  nodeCount: 10,
});
const BROKEN = 'flowchart TB\n  a["a"b"]';
let parsed: { loadMs: number; results: MermaidResult[] };
let goldens: { file: string; diagram: string }[];

beforeAll(() => {
  goldens = goldenDiagrams();
  parsed = parseMermaid([...seedDiagrams, hostileDiagram, sevenMasters.diagram, BROKEN, ...goldens.map((g) => g.diagram)]);
}, MERMAID_TEST_TIMEOUT_MS);

/** The parse of a diagram passed in beforeAll, by position. */
function result(index: number): Extract<MermaidResult, { ok: true }> {
  const r = parsed.results[index];
  if (!r.ok) {
    throw new Error(`Mermaid refused diagram ${index}: ${r.error}`);
  }
  return r;
}

describe("the HA analysis", () => {
  it("names the etcd members of each zone, in master order", () => {
    expect(validSpec(SEED_3).ha.mastersPerZone).toEqual([
      { zone: "us-east-1a", masters: 3, members: ["a", "a-2", "a-3"] },
      { zone: "us-east-1b", masters: 0, members: [] },
    ]);
  });
});

describe("the picture of the seed's examples", () => {
  it.each(SEEDS.map((s, i) => [s.name, i] as const))("%s matches its golden file (diagram and text)", (name, i) => {
    const { picture, diagram } = pictureOf(SEEDS[i].fields);
    expectGolden(`ha-picture-${name}.md`, `${mermaidBlock(diagram)}\n\n\`\`\`text\n${textPicture(picture).join("\n")}\n\`\`\`\n`);
  });

  it("shows the first example's three zones, one master, one etcd member and one node each, all surviving", () => {
    const r = result(0);
    expect(r.type).toBe("flowchart-v2");
    expect(r.subgraphs.map((s) => s.title)).toEqual(["us-west-2a", "us-west-2b", "us-west-2c", "hacluster.example.com (us-west-2)"]);
    const zoneA = r.subgraphs[0].nodes.map((id) => r.vertices.find((v) => v.id === id));
    expect(zoneA.map((v) => [v?.shape, v?.text])).toEqual([
      ["square", "master-us-west-2a"],
      ["cylinder", "etcd a"],
      ["square", "nodes: 1 instance"],
      ["square", "if lost: API up: quorum kept, 2 of 3 left"],
    ]);
    expect(zoneA[3]?.classes).toEqual(["kept"]);
    // Invisible links stack each zone's boxes and chain the zones in order; nothing else is linked.
    expect(r.edges.map((e) => `${e.start} ${e.stroke} ${e.end}`)).toEqual([
      "s0z0m invisible s0z0e",
      "s0z0e invisible s0z0n",
      "s0z0n invisible s0z0x",
      "s0z1m invisible s0z1e",
      "s0z1e invisible s0z1n",
      "s0z1n invisible s0z1x",
      "s0z2m invisible s0z2e",
      "s0z2e invisible s0z2n",
      "s0z2n invisible s0z2x",
      "s0z0 invisible s0z1",
      "s0z1 invisible s0z2",
    ]);
  });

  it("shows the third example losing quorum with us-east-1a (three members there) and keeping it without us-east-1b", () => {
    const r = result(2);
    const text = (id: string) => r.vertices.find((v) => v.id === id);
    expect(r.subgraphs.map((s) => s.title).slice(0, 2)).toEqual(["us-east-1a", "us-east-1b"]);
    expect(r.vertices.filter((v) => v.shape === "cylinder").map((v) => v.text)).toEqual(["etcd a<br>etcd a-2<br>etcd a-3"]);
    expect(text("s0z0m")?.text).toBe("master-us-east-1a<br>master-us-east-1a-2<br>master-us-east-1a-3");
    expect(text("s0z1m")).toBeUndefined();
    expect(text("s0z0x")).toMatchObject({ text: "if lost: API down: quorum lost, 0 of 3 left", classes: ["lost"] });
    expect(text("s0z1x")).toMatchObject({ text: "if lost: API up: quorum kept, 3 of 3 left", classes: ["kept"] });
    expect(r.classes.lost).toEqual(expect.arrayContaining(["fill:#fce8e6"]));
  });

  it("gives the nodes each zone gets when AWS balances a group over its zones", () => {
    expect(nodeShare({ name: "nodes", minSize: 3, maxSize: 3 }, 3)).toEqual({ group: "nodes", min: 1, max: 1 });
    expect(nodeShare({ name: "nodes", minSize: 10, maxSize: 10 }, 6)).toEqual({ group: "nodes", min: 1, max: 2 });
    expect(nodeShare({ name: "gpu", minSize: 0, maxSize: 5 }, 2)).toEqual({ group: "gpu", min: 0, max: 3 });
    const seven = sevenMasters.picture.zones;
    expect(seven.map((z) => z.masters.length)).toEqual([2, 1, 1, 1, 1, 1]);
    expect(seven[0].nodes).toEqual([{ group: "nodes", min: 1, max: 2 }]);
  });

  it("draws a 7-master cluster over six zones well within Mermaid's size limit", () => {
    const r = result(4);
    expect(r.vertices.filter((v) => v.shape === "cylinder").map((v) => v.text.split("<br>").length)).toEqual([2, 1, 1, 1, 1, 1]);
    expect(r.vertices.find((v) => v.id === "s0z0x")?.text).toBe("if lost: API up: quorum kept, 5 of 7 left");
    expect(sevenMasters.diagram.length).toBeLessThan(MERMAID_MAX_TEXT_SIZE / 10);
  });
});

describe("the HA report", () => {
  it("holds the picture and the same facts as a table", () => {
    const { spec, ha } = validSpec(SEED_3);
    const report = renderHaReport(spec, ha, [], { etcdVersion: spec.etcd.release.version, backupIntervalMinutes: spec.etcd.backups.intervalMinutes });
    expect(report).toContain(mermaidBlock(pictureOf(SEED_3).diagram));
    expect(report).toContain(
      "| us-east-1a | master-us-east-1a, master-us-east-1a-2, master-us-east-1a-3 | a, a-2, a-3 | nodes: 1 instance | API down: quorum lost, 0 of 3 left |",
    );
    expect(report).toContain("| us-east-1b | - | - | nodes: 1 instance | API up: quorum kept, 3 of 3 left |");
    expect(report.indexOf("```mermaid")).toBeLessThan(report.indexOf("| zone |"));
  });
});

describe("the text picture", () => {
  it("puts the zones in columns, each row's cells under their zone", () => {
    const lines = textPicture(pictureOf(SEED_3).picture);
    const column = (zone: string) => lines[0].indexOf(zone);
    expect(lines[0].trim()).toBe("us-east-1a              us-east-1b");
    const lost = lines.find((l) => l.includes("API DOWN"));
    expect(lost?.indexOf("API DOWN, 0 of 3 left")).toBe(column("us-east-1a"));
    expect(lost?.indexOf("API up, 3 of 3 left")).toBe(column("us-east-1b"));
    expect(lines.filter((l) => /master-us-east-1a/.test(l)).map((l) => l.indexOf("master-"))).toEqual([
      column("us-east-1a"),
      column("us-east-1a"),
      column("us-east-1a"),
    ]);
    // A zone without masters says so.
    expect(lines.find((l) => l.startsWith("  masters"))?.slice(column("us-east-1b")).trim()).toBe("-");
  });

  it("continues the zones that do not fit the width in a further table", () => {
    const lines = textPicture(sevenMasters.picture, 80);
    const headers = lines.filter((l) => /^\s+us-east-1/.test(l));
    expect(headers.length).toBeGreaterThan(1);
    expect(headers.join(" ").split(/\s+/).filter(Boolean)).toEqual(sevenMasters.picture.zones.map((z) => z.zone));
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
  });
});

describe("names in a picture are data", () => {
  it("writes user text only inside quoted labels, as entity codes past letters, digits and plain punctuation", () => {
    expect(mermaidLabel('a"b')).toBe('"a#quot;b"');
    expect(mermaidLabel("<b>#1;%%")).toBe('"#60;b#62;#35;1#59;#37;#37;"');
    expect(mermaidLabel("x\ny")).toBe('"x y"');
    expect(mermaidLabel("`")).toBe('"#96;"');
    // Nothing in a label can end it, start a comment, an entity, HTML or a Markdown fence.
    expect(mermaidLabel(HOSTILE.join(""))).toMatch(/^"[A-Za-z0-9 ._,/()#;…-]*"$/);
  });

  it("parses with Mermaid into exactly the boxes drawn, each reading as the name given", () => {
    const r = result(3);
    const picture = hostilePicture();
    // Every box is one kopsform made (generated ids only), and reads as intended: one line per name.
    const lines = (names: readonly string[]) => names.map(shownAs).join("<br>");
    const expected = new Map<string, unknown>();
    for (const s of [0, 1]) {
      picture.zones.forEach((zone, z) => {
        expected.set(`s${s}z${z}m`, lines(zone.masters));
        expected.set(`s${s}z${z}e`, lines(zone.members.map((m) => `etcd ${m}`)));
        expected.set(`s${s}z${z}n`, lines(zone.nodes.map((n) => `${n.group}: 0-1 instances`)));
        expected.set(`s${s}z${z}x`, expect.stringMatching(/^if lost: API up: quorum kept, 8 of 12 left$/));
      });
      expected.set(`s${s}note0`, shownAs(HOSTILE[5]));
    }
    // (Mermaid lists the subgraphs that links name among its vertices too, as the subgraphs' ids.)
    const subgraphs = new Set(r.subgraphs.map((g) => g.id));
    expect(r.vertices.filter((v) => subgraphs.has(v.id)).every((v) => v.text === v.id)).toBe(true);
    const boxes = r.vertices.filter((v) => !subgraphs.has(v.id));
    expect(Object.fromEntries(boxes.map((v) => [v.id, v.text]))).toEqual(Object.fromEntries(expected));
    expect(r.subgraphs.map((s) => [s.id, s.title])).toEqual([
      ["s0z0", shownAs(HOSTILE[0])],
      ["s0z1", shownAs(HOSTILE[1])],
      ["s0z2", shownAs(HOSTILE[2])],
      ["s0", shownAs(HOSTILE[0])],
      ["s1z0", shownAs(HOSTILE[0])],
      ["s1z1", shownAs(HOSTILE[1])],
      ["s1z2", shownAs(HOSTILE[2])],
      ["s1", shownAs(HOSTILE[6])],
    ]);
    // The only visible link is the arrow from before to after.
    expect(r.edges.filter((e) => e.stroke !== "invisible").map((e) => [e.start, e.end])).toEqual([["s0", "s1"]]);
    expect(Object.keys(r.classes)).toEqual(["kept"]);
  });

  it("keeps hostile names on one line of the text picture", () => {
    const lines = textPicture(hostilePicture(), 400);
    expect(lines.every((l) => !/[\u0000-\u001f]/.test(l))).toBe(true);
    expect(lines.join("\n")).toContain("click s0z0m0 call alert(1)");
  });
});

describe("Mermaid's parser", () => {
  it("refuses a broken diagram (so that the checks above can fail)", () => {
    const broken = parsed.results[5];
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.error).toMatch(/Parse error/);
  });

  it("parses the README's example, which is the third seed example's golden picture", () => {
    const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
    const seed3 = goldens.find((g) => g.file === "ha-picture-seed-3.md");
    expect(readme).toContain(mermaidBlock(seed3?.diagram ?? "(no golden file)"));
  });

  it("parses every diagram of the golden files as a flowchart", () => {
    expect(goldens.length).toBeGreaterThanOrEqual(SEEDS.length);
    goldens.forEach((g, i) => {
      const r = parsed.results[6 + i];
      expect([g.file, r.ok ? r.type : r.error]).toEqual([g.file, "flowchart-v2"]);
      expect(g.diagram.length).toBeLessThan(MERMAID_MAX_TEXT_SIZE);
    });
  });

});
