/**
 * The cluster's tags: `KubernetesCluster` and `kubernetes.io/cluster/NAME = owned` (what Kubernetes'
 * AWS cloud provider and kops look for), plus the spec's cloud labels.
 */
import { IAspect, TerraformResource } from "cdktf";
import { IConstruct } from "constructs";

/**
 * The tag that names a resource's cluster. The masters' IAM permissions are conditioned on it (and on
 * {@link MASTER_ROLE_TAG}), so the tags and the policy must use these very keys.
 */
export const CLUSTER_TAG = "KubernetesCluster";

/** The tag kops puts on masters and their etcd volumes. */
export const MASTER_ROLE_TAG = "k8s.io/role/master";

/** The tag kops puts on nodes and their groups. */
export const NODE_ROLE_TAG = "k8s.io/role/node";

/** The tags of the control plane: its instances, groups and etcd volumes (kops's, old and new). */
export const CONTROL_PLANE_TAGS: Readonly<Record<string, string>> = {
  [MASTER_ROLE_TAG]: "1",
  "k8s.io/role/control-plane": "1",
};

/** The tags every resource, instance and volume of a cluster carries. Cloud labels come first so that
 * the cluster tags always win (validation already refuses labels with these keys). */
export function clusterTags(
  clusterName: string,
  cloudLabels: Readonly<Record<string, string>>,
): Record<string, string> {
  return {
    ...cloudLabels,
    [CLUSTER_TAG]: clusterName,
    [`kubernetes.io/cluster/${clusterName}`]: "owned",
  };
}

/** A resource binding that supports `tags` (every taggable AWS resource's binding has `tagsInput`). */
interface Taggable {
  tags: Record<string, string>;
  readonly tagsInput?: Record<string, string>;
}

function isTaggable(node: IConstruct): node is IConstruct & Taggable {
  return node instanceof TerraformResource && "tagsInput" in node;
}

/**
 * Puts the cluster tags on every taggable resource of a stack, under the resource's own tags (its
 * `Name`, subnet roles, ...). An aspect rather than the provider's `default_tags`, so that the tags
 * are written on each resource in the synthesized output, where reviews and scanners see them.
 * Instances and volumes that auto-scaling groups launch are tagged by the launch templates and the
 * groups' own tags, which their modules set explicitly.
 */
export class ClusterTagging implements IAspect {
  constructor(private readonly tags: Readonly<Record<string, string>>) {}

  visit(node: IConstruct): void {
    if (isTaggable(node)) {
      node.tags = { ...this.tags, ...(node.tagsInput ?? {}) };
    }
  }
}
