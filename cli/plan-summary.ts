/**
 * The Markdown summary of Terraform plans that a pull request shows: per stack, the counts, then what
 * would destroy or replace something that holds cluster state or keeps the API available, then every
 * change. Written by `kopsform plan --summary`, `kopsform summarize` and CI (one comment per stack).
 */
import { PlanJson, ResourceChange } from "./terraform";
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
      return "API load balancer";
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
 * The Markdown summary of `plans`, one section per stack, each starting with the marker
 * `<!-- kopsform-plan: NAME -->` by which CI finds and updates its comment. The result stays within
 * `limit` characters: only the lists of all changes are cut, first stack first, saying how many entries
 * were left out; never the counts or the dangerous changes, which are what a reviewer must see. (Only
 * a plan whose dangerous changes alone exceed the limit, some 300 of them, could still be longer.)
 * @param limit @default {@link GITHUB_COMMENT_LIMIT}
 */
export function renderPlanSummary(plans: readonly StackPlan[], limit: number = GITHUB_COMMENT_LIMIT): string {
  const totalChanges = plans.map((p) => (p.plan.resource_changes ?? []).filter((c) => changeAction(c)).length);
  // `budget` entries of the change lists in all, given to the stacks in order; the largest budget that
  // fits is found by bisection (a render of 64 KiB takes milliseconds).
  const renderWith = (budget: number): string => {
    let left = budget;
    const stacks = plans.map((entry, i) => {
      const shown = Math.min(left, totalChanges[i]);
      left -= shown;
      return stackContext(entry, shown);
    });
    return render("plan-summary.md.hbs", { stacks });
  };
  const full = renderWith(Infinity);
  if (full.length <= limit) {
    return full;
  }
  let fits = 0;
  let tooMany = totalChanges.reduce((a, b) => a + b, 0);
  while (tooMany - fits > 1) {
    const middle = Math.floor((fits + tooMany) / 2);
    if (renderWith(middle).length <= limit) {
      fits = middle;
    } else {
      tooMany = middle;
    }
  }
  return renderWith(fits);
}
