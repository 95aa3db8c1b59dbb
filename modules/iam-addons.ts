/**
 * What the add-ons may do with AWS, as statements for the instance roles (modules/iam.ts adds them).
 * kops's policies (pkg/model/iam/iam_builder.go) are the reference; where kops scopes by the
 * `KubernetesCluster` tag, so do these, and some go further:
 *
 * - The cloud controller manager and the EBS CSI driver's controller and the termination handler run
 *   on the masters, on the host network (the instances' metadata hop limit of 1 keeps pods off the
 *   roles), so their statements go to the masters' role. The VPC CNI's agent runs on every instance,
 *   so its statements go to the nodes' role (masters run it too, but take node pods only on nodes).
 * - The EBS CSI driver may touch only volumes it created: they carry `ebs.csi.aws.com/cluster = true`
 *   and `kubernetes.io/cluster/NAME = owned`, and never `k8s.io/role/master`. The etcd volumes carry
 *   the master role tag and not the driver's tag, so no CSI statement can attach, detach, delete or
 *   modify them; and the driver may not create a volume that claims etcd's or a role's tags.
 * - The termination handler reads and deletes messages of its own queue only, and completes
 *   lifecycle actions only on this cluster's groups that it manages (the node groups).
 */
import { Networking } from "../spec/networking";
import { partitionOf } from "./names";
import { CLUSTER_TAG, MASTER_ROLE_TAG } from "./tags";
import { NTH_MANAGED_TAG, terminationQueueName } from "./node-termination";

/** A policy statement (Allow only: the roles' policies grant, they never need to deny). */
export interface AddonStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** What the statements depend on. */
export interface AddonIamProps {
  readonly clusterName: string;
  /** The cluster's region: it names the partition and the termination queue's ARN. */
  readonly region: string;
  readonly networking: Networking;
}

/** The tag the EBS CSI driver puts on every volume it creates. */
export const EBS_CSI_VOLUME_TAG = "ebs.csi.aws.com/cluster";

/** The masters' statements for the cloud controller, the EBS CSI driver and the termination handler. */
export function masterAddonStatements(props: AddonIamProps): AddonStatement[] {
  return [
    ...cloudControllerStatements(props),
    ...ebsCsiStatements(props),
    ...terminationHandlerStatements(props),
  ];
}

/** The nodes' statements: the VPC CNI's, when it is the pod network. */
export function nodeAddonStatements(props: AddonIamProps): AddonStatement[] {
  return props.networking === "amazon-vpc-routed-eni" ? vpcCniStatements(props) : [];
}

const clusterTagged = (cluster: string) => ({ StringEquals: { [`aws:ResourceTag/${CLUSTER_TAG}`]: cluster } });

/**
 * The AWS cloud controller manager: Node lifecycle (a Node whose instance is gone is deleted) and
 * Services of type LoadBalancer (load balancers and their security groups, created with the cluster's
 * tag and changed only when they carry it). Routes are not managed (the pod network routes).
 */
