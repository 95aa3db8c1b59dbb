/**
 * The pull request summary with the picture of a change of masters at the top and the changes
 * counted by kind, from hand-built plans: where each part sits, that GitHub's own parser (cmark-gfm)
 * reads every part as drawn whatever names a plan holds, and that GitHub's comment size limit holds
 * with the pictures included, for a 7-master cluster and for a 50-stack summary.
 */
import { mastersChange, mastersChangeDiagram, mastersChangeHeadline, mastersChangeText } from "../cli/plan-picture";
import { GITHUB_COMMENT_LIMIT, StackPlan, renderPlanSummary } from "../cli/plan-summary";
import { PlanJson, ResourceChange } from "../cli/terraform";
import { elementNames, gfmHtml, htmlText } from "./helpers/gfm";
import { MERMAID_TEST_TIMEOUT_MS, MermaidResult, parseMermaid } from "./helpers/mermaid";

const ZONES = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"];

type Values = Record<string, unknown> | null;

function change(type: string, name: string, before: Values, after: Values, address = `${type}.${name}`): ResourceChange {
  const actions = before === null ? ["create"] : after === null ? ["delete"] : JSON.stringify(before) === JSON.stringify(after) ? ["no-op"] : ["update"];
  return { address, mode: "managed", type, name, change: { actions, before, after } };
}

/** Names for the growth: its zones, its etcd members (`a`, `b`, ..., then `a-2`) and its master groups. */
interface Names {
  readonly zones: readonly string[];
  readonly member: (i: number) => string;
  readonly group: (i: number) => string;
}

const PLAIN: Names = {
  zones: ZONES,
  member: (i) => `${ZONES[i % ZONES.length].slice(-1)}${i >= ZONES.length ? `-${Math.floor(i / ZONES.length) + 1}` : ""}`,
  group: (i) => `master-${ZONES[i % ZONES.length]}-${i}`,
};

/**
 * A cluster growing from `from` to `to` masters laid round-robin over its zones, with `extra` further
 * creates of `types` kinds (security group rules and the like) whose long addresses fill the list of
 * all changes.
 */
function growth(cluster: string, from: number, to: number, extra = 0, types = 1, names: Names = PLAIN): PlanJson {
  const zones = names.zones;
  const subnets = zones.map((zone, i) => change("aws_subnet", `z${i}-${cluster}`, { availability_zone: zone, id: `subnet-${i}` }, { availability_zone: zone, id: `subnet-${i}` }));
  const all = (n: number) => Array.from({ length: n }, (_, i) => names.member(i)).join(",");
  const masters: ResourceChange[] = [];
  for (let i = 0; i < Math.max(from, to); i++) {
    const zone = zones[i % zones.length];
    const volume = (n: number): Values => (i < n ? { availability_zone: zone, tags: { "k8s.io/etcd/main": `${names.member(i)}/${all(n)}` } } : null);
    const group = (n: number): Values =>
      i < n
        ? {
            name: `master-${i}.${cluster}`,
            vpc_zone_identifier: [`subnet-${i % zones.length}`],
            tag: [
              { key: "k8s.io/role/master", value: "1" },
              { key: "kops.k8s.io/instancegroup", value: names.group(i) },
            ],
            min_size: 1,
            max_size: 1,
          }
        : null;
    masters.push(change("aws_ebs_volume", `m${i}-etcd-main-${cluster}`, volume(from), volume(to)));
    masters.push(change("aws_autoscaling_group", `master-${i}-${cluster}`, group(from), group(to)));
  }
  const rules = Array.from({ length: extra }, (_, i) =>
    change(`aws_security_group_rule_kind_${i % types}`, `from-nodes-${cluster}-ingress-tcp-${i}to${i}-masters-${cluster}`, null, { id: i }),
  );
  return {
    format_version: "1.2",
    resource_changes: [...subnets, ...masters, ...rules],
    planned_values: { outputs: { cluster_name: { value: cluster } } },
  };
}

/** Every Mermaid diagram in a Markdown text. */
function diagramsIn(markdown: string): string[] {
  return [...markdown.matchAll(/^```mermaid\n([\s\S]*?)\n```$/gm)].map((m) => m[1]);
}

