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
import { Networking } from "../spec/networking";
import { AddonStatement, masterAddonStatements, nodeAddonStatements } from "./iam-addons";
import { IAM_NAME_MAX, clusterSlug, limitedName, partitionOf } from "./names";
import { CLUSTER_TAG, MASTER_ROLE_TAG, NODE_ROLE_TAG } from "./tags";

/** A role and the instance profile that wraps it (one role per profile). */
export interface InstanceRole {
  readonly role: IamRole;
  readonly profile: IamInstanceProfile;
  /** The role's policy (none for a role without rights): instances need it before they boot. */
  readonly policy?: IamRolePolicy;
}

/** What the instances' run-time logic uses, for the policies that scope their rights to it. */
export interface RunTimeResources {
  /** The cluster's region (SSM parameter ARNs and kms:ViaService name it). */
  readonly region: string;
  /** The cluster's KMS key (modules/cluster-key.ts). */
  readonly kmsKeyArn: string;
  /** The cluster's bucket (modules/cluster-bucket.ts): boot scripts, and backups unless elsewhere. */
  readonly bucketArn: string;
  /** The bucket etcd backups go to: the cluster's own, or the spec's etcdBackupBucket. */
  readonly backupBucketArn: string;
  /**
   * A customer KMS key of the etcd volumes (spec etcdKmsKeyId): attaching a volume encrypted with it
   * needs grants on it. @default none (the AWS-managed EBS key needs no rights)
   */
  readonly etcdVolumeKmsKeyArn?: string;
}

/** Props of {@link Iam}. */
export interface IamProps {
  readonly clusterName: string;
  readonly runTime: RunTimeResources;
  /** Create the bastion's role. @default false */
  readonly bastion?: boolean;
  /**
   * The add-ons' statements (modules/iam-addons.ts) for this region and pod network.
   * @default none (no add-on statements)
   */
  readonly addons?: { readonly region: string; readonly networking: Networking };
}

/** A policy statement. */
export interface Statement {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

/** The roles of a cluster. */
export class Iam extends Construct {
  readonly masters: InstanceRole;
  readonly nodes: InstanceRole;
  readonly bastions?: InstanceRole;

  constructor(scope: Construct, id: string, props: IamProps) {
    super(scope, id);
    const cluster = props.clusterName;
    const addons = props.addons ? { clusterName: cluster, ...props.addons } : undefined;
    this.masters = this.instanceRole("masters", cluster, [
      ...mastersPolicy(cluster, props.runTime),
      ...(addons ? masterAddonStatements(addons) : []),
    ]);
    this.nodes = this.instanceRole("nodes", cluster, [
      ...nodesPolicy(cluster, props.runTime),
      ...(addons ? nodeAddonStatements(addons) : []),
    ]);
    if (props.bastion) {
      // The bastion only forwards SSH; it needs no AWS API at all, hence a role without policies.
      this.bastions = this.instanceRole("bastions", cluster, []);
    }
  }

