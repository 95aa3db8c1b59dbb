/**
 * The cluster spec after defaults and validation: what stacks and modules receive. Every field is
 * filled in; derived facts (region, masters, subnets) are computed once here, never again downstream.
 */
import { PlannedSubnet } from "./address-plan";
import { Networking } from "./schema";

/** One master: its own launch template, ASG and etcd volumes, pinned to one zone. */
export interface MasterSlot {
  /** kops instance-group name and Terraform address: `master-us-west-2a`, `master-us-west-2a-2`. */
  readonly name: string;
  readonly zone: string;
  /** etcd member name, as kops: the zone letter (`a`), with `-2`, `-3` for further masters in a zone. */
  readonly member: string;
}

/** How instances get their image. */
export type ImageRef =
  | { readonly kind: "ami"; readonly id: string }
  /** `owner/name`: resolved by an `aws_ami` data source (exact name, most recent). */
  | { readonly kind: "lookup"; readonly owner: string; readonly name: string }
  /** No image given: Canonical's Ubuntu LTS, resolved by EC2 at launch from a public SSM parameter. */
  | { readonly kind: "default" };

/** A worker instance group (the default `nodes` group, then any `nodeGroups` of the spec). */
export interface NodeGroupSpec {
  readonly name: string;
  readonly zones: readonly string[];
  readonly size: string;
  readonly minSize: number;
  readonly maxSize: number;
  readonly volumeSize: number;
  readonly image: ImageRef;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly string[];
  readonly securityGroups: readonly string[];
}

/** Where Terraform keeps state. */
export type BackendSpec =
  /** `path` is relative to the project directory. */
  | { readonly type: "local"; readonly path: string }
  | {
      readonly type: "s3";
      readonly bucket: string;
      readonly key: string;
      readonly region: string;
      readonly kmsKeyId?: string;
      readonly useLockfile: boolean;
      readonly dynamodbTable?: string;
    }
  | {
      readonly type: "cloud";
      readonly organization: string;
      readonly workspace?: string;
      readonly workspaceTags?: readonly string[];
      readonly project?: string;
      readonly hostname?: string;
    };

/** The validated, defaulted cluster spec. */
export interface ClusterSpec {
  readonly name: string;
  /** Derived from the zones. */
  readonly region: string;
  readonly kubernetesVersion: string;
  /**
   * The version the cluster runs, as recorded in the committed spec; upgrades are checked against it.
   * @default none (no record: no check; `create cluster` writes it)
   */
  readonly deployedKubernetesVersion?: string;
  readonly zones: readonly string[];
  readonly masterZones: readonly string[];
  readonly masterCount: number;
  /** `masterCount` masters spread over `masterZones` round-robin (kops's rule), with stable names. */
  readonly masters: readonly MasterSlot[];
  /**
   * The etcd members the cluster has (`etcdMembers`): exactly the members of `masters`, in their order.
   * A spec file must record them; see spec/etcd-members.ts.
   */
  readonly etcdMembers: readonly string[];
  /** Members retired on purpose (`retiredEtcdMembers`): Terraform forgets their volumes, never deletes them. */
  readonly retiredEtcdMembers: readonly string[];
  readonly masterSize: string;
  readonly masterVolumeSize: number;
  readonly masterSecurityGroups: readonly string[];
  readonly image: ImageRef;
  /** The default `nodes` group first, then the spec's `nodeGroups`. */
  readonly nodeGroups: readonly NodeGroupSpec[];
  readonly topology: "public" | "private";
  readonly networking: Networking;
  /** Where the boot step fetches the add-ons' artifacts instead of upstream (`MIRROR/HOST/PATH`). */
  readonly addonsMirror?: string;
  readonly networkCidr: string;
  /** A shared VPC's id; nothing of the network is created then. */
  readonly vpc?: string;
  /** Every subnet of the cluster, planned or shared. */
  readonly subnets: readonly PlannedSubnet[];
  /** The hosted zone for `api.NAME`: an id (`Z…`) used as is, or a name looked up at plan time. */
  readonly dnsZone?: { readonly id: string } | { readonly name: string };
  readonly dns: "public" | "private";
  /** Internet-facing (`public`) when `adminAccess` is given, `internal` otherwise, unless the spec says. */
  readonly apiLoadBalancerType: "public" | "internal";
  /** CIDRs allowed to reach the API on 443. Defaults to the network CIDR (see the README). */
  readonly adminAccess: readonly string[];
  readonly sshAccess: readonly string[];
  readonly sshPublicKey?: string;
  readonly bastion: boolean;
  readonly cloudLabels: Readonly<Record<string, string>>;
  readonly etcd: {
    readonly storageType: "gp3" | "gp2" | "io1" | "io2";
    readonly volumeSize: number;
    /** Provisioned IOPS; undefined for kopsform's default (see modules/etcd-volumes.ts). */
    readonly iops?: number;
    /** A customer KMS key ARN for the volumes; the AWS-managed EBS key when absent. */
    readonly kmsKeyId?: string;
    /** The etcd release masters run, and where it is downloaded from. */
    readonly release: {
      readonly version: string;
      readonly sha256: { readonly amd64: string; readonly arm64: string };
      readonly downloadUrl: string;
    };
    readonly backups: {
      readonly intervalMinutes: number;
      readonly retentionDays: number;
      /** A bucket of the user's for the backups; the cluster's own bucket when absent. */
      readonly bucket?: string;
    };
  };
  /** What Kubernetes needs of the network and where its packages come from. */
  readonly kubernetes: {
    /** The pods' network. @default 100.96.0.0/11 */
    readonly podCidr: string;
    /** The services' network. @default 100.64.0.0/13 */
    readonly serviceCidr: string;
    /** @default https://pkgs.k8s.io/core:/stable: */
    readonly packageRepository: string;
  };
  readonly flowLogs: { readonly enabled: boolean; readonly retentionDays: number; readonly kmsKeyArn?: string };
  readonly apiLoadBalancerDeletionProtection: boolean;
  readonly apiAccessLogsBucket?: string;
  readonly backend: BackendSpec;
}
