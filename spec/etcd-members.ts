/**
 * The record of a cluster's etcd members, kept in the committed spec as kops keeps
 * `etcdClusters[].members` in its cluster spec: `etcdMembers` lists every member the cluster has,
 * `retiredEtcdMembers` the members retired on purpose. The master layout (`masterZones`,
 * `masterCount`) must give exactly the recorded members, so that removing a master is never a side
 * effect of editing the layout: it is an explicit, reviewed change of the record, and a retired
 * member's volumes are forgotten by Terraform (`removed` blocks), never deleted (see
 * modules/etcd-volumes.ts). This holds in every clone, CI and `cdktf deploy` alike: it reads the spec
 * alone, not a previous synthesis.
 */
import { Problem } from "./problems";
import { MasterSlot } from "./types";

/** etcd member names as kopsform lays them out: a zone letter, with `-2`, `-3` for further masters in a zone. */
export const ETCD_MEMBER_NAME = /^[a-z](-([2-9]|[1-9][0-9]))?$/;

/** The message for a member name that is not one. */
export const ETCD_MEMBER_NAME_MESSAGE =
  "is not an etcd member name: a zone letter, with -2, -3 for further masters in one zone (a, b, a-2).";

/** `[a, b, c]`, as the line to write in YAML. */
function flow(members: readonly string[]): string {
  return `[${members.join(", ")}]`;
}

/** The master a member belongs to, in kopsform's naming (spec/masters.ts): member `a-2` in us-east-1 is `master-us-east-1a-2`. */
export function masterOfMember(member: string, region: string): string {
  return `master-${region}${member}`;
}

/** What {@link etcdMemberProblems} reads. */
export interface EtcdRecord {
  /** The masters the layout gives. */
  readonly layout: readonly MasterSlot[];
  /** `etcdMembers` as written; undefined when the spec has none. */
  readonly recorded?: readonly string[];
  /** `retiredEtcdMembers` as written. */
  readonly retired: readonly string[];
  readonly region: string;
  /** Where a missing record comes from: `create cluster` writes it from the layout; a spec file must have one. */
  readonly origin: "file" | "flags";
}

/**
 * Every disagreement between the layout and the record, each with the exact lines to write. Members
 * are compared as sets; the lines list them in the layout's order.
 */
export function etcdMemberProblems(r: EtcdRecord): Problem[] {
  const problems: Problem[] = [];
  const layout = r.layout.map((m) => m.member);
  const retired = new Set(r.retired);
  const masters = (members: readonly string[]) => members.map((m) => masterOfMember(m, r.region)).join(", ");

  const both = r.retired.filter((m) => (r.recorded ?? []).includes(m));
  if (both.length > 0) {
    problems.push({
      field: "retiredEtcdMembers",
      message: `${both.join(", ")} ${both.length === 1 ? "is" : "are"} also in etcdMembers; a member is either in the cluster or retired. Remove ${both.length === 1 ? "it" : "them"} from one list.`,
    });
  }
  const reused = layout.filter((m) => retired.has(m));
  if (reused.length > 0) {
    problems.push({
      field: "retiredEtcdMembers",
      message:
        `${reused.join(", ")} ${reused.length === 1 ? "is" : "are"} retired, yet masterZones/masterCount give ` +
        `${reused.length === 1 ? "it" : "them"} again (${masters(reused)}). A retired member's volumes stay in AWS ` +
        "with its tags, and a new master of that name would find two volumes of each kind and stop. First back " +
        `up and delete the retired volumes in AWS (or remove their k8s.io/etcd/main and k8s.io/etcd/events tags), ` +
        `then move ${reused.join(", ")} from retiredEtcdMembers to etcdMembers.`,
    });
  }
  if (problems.length > 0) {
    return problems;
  }

  if (r.recorded === undefined) {
    if (r.origin === "file") {
      problems.push({
        field: "etcdMembers",
        message:
          "is missing. The spec records its etcd members, as kops's etcdClusters.members does, so that removing a " +
          "master is a reviewed change that never deletes etcd data. Add this line, the members masterZones/masterCount " +
          `give: "etcdMembers: ${flow(layout)}". If this change also removes or moves masters, write the members the ` +
          "cluster has now (its aws_ebs_volume.<member>-etcd-main-... resources) instead, then retire the removed ones.",
      });
    }
    return problems;
  }

  const recorded = r.recorded;
  const added = layout.filter((m) => !recorded.includes(m));
  const removed = recorded.filter((m) => !layout.includes(m));
  if (removed.length > 0) {
    const kept = recorded.filter((m) => layout.includes(m));
    const nowRecorded = layout.filter((m) => kept.includes(m) || added.includes(m));
    problems.push({
      field: "etcdMembers",
      message:
        `masterZones/masterCount no longer give ${removed.length === 1 ? "member" : "members"} ${removed.join(", ")} ` +
        `(${masters(removed)}), which etcdMembers records. Removing a member is done by hand, in this order: ` +
        "(1) back up etcd; (2) while quorum holds, remove it from both etcd clusters (etcdctl member remove; main " +
        `on port 4001, events on 4002); (3) retire it in the spec: write "etcdMembers: ${flow(nowRecorded)}" and ` +
        `"retiredEtcdMembers: ${flow([...r.retired, ...removed])}". Terraform then forgets its volumes (they stay ` +
        "in AWS) instead of deleting them. If no master is to go, restore masterZones/masterCount.",
    });
  } else if (added.length > 0) {
    problems.push({
      field: "etcdMembers",
      message:
        `masterZones/masterCount add ${added.length === 1 ? "member" : "members"} ${added.join(", ")} ` +
        `(${masters(added)}), which etcdMembers does not record yet; record ${added.length === 1 ? "it" : "them"}: ` +
        `write "etcdMembers: ${flow(layout)}".`,
    });
  }
  return problems;
}
