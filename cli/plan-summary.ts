/**
 * The Markdown summary of Terraform plans that a pull request shows: per stack, the picture of its
 * masters before and after when the plan changes them, the counts, then what would destroy or replace
 * something that holds cluster state or keeps the API available, the changes counted by kind, then
 * every change. Written by `kopsform plan --summary`, `kopsform summarize` and CI (one comment per
 * stack).
 */
import { PlanJson, ResourceChange } from "./terraform";
import { countsByKind, kindsTable } from "./plan-kinds";
import { mastersChange, mastersChangeMarkdown } from "./plan-picture";
import { markdownValue } from "../spec/kops/report";
import { render } from "../templates";

/** GitHub refuses issue and pull request comments longer than this many characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;

/** One plan to summarize, with the stack name to use when the plan has no `cluster_name` output. */
export interface StackPlan {
  readonly stack: string;
  readonly plan: PlanJson;
}

/**
 * Resource counts of a plan. A replacement is counted once, as `replace`, and not also as an add and
 * a destroy: a reviewer reads "1 to replace" very differently from "1 to add, 1 to destroy".
 */
export interface ChangeCounts {
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
  readonly replace: number;
}

/** What a planned change does to a resource, in the words of the summary. */
export type ChangeAction = "create" | "update" | "destroy" | "replace";

/** A destroy or replace of a resource that holds cluster state or availability. */
export interface DangerousChange {
  readonly address: string;
  /** The resource type, e.g. `aws_ebs_volume`. */
  readonly type: string;
  readonly action: "destroy" | "replace";
  /** What the resource is to the cluster, e.g. "etcd volume". */
  readonly what: string;
  /** Terraform's `action_reason` (e.g. `replace_because_cannot_update`), when it gives one. */
  readonly reason?: string;
  /** For a replacement, the attributes that force it (`cidr_block`, `tags["Name"]`), from `replace_paths`. */
  readonly forcedBy: readonly string[];
}

/**
 * The summary's action for a change; `undefined` for what changes nothing in AWS (no-op, data source
 * reads, `forget`). Terraform writes a replacement as delete-then-create or, with
 * create_before_destroy, create-then-delete.
 */
export function changeAction(change: ResourceChange): ChangeAction | undefined {
  if (change.mode !== "managed") {
    return undefined;
  }
  const actions = change.change.actions;
  if (actions.includes("delete") && actions.includes("create")) {
    return "replace";
  }
  if (actions.includes("create")) {
    return "create";
  }
  if (actions.includes("delete")) {
    return "destroy";
  }
  if (actions.includes("update")) {
    return "update";
  }
  return undefined;
}

/** Adds, changes, destroys and replacements of a plan's managed resources. */
export function countChanges(plan: PlanJson): ChangeCounts {
  const counts = { add: 0, change: 0, destroy: 0, replace: 0 };
  for (const change of plan.resource_changes ?? []) {
    switch (changeAction(change)) {
      case "create":
        counts.add += 1;
        break;
      case "update":
        counts.change += 1;
        break;
      case "destroy":
        counts.destroy += 1;
        break;
      case "replace":
        counts.replace += 1;
        break;
      case undefined:
        break;
    }
  }
  return counts;
}

/**
 * What a resource is to the cluster when losing it loses state or availability; `undefined` for
 * everything else. etcd's data lives on the EBS volumes; a master's ASG and launch template are the
 * master itself (kopsform names them `master-<zone>`, as kops does); the network, the API load
 * balancer and the IAM roles carry the whole cluster.
 */
function dangerOf(change: ResourceChange): string | undefined {
  switch (change.type) {
    case "aws_ebs_volume":
      return "etcd volume";
    case "aws_autoscaling_group":
      return isMaster(change) ? "master auto-scaling group" : undefined;
    case "aws_launch_template":
      return isMaster(change) ? "master launch template" : undefined;
    case "aws_vpc":
      return "VPC";
    case "aws_subnet":
      return "subnet";
    case "aws_nat_gateway":
      return "NAT gateway";
    case "aws_lb":
      // A network load balancer cannot change its scheme or drop a subnet in place; a new one has a new
      // DNS name, and kopsform turns deletion protection on (issue 11).
      return "API load balancer; its DNS name changes, and deletion protection fails the apply unless allowApiLoadBalancerDeletion is true";
    case "aws_iam_role":
      return "IAM role";
    default:
      return undefined;
  }
}