  /** `aws_iam_role.<role>-<cluster>` and its profile and policy, named `<role>.<cluster>` as kops names them. */
  private instanceRole(role: string, cluster: string, statements: readonly (Statement | AddonStatement)[]): InstanceRole {
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
    let policy: IamRolePolicy | undefined;
    if (statements.length > 0) {
      policy = new IamRolePolicy(this, `${role}-policy`, {
        name: awsName,
        role: iamRole.name,
        policy: Fn.jsonencode({ Version: "2012-10-17", Statement: statements }),
      });
      policy.overrideLogicalId(tfName);
    }
    return { role: iamRole, profile, policy };
  }
}

/** The ARN of the cluster's run-time store parameters under `path` (`config/*`, `pki/*`). */
function storeArn(cluster: string, runTime: RunTimeResources, path: string): string {
  return `arn:${partitionOf(runTime.region)}:ssm:${runTime.region}:*:parameter/kopsform/${cluster}/${path}`;
}

/**
 * What a master calls, step by step (boot/: the test iam-calls.test.ts derives the calls from the
 * scripts and compares them with this policy):
 * - etcd volumes (steps/volumes.sh): describe and attach. AttachVolume is authorized against the
 *   volume and the instance, so both must carry this cluster's tag and the master role tag: a
 *   master can never take another cluster's volumes, nor a node's. Nothing detaches: a terminated
 *   instance lets go of its volumes. Describe calls cannot be scoped by resource in EC2.
 * - etcd names (steps/hosts.sh): describe instances (and volumes).
 * - giving up (lib.sh give_up): marking itself Unhealthy, only on groups tagged as this cluster's
 *   masters.
 * - the run-time store (steps/pki.sh, steps/etcd.sh): reading the cluster's parameters, creating
 *   the CAs and markers once (never overwriting them: the Deny), writing the join token.
 * - the cluster's key, only through SSM and S3 (kms:ViaService).
 * - the boot scripts (loader.sh) and etcd backups (steps/etcd-backup.sh, bin/kopsform-etcd-restore):
 *   the cluster's bucket under NAME/boot/ and NAME/backups/etcd/.
 * - a customer key of the etcd volumes: the grants EC2 needs to attach them (kops's scoping:
 *   kms:GrantIsForAWSResource, and the data actions only through EC2).
 */
function mastersPolicy(cluster: string, runTime: RunTimeResources): Statement[] {
  const clusterTags = {
    [`aws:ResourceTag/${CLUSTER_TAG}`]: cluster,
    [`aws:ResourceTag/${MASTER_ROLE_TAG}`]: "1",
  };
  const viaServices = [`ssm.${runTime.region}.amazonaws.com`, `s3.${runTime.region}.amazonaws.com`];
  const statements: Statement[] = [
    {
      Sid: "DescribeVolumesAndInstances",
      Effect: "Allow",
      Action: ["ec2:DescribeInstances", "ec2:DescribeVolumes"],
      Resource: "*",
    },
    {
      Sid: "AttachOwnClusterEtcdVolumes",
      Effect: "Allow",
      Action: ["ec2:AttachVolume"],
      Resource: "*",
      Condition: { StringEquals: clusterTags },
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
    {
      Sid: "ReadRunTimeStore",
      Effect: "Allow",
      Action: ["ssm:GetParameter"],
      Resource: ["config/*", "pki/*", "etcd/*", "k8s/*", "join/*"].map((path) => storeArn(cluster, runTime, path)),
    },
    {
      Sid: "WriteRunTimeStore",
      Effect: "Allow",
      Action: ["ssm:PutParameter"],
      Resource: ["pki/*", "etcd/*", "k8s/*", "join/*"].map((path) => storeArn(cluster, runTime, path)),
    },
    {
      // CAs and markers are created once and never replaced, whatever a master runs.
      Sid: "NeverOverwriteCasAndMarkers",
      Effect: "Deny",
      Action: ["ssm:PutParameter"],
      Resource: ["pki/*", "etcd/*", "k8s/*"].map((path) => storeArn(cluster, runTime, path)),
      Condition: { StringEquals: { "ssm:Overwrite": "true" } },
    },
    {
      Sid: "UseClusterKeyThroughSsmAndS3",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
      Resource: runTime.kmsKeyArn,
      Condition: { StringEquals: { "kms:ViaService": viaServices } },
    },
    {
      Sid: "ReadBootScripts",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: `${runTime.bucketArn}/${cluster}/boot/*`,
    },
    {
      Sid: "WriteAndReadEtcdBackups",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject"],
      Resource: `${runTime.backupBucketArn}/${cluster}/backups/etcd/*`,
    },
    {
      Sid: "ListEtcdBackups",
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: runTime.backupBucketArn,
      Condition: { StringLike: { "s3:prefix": `${cluster}/backups/etcd/*` } },
    },
  ];
  if (runTime.etcdVolumeKmsKeyArn) {
    statements.push(
      {
        Sid: "GrantEc2UseOfEtcdVolumeKey",
        Effect: "Allow",
        Action: ["kms:CreateGrant"],
        Resource: runTime.etcdVolumeKmsKeyArn,
        Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
      },
      {
        Sid: "UseEtcdVolumeKeyThroughEc2",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"],
        Resource: runTime.etcdVolumeKmsKeyArn,
        Condition: { StringEquals: { "kms:ViaService": `ec2.${runTime.region}.amazonaws.com` } },
      },
    );
  }
  return statements;
}

/**
 * What a node calls at boot (loader.sh, steps/join.sh): the bucket's name and the API's endpoint from
 * the store's config/, the boot scripts from the bucket, the join token and the CA's hash the masters
 * keep under join/ (the token is a SecureString: decrypting it with the cluster's key, only through
 * SSM), and, when it cannot start (lib.sh give_up), marking itself Unhealthy, only on groups tagged
 * as this cluster's nodes. Nothing of pki/, etcd/ or k8s/: a node never reads a CA.
 */
function nodesPolicy(cluster: string, runTime: RunTimeResources): Statement[] {
  return [
    {
      Sid: "ReplaceOwnClusterNodes",
      Effect: "Allow",
      Action: ["autoscaling:SetInstanceHealth"],
      Resource: "*",
      Condition: {
        StringEquals: {
          [`autoscaling:ResourceTag/${CLUSTER_TAG}`]: cluster,
          [`autoscaling:ResourceTag/${NODE_ROLE_TAG}`]: "1",
        },
      },
    },
    {
      Sid: "ReadRunTimeConfigAndJoinToken",
      Effect: "Allow",
      Action: ["ssm:GetParameter"],
      Resource: [storeArn(cluster, runTime, "config/*"), storeArn(cluster, runTime, "join/*")],
    },
    {
      Sid: "DecryptJoinTokenThroughSsm",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: runTime.kmsKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `ssm.${runTime.region}.amazonaws.com` } },
    },
    {
      Sid: "ReadBootScripts",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: `${runTime.bucketArn}/${cluster}/boot/*`,
    },
  ];
}
