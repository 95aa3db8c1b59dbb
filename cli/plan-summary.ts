/**
 * The Markdown summary of Terraform plans that a pull request shows: per stack, the picture of its
 * masters before and after when the plan changes them, the counts, then what would destroy or replace
 * something that holds cluster state or keeps the API available, the changes counted by kind, then
 * every change, an update with the attributes it changes. A stack that was not planned says why: validated
 * only (offline, it needs AWS for a lookup), its plan failed, or its spec is gone. Written by
 * `kopsform plan --summary`, `kopsform summarize` and CI (one comment per stack).
 *
 * Every value taken from a plan reaches the Markdown through cli/markdown.ts (code spans, a marker of
 * safe characters), so that a comment shows what the plan holds and nothing a value could make of it.
 */
import { PlanJson, ResourceChange } from "./terraform";
import { code, codeList, markerName } from "./markdown";
import { countsByKind, kindsTable } from "./plan-kinds";
import { mastersChange, mastersChangeMarkdown } from "./plan-picture";
import { markdownValue } from "../spec/kops/report";
import { render } from "../templates";

/** GitHub refuses issue and pull request comments longer than this many characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;

/** One plan to summarize, and the stack it belongs to (the name its summary shows and is found by). */
export interface StackPlan {
  readonly stack: string;
  readonly plan: PlanJson;
}

/**
 * What a summary reports of one stack: its plan; or that it was only validated (planning it needs
 * AWS, for the lookups named); or that planning it failed (with Terraform's first error line); or
 * that its spec is gone, with what destroying the cluster would do (nothing, when its state is empty),
 * or why that could not be told.
 */
export type StackReport =
  | StackPlan
  | { readonly stack: string; readonly validatedOnly: readonly string[] }
  | { readonly stack: string; readonly failed: string }
  | { readonly stack: string; readonly specRemoved: true; readonly destroy?: PlanJson; readonly unknown?: string };

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

/**
 * True when a removed cluster's destroy plan changes nothing: its state holds no resource (the
 * cluster was deleted, or never applied). Any planned action at all counts as something left.
 */
export function removalFindsNothing(destroy: PlanJson): boolean {
  return (destroy.resource_changes ?? []).every((change) => changeAction(change) === undefined);
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
    .filter(([, c]) => (c?.actions ?? []).some((a) => a !== "no-op"))
    .map(([name]) => name)
    .sort();
}

/**
 * The attributes an update changes: top-level attributes, and for maps (tags) the keys that change
 * (`tags["Team"]`). A value that is only known after apply counts as changed.
 */
export function changedAttributes(change: ResourceChange): string[] {
  const before = asObject(change.change.before);
  const after = asObject(change.change.after);
  const unknown = asObject(change.change.after_unknown);
  const changed: string[] = [];
  for (const key of [...new Set([...Object.keys(before), ...Object.keys(after), ...Object.keys(unknown)])].sort()) {
    if (unknown[key] === true) {
      changed.push(key);
      continue;
    }
    if (equal(before[key], after[key]) && !holdsTrue(unknown[key])) {
      continue;
    }
    // A map that is absent on one side (no tags yet) compares as empty.
    const [b, a] = [before[key] ?? (isMap(after[key]) ? {} : undefined), after[key] ?? (isMap(before[key]) ? {} : undefined)];
    if (isMap(b) && isMap(a) && !holdsTrue(unknown[key])) {
      for (const sub of [...new Set([...Object.keys(b), ...Object.keys(a)])].sort()) {
        if (!equal(b[sub], a[sub])) {
          changed.push(`${key}[${JSON.stringify(sub)}]`);
        }
      }
    } else {
      changed.push(key);
    }
  }
  return changed;
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** A map of scalars (tags): its keys are worth naming one by one. */
function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && Object.values(value).every((v) => v === null || typeof v !== "object");
}

function holdsTrue(value: unknown): boolean {
  return value === true || (value !== null && typeof value === "object" && Object.values(value).some(holdsTrue));
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b) && (a === undefined) === (b === undefined);
}

