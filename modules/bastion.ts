/**
 * The SSH bastion of a private-topology cluster (kops `--bastion`): one small instance in a utility
 * subnet with a public address, reachable on SSH from `sshAccess` only, and the only way to SSH to
 * masters and nodes (its security group is built with the others, in security-groups.ts).
 */
import { Construct } from "constructs";
import { ResolvedImage } from "./images";
import { InstanceGroup } from "./instance-group";

/** @default "t3.micro": the bastion only forwards SSH. */
export const BASTION_INSTANCE_TYPE = "t3.micro";

/** @default 16 (GiB) */
export const BASTION_VOLUME_SIZE_GIB = 16;

/** Props of {@link Bastion}. */
export interface BastionProps {
  readonly clusterName: string;
  readonly kubernetesVersion: string;
  readonly image: ResolvedImage;
  readonly instanceProfileName: string;
  readonly securityGroupId: string;
  /** Utility subnets of the cluster's zones. */
  readonly subnetIds: readonly string[];
  /** @default none */
  readonly keyName?: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** The bastion instance group. */
export class Bastion extends Construct {
  readonly group: InstanceGroup;

  constructor(scope: Construct, id: string, props: BastionProps) {
    super(scope, id);
    const awsName = `bastions.${props.clusterName}`;
    this.group = new InstanceGroup(this, "bastions", {
      name: "bastions",
      awsName,
      image: props.image,
      instanceType: BASTION_INSTANCE_TYPE,
      rootVolumeSize: BASTION_VOLUME_SIZE_GIB,
      instanceProfileName: props.instanceProfileName,
      securityGroupIds: [props.securityGroupId],
      subnetIds: props.subnetIds,
      minSize: 1,
      maxSize: 1,
      // No user data: the bastion only forwards SSH and runs nothing of the cluster's.
      // In a utility subnet, which assigns no public address itself.
      associatePublicIp: true,
      keyName: props.keyName,
      tags: { ...props.tags, Name: awsName, "k8s.io/role/bastion": "1", "kops.k8s.io/instancegroup": "bastions" },
    });
  }
}
