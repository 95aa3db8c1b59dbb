/**
 * Every default of the cluster spec, in one place, so that the README, the tests and the code agree.
 * Where kops has a default we take it, unless security says otherwise (each such case says why).
 */

/** @default "172.20.0.0/16", kops's default network CIDR. */
export const DEFAULT_NETWORK_CIDR = "172.20.0.0/16";

/** @default "public", as kops: one public subnet per zone. */
export const DEFAULT_TOPOLOGY = "public";

/** @default "cilium", the CNI that current kops releases default to. */
export const DEFAULT_NETWORKING = "cilium";

/**
 * @default "1.33.5". kops takes this from its release channel; kopsform has no channel, so the spec
 * records the version explicitly. Pin your own with `--kubernetes-version`.
 */
export const DEFAULT_KUBERNETES_VERSION = "1.33.5";

/** @default "t3.medium", the machine type kops chooses for control-plane nodes on AWS. */
export const DEFAULT_MASTER_SIZE = "t3.medium";

/** @default "t3.medium", the machine type kops chooses for worker nodes on AWS. */
export const DEFAULT_NODE_SIZE = "t3.medium";

/** @default 64 (GiB), kops's control-plane root volume. */
export const DEFAULT_MASTER_VOLUME_SIZE_GIB = 64;

/** @default 128 (GiB), kops's worker root volume. */
export const DEFAULT_NODE_VOLUME_SIZE_GIB = 128;

/** @default 20 (GiB), kops's etcd volume size (main and events alike). */
export const DEFAULT_ETCD_VOLUME_SIZE_GIB = 20;

/** @default "gp3", kops's etcd storage type. */
export const DEFAULT_ETCD_STORAGE_TYPE = "gp3";

/** @default "public": the cluster's DNS records go to a public hosted zone, as kops. */
export const DEFAULT_DNS_TYPE = "public";

/** @default true: VPC flow logs to CloudWatch Logs (kops has none; a hardening beyond kops). */
export const DEFAULT_FLOW_LOGS = true;

/** @default 365 (days): flow-log retention; scanners ask for at least a year (CKV_AWS_338). */
export const DEFAULT_FLOW_LOG_RETENTION_DAYS = 365;

/**
 * The default image when the spec names none: the current Ubuntu 24.04 LTS AMI, read by EC2 itself
 * from Canonical's public SSM parameter when an instance launches (`resolve:ssm:` in the launch
 * template), so that a plan needs no AWS lookup. `%ARCH%` is `amd64` or `arm64` after the machine
 * type. Pin an exact AMI with `--image ami-...`.
 */
export const DEFAULT_IMAGE_SSM_PARAMETER =
  "/aws/service/canonical/ubuntu/server/24.04/stable/current/%ARCH%/hvm/ebs-gp3/ami-id";

/** The largest etcd cluster kopsform builds; beyond 7 members etcd writes slow down for no gain. */
export const MAX_MASTER_COUNT = 7;

/** @default 1: nodes per zone when `nodeCount` is unset (kops: "defaults to one node per zone"). */
export const DEFAULT_NODES_PER_ZONE = 1;

/** Where the local backend keeps state, relative to a stack directory (`<output>/stacks/NAME/`). */
export const LOCAL_STATE_DIR_FROM_STACK = "../../..";

/** The config directory `kopsform create cluster` and `kopsform synth` use by default. */
export const DEFAULT_CONFIG_DIR = "clusters";

/** The output directory, as cdktf's. */
export const DEFAULT_OUTPUT_DIR = "cdktf.out";
