/**
 * The picture of a plan whose masters change, from hand-built plans shaped as `terraform show -json`
 * writes them (the real Terraform CLI's plans are drawn in e2e-seed-examples and e2e-workflows): what
 * counts as a change of masters, where each side's zones come from, what is said when the plan does
 * not know, and that hostile names stay data.
 */
import {
  fencedBlock,
  mastersChange,
  mastersChangeDiagram,
  mastersChangeHeadline,
  mastersChangeLines,
  mastersChangeMarkdown,
  mastersChangeText,
  planSidePicture,
} from "../cli/plan-picture";
import { PlanJson, ResourceChange } from "../cli/terraform";
import { MERMAID_TEST_TIMEOUT_MS, MermaidResult, parseMermaid } from "./helpers/mermaid";

type Values = Record<string, unknown> | null;

/** A resource change; `before`/`after` null for a create/destroy. */
function change(type: string, name: string, before: Values, after: Values, extra: Partial<ResourceChange["change"]> = {}): ResourceChange {
  const actions =
    before === null ? ["create"] : after === null ? ["delete"] : JSON.stringify(before) === JSON.stringify(after) ? ["no-op"] : ["update"];
  return { address: `${type}.${name}`, mode: "managed", type, name, change: { actions, before, after, ...extra } };
}

/** A subnet's values. */
function subnet(zone: string, id: string): Values {
  return { availability_zone: zone, id, tags: { Name: `${zone}.c.example.com` } };
}

/** An etcd volume's values: member `member` of `all`. */
function volume(member: string, zone: string, all: string): Values {
  return { availability_zone: zone, tags: { "k8s.io/etcd/main": `${member}/${all}`, Name: `${member}.etcd-main.c.example.com` } };
}

/** An auto-scaling group's values, tagged as kopsform tags them. */
function group(name: string, subnetIds: string[] | null, master: boolean, size = 1): Values {
  const tag = [{ key: "kops.k8s.io/instancegroup", value: name, propagate_at_launch: true }];
  if (master) {
    tag.push({ key: "k8s.io/role/master", value: "1", propagate_at_launch: true });
  }
  return { name: `${name}.c.example.com`, min_size: size, max_size: size, vpc_zone_identifier: subnetIds, tag, availability_zones: [] };
}

const ZONES = ["us-west-2a", "us-west-2b", "us-west-2c"];
const SUBNETS = ZONES.map((zone, i) => change("aws_subnet", `${zone}-c`, subnet(zone, `subnet-${i}`), subnet(zone, `subnet-${i}`)));

/** A cluster that grows from one master (in us-west-2a) to three, nodes over all three zones. */
function oneToThree(): PlanJson {
  return {
    format_version: "1.2",
    resource_changes: [
      ...SUBNETS,
      change("aws_ebs_volume", "a-etcd-main", volume("a", "us-west-2a", "a"), volume("a", "us-west-2a", "a,b,c")),
      change("aws_ebs_volume", "b-etcd-main", null, volume("b", "us-west-2b", "a,b,c")),
      change("aws_ebs_volume", "c-etcd-main", null, volume("c", "us-west-2c", "a,b,c")),
      change("aws_autoscaling_group", "master-us-west-2a", group("master-us-west-2a", ["subnet-0"], true), group("master-us-west-2a", ["subnet-0"], true)),
      change("aws_autoscaling_group", "master-us-west-2b", null, group("master-us-west-2b", ["subnet-1"], true)),
      change("aws_autoscaling_group", "master-us-west-2c", null, group("master-us-west-2c", ["subnet-2"], true)),
      change("aws_autoscaling_group", "nodes", group("nodes", ["subnet-0", "subnet-1", "subnet-2"], false, 3), group("nodes", ["subnet-0", "subnet-1", "subnet-2"], false, 3)),
    ],
  };
}