describe("a stack whose masters change", () => {
  const plan = growth("grow.example.com", 1, 3, 4);
  const text = renderPlanSummary([{ stack: "grow.example.com", plan }]);

  it("shows the headline and the picture first, then the counts, the table of kinds and the list", () => {
    const c = mastersChange(plan)!;
    const order = [
      "### Terraform plan: `grow.example.com`",
      `**${mastersChangeHeadline(c)}**`,
      `\`\`\`mermaid\n${mastersChangeDiagram(c)}\n\`\`\``,
      "<details><summary>The masters in text</summary>",
      "**8 to add, 1 to change, 0 to destroy, 0 to replace.**",
      "| resource type | create | update |",
      "<details><summary>All 9 changes</summary>",
    ].map((part) => text.indexOf(part));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toContain("| `aws_ebs_volume` (etcd) | 2 | 1 |");
  });

  it("puts the danger section above the table of kinds", () => {
    // Shrinking from three masters to one destroys two etcd volumes and two master groups.
    const shrink = renderPlanSummary([{ stack: "shrink.example.com", plan: growth("shrink.example.com", 3, 1) }]);
    const at = ["**Masters: 3", "[!CAUTION]", "- **destroy** `aws_ebs_volume.m1-etcd-main-shrink.example.com` (etcd volume)", "| resource type | update | destroy |"].map(
      (part) => shrink.indexOf(part),
    );
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(shrink).toContain("| `aws_ebs_volume` (etcd) | 1 | 2 |");
  });

  it("and none for a stack whose masters stay", () => {
    const steady = renderPlanSummary([{ stack: "steady.example.com", plan: growth("steady.example.com", 3, 3, 2) }]);
    expect(steady).not.toContain("```mermaid");
    expect(steady).not.toContain("**Masters:");
    expect(steady).toContain("| `aws_security_group_rule_kind_0` | 2 |");
  });

  it("and no table for a stack without changes", () => {
    const none = renderPlanSummary([{ stack: "none.example.com", plan: growth("none.example.com", 3, 3) }]);
    expect(none).toContain("No changes.");
    expect(none).not.toContain("| resource type |");
  });
});

describe("as GitHub reads it, whatever names a plan holds", () => {
  // Zones, etcd members and master groups named to break out of a label, a fence, `<details>`, a table
  // cell or the comment; resource types likewise (their addresses are plain: escaping addresses is the
  // list's own business).
  const zones = ['us-east-1a"] --> x["y', "```\n</details>\n# zone", "<img src=x onerror=alert(1)>", "%%{init: {}}%% | a | b |"];
  const names: Names = {
    zones,
    member: (i) => ["`a`", "<b>", "#quot;c", "d|e"][i],
    group: (i) => ["master-[x](https://evil.example)", "master-@org/team", "master-</details><!--", "master-~~~\nend"][i],
  };
  const types = [
    "aws_x|y",
    "aws_`tick`|<img src=x onerror=alert(1)>",
    "[link](https://evil.example) @org/team",
    "<!-- kopsform-plan: other -->",
    "aws\n# heading",
    "back\\|slash",
    "a\\",
  ];
  const base = growth("evil.example.com", 1, 4, 0, 1, names);
  const plan: PlanJson = {
    ...base,
    resource_changes: [...(base.resource_changes ?? []), ...types.map((type, i) => change(type, `t${i}`, null, { id: i }, `aws_thing.t${i}`))],
  };
  const markdown = renderPlanSummary([{ stack: "evil.example.com", plan }]);
  const html = gfmHtml(markdown);
  const c = mastersChange(plan)!;

  it("shows no element but those of the summary, and one comment: the marker", () => {
    const ours = ["!--", "code", "details", "h3", "li", "p", "pre", "strong", "summary", "table", "tbody", "td", "th", "thead", "tr", "ul"];
    expect(elementNames(html).filter((name) => !ours.includes(name))).toEqual([]);
    expect(html.match(/<!--/g)).toEqual(["<!--"]);
    expect(html.startsWith("<!-- kopsform-plan: evil.example.com -->\n<h3>")).toBe(true);
  });

  it("keeps the diagram whole, as drawn, in one Mermaid block, which Mermaid parses into the names given", () => {
    const blocks = [...html.matchAll(/<pre><code class="language-mermaid">([\s\S]*?)<\/code><\/pre>/g)].map((m) => htmlText(m[1]));
    expect(blocks).toEqual([`${mastersChangeDiagram(c)}\n`]);
    const [parsed] = parseMermaid(blocks).results;
    if (!parsed.ok) {
      throw new Error(parsed.error);
    }
    expect(parsed.subgraphs.map((s) => s.title)).toEqual(expect.arrayContaining(zones.map((z) => z.replace(/\n/g, " "))));
    expect(parsed.vertices.map((v) => v.text)).toEqual(expect.arrayContaining(["master-[x](https://evil.example)", "etcd `a`", "etcd d|e"]));
  }, MERMAID_TEST_TIMEOUT_MS);

  it("keeps the text picture whole in one code block, inside its <details>", () => {
    const blocks = [...html.matchAll(/<pre><code class="language-text">([\s\S]*?)<\/code><\/pre>/g)].map((m) => htmlText(m[1]));
    expect(blocks).toEqual([`${mastersChangeText(c).join("\n")}\n`]);
    expect(html.indexOf("<summary>The masters in text</summary>")).toBeLessThan(html.indexOf('<code class="language-text">'));
    expect(html.indexOf("</details>", html.indexOf('<code class="language-text">'))).toBeGreaterThan(html.indexOf("</code></pre>", html.indexOf('<code class="language-text">')));
  });

  it("keeps every resource type in its own cell of its own row, reading as itself", () => {
    const table = html.slice(html.indexOf("<table>"), html.indexOf("</table>"));
    const rows = [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => [...m[1].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) => cell[1]));
    expect(rows[0].map(htmlText)).toEqual(["resource type", "create", "update"]);
    expect(rows.every((cells) => cells.length === 3)).toBe(true);
    const shown = rows.slice(1).map((cells) => htmlText(cells[0]));
    // One row per type, whose cell reads as the type: a line break (one row per type) shows as a space
    // or as its escape, and a backslash before a pipe may be taken as the pipe's escape, so both are
    // left out of the comparison. The subnets do not change, so have no row.
    const readable = (t: string) => t.replace(/\n|\\u000a/g, " ").replace(/\\/g, "");
    const expected = [...types, "aws_autoscaling_group", "aws_ebs_volume"].map(readable).sort();
    expect(shown.map((s) => readable(s.replace(/ \(etcd\)$/, ""))).sort()).toEqual(expected);
  });
});