export function cloudControllerStatements({ clusterName, region }: AddonIamProps): AddonStatement[] {
  const partition = partitionOf(region);
  return [
    {
      Sid: "CloudControllerDescribe",
      Effect: "Allow",
      Action: [
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeTags",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeInstanceTopology",
        "ec2:DescribeInstances",
        "ec2:DescribeRegions",
        "ec2:DescribeRouteTables",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeLoadBalancerPolicies",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
        "kms:DescribeKey",
      ],
      Resource: "*",
    },
    {
      Sid: "CloudControllerOwnClusterResources",
      Effect: "Allow",
      Action: [
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:DeleteSecurityGroup",
        "ec2:ModifyInstanceAttribute",
        "ec2:RevokeSecurityGroupIngress",
        "elasticloadbalancing:AddTags",
        "elasticloadbalancing:ApplySecurityGroupsToLoadBalancer",
        "elasticloadbalancing:AttachLoadBalancerToSubnets",
        "elasticloadbalancing:ConfigureHealthCheck",
        "elasticloadbalancing:CreateLoadBalancerListeners",
        "elasticloadbalancing:CreateLoadBalancerPolicy",
        "elasticloadbalancing:DeleteListener",
        "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:DeleteLoadBalancerListeners",
        "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
        "elasticloadbalancing:DeregisterTargets",
        "elasticloadbalancing:DetachLoadBalancerFromSubnets",
        "elasticloadbalancing:ModifyListener",
        "elasticloadbalancing:ModifyLoadBalancerAttributes",
        "elasticloadbalancing:ModifyTargetGroup",
        "elasticloadbalancing:ModifyTargetGroupAttributes",
        "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
        "elasticloadbalancing:RegisterTargets",
        "elasticloadbalancing:SetLoadBalancerPoliciesForBackendServer",
        "elasticloadbalancing:SetLoadBalancerPoliciesOfListener",
      ],
      Resource: "*",
      Condition: clusterTagged(clusterName),
    },
    {
      Sid: "CloudControllerCreateWithClusterTag",
      Effect: "Allow",
      Action: [
        "ec2:CreateSecurityGroup",
        "elasticloadbalancing:CreateListener",
        "elasticloadbalancing:CreateLoadBalancer",
        "elasticloadbalancing:CreateTargetGroup",
      ],
      Resource: "*",
      Condition: { StringEquals: { [`aws:RequestTag/${CLUSTER_TAG}`]: clusterName } },
    },
    {
      // CreateSecurityGroup is also authorized against the VPC, which carries no request tag.
      Sid: "CloudControllerCreateSecurityGroupInVpc",
      Effect: "Allow",
      Action: ["ec2:CreateSecurityGroup"],
      Resource: [`arn:${partition}:ec2:*:*:vpc/*`],
    },
    {
      Sid: "CloudControllerTagNewSecurityGroups",
      Effect: "Allow",
      Action: ["ec2:CreateTags"],
      Resource: [`arn:${partition}:ec2:*:*:security-group/*`],
      Condition: {
        StringEquals: { [`aws:RequestTag/${CLUSTER_TAG}`]: clusterName, "ec2:CreateAction": ["CreateSecurityGroup"] },
      },
    },
    {
      // The load balancers' service-linked role, created once per account on first use.
      Sid: "CloudControllerLoadBalancerServiceRole",
      Effect: "Allow",
      Action: ["iam:CreateServiceLinkedRole"],
      Resource: [`arn:${partition}:iam::*:role/aws-service-role/elasticloadbalancing.amazonaws.com/*`],
      Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } },
    },
  ];
}

/** The conditions that make a volume the EBS CSI driver's: its tag, the cluster's, and no role tag. */
function csiVolumeConditions(clusterName: string): AddonStatement["Condition"] {
  return {
    StringEquals: {
      [`aws:ResourceTag/${EBS_CSI_VOLUME_TAG}`]: "true",
      [`aws:ResourceTag/kubernetes.io/cluster/${clusterName}`]: "owned",
      [`aws:ResourceTag/${CLUSTER_TAG}`]: clusterName,
    },
    // The etcd volumes (and the masters' root volumes) carry k8s.io/role/master: never the driver's.
    Null: { [`aws:ResourceTag/${MASTER_ROLE_TAG}`]: "true" },
  };
}

/**
 * The EBS CSI driver's controller: it creates volumes tagged as its own (and may not give them etcd's
 * or a role's tags), tags them at creation only, and attaches, detaches, modifies and deletes only
 * volumes that carry its tags, on this cluster's instances. The default StorageClass encrypts with
 * the account's default EBS key (`aws/ebs`), which needs no KMS permission.
 */