/** The same resources, all created: a new cluster's plan. */
function fresh(plan: PlanJson): PlanJson {
  return { ...plan, resource_changes: (plan.resource_changes ?? []).map((c) => ({ ...c, change: { ...c.change, before: null, actions: ["create"] } })) };
}

/** The same resources, all destroyed. */
function destroyed(plan: PlanJson): PlanJson {
  return { ...plan, resource_changes: (plan.resource_changes ?? []).map((c) => ({ ...c, change: { ...c.change, after: null, actions: ["delete"] } })) };
}

describe("what counts as a change of masters", () => {
  it("draws a growth from one master to three, before and after", () => {
    const c = mastersChange(oneToThree());
    expect(c?.before?.zones.map((z) => [z.zone, z.masters, z.members, z.outage?.keepsQuorum])).toEqual([
      ["us-west-2a", ["master-us-west-2a"], ["a"], false],
      ["us-west-2b", [], [], true],
      ["us-west-2c", [], [], true],
    ]);
    expect(c?.after.zones.map((z) => [z.zone, z.masters, z.members, z.outage?.keepsQuorum])).toEqual([
      ["us-west-2a", ["master-us-west-2a"], ["a"], true],
      ["us-west-2b", ["master-us-west-2b"], ["b"], true],
      ["us-west-2c", ["master-us-west-2c"], ["c"], true],
    ]);
    expect(c?.after.zones[1].nodes).toEqual([{ group: "nodes", min: 1, max: 1 }]);
    expect(mastersChangeLines(c!)).toEqual([
      "before: 1 master (us-west-2a: 1); etcd quorum 1 of 1, tolerates 0 master failures; does not survive the loss of us-west-2a.",
      "after: 3 masters (us-west-2a: 1, us-west-2b: 1, us-west-2c: 1); etcd quorum 2 of 3, tolerates 1 master failure; survives the loss of any one zone.",
    ]);
    const diagram = mastersChangeDiagram(c!);
    expect(diagram).toContain('subgraph s0 ["before#58; 1 master, etcd quorum 1 of 1"]');
    expect(diagram).toContain('subgraph s1 ["after#58; 3 masters, etcd quorum 2 of 3"]');
    expect(diagram).toContain("  s0 --> s1");
  });

  it("draws nothing when only nodes change, or when the plan has no masters", () => {
    const plan = oneToThree();
    const nodesOnly: PlanJson = {
      ...plan,
      resource_changes: [
        ...SUBNETS,
        change("aws_ebs_volume", "a-etcd-main", volume("a", "us-west-2a", "a"), volume("a", "us-west-2a", "a")),
        change("aws_autoscaling_group", "master-us-west-2a", group("master-us-west-2a", ["subnet-0"], true), group("master-us-west-2a", ["subnet-0"], true)),
        change("aws_autoscaling_group", "nodes", group("nodes", ["subnet-0"], false, 3), group("nodes", ["subnet-0"], false, 6)),
      ],
    };
    expect(mastersChange(nodesOnly)).toBeUndefined();
    expect(mastersChange({ format_version: "1.2", resource_changes: SUBNETS })).toBeUndefined();
    expect(mastersChange({ format_version: "1.2" })).toBeUndefined();
  });

  it("draws a master moved to another zone (same count, other layout)", () => {
    const plan: PlanJson = {
      format_version: "1.2",
      resource_changes: [
        ...SUBNETS,
        change("aws_ebs_volume", "a-etcd-main", volume("a", "us-west-2a", "a"), null),
        change("aws_ebs_volume", "b-etcd-main", null, volume("b", "us-west-2b", "b")),
      ],
    };
    const c = mastersChange(plan);
    expect(c?.before?.zones.find((z) => z.members.length)?.zone).toBe("us-west-2a");
    expect(c?.after.zones.find((z) => z.members.length)?.zone).toBe("us-west-2b");
  });

  it("draws masters that a removed block forgets as gone after the plan", () => {
    const plan = oneToThree();
    const shrink: PlanJson = {
      ...plan,
      resource_changes: (plan.resource_changes ?? []).map((c) =>
        c.address === "aws_ebs_volume.c-etcd-main"
          ? { ...c, change: { ...c.change, actions: ["forget"], before: volume("c", "us-west-2c", "a,b,c"), after: null } }
          : c.change.before === null
            ? { ...c, change: { ...c.change, actions: ["no-op"], before: c.change.after } }
            : c,
      ),
    };
    const c = mastersChange(shrink);
    expect(c?.before?.ha.masterCount).toBe(3);
    expect(c?.after.ha.masterCount).toBe(2);
  });

  it("draws a new cluster on its own, and a destroyed control plane as no masters", () => {
    const created = mastersChange(fresh(oneToThree()));
    expect(created?.before).toBeUndefined();
    expect(mastersChangeLines(created!)[0]).toMatch(/^new cluster: 3 masters/);
    expect(mastersChangeDiagram(created!)).not.toContain("-->");

    const gone = mastersChange(destroyed(oneToThree()));
    expect(gone?.before?.ha.masterCount).toBe(1);
    expect(mastersChangeLines(gone!)[1]).toBe("after: no masters.");
  });
});

