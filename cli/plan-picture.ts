/**
 * The picture of a plan whose masters change, for the top of the pull request summary: the cluster's
 * zones with their masters, etcd members and nodes, and what losing each zone does, before and after
 * the plan (1 -> 3 masters reads at a glance). Drawn from the plan alone, with the same analysis and
 * renderer as the HA report (spec/ha.ts, spec/ha-picture.ts), so the two agree.
 *
 * What counts comes from the plan's values, each side (`change.before`, `change.after`) on its own:
 * - etcd members: the volumes tagged `k8s.io/etcd/main = MEMBER/ALL` (kopsform's and kops's scheme),
 *   in their `availability_zone`. etcd quorum is counted over these.
 * - master groups: the auto-scaling groups tagged as control plane (or named `master-...`), in the
 *   zones of their `availability_zones`, else of the subnets their `vpc_zone_identifier` names (by the
 *   subnets' ids, or, for subnets not created yet, by the configuration's references to them).
 * - node groups: the other auto-scaling groups, with their sizes, in their zones.
 * Nothing is guessed from names: what the plan leaves unknown is shown as unknown, with a note.
 */
import { HaAnalysis, analyseHa, haSummaryLine } from "../spec/ha";
import {
  ClusterPicture,
  PictureSide,
  ZoneColumn,
  mastersText,
  mermaidPicture,
  nodeShare,
  plainText,
  textPicture,
} from "../spec/ha-picture";
import { PlanJson, ResourceChange } from "./terraform";

/** One side of a plan: the values before it or after it. */
export type PlanSide = "before" | "after";

/** The etcd `main` member tag: `k8s.io/etcd/main = a/a,b,c`. */
const ETCD_MAIN_TAG = "k8s.io/etcd/main";
/** The etcd `events` member tag, read when a side has no `main` volume. */
const ETCD_EVENTS_TAG = "k8s.io/etcd/events";
/** Tags kops and kopsform put on the control plane's groups. */
const CONTROL_PLANE_TAG_KEYS = ["k8s.io/role/control-plane", "k8s.io/role/master"];
/** The tag naming an instance group, as kops. */
const INSTANCE_GROUP_TAG = "kops.k8s.io/instancegroup";

/** The column of etcd members whose volume's zone the plan leaves unknown. */
export const UNKNOWN_ZONE = "zone unknown until apply";

/** The masters of a plan before and after it, when they differ. */
export interface MastersChange {
  /** Undefined when the stack has no masters before the plan (a new cluster). */
  readonly before?: ClusterPicture;
  readonly after: ClusterPicture;
}

/** A plain object's field, or undefined. */
function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

/** A string field, or undefined. */
function text(value: unknown, key: string): string | undefined {
  const v = field(value, key);
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

/** A list of strings, or undefined when the value is not one (unknown, null, other types). */
function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === "string") ? (value as string[]) : undefined;
}

/** A resource's values on one side (`null` before a create and after a destroy). */
function valuesOf(change: ResourceChange, side: PlanSide): unknown {
  return change.change[side];
}

/** The managed resources of a plan that exist on `side`. */
function present(plan: PlanJson, side: PlanSide): ResourceChange[] {
  return (plan.resource_changes ?? []).filter(
    (c) => c.mode === "managed" && !c.deposed && valuesOf(c, side) !== null && typeof valuesOf(c, side) === "object",
  );
}

/** An auto-scaling group's tags (`tag` blocks) as a map. */
function groupTags(values: unknown): Record<string, string> {
  const tags: Record<string, string> = {};
  const blocks = field(values, "tag");
  if (Array.isArray(blocks)) {
    for (const block of blocks) {
      const key = text(block, "key");
      const value = field(block, "value");
      if (key && typeof value === "string") {
        tags[key] = value;
      }
    }
  }
  return tags;
}

/** Where the subnets of a plan are: by id, and by Terraform address (for references). */
interface SubnetZones {
  readonly byId: ReadonlyMap<string, string>;
  readonly byAddress: ReadonlyMap<string, string>;
}

/** The zones of every subnet the plan knows on either side (an id names the same subnet on both). */
function subnetZones(plan: PlanJson, side: PlanSide): SubnetZones {
  const byId = new Map<string, string>();
  const byAddress = new Map<string, string>();
  for (const change of plan.resource_changes ?? []) {
    if (change.type !== "aws_subnet" || change.deposed) {
      continue;
    }
    // This side's values first, so that a subnet moved to another zone is placed where this side has it.
    for (const values of side === "after" ? [change.change.after, change.change.before] : [change.change.before]) {
      const zone = text(values, "availability_zone");
      const id = text(values, "id");
      if (zone && id && !byId.has(id)) {
        byId.set(id, zone);
      }
      if (zone && !byAddress.has(change.address) && values === valuesOf(change, side)) {
        byAddress.set(change.address, zone);
      }
    }
  }
  return { byId, byAddress };
}

