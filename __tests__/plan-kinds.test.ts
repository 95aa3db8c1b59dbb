/**
 * A plan's changes counted by kind (the table at the top of the pull request summary), from
 * hand-built plans; the real CLI's plan of the seed's first example is counted in e2e-seed-examples.
 */
import { actionsUsed, countsByKind, kindsTable } from "../cli/plan-kinds";
import { changeAction } from "../cli/plan-summary";
import { PlanJson, ResourceChange } from "../cli/terraform";
import { markdownValue } from "../spec/kops/report";

/** A resource change with `actions`; `tags` on both sides. */
function change(type: string, name: string, actions: string[], tags: Record<string, string> = {}, mode: "managed" | "data" = "managed"): ResourceChange {
  return { address: `${type}.${name}`, mode, type, name, change: { actions, before: { tags }, after: { tags } } };
}

const ETCD = { "k8s.io/etcd/main": "a/a,b,c" };

describe("counts by kind", () => {
  const plan: PlanJson = {
    format_version: "1.2",
    resource_changes: [
      change("aws_vpc", "main", ["create"]),
      change("aws_ebs_volume", "a-etcd-main", ["update"], ETCD),
      change("aws_ebs_volume", "b-etcd-events", ["create"], { "k8s.io/etcd/events": "b/a,b,c" }),
      change("aws_ebs_volume", "c-etcd-main", ["forget"], ETCD),
      change("aws_ebs_volume", "scratch", ["create"]),
      change("aws_autoscaling_group", "master-us-west-2a", ["delete", "create"]),
      change("aws_autoscaling_group", "nodes", ["create", "delete"]),
      change("aws_autoscaling_group", "gpu", ["delete"]),
      change("aws_subnet", "a", ["no-op"]),
      change("aws_ami", "image", ["read"], {}, "data"),
    ],
  };

  it("counts each managed change once, by type and by whether a volume holds etcd data, sorted", () => {
    expect(countsByKind(plan, changeAction)).toEqual([
      { type: "aws_autoscaling_group", role: undefined, counts: { create: 0, update: 0, replace: 2, destroy: 1, forget: 0 } },
      { type: "aws_ebs_volume", role: undefined, counts: { create: 1, update: 0, replace: 0, destroy: 0, forget: 0 } },
      { type: "aws_ebs_volume", role: "etcd", counts: { create: 1, update: 1, replace: 0, destroy: 0, forget: 1 } },
      { type: "aws_vpc", role: undefined, counts: { create: 1, update: 0, replace: 0, destroy: 0, forget: 0 } },
    ]);
  });

  it("makes columns only of the actions that occur", () => {
    expect(actionsUsed(countsByKind(plan, changeAction))).toEqual(["create", "update", "replace", "destroy", "forget"]);
    const creates: PlanJson = { format_version: "1.2", resource_changes: [change("aws_vpc", "main", ["create"]), change("aws_subnet", "a", ["no-op"])] };
    expect(actionsUsed(countsByKind(creates, changeAction))).toEqual(["create"]);
    expect(countsByKind({ format_version: "1.2" }, changeAction)).toEqual([]);
  });
});

describe("the kinds table", () => {
  /** A stand-in for the summary's code spans (cli/markdown.ts shows values as data). */
  const code = (value: string) => `\`${value}\``;

  it("has a row per kind and a column per action that occurs, empty cells for none", () => {
    const plan: PlanJson = {
      format_version: "1.2",
      resource_changes: [
        change("aws_autoscaling_group", "a", ["create"]),
        change("aws_autoscaling_group", "b", ["create"]),
        change("aws_ebs_volume", "a-etcd-main", ["update"], ETCD),
      ],
    };
    expect(kindsTable(countsByKind(plan, changeAction), code)).toBe(
      [
        "| resource type | create | update |",
        "| --- | ---: | ---: |",
        "| `aws_autoscaling_group` | 2 | |",
        "| `aws_ebs_volume` (etcd) | | 1 |",
      ].join("\n"),
    );
    expect(kindsTable([], code)).toBe("");
  });

  it("keeps a type with a pipe in its cell, escaping only the pipes the value left unescaped", () => {
    const rows = (show: (value: string) => string, ...types: string[]) => {
      const plan: PlanJson = { format_version: "1.2", resource_changes: types.map((t) => change(t, "x", ["create"])) };
      return kindsTable(countsByKind(plan, changeAction), show).split("\n").slice(2);
    };
    expect(rows(code, "evil|type")).toEqual(["| `evil\\|type` | 1 |"]);
    // What the summary passes (spec/kops/report.ts): escaped text when a code span cannot hold the value.
    expect(rows(markdownValue, "evil|type", "tick`|x")).toEqual(["| evil\\|type | 1 |", "| tick\\`\\|x | 1 |"]);
    // A raw value's pipe is escaped by the table itself (GitHub's parser reads it in summary-with-pictures).
    expect(rows((v) => v, "a|b")).toEqual(["| a\\|b | 1 |"]);
  });
});