describe("GitHub's comment size limit, with the pictures included", () => {
  let parsed: MermaidResult[];
  let seven: string;
  let fleet: string;
  let fleetPlans: StackPlan[];

  beforeAll(() => {
    // A 7-master cluster created from one master, with 3000 further changes.
    seven = renderPlanSummary([{ stack: "seven.example.com", plan: growth("seven.example.com", 1, 7, 3000) }]);
    // 50 stacks, each growing from 1 to 7 masters, with 200 further changes of 4 kinds each.
    fleetPlans = Array.from({ length: 50 }, (_, i) => ({ stack: `c${i}.example.com`, plan: growth(`c${i}.example.com`, 1, 7, 200, 4) }));
    fleet = renderPlanSummary(fleetPlans);
    parsed = parseMermaid([...diagramsIn(seven), ...diagramsIn(fleet)]).results;
  }, MERMAID_TEST_TIMEOUT_MS);

  it("holds for a 7-master cluster, which keeps its picture while its list of changes is cut", () => {
    expect(seven.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(diagramsIn(seven)).toHaveLength(1);
    expect(seven).toContain("**Masters: 1 (etcd quorum 1 of 1) \u2192 7 (etcd quorum 4 of 7); survives the loss of any one zone: no \u2192 yes.**");
    expect(seven).toMatch(/- \.\.\. \d+ more changes left out to stay within GitHub's comment size limit/);
    expect(seven).toContain("| `aws_autoscaling_group` | 6 | |");
  });

  it("holds for 50 stacks: every stack keeps its counts and headline, the first ones their pictures and tables", () => {
    expect(fleet.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    for (let i = 0; i < 50; i++) {
      expect(fleet).toContain(`<!-- kopsform-plan: c${i}.example.com -->`);
    }
    expect(fleet.match(/^\*\*Masters: 1 \(etcd quorum 1 of 1\) \u2192 7 \(etcd quorum 4 of 7\)/gm)).toHaveLength(50);
    expect(fleet.match(/^\*\*212 to add, 1 to change, 0 to destroy, 0 to replace\.\*\*$/gm)).toHaveLength(50);
    expect(fleet.match(/^\| `aws_ebs_volume` \(etcd\) \| 6 \| 1 \|$/gm)).toHaveLength(50);
    // The lists went first, then the pictures from the last stack back: the first stacks keep theirs.
    expect(fleet).not.toMatch(/^- `aws_/m);
    expect(fleet.match(/^- \.\.\. 213 more changes left out/gm)).toHaveLength(50);
    const pictures = diagramsIn(fleet).length;
    expect(pictures).toBeGreaterThan(0);
    expect(pictures).toBeLessThan(50);
    const sections = fleet.split("<!-- kopsform-plan: ").slice(1);
    expect(sections.map((s) => s.includes("```mermaid"))).toEqual(sections.map((_, i) => i < pictures));
    expect(sections.slice(pictures).every((s) => s.includes("The picture of the masters is left out here"))).toBe(true);
  });

  it("draws only whole diagrams, which Mermaid parses", () => {
    expect(parsed.length).toBeGreaterThan(1);
    expect(parsed.map((r) => (r.ok ? r.type : r.error))).toEqual(parsed.map(() => "flowchart-v2"));
  });

  it("drops the tables of kinds from the last stack back when even the headlines and tables are too long", () => {
    const many = Array.from({ length: 50 }, (_, i) => ({ stack: `m${i}.example.com`, plan: growth(`m${i}.example.com`, 1, 3, 120, 120) }));
    const text = renderPlanSummary(many);
    expect(text.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(diagramsIn(text)).toEqual([]);
    const sections = text.split("<!-- kopsform-plan: ").slice(1);
    const tables = sections.filter((s) => s.includes("| resource type |")).length;
    expect(tables).toBeGreaterThan(0);
    expect(tables).toBeLessThan(50);
    expect(sections.map((s) => s.includes("| resource type |"))).toEqual(sections.map((_, i) => i < tables));
    expect(sections.every((s) => /\*\*Masters: /.test(s) && /\*\*\d+ to add/.test(s))).toBe(true);
  });
});