/**
 * The subnet addresses a resource's `vpc_zone_identifier` refers to in the configuration
 * (`aws_subnet.NAME.id` -> `aws_subnet.NAME`): how a new group's zones are known before its subnets
 * have ids.
 */
function configuredSubnets(plan: PlanJson, address: string): string[] {
  const resources = field(field(plan.configuration, "root_module"), "resources");
  if (!Array.isArray(resources)) {
    return [];
  }
  const resource = resources.find((r) => text(r, "address") === address);
  const references = strings(field(field(field(resource, "expressions"), "vpc_zone_identifier"), "references")) ?? [];
  return references.filter((r) => /^aws_subnet\.[^.]+$/.test(r));
}

/** The zones of an auto-scaling group on one side, or undefined when the plan does not say. */
function groupZones(plan: PlanJson, change: ResourceChange, side: PlanSide, subnets: SubnetZones): string[] | undefined {
  const values = valuesOf(change, side);
  const unknown = side === "after" ? change.change.after_unknown : undefined;
  const zones = strings(field(values, "availability_zones"));
  if (zones && zones.length > 0 && field(unknown, "availability_zones") !== true) {
    return [...new Set(zones)];
  }
  const ids = strings(field(values, "vpc_zone_identifier"));
  if (ids && ids.length > 0) {
    const found = ids.map((id) => subnets.byId.get(id));
    return found.every((z) => z !== undefined) ? [...new Set(found as string[])] : undefined;
  }
  if (side === "after" && field(unknown, "vpc_zone_identifier") === true) {
    const addresses = configuredSubnets(plan, change.address);
    const found = addresses.map((a) => subnets.byAddress.get(a));
    return addresses.length > 0 && found.every((z) => z !== undefined) ? [...new Set(found as string[])] : undefined;
  }
  return undefined;
}

/** An auto-scaling group of the control plane: tagged as such, or named `master-...` as kops names them. */
function isMasterGroup(change: ResourceChange, values: unknown): boolean {
  const tags = groupTags(values);
  if (CONTROL_PLANE_TAG_KEYS.some((key) => tags[key] !== undefined)) {
    return true;
  }
  return [change.name, text(values, "name"), tags[INSTANCE_GROUP_TAG]].some((n) => n !== undefined && n.startsWith("master-"));
}

/** The name a group is shown by: its instance group tag, else its Terraform name. */
function groupName(change: ResourceChange, values: unknown): string {
  return groupTags(values)[INSTANCE_GROUP_TAG] ?? change.name;
}

/** An etcd member of one side: its name and the zone of its volume (undefined when unknown). */
interface Member {
  readonly member: string;
  readonly zone?: string;
}

/** The etcd members of one side, from the volumes' member tags (`main`, else `events`). */
function etcdMembers(volumes: readonly ResourceChange[], side: PlanSide): Member[] {
  for (const key of [ETCD_MAIN_TAG, ETCD_EVENTS_TAG]) {
    const members = new Map<string, string | undefined>();
    for (const volume of volumes) {
      const values = valuesOf(volume, side);
      const tag = text(field(values, "tags"), key);
      if (tag) {
        const member = tag.split("/")[0];
        members.set(member, members.get(member) ?? text(values, "availability_zone"));
      }
    }
    if (members.size > 0) {
      return [...members].map(([member, zone]) => ({ member, zone })).sort((a, b) => compare(a.member, b.member));
    }
  }
  return [];
}

