/**
 * A plan's changes counted by kind, for the table at the top of the pull request summary: a new
 * cluster is some 80 creates that nobody reads one by one, but "aws_autoscaling_group: 4 create,
 * aws_ebs_volume (etcd): 6 create" is read at a glance.
 */
import type { ChangeAction } from "./plan-summary";
import { PlanJson, ResourceChange } from "./terraform";

/**
 * What the summary calls a change (plan-summary.ts's `changeAction`), passed in so that both count
 * changes the same way without importing each other.
 */
export type ActionOf = (change: ResourceChange) => ChangeAction | undefined;

/** The actions a kind row counts, in the table's column order; `forget` is a `removed` block's "keep, don't destroy". */
export const KIND_ACTIONS = ["create", "update", "replace", "destroy", "forget"] as const;

/** One of {@link KIND_ACTIONS}. */
export type KindAction = (typeof KIND_ACTIONS)[number];

/** The changes of one kind of resource. */
export interface KindCount {
  /** The resource type, e.g. `aws_ebs_volume`. */
  readonly type: string;
  /** What the resources are to the cluster when the type alone does not say, e.g. `etcd`. */
  readonly role?: string;
  /** Changes per action; actions without changes are 0. */
  readonly counts: Readonly<Record<KindAction, number>>;
}

/** A volume that holds etcd data: tagged with its member, as kopsform and kops tag them. */
function isEtcdVolume(change: ResourceChange): boolean {
  const tagged = (values: unknown): boolean => {
    const tags = values && typeof values === "object" ? (values as { tags?: unknown }).tags : undefined;
    return (
      !!tags && typeof tags === "object" && Object.keys(tags).some((key) => key.startsWith("k8s.io/etcd/"))
    );
  };
  return change.type === "aws_ebs_volume" && (tagged(change.change.before) || tagged(change.change.after));
}

/** The role of a resource within its type, when it matters to a reviewer. */
function roleOf(change: ResourceChange): string | undefined {
  return isEtcdVolume(change) ? "etcd" : undefined;
}

/** What a change does, counting a `removed` block's forget (which the summary's actions leave out). */
function kindAction(change: ResourceChange, actionOf: ActionOf): KindAction | undefined {
  const action = actionOf(change);
  if (action) {
    return action;
  }
  return change.mode === "managed" && change.change.actions.includes("forget") ? "forget" : undefined;
}

/**
 * The managed resource changes of a plan by type (and role: etcd volumes apart from other volumes),
 * sorted by type, then role. Resources that do not change (no-op, data source reads) are not counted.
 */
export function countsByKind(plan: PlanJson, actionOf: ActionOf): KindCount[] {
  const rows = new Map<string, { type: string; role?: string; counts: Record<KindAction, number> }>();
  for (const change of plan.resource_changes ?? []) {
    const action = kindAction(change, actionOf);
    if (!action) {
      continue;
    }
    const role = roleOf(change);
    const key = JSON.stringify([change.type, role ?? ""]);
    let row = rows.get(key);
    if (!row) {
      row = { type: change.type, role, counts: { create: 0, update: 0, replace: 0, destroy: 0, forget: 0 } };
      rows.set(key, row);
    }
    row.counts[action] += 1;
  }
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

/**
 * Markdown as the content of a table cell: every pipe not already escaped gets a backslash. GitHub
 * (cmark-gfm) ends a cell at a pipe even inside a code span, unless a backslash precedes it, whatever
 * precedes that backslash; the cell's text then shows the pipe without it.
 */
function cell(markdown: string): string {
  return markdown.replace(/(?<!\\)\|/g, "\\|");
}

/** The actions that occur in `kinds`, in table order: the table's columns (no empty column). */
export function actionsUsed(kinds: readonly KindCount[]): KindAction[] {
  return KIND_ACTIONS.filter((action) => kinds.some((k) => k.counts[action] > 0));
}

/**
 * The Markdown table of `kinds`: a row per kind, a column per action that occurs, empty cells for
 * none. `value` shows a resource type as data (a plan may come from anywhere: the summary passes a
 * code span or escaped text); the role is kopsform's own word. A pipe would end the cell even inside
 * a code span, so one that `value` left unescaped is escaped as GitHub's tables allow (`\|`, shown
 * as `|`).
 */
export function kindsTable(kinds: readonly KindCount[], value: (text: string) => string): string {
  const actions = actionsUsed(kinds);
  if (kinds.length === 0) {
    return "";
  }
  return [
    `| resource type | ${actions.join(" | ")} |`,
    `| --- |${actions.map(() => " ---: |").join("")}`,
    ...kinds.map(
      (k) =>
        `| ${cell(value(k.type))}${k.role ? ` (${k.role})` : ""} |${actions.map((a) => (k.counts[a] > 0 ? ` ${k.counts[a]} |` : " |")).join("")}`,
    ),
  ].join("\n");
}
