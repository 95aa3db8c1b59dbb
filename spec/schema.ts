/**
 * The shape of `clusters/NAME.yaml`: field names, types and value checks, as a zod schema. Unknown keys
 * are errors. Cross-field rules (quorum, zones in one region, the address plan) live in validate.ts.
 */
import { z } from "zod";
import {
  checkAccessCidr,
  checkAwsId,
  checkBucketName,
  checkDynamodbTable,
  checkHcpOrganization,
  checkHcpProject,
  checkHcpTag,
  checkHostname,
  checkKmsKeyArn,
  checkKmsKeyReference,
  checkStateKey,
  checkStatePath,
  checkClusterName,
  checkClusterNetwork,
  checkDownloadUrl,
  checkEtcdVersion,
  checkImage,
  checkInstanceType,
  checkNodeLabelKey,
  checkLabelValue,
  checkKubernetesVersion,
  checkMirrorUrl,
  checkKubernetesVersionFormat,
  checkNetworkCidr,
  checkPackageRepository,
  checkSecurityGroupId,
  checkSshPublicKey,
  checkSubnetCidr,
  checkTag,
  checkTaint,
  checkZone,
  taintKeyAndEffect,
} from "./checks";
import { NETWORKING_ALIASES, checkNetworking } from "./networking";
import { DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR } from "./defaults";
import { ETCD_MEMBER_NAME, ETCD_MEMBER_NAME_MESSAGE } from "./etcd-members";

export { NETWORKING_ALIASES, NETWORKING_OPTIONS } from "./networking";
export type { Networking } from "./networking";

export const ETCD_STORAGE_TYPES = ["gp3", "gp2", "io1", "io2"] as const;

/** A string refined by a check from checks.ts; the check's message becomes the problem. */
function checked(check: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const message = check(value);
    if (message) {
      ctx.addIssue({ code: "custom", message });
    }
  });
}

const zone = checked(checkZone);

/** The retentions (days) CloudWatch Logs accepts for a log group. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Refuses a list that names the same entry twice (two identical firewall rules would collide). */
function noDuplicates(values: readonly string[], ctx: z.RefinementCtx): void {
  const twice = values.filter((v, i) => values.indexOf(v) !== i);
  if (twice.length > 0) {
    ctx.addIssue({ code: "custom", message: `lists ${[...new Set(twice)].join(", ")} twice; list each once.` });
  }
}
const positiveInt = z.number().int().positive();

/** An etcd member name (`a`, `b`, `a-2`). */
const etcdMember = z.string().regex(ETCD_MEMBER_NAME, { message: ETCD_MEMBER_NAME_MESSAGE });

const subnetEntry = z.strictObject({
  /** The zone this subnet is in. */
  zone,
  /** private or utility (private topology), public (public topology). */
  type: z.enum(["private", "utility", "public"]),
  /** Overrides the planned CIDR. */
  cidr: checked(checkSubnetCidr).optional(),
  /** A shared subnet's id: nothing is created for it (needs `vpc`). */
  id: checked((v) => checkAwsId(v, "subnet")).optional(),
});

/** Node taints: each well formed, and one per key and effect (Kubernetes refuses a node otherwise). */
const taints = z.array(checked(checkTaint)).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((taint, i) => {
    const keyAndEffect = taintKeyAndEffect(taint);
    if (seen.has(keyAndEffect)) {
      ctx.addIssue({ code: "custom", path: [i], message: `${JSON.stringify(taint)} repeats the key and effect ${keyAndEffect}; give one taint per key and effect.` });
    }
    seen.add(keyAndEffect);
  });
});

/** Node labels: Kubernetes label keys and values. */
const nodeLabels = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const [key, value] of Object.entries(labels)) {
    const message = checkNodeLabelKey(key) ?? checkLabelValue(value);
    if (message) {
      ctx.addIssue({ code: "custom", message, path: [key] });
    }
  }
});