/** Code-point order: deterministic whatever the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The picture of one side of a plan; `undefined` when that side has no masters and no etcd member. */
export function planSidePicture(plan: PlanJson, side: PlanSide): ClusterPicture | undefined {
  const resources = present(plan, side);
  const subnets = subnetZones(plan, side);
  const members = etcdMembers(
    resources.filter((c) => c.type === "aws_ebs_volume"),
    side,
  );
  const masters: { name: string; zones?: string[] }[] = [];
  const nodes: { name: string; min: number; max: number; zones?: string[] }[] = [];
  for (const change of resources.filter((c) => c.type === "aws_autoscaling_group")) {
    const values = valuesOf(change, side);
    const zones = groupZones(plan, change, side, subnets);
    if (isMasterGroup(change, values)) {
      masters.push({ name: groupName(change, values), zones });
    } else {
      const min = field(values, "min_size");
      const max = field(values, "max_size");
      nodes.push({
        name: groupName(change, values),
        min: typeof min === "number" ? min : 0,
        max: typeof max === "number" ? max : typeof min === "number" ? min : 0,
        zones,
      });
    }
  }
  if (masters.length === 0 && members.length === 0) {
    return undefined;
  }
  masters.sort((a, b) => compare(a.name, b.name));

  const notes: string[] = [];
  const zones = new Set<string>();
  for (const change of resources.filter((c) => c.type === "aws_subnet")) {
    const zone = text(valuesOf(change, side), "availability_zone");
    if (zone) {
      zones.add(zone);
    }
  }
  members.forEach((m) => m.zone && zones.add(m.zone));
  masters.forEach((m) => m.zones?.forEach((z) => zones.add(z)));
  nodes.forEach((n) => n.zones?.forEach((z) => zones.add(z)));
  const zoneList = [...zones].sort(compare);

  const unplaced = members.filter((m) => !m.zone).map((m) => m.member);
  if (unplaced.length > 0) {
    notes.push(
      `The plan does not say in which zone etcd ${unplaced.length === 1 ? "member" : "members"} ${unplaced.join(", ")} ` +
        "will be, so what losing a zone does is unknown.",
    );
  }
  const mastersWithoutZone = masters.filter((m) => !m.zones).map((m) => m.name);
  if (mastersWithoutZone.length > 0) {
    notes.push(`Zones known only after apply: ${mastersWithoutZone.join(", ")}.`);
  }
  const nodesWithoutZone = nodes.filter((n) => !n.zones).map((n) => n.name);
  if (nodesWithoutZone.length > 0) {
    notes.push(`Zones of node groups known only after apply: ${nodesWithoutZone.join(", ")}.`);
  }
  if (members.length === 0) {
    notes.push(`${masters.length} master ${masters.length === 1 ? "group" : "groups"} but no etcd volume with a member tag.`);
  } else if (masters.length !== members.length) {
    notes.push(
      `${masters.length} master ${masters.length === 1 ? "group" : "groups"} for ${members.length} etcd ` +
        `${members.length === 1 ? "member" : "members"}.`,
    );
  }

  // Members the plan does not place still count towards quorum; they stand in a column of their own.
  if (unplaced.length > 0) {
    zoneList.push(UNKNOWN_ZONE);
  }
  const ha: HaAnalysis = analyseHa(
    members.map((m) => ({ zone: m.zone ?? UNKNOWN_ZONE, member: m.member })),
    zoneList,
  );
  const known = unplaced.length === 0 && members.length > 0;
  const columns: ZoneColumn[] = zoneList.map((zone) => ({
    zone,
    masters: masters.filter((m) => m.zones?.[0] === zone).map((m) => m.name),
    members: members.filter((m) => (m.zone ?? UNKNOWN_ZONE) === zone).map((m) => m.member),
    nodes: nodes
      .filter((n) => n.zones?.includes(zone))
      .map((n) => nodeShare({ name: n.name, minSize: n.min, maxSize: n.max }, (n.zones as string[]).length)),
    outage: known ? ha.zoneOutages.find((o) => o.zone === zone) : undefined,
  }));
  const spanning = masters.filter((m) => m.zones && m.zones.length > 1);
  for (const m of spanning) {
    notes.push(`Master group ${m.name} spans ${(m.zones as string[]).join(", ")}; it is shown in ${(m.zones as string[])[0]}.`);
  }
  return { ha, region: planRegion(plan), zones: columns, notes };
}

/** The provider's region, when the configuration sets it as a constant. */
function planRegion(plan: PlanJson): string | undefined {
  const region = field(field(field(field(field(plan.configuration, "provider_config"), "aws"), "expressions"), "region"), "constant_value");
  return typeof region === "string" && region.length > 0 ? region : undefined;
}

/** What a side's picture shows, as a comparable key: members and masters in their zones. */
function layoutKey(picture: ClusterPicture | undefined): string {
  if (!picture) {
    return "";
  }
  return JSON.stringify(picture.zones.map((z) => [z.zone, z.masters, z.members]).filter(([, m, e]) => m.length + e.length > 0));
}

/**
 * The masters of a plan before and after it, when the plan changes them (adds, removes or moves a
 * master group or an etcd member); `undefined` when it does not, or when the plan has no masters.
 */
export function mastersChange(plan: PlanJson): MastersChange | undefined {
  const before = planSidePicture(plan, "before");
  const after = planSidePicture(plan, "after");
  if (layoutKey(before) === layoutKey(after)) {
    return undefined;
  }
  return { before, after: after ?? emptyPicture(before as ClusterPicture) };
}

/** A side without masters: what a plan that destroys the control plane leaves. */
function emptyPicture(other: ClusterPicture): ClusterPicture {
  return { ha: analyseHa([], []), region: other.region, zones: [], notes: [] };
}

/** The sides of a change, labelled: before (unless the cluster is new), then after. */
function labelledSides(change: MastersChange): { label: string; picture: ClusterPicture }[] {
  return change.before
    ? [
        { label: "before", picture: change.before },
        { label: "after", picture: change.after },
      ]
    : [{ label: "new cluster", picture: change.after }];
}