describe("the change in words", () => {
  it("heads it with the counts, quorum and single-zone survival before and after, naming nothing", () => {
    expect(mastersChangeHeadline(mastersChange(oneToThree())!)).toBe(
      "Masters: 1 (etcd quorum 1 of 1) \u2192 3 (etcd quorum 2 of 3); survives the loss of any one zone: no \u2192 yes.",
    );
    expect(mastersChangeHeadline(mastersChange(fresh(oneToThree()))!)).toBe(
      "Masters: 3 (etcd quorum 2 of 3); survives the loss of any one zone: yes.",
    );
    expect(mastersChangeHeadline(mastersChange(destroyed(oneToThree()))!)).toBe(
      "Masters: 1 (etcd quorum 1 of 1) \u2192 none; survives the loss of any one zone: no \u2192 no masters.",
    );
  });

  it("gives each side's summary line and zones as columns in plain text, one line each", () => {
    const text = mastersChangeText(mastersChange(oneToThree())!);
    expect(text[0]).toMatch(/^before: 1 master \(us-west-2a: 1\)/);
    expect(text[1].trim().split(/\s+/)).toEqual(ZONES);
    const after = text.findIndex((l) => l.startsWith("after: "));
    expect(text[after + 1].trim().split(/\s+/)).toEqual(ZONES);
    expect(text.slice(after).find((l) => l.startsWith("  if zone lost"))).toBe(
      "  if zone lost   API up, 2 of 3 left   API up, 2 of 3 left   API up, 2 of 3 left",
    );
    const hostile = fresh(oneToThree());
    const evil = { ...hostile, resource_changes: [...(hostile.resource_changes ?? []), change("aws_ebs_volume", "x", null, volume("x\ny", "us-west-2\nz", "x"))] };
    const evilText = mastersChangeText(mastersChange(evil)!);
    expect(evilText.every((l) => !l.includes("\n"))).toBe(true);
    expect(evilText[0]).toContain("us-west-2 z: 1");
    expect(evilText.join("\n")).toContain("x y");
  });
});

describe("the pull request's section", () => {
  it("shows the headline, the picture, and the same in text, collapsed", () => {
    const c = mastersChange(oneToThree())!;
    const md = mastersChangeMarkdown(c);
    expect(md.startsWith(`**${mastersChangeHeadline(c)}**\n\n\`\`\`mermaid\n${mastersChangeDiagram(c)}\n\`\`\`\n`)).toBe(true);
    expect(md).toContain(`<details><summary>The masters in text</summary>\n\n\`\`\`text\n${mastersChangeText(c).join("\n")}\n\`\`\`\n\n</details>`);
  });

  it("shrinks to the headline and a note when the summary must fit a comment", () => {
    const c = mastersChange(oneToThree())!;
    const md = mastersChangeMarkdown(c, false);
    expect(md).toMatch(/^\*\*Masters: [^\n]*\*\*\n\nThe picture of the masters is left out here/);
    expect(md).not.toContain("```");
  });

  it("fences text with more backticks than any run inside it", () => {
    expect(fencedBlock(["a", "b"], "text")).toBe("```text\na\nb\n```");
    expect(fencedBlock(["x ```` y"])).toBe("`````\nx ```` y\n`````");
  });
});