/** What the list of all changes says of one change, in Markdown. */
function describeChange(change: ResourceChange, action: ChangeAction): string {
  if (action !== "update") {
    return action;
  }
  const attributes = changedAttributes(change);
  if (attributes.length === 0) {
    return "update";
  }
  const tagsOnly = attributes.every((a) => /^tags(_all)?(\[|$)/.test(a));
  return `update${tagsOnly ? ", tags only" : ""}: ${codeList(attributes)}`;
}

/** Everything the template shows of one stack, every plan value already Markdown-safe; `detailsShown` limits the list of changes. */
function stackContext(entry: StackReport, detailsShown: number) {
  const context = {
    marker: markerName(entry.stack),
    nameMd: code(entry.stack),
    planned: false,
    validatedOnlyMd: "",
    failed: false,
    failedMd: "",
    specRemoved: false,
    removedGone: false,
    removedExists: false,
    removedUnknownMd: "",
    counts: { add: 0, change: 0, destroy: 0, replace: 0 },
    noChanges: true,
    outputsMd: [] as string[],
    danger: [] as { action: string; addressMd: string; what: string; reasonMd: string; forcedByMd: string }[],
    changes: [] as { addressMd: string; whatMd: string }[],
    totalChanges: 0,
    omitted: 0,
  };
  if ("validatedOnly" in entry) {
    return { ...context, validatedOnlyMd: codeList(entry.validatedOnly) };
  }
  if ("failed" in entry) {
    return { ...context, failed: true, failedMd: entry.failed ? code(entry.failed) : "" };
  }
  if ("specRemoved" in entry) {
    const removed = { ...context, specRemoved: true };
    if (!entry.destroy) {
      return { ...removed, removedUnknownMd: code(entry.unknown ?? "no plan") };
    }
    if (removalFindsNothing(entry.destroy)) {
      return { ...removed, removedGone: true };
    }
    return { ...plannedContext(entry.destroy, context, detailsShown), specRemoved: true, removedExists: true };
  }
  return plannedContext(entry.plan, context, detailsShown);
}

/** The context of a planned stack. */
function plannedContext<T extends object>(plan: PlanJson, context: T, detailsShown: number) {
  const changes = (plan.resource_changes ?? []).flatMap((change) => {
    const action = changeAction(change);
    return action ? [{ addressMd: code(change.address), whatMd: describeChange(change, action) }] : [];
  });
  const shown = changes.slice(0, detailsShown);
  return {
    ...context,
    planned: true,
    counts: countChanges(plan),
    noChanges: changes.length === 0,
    outputsMd: changedOutputs(plan).map(code),
    danger: dangerousChanges(plan).map((d) => ({
      action: d.action,
      addressMd: code(d.address),
      what: d.what,
      reasonMd: d.reason ? code(d.reason) : "",
      forcedByMd: d.forcedBy.length > 0 ? codeList(d.forcedBy) : "",
    })),
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

/** The parts of {@link ShapeParts} for one stack's plan (none for a stack without a plan). */
function shapeParts(plan: PlanJson | undefined): ShapeParts {
  if (!plan) {
    return { pictureMd: "", headlineMd: "", kindsMd: "" };
  }
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
 * The Markdown summary of `reports`, one section per stack, each starting with the marker
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
export function renderPlanSummary(reports: readonly StackReport[], limit: number = GITHUB_COMMENT_LIMIT): string {
  const planOf = (r: StackReport) => ("plan" in r ? r.plan : "specRemoved" in r ? r.destroy : undefined);
  const totalChanges = reports.map((r) => (planOf(r)?.resource_changes ?? []).filter((c) => changeAction(c)).length);
  const shapes = reports.map((r) => shapeParts(planOf(r)));
  // `budget` entries of the change lists in all, given to the stacks in order; the first `pictures`
  // stacks draw their masters, the first `tables` count their changes by kind.
  const renderWith = (budget: number, pictures: number, tables: number): string => {
    let left = budget;
    const stacks = reports.map((entry, i) => {
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
  const all = reports.length;
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

/**
 * A plan's JSON with every field kopsform reads in the shape it expects. Terraform leaves fields out
 * in some cases (no `resource_changes` without changes, no `before` for a create, no `replace_paths`,
 * no `output_changes`), and a plan from elsewhere may lack more: what is missing reads as absent,
 * never as a crash.
 */
export function normalizePlan(json: Record<string, unknown>): PlanJson {
  const object = (value: unknown): Record<string, unknown> | undefined =>
    value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
  const changes = (Array.isArray(json.resource_changes) ? json.resource_changes : []).flatMap((raw): ResourceChange[] => {
    const c = object(raw);
    if (!c) {
      return [];
    }
    const change = object(c.change) ?? {};
    const address = text(c.address) ?? `${text(c.type) ?? "unknown"}.${text(c.name) ?? "unknown"}`;
    const [type, ...rest] = address.replace(/^(module\.[^.]+\.)+/, "").replace(/^data\./, "").split(".");
    const replacePaths = Array.isArray(change.replace_paths)
      ? change.replace_paths.filter((p): p is (string | number)[] => Array.isArray(p) && p.every((s) => typeof s === "string" || typeof s === "number"))
      : undefined;
    return [
      {
        address,
        mode: c.mode === "data" ? "data" : "managed",
        type: text(c.type) ?? type,
        name: text(c.name) ?? rest.join("."),
        change: {
          actions: Array.isArray(change.actions) ? change.actions.filter((a): a is string => typeof a === "string") : [],
          before: change.before ?? null,
          after: change.after ?? null,
          after_unknown: change.after_unknown ?? {},
          ...(replacePaths ? { replace_paths: replacePaths } : {}),
        },
        ...(text(c.action_reason) ? { action_reason: text(c.action_reason) } : {}),
        ...(text(c.deposed) ? { deposed: text(c.deposed) } : {}),
      },
    ];
  });
  const planned = object(json.planned_values);
  const outputs = object(planned?.outputs);
  return {
    ...json,
    format_version: text(json.format_version) ?? "",
    resource_changes: changes,
    planned_values: { outputs: (outputs ?? {}) as Record<string, { value?: unknown }> },
    output_changes: object(json.output_changes) ?? {},
  };
}