/** The sides of a change as the picture shows them, titled with their masters and quorum. */
export function changeSides(change: MastersChange): PictureSide[] {
  return labelledSides(change).map(({ label, picture }) => ({ title: `${label}: ${mastersText(picture.ha)}`, picture }));
}

/** The Mermaid diagram of a change: before and after side by side. */
export function mastersChangeDiagram(change: MastersChange): string {
  return mermaidPicture(changeSides(change));
}

/**
 * The change in plain text, for terminals and for readers of the raw Markdown: one line per side (as
 * `kopsform synth` prints a cluster's), then the notes of the pictures.
 */
export function mastersChangeLines(change: MastersChange): string[] {
  const line = (label: string, picture: ClusterPicture): string => {
    if (picture.zones.every((z) => z.outage) || picture.ha.masterCount === 0) {
      return haSummaryLine(label, picture.ha);
    }
    const layout = picture.ha.mastersPerZone.filter((z) => z.masters > 0).map((z) => `${z.zone}: ${z.masters}`);
    return `${label}: ${mastersText(picture.ha)} (${layout.join(", ")}); what losing a zone does is unknown.`;
  };
  return labelledSides(change).flatMap(({ label, picture }) => [
    line(label, picture),
    ...picture.notes.map((note) => `${label}: ${note}`),
  ]);
}

/** Whether a side survives the loss of any one zone: `yes`, `no`, or `unknown` when the plan does not say. */
function survives(picture: ClusterPicture): string {
  if (picture.ha.masterCount === 0) {
    return "no masters";
  }
  if (!picture.zones.every((z) => z.outage)) {
    return "unknown";
  }
  return picture.ha.survivesAnyZoneOutage ? "yes" : "no";
}

/** `3 (etcd quorum 2 of 3)`, or `none`. */
function countText(picture: ClusterPicture): string {
  const ha = picture.ha;
  return ha.masterCount === 0 ? "none" : `${ha.masterCount} (etcd quorum ${ha.quorum} of ${ha.masterCount})`;
}

/**
 * The change in one line of counts, with no name in it (safe as Markdown as it is):
 * `Masters: 1 (etcd quorum 1 of 1) -> 3 (etcd quorum 2 of 3); survives the loss of any one zone: no -> yes.`
 */
export function mastersChangeHeadline(change: MastersChange): string {
  const after = change.after;
  if (!change.before) {
    return `Masters: ${countText(after)}; survives the loss of any one zone: ${survives(after)}.`;
  }
  return (
    `Masters: ${countText(change.before)} \u2192 ${countText(after)}; ` +
    `survives the loss of any one zone: ${survives(change.before)} \u2192 ${survives(after)}.`
  );
}

/**
 * The change as plain text for terminals: per side, its summary line (see {@link mastersChangeLines})
 * and its zones as columns (as `kopsform synth` prints a cluster). Every line is one line: names from
 * the plan have their control characters shown as spaces.
 */
export function mastersChangeText(change: MastersChange): string[] {
  const lines = mastersChangeLines(change);
  const out: string[] = [];
  for (const { label, picture } of labelledSides(change)) {
    out.push(...lines.filter((l) => l.startsWith(`${label}: `)).slice(0, 1));
    out.push(...textPicture(picture));
  }
  return out.map(plainText);
}

/**
 * `lines` as a fenced Markdown code block that shows them as they are: the fence is one backtick
 * longer than any run of backticks in them (CommonMark ends a fence only with one at least as long).
 */
export function fencedBlock(lines: readonly string[], info = ""): string {
  const longest = Math.max(2, ...lines.flatMap((l) => (l.match(/`+/g) ?? []).map((run) => run.length)));
  const fence = "`".repeat(longest + 1);
  return [`${fence}${info}`, ...lines, fence].join("\n");
}

/**
 * The pull request's section on a change of masters: the headline in bold, then (unless `picture` is
 * false, when the summary has to shrink to fit a comment) the Mermaid picture, and the same in plain
 * text, collapsed. Names from the plan appear only inside the diagram's quoted labels and the fenced
 * text block (see spec/ha-picture.ts and {@link fencedBlock}).
 */
export function mastersChangeMarkdown(change: MastersChange, picture = true): string {
  const headline = `**${mastersChangeHeadline(change)}**`;
  if (!picture) {
    return (
      `${headline}\n\nThe picture of the masters is left out here to stay within GitHub's comment size limit; ` +
      "the stack's own summary shows it."
    );
  }
  return [
    headline,
    "",
    fencedBlock(mastersChangeDiagram(change).split("\n"), "mermaid"),
    "",
    "<details><summary>The masters in text</summary>",
    "",
    fencedBlock(mastersChangeText(change), "text"),
    "",
    "</details>",
  ].join("\n");
}