/** A master's resource: its Terraform name or its AWS name starts with `master-`. */
function isMaster(change: ResourceChange): boolean {
  const awsName = (value: unknown): unknown =>
    value && typeof value === "object" ? (value as { name?: unknown }).name : undefined;
  return [change.name, awsName(change.change.before), awsName(change.change.after)].some(
    (name) => typeof name === "string" && name.startsWith("master-"),
  );
}

/** The destroys and replacements of a plan that hold cluster state or availability, in plan order. */
export function dangerousChanges(plan: PlanJson): DangerousChange[] {
  const dangerous: DangerousChange[] = [];
  for (const change of plan.resource_changes ?? []) {
    const action = changeAction(change);
    const what = dangerOf(change);
    if ((action === "destroy" || action === "replace") && what) {
      dangerous.push({
        address: change.address,
        type: change.type,
        action,
        what,
        reason: change.action_reason,
        forcedBy: action === "replace" ? replacePaths(change).map(formatPath) : [],
      });
    }
  }
  return dangerous;
}

/** `replace_paths` of a change: attribute paths, each a list of attribute names, map keys and indexes. */
function replacePaths(change: ResourceChange): readonly (readonly (string | number)[])[] {
  return change.change.replace_paths ?? [];
}

/**
 * `["ebs_block_device", 0, "size"]` -> `ebs_block_device[0].size`, `["tags", "k8s.io/role"]` ->
 * `tags["k8s.io/role"]`. The plan does not say whether a string step is an attribute or a map key, so
 * a step that reads as a name is written as an attribute, anything else as a quoted key.
 */
function formatPath(steps: readonly (string | number)[]): string {
  let text = "";
  for (const step of steps) {
    if (typeof step === "number") {
      text += `[${step}]`;
    } else if (text === "") {
      text = step;
    } else if (/^[A-Za-z_][\w-]*$/.test(step)) {
      text += `.${step}`;
    } else {
      text += `[${JSON.stringify(step)}]`;
    }
  }
  return text;
}

/**
 * The stack a plan belongs to: the `cluster_name` output kopsform puts in every stack, else `fallback`
 * (a destroyed stack has no outputs left; a plan file may not come from kopsform).
 */
export function stackNameOf(plan: PlanJson, fallback: string): string {
  const name = plan.planned_values?.outputs?.cluster_name?.value;
  return typeof name === "string" && name.length > 0 ? name : fallback;
}

/** The outputs of a plan that change (a plan can change only outputs; it is still a change). */
function changedOutputs(plan: PlanJson): string[] {
  const changes = (plan.output_changes ?? {}) as Record<string, { actions?: readonly string[] }>;
  return Object.entries(changes)
    .filter(([, c]) => (c.actions ?? []).some((a) => a !== "no-op"))
    .map(([name]) => name)
    .sort();
}

/** Everything the template shows of one stack; `detailsShown` limits the list of changes. */
function stackContext(entry: StackPlan, detailsShown: number) {
  const counts = countChanges(entry.plan);
  const changes = (entry.plan.resource_changes ?? []).flatMap((change) => {
    const action = changeAction(change);
    return action ? [{ address: change.address, action }] : [];
  });
  const danger = dangerousChanges(entry.plan).map((d) => ({ ...d, reason: d.reason ?? "", forcedBy: [...d.forcedBy] }));
  const shown = changes.slice(0, detailsShown);
  return {
    name: stackNameOf(entry.plan, entry.stack),
    counts,
    noChanges: changes.length === 0,
    outputs: changedOutputs(entry.plan),
    danger,
    changes: shown,
    totalChanges: changes.length,
    omitted: changes.length - shown.length,
  };
}