describe("where a side's zones come from", () => {
  it("takes a new group's zones from the configuration's references to its subnets when their ids are unknown", () => {
    const plan: PlanJson = {
      format_version: "1.2",
      resource_changes: [
        change("aws_subnet", "us-west-2b-c", null, { availability_zone: "us-west-2b", tags: {} }),
        change("aws_ebs_volume", "b-etcd-main", null, volume("b", "us-west-2b", "b")),
        change("aws_autoscaling_group", "master-us-west-2b", null, group("master-us-west-2b", null, true), {
          after_unknown: { vpc_zone_identifier: true, availability_zones: true },
        }),
      ],
      configuration: {
        root_module: {
          resources: [
            {
              address: "aws_autoscaling_group.master-us-west-2b",
              expressions: { vpc_zone_identifier: { references: ["aws_subnet.us-west-2b-c.id", "aws_subnet.us-west-2b-c"] } },
            },
          ],
        },
        provider_config: { aws: { expressions: { region: { constant_value: "us-west-2" } } } },
      },
    };
    const after = planSidePicture(plan, "after");
    expect(after?.zones).toEqual([
      expect.objectContaining({ zone: "us-west-2b", masters: ["master-us-west-2b"], members: ["b"] }),
    ]);
    expect(after?.region).toBe("us-west-2");
    expect(after?.notes).toEqual([]);
  });

  it("takes a group's zones from its availability_zones when the state has them", () => {
    const values = { ...group("master-us-west-2c", ["subnet-unknown"], true), availability_zones: ["us-west-2c"] };
    const plan: PlanJson = {
      format_version: "1.2",
      resource_changes: [change("aws_autoscaling_group", "master-us-west-2c", values, values), change("aws_ebs_volume", "c", volume("c", "us-west-2c", "c"), volume("c", "us-west-2c", "c"))],
    };
    expect(planSidePicture(plan, "before")?.zones.map((z) => [z.zone, z.masters])).toEqual([["us-west-2c", ["master-us-west-2c"]]]);
  });

  it("says which groups' zones are known only after apply, instead of guessing them from names", () => {
    const plan: PlanJson = {
      format_version: "1.2",
      resource_changes: [
        change("aws_ebs_volume", "a-etcd-main", null, volume("a", "us-west-2a", "a")),
        change("aws_autoscaling_group", "master-us-west-2a", null, group("master-us-west-2a", null, true), { after_unknown: { vpc_zone_identifier: true } }),
        change("aws_autoscaling_group", "nodes", null, group("nodes", null, false, 2), { after_unknown: { vpc_zone_identifier: true } }),
      ],
    };
    const after = planSidePicture(plan, "after");
    // The etcd member's zone is known (its volume's), so quorum is drawn; the groups are not placed.
    expect(after?.zones).toEqual([expect.objectContaining({ zone: "us-west-2a", masters: [], members: ["a"], nodes: [] })]);
    expect(after?.notes).toEqual([
      "Zones known only after apply: master-us-west-2a.",
      "Zones of node groups known only after apply: nodes.",
    ]);
    const lines = mastersChangeLines(mastersChange(plan)!);
    expect(lines).toContain("new cluster: Zones known only after apply: master-us-west-2a.");
  });

  it("counts an etcd member whose zone is unknown, in a column of its own, and does not say what losing a zone does", () => {
    const plan: PlanJson = {
      format_version: "1.2",
      resource_changes: [
        change("aws_ebs_volume", "a", null, volume("a", "us-west-2a", "a,b,c")),
        change("aws_ebs_volume", "b", null, volume("b", "us-west-2b", "a,b,c")),
        change("aws_ebs_volume", "c", null, { tags: { "k8s.io/etcd/main": "c/a,b,c" } }, { after_unknown: { availability_zone: true } }),
      ],
    };
    const c = mastersChange(plan)!;
    expect(c.after.ha.masterCount).toBe(3);
    expect(c.after.zones.map((z) => [z.zone, z.members, z.outage])).toEqual([
      ["us-west-2a", ["a"], undefined],
      ["us-west-2b", ["b"], undefined],
      ["zone unknown until apply", ["c"], undefined],
    ]);
    expect(mastersChangeLines(c)[0]).toBe(
      "new cluster: 3 masters, etcd quorum 2 of 3 (us-west-2a: 1, us-west-2b: 1, zone unknown until apply: 1); what losing a zone does is unknown.",
    );
    expect(mastersChangeDiagram(c)).toContain("class s0z0x,s0z1x,s0z2x unknown");
  });

  it("says when master groups and etcd members do not match", () => {
    const plan: PlanJson = {
      format_version: "1.2",
      resource_changes: [
        ...SUBNETS,
        change("aws_autoscaling_group", "master-us-west-2a", null, group("master-us-west-2a", ["subnet-0"], true)),
        change("aws_autoscaling_group", "master-us-west-2b", null, group("master-us-west-2b", ["subnet-1"], true)),
        change("aws_ebs_volume", "a", null, volume("a", "us-west-2a", "a")),
      ],
    };
    expect(planSidePicture(plan, "after")?.notes).toEqual(["2 master groups for 1 etcd member."]);
    const noVolumes = { ...plan, resource_changes: (plan.resource_changes ?? []).filter((c) => c.type !== "aws_ebs_volume") };
    expect(planSidePicture(noVolumes, "after")?.notes).toEqual(["2 master groups but no etcd volume with a member tag."]);
  });
});

