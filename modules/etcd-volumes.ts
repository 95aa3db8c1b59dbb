/**
 * The masters' etcd data: for every master, an EBS volume for etcd `main` and one for `events`, in the
 * master's zone, encrypted, tagged so that exactly that master finds them at boot, and protected from
 * destruction. etcd runs as kops runs it: two clusters, each on its own volume.
 *
 * `prevent_destroy` protects a volume whose resource is in the configuration (a replacement is
 * refused); a volume whose resource is gone would simply be destroyed. So a member leaves only by
 * being retired in the spec (`retiredEtcdMembers`), and {@link RetiredEtcdVolumes} then writes Terraform
 * `removed` blocks with `destroy = false` for its volumes: Terraform forgets them, they stay in AWS,
 * whatever workflow applies the configuration.
 */
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { Construct } from "constructs";
import { MasterSlot } from "../spec/types";
import { clusterSlug } from "./names";
import { RemovedBlock } from "./removed-block";
import { CONTROL_PLANE_TAGS } from "./tags";

/** One of the two etcd clusters, with where its volume goes on a master. */
export interface EtcdCluster {
  readonly name: "main" | "events";
  /** The tag naming the member: `k8s.io/etcd/main = <member>/<all members>` (kops's scheme). */
  readonly tagKey: string;
  /** Device requested when attaching. */
  readonly device: string;
  readonly mountPath: string;
}

/**
 * kops's two etcd clusters: `main` (client port 4001, peer 2380) and `events` (client 4002, peer
 * 2381); the firewall keeps those ports to the masters (modules/security-groups.ts).
 */
export const ETCD_CLUSTERS: readonly EtcdCluster[] = [
  { name: "main", tagKey: "k8s.io/etcd/main", device: "/dev/xvdu", mountPath: "/mnt/etcd/main" },
  { name: "events", tagKey: "k8s.io/etcd/events", device: "/dev/xvdv", mountPath: "/mnt/etcd/events" },
];

/**
 * The Terraform name of a member's volume of one etcd cluster, kops's name:
 * `a-etcd-main-hacluster-example-com`. It depends on the member alone, so it never changes when masters
 * are added, and a retired member's `removed` blocks name exactly the resources it had.
 */
export function etcdVolumeName(member: string, etcd: EtcdCluster, clusterName: string): string {
  return `${member}-etcd-${etcd.name}-${clusterSlug(clusterName)}`;
}

/** Props of {@link EtcdVolumes}. */
export interface EtcdVolumesProps {
  readonly clusterName: string;
  readonly masters: readonly MasterSlot[];
  /** @default "gp3" */
  readonly storageType: "gp3" | "gp2" | "io1" | "io2";
  /** @default 20 (GiB) */
  readonly sizeGib: number;
  /**
   * Provisioned IOPS (gp3, io1, io2), for example kops's when a cluster is imported.
   * @default io1/io2: 3000, or what their size allows; gp3: its baseline (3000, not written)
   */
  readonly iops?: number;
  /** A customer-managed KMS key. @default the AWS-managed EBS key (volumes are always encrypted) */
  readonly kmsKeyId?: string;
}

/** Provisioned IOPS for io1/io2 etcd volumes: gp3's baseline, which etcd's fsyncs are comfortable with. */
const PROVISIONED_IOPS = 3000;

/** The most IOPS a volume of each provisioned type may have per GiB (AWS's limits). */
const MAX_IOPS_PER_GIB = { io1: 50, io2: 500 } as const;

/** IOPS for an etcd volume: gp2/gp3 take their own baseline, io1/io2 get 3000 or what their size allows. */
function provisionedIops(type: EtcdVolumesProps["storageType"], sizeGib: number): number | undefined {
  return type === "io1" || type === "io2" ? Math.min(PROVISIONED_IOPS, MAX_IOPS_PER_GIB[type] * sizeGib) : undefined;
}

/** The etcd volumes of every master. */
export class EtcdVolumes extends Construct {
  constructor(scope: Construct, id: string, props: EtcdVolumesProps) {
    super(scope, id);
    const members = props.masters.map((m) => m.member).join(",");
    for (const master of props.masters) {
      for (const etcd of ETCD_CLUSTERS) {
        // Address, zone and size depend on this master alone, so adding masters never replaces a volume;
        // only the member list in the tag changes, in place.
        new EbsVolume(
          this,
          etcdVolumeName(master.member, etcd, props.clusterName),
          {
            availabilityZone: master.zone,
            size: props.sizeGib,
            type: props.storageType,
            iops: props.iops ?? provisionedIops(props.storageType, props.sizeGib),
            encrypted: true,
            kmsKeyId: props.kmsKeyId,
            tags: {
              Name: `${master.member}.etcd-${etcd.name}.${props.clusterName}`,
              [etcd.tagKey]: `${master.member}/${members}`,
              ...CONTROL_PLANE_TAGS,
            },
            // etcd data is never destroyed by a routine change: Terraform refuses the plan instead.
            lifecycle: { preventDestroy: true },
          },
        );
      }
    }
  }
}

/** Props of {@link RetiredEtcdVolumes}. */
export interface RetiredEtcdVolumesProps {
  readonly clusterName: string;
  /** The spec's `retiredEtcdMembers`. @default none */
  readonly members: readonly string[];
}

/**
 * The volumes of retired etcd members, forgotten and kept: for each member, a `removed` block with
 * `destroy = false` for its `main` and its `events` volume. A plan shows them as "forget"; they leave
 * the state and stay in AWS (delete them by hand once their data is no longer needed). A block for a
 * volume that is not in the state (a member retired before it ever had volumes) changes nothing.
 */
export class RetiredEtcdVolumes extends Construct {
  constructor(scope: Construct, id: string, props: RetiredEtcdVolumesProps) {
    super(scope, id);
    for (const member of props.members) {
      for (const etcd of ETCD_CLUSTERS) {
        const name = etcdVolumeName(member, etcd, props.clusterName);
        new RemovedBlock(this, `removed-${name}`, { from: `aws_ebs_volume.${name}` });
      }
    }
  }
}
