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

/**
 * The Kubernetes minor versions kopsform runs, inclusive: those every pinned add-on supports
 * (spec/pins.ts). A test checks each add-on's range covers this one; widen it only with pins that do.
 */
export const SUPPORTED_KUBERNETES = { min: "1.32", max: "1.34" } as const;

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

/**
 * @default "3.5.33": the etcd release masters run, the newest 3.5 (the line Kubernetes 1.33 is
 * tested with) whose sha256 is pinned below. Never "latest": a release is a spec value, changed on
 * purpose.
 */
export const DEFAULT_ETCD_VERSION = "3.5.33";

/**
 * sha256 of etcd-v3.5.33-linux-{amd64,arm64}.tar.gz, as published with the release and listed in
 * kubespray's checksum table (roles/kubespray_defaults/vars/main/checksums.yml). A spec that names
 * another etcdVersion names its checksums too (etcdSha256).
 */
export const DEFAULT_ETCD_SHA256 = {
  amd64: "5025b5b24d81a9616b6e284ccd439b9a3df055ef8fdcdc142af3ec8f6a3b3c95",
  arm64: "0764c5c0acef155f4bfa0487791cc5776adef66315bf16ec0653883bfd463a90",
} as const;

/**
 * @default the etcd project's GitHub releases. A private mirror with the same layout
 * (URL/vVERSION/etcd-vVERSION-linux-ARCH.tar.gz) serves clusters without internet.
 */
export const DEFAULT_ETCD_DOWNLOAD_URL = "https://github.com/etcd-io/etcd/releases/download";

/**
 * The Kubernetes minor versions kopsform's boot supports: kubeadm's v1beta4 configuration (1.31 and
 * later) and the releases whose package repositories exist on pkgs.k8s.io as kopsform was tested.
 */
export const SUPPORTED_KUBERNETES_MINORS = { oldest: 31, newest: 36 } as const;

/**
 * The containerd release every instance runs (2.3.4), checked by sha256 (as listed in kubespray's
 * checksum table, roles/kubespray_defaults/vars/main/checksums.yml). Not a spec field: kopsform
 * moves it with its own releases, like kops.
 */
export const CONTAINERD_VERSION = "2.3.4";

/** sha256 of containerd-2.3.4-linux-{amd64,arm64}.tar.gz. */
export const CONTAINERD_SHA256 = {
  amd64: "9d68969855fbf676cdb8ed758e420fb048d61f984f61de3e53eddfebe484d168",
  arm64: "a985fbb7e18fc0362d31a055338f5d7b0e087a3e27f14c70d1c5965399a29f95",
} as const;

/** Upstream's layout: URL/vVERSION/containerd-VERSION-linux-ARCH.tar.gz. */
export const CONTAINERD_DOWNLOAD_URL = "https://github.com/containerd/containerd/releases/download";

/** The runc release beside containerd (1.4.3), checked by sha256 (the same table). */
export const RUNC_VERSION = "1.4.3";

/** sha256 of runc.{amd64,arm64} of runc 1.4.3. */
export const RUNC_SHA256 = {
  amd64: "f6ae8efc0fa40079e1475e97cbe9d1bd3f106a28d6af78a11d9f1bd565515e60",
  arm64: "633301e2e32f8a5ad54031aab4901eb00308bec677dd15faa2751e8f9dab5ca4",
} as const;

/** Upstream's layout: URL/vVERSION/runc.ARCH. */
export const RUNC_DOWNLOAD_URL = "https://github.com/opencontainers/runc/releases/download";

/**
 * @default the Kubernetes project's package repositories (pkgs.k8s.io): URL/vMINOR/deb/. A mirror
 * with the same layout serves clusters without internet (the spec's kubernetesPackageRepository).
 */
export const DEFAULT_KUBERNETES_PACKAGE_REPOSITORY = "https://pkgs.k8s.io/core:/stable:";

/**
 * The fingerprint of the key that signs pkgs.k8s.io's repositories (every minor's Release.key is
 * the same key): the instances trust a downloaded key only when it has this fingerprint.
 */
export const KUBERNETES_PACKAGE_KEY_FINGERPRINT = "DE15B14486CD377B9E876E1A234654DA9A296436";

/**
 * @default "100.96.0.0/11", kops's pod network (kubeControllerManager.clusterCIDR): pods' addresses
 * for every networking option but the VPC CNI, whose pods take VPC addresses.
 */
export const DEFAULT_POD_CIDR = "100.96.0.0/11";

/** @default "100.64.0.0/13", kops's service network (serviceClusterIPRange). */
export const DEFAULT_SERVICE_CIDR = "100.64.0.0/13";

/** @default 15 (minutes) between etcd backups, as kops's etcd-manager. */
export const DEFAULT_ETCD_BACKUP_INTERVAL_MINUTES = 15;

/** @default 90 (days) etcd backups are kept, as kops's etcd-manager (backupRetentionDays). */
export const DEFAULT_ETCD_BACKUP_RETENTION_DAYS = 90;

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