describe("names from a plan are data", () => {
  const hostileZone = 'us-west-2a"]\n  click s0 call alert(1)\n%%';
  const hostileGroup = "master-<script>alert(1)</script>`";
  let parsed: MermaidResult[];
  let diagram: string;

  beforeAll(() => {
    const plan: PlanJson = {
      format_version: "1.2",
      resource_changes: [
        change("aws_subnet", "s", null, subnet(hostileZone, "subnet-x")),
        change("aws_ebs_volume", "a", null, volume("#quot;a", hostileZone, "#quot;a")),
        change("aws_autoscaling_group", "m", null, group(hostileGroup, ["subnet-x"], true)),
      ],
    };
    diagram = mastersChangeDiagram(mastersChange(plan)!);
    const others = [oneToThree(), fresh(oneToThree()), destroyed(oneToThree())].map((p) => mastersChangeDiagram(mastersChange(p)!));
    parsed = parseMermaid([diagram, ...others]).results;
  }, MERMAID_TEST_TIMEOUT_MS);

  it("(and every other picture of this file parses too, an empty side included)", () => {
    expect(parsed.map((r) => (r.ok ? r.type : r.error))).toEqual(["flowchart-v2", "flowchart-v2", "flowchart-v2", "flowchart-v2"]);
  });

  it("draws them as Mermaid shows text, never as syntax", () => {
    const r = parsed[0];
    if (!r.ok) {
      throw new Error(r.error);
    }
    expect(r.subgraphs.map((s) => s.title)).toEqual([hostileZone.replace(/\n/g, " "), "new cluster: 1 master, etcd quorum 1 of 1"]);
    expect(r.vertices.find((v) => v.id === "s0z0m")?.text).toBe(hostileGroup);
    expect(r.vertices.find((v) => v.id === "s0z0e")?.text).toBe("etcd #quot;a");
    expect(r.edges.every((e) => e.stroke === "invisible")).toBe(true);
    expect(diagram).not.toMatch(/<script|`|%%/);
  });
});
