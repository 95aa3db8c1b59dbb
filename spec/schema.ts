/**
 * The shape of `clusters/NAME.yaml`: field names, types and value checks, as a zod schema. Unknown keys
 * are errors. Cross-field rules (quorum, zones in one region, the address plan) live in validate.ts.
 */
import { z } from "zod";
import {
  checkAccessCidr,
  checkAwsId,
  checkDnsName,
  checkImage,
  checkInstanceType,
  checkKubernetesVersion,
  checkNetworkCidr,
  checkSecurityGroupId,
  checkSshPublicKey,
  checkSubnetCidr,
  checkTag,
  checkZone,
} from "./checks";

/** kops's networking names, with the aliases kops accepts mapped to one canonical name. */
export const NETWORKING_ALIASES: Readonly<Record<string, Networking>> = {
  kopeio: "kopeio-vxlan",
  "flannel-vxlan": "flannel",
  amazonvpc: "amazon-vpc-routed-eni",
};

export const NETWORKING_OPTIONS = [
  "kubenet",
  "kopeio-vxlan",
  "weave",
  "flannel",
  "calico",
  "canal",
  "cilium",
  "kube-router",
  "amazon-vpc-routed-eni",
  "external",
  "cni",
] as const;
export type Networking = (typeof NETWORKING_OPTIONS)[number];

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
const positiveInt = z.number().int().positive();

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

const taint = z.string().regex(/^[A-Za-z0-9./_-]+(=[A-Za-z0-9._-]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$/, {
  message: "is not a taint; use key=value:Effect with Effect NoSchedule, PreferNoSchedule or NoExecute.",
});

const nodeGroup = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/, {
    message: "is not a node group name; use 1-40 lower-case letters, digits and hyphens.",
  }),
  zones: z.array(zone).min(1).optional(),
  size: checked(checkInstanceType).optional(),
  minSize: z.number().int().nonnegative(),
  maxSize: z.number().int().nonnegative(),
  volumeSize: positiveInt.optional(),
  image: checked(checkImage).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  taints: z.array(taint).optional(),
  securityGroups: z.array(checked(checkSecurityGroupId)).optional(),
});

const backend = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("local"),
    /** State file, relative to the project directory. */
    path: z
      .string()
      .regex(/^[^/\\~][^\\]*$/, { message: "must be a relative path (state files stay out of cdktf.out/ and portable)." })
      .optional(),
  }),
  z.strictObject({
    type: z.literal("s3"),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: "is not an S3 bucket name." }),
    key: z.string().min(1).optional(),
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { message: "is not an AWS region." }).optional(),
    kmsKeyId: z.string().min(1).optional(),
    useLockfile: z.boolean().optional(),
    dynamodbTable: z.string().min(1).optional(),
  }),
  z.strictObject({
    type: z.literal("cloud"),
    organization: z.string().min(1),
    workspace: z.string().regex(/^[A-Za-z0-9_-]{1,90}$/, { message: "is not a workspace name." }).optional(),
    workspaceTags: z.array(z.string().min(1)).min(1).optional(),
    project: z.string().min(1).optional(),
    hostname: z.string().min(1).optional(),
  }),
]);

/** The cluster spec as written in YAML, before defaults. Every field but `name` and `zones` is optional. */
export const clusterSpecSchema = z.strictObject({
  name: checked((v) => checkDnsName(v, "cluster name")),
  kubernetesVersion: checked(checkKubernetesVersion).optional(),
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
    .preprocess((v) => (typeof v === "string" ? (NETWORKING_ALIASES[v] ?? v) : v), z.enum(NETWORKING_OPTIONS))
    .optional(),
  networkCidr: checked(checkNetworkCidr).optional(),
  vpc: checked((v) => checkAwsId(v, "vpc")).optional(),
  subnets: z.array(subnetEntry).optional(),
  dnsZone: z.string().min(1).optional(),
  dns: z.enum(["public", "private"]).optional(),
  apiLoadBalancerType: z.enum(["public", "internal"]).optional(),
  adminAccess: z.array(checked(checkAccessCidr)).min(1).optional(),
  sshAccess: z.array(checked(checkAccessCidr)).optional(),
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
  etcdStorageType: z.enum(ETCD_STORAGE_TYPES).optional(),
  etcdVolumeSize: positiveInt.optional(),
  encryptEtcdStorage: z.boolean().optional(),
  etcdKmsKeyId: z.string().min(1).optional(),
  flowLogs: z.boolean().optional(),
  flowLogRetentionDays: positiveInt.optional(),
  flowLogKmsKeyArn: z.string().regex(/^arn:aws[a-z-]*:kms:/, { message: "is not a KMS key ARN." }).optional(),
  allowApiLoadBalancerDeletion: z.boolean().optional(),
  apiAccessLogsBucket: z.string().min(3).optional(),
  nodeGroups: z.array(nodeGroup).optional(),
  backend: backend.optional(),
});

/** The spec as written, after the schema accepted it. */
export type ClusterSpecInput = z.infer<typeof clusterSpecSchema>;
export type NodeGroupInput = z.infer<typeof nodeGroup>;
export type BackendInput = z.infer<typeof backend>;

/** Every top-level field name, for suggestions on a misspelt key. */
export const SPEC_FIELDS = Object.keys(clusterSpecSchema.shape);