export function ebsCsiStatements({ clusterName, region }: AddonIamProps): AddonStatement[] {
  const partition = partitionOf(region);
  const volumes = `arn:${partition}:ec2:*:*:volume/*`;
  const ownRequestTags = {
    [`aws:RequestTag/${EBS_CSI_VOLUME_TAG}`]: "true",
    [`aws:RequestTag/kubernetes.io/cluster/${clusterName}`]: "owned",
    [`aws:RequestTag/${CLUSTER_TAG}`]: clusterName,
  };
  return [
    {
      Sid: "EbsCsiDescribe",
      Effect: "Allow",
      Action: [
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeInstances",
        "ec2:DescribeTags",
        "ec2:DescribeVolumeStatus",
        "ec2:DescribeVolumes",
        "ec2:DescribeVolumesModifications",
      ],
      Resource: "*",
    },
    {
      Sid: "EbsCsiCreateOwnVolumes",
      Effect: "Allow",
      Action: ["ec2:CreateVolume"],
      Resource: [volumes],
      Condition: {
        StringEquals: ownRequestTags,
        "ForAllValues:StringNotLike": { "aws:TagKeys": ["k8s.io/etcd/*", "k8s.io/role/*"] },
      },
    },
    {
      Sid: "EbsCsiTagOwnVolumesAtCreation",
      Effect: "Allow",
      Action: ["ec2:CreateTags"],
      Resource: [volumes],
      Condition: {
        StringEquals: { ...ownRequestTags, "ec2:CreateAction": ["CreateVolume"] },
        "ForAllValues:StringNotLike": { "aws:TagKeys": ["k8s.io/etcd/*", "k8s.io/role/*"] },
      },
    },
    {
      Sid: "EbsCsiManageOwnVolumes",
      Effect: "Allow",
      Action: ["ec2:AttachVolume", "ec2:DeleteVolume", "ec2:DetachVolume", "ec2:ModifyVolume"],
      Resource: [volumes],
      Condition: csiVolumeConditions(clusterName),
    },
    {
      // AttachVolume and DetachVolume are authorized against the instance too: this cluster's only.
      Sid: "EbsCsiAttachToClusterInstances",
      Effect: "Allow",
      Action: ["ec2:AttachVolume", "ec2:DetachVolume"],
      Resource: [`arn:${partition}:ec2:*:*:instance/*`],
      Condition: clusterTagged(clusterName),
    },
  ];
}

/**
 * The termination handler in queue mode: it reads and deletes the events of its own queue, looks up
 * instances and groups, and completes the lifecycle action of the groups it manages in this cluster.
 */
export function terminationHandlerStatements({ clusterName, region }: AddonIamProps): AddonStatement[] {
  const partition = partitionOf(region);
  return [
    {
      Sid: "TerminationHandlerDescribe",
      Effect: "Allow",
      Action: ["autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeTags", "ec2:DescribeInstances"],
      Resource: "*",
    },
    {
      // The queue's account is this one; the name is unique per cluster (`*` stands for the account id,
      // which is not known without AWS at synthesis).
      Sid: "TerminationHandlerOwnQueue",
      Effect: "Allow",
      Action: ["sqs:DeleteMessage", "sqs:ReceiveMessage"],
      Resource: [`arn:${partition}:sqs:${region}:*:${terminationQueueName(clusterName)}`],
    },
    {
      Sid: "TerminationHandlerCompleteLifecycleAction",
      Effect: "Allow",
      Action: ["autoscaling:CompleteLifecycleAction"],
      Resource: "*",
      Condition: {
        StringEquals: { [`autoscaling:ResourceTag/${CLUSTER_TAG}`]: clusterName },
        Null: { [`autoscaling:ResourceTag/${NTH_MANAGED_TAG}`]: "false" },
      },
    },
  ];
}

/**
 * The Amazon VPC CNI's agent on every node: it creates and attaches network interfaces and assigns
 * their addresses to pods. As in kops and AWS's AmazonEKS_CNI_Policy, the interface actions take
 * Resource "*": the interfaces it creates carry no tag this cluster owns before they exist, and
 * AssignPrivateIpAddresses takes no tag condition (an accepted finding, README "IAM of the add-ons").
 */
export function vpcCniStatements({ region }: AddonIamProps): AddonStatement[] {
  const partition = partitionOf(region);
  return [
    {
      Sid: "VpcCniDescribe",
      Effect: "Allow",
      Action: [
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeInstances",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeTags",
      ],
      Resource: "*",
    },
    {
      Sid: "VpcCniManageNetworkInterfaces",
      Effect: "Allow",
      Action: [
        "ec2:AssignPrivateIpAddresses",
        "ec2:AttachNetworkInterface",
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:DetachNetworkInterface",
        "ec2:ModifyNetworkInterfaceAttribute",
        "ec2:UnassignPrivateIpAddresses",
      ],
      Resource: "*",
    },
    {
      Sid: "VpcCniTagNetworkInterfaces",
      Effect: "Allow",
      Action: ["ec2:CreateTags"],
      Resource: [`arn:${partition}:ec2:*:*:network-interface/*`],
    },
  ];
}
