/**
 * Instance roles, as kops separates them: masters, nodes and (when there is one) the bastion each get
 * their own role and instance profile, trusted by EC2 only. Policies are built with `Fn.jsonencode`
 * so that they stay valid in HCL output, and name every action: no wildcards.
 */
import { Fn } from "cdktf";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Construct } from "constructs";
import { IAM_NAME_MAX, clusterSlug, limitedName } from "./names";
import { CLUSTER_TAG, MASTER_ROLE_TAG } from "./tags";

/** A role and the instance profile that wraps it (one role per profile). */
export interface InstanceRole {
  readonly role: IamRole;
  readonly profile: IamInstanceProfile;
}

/** Props of {@link Iam}. */
export interface IamProps {
  readonly clusterName: string;
  /** Create the bastion's role. @default false */
  readonly bastion?: boolean;
}

/** A policy statement. */
interface Statement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Record<string, Record<string, string>>;
}

/** The roles of a cluster. */
export class Iam extends Construct {
  readonly masters: InstanceRole;
  readonly nodes: InstanceRole;
  readonly bastions?: InstanceRole;

  constructor(scope: Construct, id: string, props: IamProps) {
    super(scope, id);
    const cluster = props.clusterName;
    this.masters = this.instanceRole("masters", cluster, mastersPolicy(cluster));
    this.nodes = this.instanceRole("nodes", cluster, nodesPolicy());
    if (props.bastion) {
      // The bastion only forwards SSH; it needs no AWS API at all, hence a role without policies.
      this.bastions = this.instanceRole("bastions", cluster, []);
    }
  }

  /** `aws_iam_role.<role>-<cluster>` and its profile and policy, named `<role>.<cluster>` as kops names them. */
  private instanceRole(role: string, cluster: string, statements: readonly Statement[]): InstanceRole {
    const tfName = `${role}-${clusterSlug(cluster)}`;
    const awsName = limitedName(`${role}.${cluster}`, IAM_NAME_MAX);
    const iamRole = new IamRole(this, `${role}-role`, {
      name: awsName,
      assumeRolePolicy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags: { Name: awsName },
    });
    iamRole.overrideLogicalId(tfName);
    const profile = new IamInstanceProfile(this, `${role}-profile`, {
      name: awsName,
      role: iamRole.name,
      tags: { Name: awsName },
    });
    profile.overrideLogicalId(tfName);
    if (statements.length > 0) {
      const policy = new IamRolePolicy(this, `${role}-policy`, {
        name: awsName,
        role: iamRole.name,
        policy: Fn.jsonencode({ Version: "2012-10-17", Statement: statements }),
      });
      policy.overrideLogicalId(tfName);
    }
    return { role: iamRole, profile };
  }
}

/**
 * What a master does with AWS at boot: find its etcd volumes and attach them. Attach and detach are
 * allowed only where both the volume and the instance carry this cluster's tag and the master role
 * tag (AttachVolume is authorized against the instance as well as the volume), so a master can never
 * take another cluster's volumes, nor a node's. Describe calls cannot be scoped by resource in EC2.
 * A master that gives up on its volumes marks itself Unhealthy so that its group (EC2 health checks
 * only) replaces it; SetInstanceHealth is authorized against the auto-scaling group, so it is allowed
 * only on groups tagged with this cluster and the master role: a master can never mark another
 * cluster's instances, nor the nodes', for replacement. The Kubernetes components' own permissions
 * come with the Kubernetes install.
 */
function mastersPolicy(cluster: string): Statement[] {
  return [
    {
      Sid: "DescribeVolumesAndInstances",
      Effect: "Allow",
      Action: ["ec2:DescribeInstances", "ec2:DescribeVolumes", "ec2:DescribeTags", "ec2:DescribeRegions"],
      Resource: "*",
    },
    {
      Sid: "AttachOwnClusterEtcdVolumes",
      Effect: "Allow",
      Action: ["ec2:AttachVolume", "ec2:DetachVolume"],
      Resource: "*",
      Condition: {
        StringEquals: {
          [`aws:ResourceTag/${CLUSTER_TAG}`]: cluster,
          [`aws:ResourceTag/${MASTER_ROLE_TAG}`]: "1",
        },
      },
    },
    {
      Sid: "ReplaceOwnClusterMasters",
      Effect: "Allow",
      Action: ["autoscaling:SetInstanceHealth"],
      Resource: "*",
      Condition: {
        StringEquals: {
          [`autoscaling:ResourceTag/${CLUSTER_TAG}`]: cluster,
          [`autoscaling:ResourceTag/${MASTER_ROLE_TAG}`]: "1",
        },
      },
    },
  ];
}

/** What a node needs to know its place (kubelet's AWS lookups of its own instance). */
function nodesPolicy(): Statement[] {
  return [
    {
      Sid: "DescribeInstances",
      Effect: "Allow",
      Action: ["ec2:DescribeInstances", "ec2:DescribeRegions"],
      Resource: "*",
    },
  ];
}