/**
 * The parts of a stack's summary that show its shape (cli/plan-picture.ts, cli/plan-kinds.ts), as
 * Markdown computed once per summary: the renders that shrink a summary to fit only choose among them.
 * Every name they show from the plan is neutralised: inside the Mermaid diagram's quoted labels as
 * entity codes, in the fenced text block (fence longer than any backtick run, one line per line),
 * and a resource type in the table as {@link markdownValue} makes it (a code span, or escaped).
 */
interface ShapeParts {
  /** The masters before and after, picture included; empty when the plan does not change them. */
  readonly pictureMd: string;
  /** The same without the picture: its line of counts and a note (what is left when space runs out). */
  readonly headlineMd: string;
  /** The table of changes by kind; empty when nothing changes. */
  readonly kindsMd: string;
}

/** The parts of {@link ShapeParts} for one stack's plan. */
function shapeParts(plan: PlanJson): ShapeParts {
  const masters = mastersChange(plan);
  return {
    pictureMd: masters ? mastersChangeMarkdown(masters, true) : "",
    headlineMd: masters ? mastersChangeMarkdown(masters, false) : "",
    kindsMd: kindsTable(countsByKind(plan, changeAction), markdownValue),
  };
}

/** The largest `n` in [0, high] for which `ok(n)` holds, `ok` being monotone and holding at 0. */
function largest(high: number, ok: (n: number) => boolean): number {
  let yes = 0;
  let no = high + 1;
  while (no - yes > 1) {
    const middle = Math.floor((yes + no) / 2);
    if (ok(middle)) {
      yes = middle;
    } else {
      no = middle;
    }
  }
  return yes;
}

/**
 * The Markdown summary of `plans`, one section per stack, each starting with the marker
 * `<!-- kopsform-plan: NAME -->` by which CI finds and updates its comment; a stack whose masters
 * change shows them first, before and after, and a stack with changes counts them by kind between
 * its dangerous changes and the list of them all.
 *
 * The result stays within `limit` characters. What shrinks, in this order, until it fits: the lists
 * of all changes (first stack first, saying how many entries were left out); then the pictures of the
 * masters, from the last stack back, each leaving its line of counts and a note; then the tables of
 * kinds, from the last stack back. Never the counts, the masters' line of counts or the dangerous
 * changes, which are what a reviewer must see. (Only a summary whose dangerous changes alone exceed
 * the limit, some 300 of them, could still be longer.)
 * @param limit @default {@link GITHUB_COMMENT_LIMIT}
 */
export function renderPlanSummary(plans: readonly StackPlan[], limit: number = GITHUB_COMMENT_LIMIT): string {
  const totalChanges = plans.map((p) => (p.plan.resource_changes ?? []).filter((c) => changeAction(c)).length);
  const shapes = plans.map((p) => shapeParts(p.plan));
  // `budget` entries of the change lists in all, given to the stacks in order; the first `pictures`
  // stacks draw their masters, the first `tables` count their changes by kind.
  const renderWith = (budget: number, pictures: number, tables: number): string => {
    let left = budget;
    const stacks = plans.map((entry, i) => {
      const shown = Math.min(left, totalChanges[i]);
      left -= shown;
      return {
        ...stackContext(entry, shown),
        mastersMd: i < pictures ? shapes[i].pictureMd : shapes[i].headlineMd,
        kindsMd: i < tables ? shapes[i].kindsMd : "",
      };
    });
    return render("plan-summary.md.hbs", { stacks });
  };
  const all = plans.length;
  const fits = (budget: number, pictures: number, tables: number) => renderWith(budget, pictures, tables).length <= limit;
  const full = renderWith(Infinity, all, all);
  if (full.length <= limit) {
    return full;
  }
  // Bisection: a render of 64 KiB takes milliseconds.
  if (fits(0, all, all)) {
    const total = totalChanges.reduce((a, b) => a + b, 0);
    return renderWith(largest(total, (budget) => fits(budget, all, all)), all, all);
  }
  if (fits(0, 0, all)) {
    return renderWith(0, largest(all, (pictures) => fits(0, pictures, all)), all);
  }
  return renderWith(0, 0, largest(all, (tables) => fits(0, 0, tables)));
}
