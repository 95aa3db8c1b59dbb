/**
 * What runs in AWS for a cluster: its auto-scaling groups (found by the cluster tag, so that groups
 * the spec no longer names are seen too), their instances, and whether each instance runs the
 * group's current launch template version.
 */
import { AutoScalingGroup, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { AwsClients, awsCall } from "./aws";

/**
 * Tags the stack puts on every group (modules/tags.ts, modules/control-plane.ts, nodes.ts, bastion.ts);
 * __tests__ check that they match. Repeated here so that these commands do not load cdktf.
 */
export const GROUP_TAGS = {
  cluster: "KubernetesCluster",
  instanceGroup: "kops.k8s.io/instancegroup",
  master: "k8s.io/role/master",
  node: "k8s.io/role/node",
  bastion: "k8s.io/role/bastion",
} as const;

/** What an instance group is for. */
export type GroupRole = "master" | "node" | "bastion";

/** One instance of a group, as the group sees it. */
export interface InstanceState {
  readonly id: string;
  readonly zone: string;
  /** Auto Scaling's lifecycle state: `Pending`, `InService`, `Terminating`, ... */
  readonly lifecycle: string;
  /** Auto Scaling's health status is `Healthy`. */
  readonly healthy: boolean;
  readonly launchTemplateVersion?: string;
  /** Runs the group's current launch template and version. */
  readonly upToDate: boolean;
}

/** One instance group (launch template + auto-scaling group). */
export interface GroupState {
  /** The kops instance-group name: `master-us-west-2a`, `nodes`. */
  readonly name: string;
  readonly asgName: string;
  readonly role: GroupRole;
  readonly min: number;
  readonly max: number;
  readonly desired: number;
  readonly launchTemplateId?: string;
  /** The group's launch template version, `$Latest`/`$Default` resolved to a number. */
  readonly launchTemplateVersion?: string;
  readonly instances: readonly InstanceState[];
  readonly tags: Readonly<Record<string, string>>;
}

/** Order of a roll and of listings, as kops: bastions, then masters, then nodes. */
const ROLE_ORDER: Readonly<Record<GroupRole, number>> = { bastion: 0, master: 1, node: 2 };

function roleOf(tags: Readonly<Record<string, string>>): GroupRole {
  if (tags[GROUP_TAGS.master] !== undefined) {
    return "master";
  }
  if (tags[GROUP_TAGS.bastion] !== undefined) {
    return "bastion";
  }
  return "node";
}

/** Every auto-scaling group tagged `KubernetesCluster = NAME`, with its instances, in kops's roll order. */
export async function describeGroups(clusterName: string, aws: AwsClients): Promise<GroupState[]> {
  const groups: AutoScalingGroup[] = [];
  let token: string | undefined;
  // Bounded: 100 groups per page, 50 pages.
  for (let page = 0; page < 50; page++) {
    const out = await awsCall("listing the cluster's auto-scaling groups", () =>
      aws.autoscaling.send(
        new DescribeAutoScalingGroupsCommand({
          Filters: [{ Name: `tag:${GROUP_TAGS.cluster}`, Values: [clusterName] }],
          NextToken: token,
          MaxRecords: 100,
        }),
      ),
    );
    groups.push(...(out.AutoScalingGroups ?? []));
    token = out.NextToken;
    if (!token) {
      break;
    }
  }
  const versions = await resolveVersions(groups, aws);
  return groups
    .map((g) => groupState(g, versions))
    .sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.name.localeCompare(b.name));
}

function templateOf(g: AutoScalingGroup) {
  return g.LaunchTemplate ?? g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
}

/** `$Latest` and `$Default` as numbers, from EC2 (kopsform's groups pin a number; others may not). */
async function resolveVersions(groups: readonly AutoScalingGroup[], aws: AwsClients): Promise<Map<string, { latest: string; default: string }>> {
  const ids = [
    ...new Set(
      groups
        .map(templateOf)
        .filter((t) => t?.LaunchTemplateId && !/^\d+$/.test(t.Version ?? ""))
        .map((t) => t!.LaunchTemplateId as string),
    ),
  ];
  const resolved = new Map<string, { latest: string; default: string }>();
  if (ids.length === 0) {
    return resolved;
  }
  // EC2's client costs some 200 ms of CPU to load: only for groups that do not pin a version number.
  const { DescribeLaunchTemplatesCommand } = require("@aws-sdk/client-ec2") as typeof import("@aws-sdk/client-ec2");
  const out = await awsCall("reading launch template versions", () => aws.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: ids })));
  for (const t of out.LaunchTemplates ?? []) {
    resolved.set(t.LaunchTemplateId as string, { latest: String(t.LatestVersionNumber), default: String(t.DefaultVersionNumber) });
  }
  return resolved;
}

function groupState(g: AutoScalingGroup, versions: Map<string, { latest: string; default: string }>): GroupState {
  const tags = Object.fromEntries((g.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
  const template = templateOf(g);
  let version = template?.Version;
  if (template?.LaunchTemplateId && versions.has(template.LaunchTemplateId)) {
    const v = versions.get(template.LaunchTemplateId)!;
    version = version === "$Default" ? v.default : v.latest;
  }
  const instances: InstanceState[] = (g.Instances ?? []).map((i) => {
    const t = i.LaunchTemplate;
    return {
      id: i.InstanceId as string,
      zone: i.AvailabilityZone ?? "",
      lifecycle: i.LifecycleState ?? "",
      healthy: i.HealthStatus === "Healthy",
      launchTemplateVersion: t?.Version,
      upToDate: !!t && t.LaunchTemplateId === template?.LaunchTemplateId && t.Version === version,
    };
  });
  return {
    name: tags[GROUP_TAGS.instanceGroup] ?? g.AutoScalingGroupName ?? "",
    asgName: g.AutoScalingGroupName ?? "",
    role: roleOf(tags),
    min: g.MinSize ?? 0,
    max: g.MaxSize ?? 0,
    desired: g.DesiredCapacity ?? 0,
    launchTemplateId: template?.LaunchTemplateId,
    launchTemplateVersion: version,
    instances,
    tags,
  };
}

/** Instances that count: not on their way out. */
export function liveInstances(g: GroupState): InstanceState[] {
  return g.instances.filter((i) => !/^Terminat|^Detach|^Standby|^Warmed/.test(i.lifecycle));
}