const nodeGroup = z.strictObject({
  name: z.string().regex(/^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/, {
    message: "is not a node group name; use 1-40 lower-case letters, digits and hyphens, starting with a letter.",
  }),
  zones: z.array(zone).min(1).optional(),
  size: checked(checkInstanceType).optional(),
  minSize: z.number().int().nonnegative(),
  maxSize: z.number().int().nonnegative(),
  volumeSize: positiveInt.optional(),
  image: checked(checkImage).optional(),
  labels: nodeLabels.optional(),
  taints: taints.optional(),
  securityGroups: z.array(checked(checkSecurityGroupId)).optional(),
});

const backend = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("local"),
    /** State file, relative to the project directory and inside it. */
    path: checked(checkStatePath).optional(),
  }),
  z.strictObject({
    type: z.literal("s3"),
    bucket: checked(checkBucketName),
    key: checked(checkStateKey).optional(),
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { message: "is not an AWS region." }).optional(),
    kmsKeyId: checked(checkKmsKeyReference).optional(),
    useLockfile: z.boolean().optional(),
    dynamodbTable: checked(checkDynamodbTable).optional(),
  }),
  z.strictObject({
    type: z.literal("cloud"),
    organization: checked(checkHcpOrganization),
    workspace: z.string().regex(/^[A-Za-z0-9_-]{1,90}$/, { message: "is not a workspace name." }).optional(),
    workspaceTags: z.array(checked(checkHcpTag)).min(1).optional(),
    project: checked(checkHcpProject).optional(),
    hostname: checked(checkHostname).optional(),
  }),
]);

