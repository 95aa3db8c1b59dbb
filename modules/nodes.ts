/**
 * Worker nodes: the default `nodes` group over the cluster's zones, and any further node groups of the
 * spec (kops instance groups), each a launch template and an auto-scaling group.
 */
import { Construct } from "constructs";
import { NodeGroupSpec } from "../spec/types";
import { Images } from "./images";
import { InstanceGroup } from "./instance-group";
import { ITerraformDependable } from "cdktf";
import { NODE_ROLE_TAG } from "./tags";
import { KubernetesRuntime, nodeUserData } from "./user-data";
import { NTH_MANAGED_TAG } from "./node-termination";

/** Props of {@link Nodes}. */
export interface NodesProps {
  readonly clusterName: string;
  readonly kubernetesVersion: string;
  /** The default group first, then the spec's node groups. */
  readonly groups: readonly NodeGroupSpec[];
  readonly images: Images;
  readonly instanceProfileName: string;
  /** The nodes' own security group; each group's extra groups are added after it. */
  readonly securityGroupId: string;
  /** The subnet nodes of each zone run in (private, or public in public topology). */
  readonly subnetIdByZone: Readonly<Record<string, string>>;
  /** Public addresses for nodes in public subnets (public topology). @default false */
  readonly associatePublicIp?: boolean;
  /** @default none */
  readonly keyName?: string;
  /** Cluster tags and cloud labels. */
  readonly tags: Readonly<Record<string, string>>;
  /** The container runtime and the Kubernetes packages. @default {@link DEFAULT_KUBERNETES_RUNTIME} */
  readonly runtime?: KubernetesRuntime;
  /** What must exist before a node launches (boot scripts, run-time config, IAM, routes). @default none */
  readonly bootDependencies?: readonly ITerraformDependable[];
}

/** The cluster's worker instance groups. */
export class Nodes extends Construct {
  readonly groups: readonly InstanceGroup[];

  constructor(scope: Construct, id: string, props: NodesProps) {
    super(scope, id);
    this.groups = props.groups.map((group) => {
      const awsName = `${group.name}.${props.clusterName}`;
      return new InstanceGroup(this, group.name, {
        name: group.name,
        awsName,
        image: props.images.resolve(group.image, group.size),
        instanceType: group.size,
        rootVolumeSize: group.volumeSize,
        instanceProfileName: props.instanceProfileName,
        securityGroupIds: [props.securityGroupId, ...group.securityGroups],
        subnetIds: group.zones.map((zone) => props.subnetIdByZone[zone]),
        minSize: group.minSize,
        maxSize: group.maxSize,
        userData: nodeUserData({
          clusterName: props.clusterName,
          kubernetesVersion: props.kubernetesVersion,
          instanceGroup: group.name,
          labels: group.labels,
          taints: group.taints,
          runtime: props.runtime,
        }).base64,
        dependsOn: props.bootDependencies,
        associatePublicIp: props.associatePublicIp,
        keyName: props.keyName,
        tags: {
          ...props.tags,
          Name: awsName,
          [NODE_ROLE_TAG]: "1",
          "kops.k8s.io/instancegroup": group.name,
          // The termination handler drains only instances with this tag: the nodes', never the masters'.
          [NTH_MANAGED_TAG]: "",
        },
        groupOnlyTags: autoscalerTags(props.clusterName, group),
      });
    });
  }
}

/**
 * The tags cluster-autoscaler reads from a group: discovery (for groups that can scale, min < max),
 * and node templates of labels and taints, so that it can scale a group up from zero.
 */
function autoscalerTags(clusterName: string, group: NodeGroupSpec): Record<string, string> {
  const tags: Record<string, string> = {};
  if (group.minSize < group.maxSize) {
    tags["k8s.io/cluster-autoscaler/enabled"] = "1";
    tags[`k8s.io/cluster-autoscaler/${clusterName}`] = "owned";
  }
  for (const [key, value] of Object.entries(group.labels)) {
    tags[`k8s.io/cluster-autoscaler/node-template/label/${key}`] = value;
  }
  for (const taint of group.taints) {
    const [keyValue, effect] = taint.split(":");
    const [key, value = ""] = keyValue.split("=");
    tags[`k8s.io/cluster-autoscaler/node-template/taint/${key}`] = `${value}:${effect}`;
  }
  return tags;
}
