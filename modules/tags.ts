/**
 * The cluster's tags: `KubernetesCluster` and `kubernetes.io/cluster/NAME = owned` (what Kubernetes'
 * AWS cloud provider and kops look for), plus the spec's cloud labels.
 */
import { IAspect, TerraformResource } from "cdktf";
import { IConstruct } from "constructs";

/** The tags every resource, instance and volume of a cluster carries. Cloud labels come first so that
 * the cluster tags always win (validation already refuses labels with these keys). */
export function clusterTags(
  clusterName: string,
  cloudLabels: Readonly<Record<string, string>>,
): Record<string, string> {
  return {
    ...cloudLabels,
    KubernetesCluster: clusterName,
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