/** The cluster spec as written in YAML, before defaults. Every field but `name` and `zones` is optional. */
export const clusterSpecSchema = z.strictObject({
  name: checked(checkClusterName),
  kubernetesVersion: checked(checkKubernetesVersion).optional(),
  /** The version the cluster runs: the committed record upgrades are checked against (spec/upgrade.ts). */
  deployedKubernetesVersion: checked(checkKubernetesVersionFormat).optional(),
  zones: z.array(zone).min(1, { message: "needs at least one zone." }),
  masterZones: z.array(zone).min(1).optional(),
  masterCount: positiveInt.optional(),
  nodeCount: z.number().int().nonnegative().optional(),
  masterSize: checked(checkInstanceType).optional(),
  nodeSize: checked(checkInstanceType).optional(),
  masterVolumeSize: positiveInt.optional(),
  nodeVolumeSize: positiveInt.optional(),
  image: checked(checkImage).optional(),
  topology: z.enum(["public", "private"]).optional(),
  networking: z
    .preprocess((v) => (typeof v === "string" ? (NETWORKING_ALIASES[v] ?? v) : v), checked(checkNetworking))
    .optional(),
  addonsMirror: checked(checkMirrorUrl).optional(),
  networkCidr: checked(checkNetworkCidr).optional(),
  vpc: checked((v) => checkAwsId(v, "vpc")).optional(),
  subnets: z.array(subnetEntry).optional(),
  dnsZone: z.string().min(1).optional(),
  dns: z.enum(["public", "private"]).optional(),
  apiLoadBalancerType: z.enum(["public", "internal"]).optional(),
  adminAccess: z
    .array(checked(checkAccessCidr))
    .min(1, { message: "is empty; list who may reach the API, or remove the field for the default (the network)." })
    .superRefine(noDuplicates)
    .optional(),
  sshAccess: z.array(checked(checkAccessCidr)).superRefine(noDuplicates).optional(),
  allowSshFromAnywhere: z.boolean().optional(),
  sshPublicKey: checked(checkSshPublicKey).optional(),
  bastion: z.boolean().optional(),
  masterSecurityGroups: z.array(checked(checkSecurityGroupId)).optional(),
  nodeSecurityGroups: z.array(checked(checkSecurityGroupId)).optional(),
  cloudLabels: z
    .record(z.string(), z.string())
    .superRefine((labels, ctx) => {
      for (const [key, value] of Object.entries(labels)) {
        const message = checkTag(key, value);
        if (message) {
          ctx.addIssue({ code: "custom", message, path: [key] });
        }
      }
    })
    .optional(),
  /** Every etcd member the cluster has (kops's etcdClusters.members); see spec/etcd-members.ts. */
  etcdMembers: z.array(etcdMember).min(1).superRefine(noDuplicates).optional(),
  /** Members retired on purpose: their volumes are forgotten by Terraform, never deleted. */
  retiredEtcdMembers: z.array(etcdMember).superRefine(noDuplicates).optional(),
  etcdStorageType: z.enum(ETCD_STORAGE_TYPES).optional(),
  etcdVolumeSize: positiveInt.optional(),
  /** Provisioned IOPS of every etcd volume (gp3, io1, io2); ranges are checked in validate.ts. */
  etcdVolumeIops: positiveInt.optional(),
  encryptEtcdStorage: z.boolean().optional(),
  etcdKmsKeyId: z
    .string()
    .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-)?[0-9a-f-]{32,36}$/, {
      message: "is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID); give the key's ARN, which the masters' IAM policy is scoped to.",
    })
    .optional(),
  etcdVersion: checked(checkEtcdVersion).optional(),
  etcdSha256: z
    .strictObject({
      amd64: z.string().regex(/^[0-9a-f]{64}$/, { message: "is not a sha256 (64 lower-case hex digits)." }),
      arm64: z.string().regex(/^[0-9a-f]{64}$/, { message: "is not a sha256 (64 lower-case hex digits)." }),
    })
    .optional(),
  etcdDownloadUrl: checked(checkDownloadUrl).optional(),
  etcdBackupIntervalMinutes: z.number().int().min(5).max(1440).optional(),
  /** The pods' network (kops: networking.podCIDR); /8 to /20, so every node gets a /24. */
  podCidr: checked((v) => checkClusterNetwork(v, 8, 20, DEFAULT_POD_CIDR)).optional(),
  /** The services' network (kops: networking.serviceClusterIPRange); /12 to /24, as kube-apiserver accepts. */
  serviceCidr: checked((v) => checkClusterNetwork(v, 12, 24, DEFAULT_SERVICE_CIDR)).optional(),
  /** A mirror of pkgs.k8s.io with its layout (BASE/vMINOR/deb/), for clusters without internet. */
  kubernetesPackageRepository: checked(checkPackageRepository).optional(),
  etcdBackupRetentionDays: z.number().int().min(1).max(3650).optional(),
  etcdBackupBucket: checked(checkBucketName).optional(),
  flowLogs: z.boolean().optional(),
  flowLogRetentionDays: z
    .number()
    .superRefine((days, ctx) => {
      if (!LOG_RETENTION_DAYS.includes(days)) {
        ctx.addIssue({
          code: "custom",
          message: `${days} days is not a retention CloudWatch Logs offers; use one of ${LOG_RETENTION_DAYS.join(", ")}.`,
        });
      }
    })
    .optional(),
  flowLogKmsKeyArn: checked(checkKmsKeyArn).optional(),
  allowApiLoadBalancerDeletion: z.boolean().optional(),
  apiAccessLogsBucket: checked(checkBucketName).optional(),
  nodeGroups: z.array(nodeGroup).optional(),
  backend: backend.optional(),
});

/** The spec as written, after the schema accepted it. */
export type ClusterSpecInput = z.infer<typeof clusterSpecSchema>;
export type NodeGroupInput = z.infer<typeof nodeGroup>;
export type BackendInput = z.infer<typeof backend>;

/** Field names by where they appear, for suggestions on a misspelt key. */
export const SPEC_FIELDS = Object.keys(clusterSpecSchema.shape);
export const NODE_GROUP_FIELDS = Object.keys(nodeGroup.shape);
export const SUBNET_FIELDS = Object.keys(subnetEntry.shape);
export const BACKEND_FIELDS = [...new Set(backend.options.flatMap((option) => Object.keys(option.shape)))];
