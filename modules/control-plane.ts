/**
 * The masters in auto-replacement mode (the heart of the seed): each master is its own launch template
 * and its own auto-scaling group (min = max = 1) pinned to one zone, and owns etcd volumes in that
 * zone. When a master dies, its group starts a new instance in the same zone, whose user data
 * re-attaches the same volumes.
 */
import { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { MasterSlot } from "../spec/types";
import { EtcdVolumes } from "./etcd-volumes";
import { ResolvedImage } from "./images";
import { InstanceGroup } from "./instance-group";
import { CONTROL_PLANE_TAGS } from "./tags";
import { AddonFacts } from "../spec/addons";
import { BootTiming, EtcdRelease, KubernetesRuntime, masterUserData } from "./user-data";

/**
 * Seconds before a new master is health-checked. Longer than a realistic worst-case boot: the boot
 * may wait up to 15 minutes (90 x 10 s) for a dying predecessor to release its etcd volumes (both
 * are released together, so the second wait is short), and a group that replaced the master
 * meanwhile would only start the same wait again.
 */
export const MASTER_HEALTH_CHECK_GRACE_SECONDS = 1200;

/** Props of {@link ControlPlane}. */
export interface ControlPlaneProps {
  readonly clusterName: string;
  readonly kubernetesVersion: string;
  readonly masters: readonly MasterSlot[];
  readonly instanceType: string;
  readonly image: ResolvedImage;
  /** Root volume size in GiB. @default 64, as kops */
  readonly rootVolumeSize: number;
  readonly instanceProfileName: string;
  /** The masters' own group first, then `masterSecurityGroups` (in addition, never instead). */
  readonly securityGroupIds: readonly string[];
  /** The subnet masters of each zone run in (private subnets, or public ones in public topology). */
  readonly subnetIdByZone: Readonly<Record<string, string>>;
  /** Public addresses for masters in public subnets (public topology). @default false */
  readonly associatePublicIp?: boolean;
  /** The API target groups the masters register with (one per API load balancer). */
  readonly apiTargetGroupArns: readonly string[];
  /** @default none */
  readonly keyName?: string;
  /** Cluster tags and cloud labels. */
  readonly tags: Readonly<Record<string, string>>;
  readonly etcd: {
    readonly storageType: "gp3" | "gp2" | "io1" | "io2";
    readonly volumeSize: number;
    /** @default kopsform's IOPS for the type (see EtcdVolumesProps.iops) */
    readonly iops?: number;
    readonly kmsKeyId?: string;
    /** The etcd release the masters download and check. */
    readonly release: EtcdRelease;
    /** Minutes between backups. */
    readonly backupIntervalMinutes: number;
  };
  /** The pods' and services' networks (kubeadm's ClusterConfiguration). */
  readonly podCidr: string;
  readonly serviceCidr: string;
  /** The container runtime and the Kubernetes packages. @default {@link DEFAULT_KUBERNETES_RUNTIME} */
  readonly runtime?: KubernetesRuntime;
  /** What must exist before a master launches (boot scripts, run-time config, IAM, routes). @default none */
  readonly bootDependencies?: readonly ITerraformDependable[];
  /** How long the boot waits for what takes a while. @default the defaults of {@link BootTiming} */
  readonly bootTiming?: Partial<BootTiming>;
  /** The add-ons the masters' cluster-wide step applies (boot/steps/addons.sh). @default none */
  readonly addons?: AddonFacts;
}

/** The masters and their etcd volumes. */
export class ControlPlane extends Construct {
  readonly groups: readonly InstanceGroup[];

  constructor(scope: Construct, id: string, props: ControlPlaneProps) {
    super(scope, id);
    new EtcdVolumes(this, "etcd-volumes", {
      clusterName: props.clusterName,
      masters: props.masters,
      storageType: props.etcd.storageType,
      sizeGib: props.etcd.volumeSize,
      iops: props.etcd.iops,
      kmsKeyId: props.etcd.kmsKeyId,
    });
    this.groups = props.masters.map((master) => {
      const awsName = `${master.name}.masters.${props.clusterName}`;
      const userData = masterUserData({
        clusterName: props.clusterName,
        member: master.member,
        kubernetesVersion: props.kubernetesVersion,
        etcd: props.etcd.release,
        backupIntervalMinutes: props.etcd.backupIntervalMinutes,
        addons: props.addons,
        podCidr: props.podCidr,
        serviceCidr: props.serviceCidr,
        runtime: props.runtime,
        timing: props.bootTiming,
      });
      return new InstanceGroup(this, master.name, {
        name: master.name,
        awsName,
        image: props.image,
        instanceType: props.instanceType,
        rootVolumeSize: props.rootVolumeSize,
        instanceProfileName: props.instanceProfileName,
        securityGroupIds: props.securityGroupIds,
        subnetIds: [props.subnetIdByZone[master.zone]],
        // One instance per group: the group exists to replace its master in the same zone, and the
        // master's volumes can be held by one instance only, so the old one must go before the new starts.
        minSize: 1,
        maxSize: 1,
        userData: userData.base64,
        // A master that cannot even ask for a replacement powers off; terminating makes room at once.
        instanceInitiatedShutdownBehavior: "terminate",
        dependsOn: props.bootDependencies,
        associatePublicIp: props.associatePublicIp,
        keyName: props.keyName,
        targetGroupArns: [...props.apiTargetGroupArns],
        healthCheckGracePeriod: MASTER_HEALTH_CHECK_GRACE_SECONDS,
        tags: {
          ...props.tags,
          Name: awsName,
          ...CONTROL_PLANE_TAGS,
          "kops.k8s.io/instancegroup": master.name,
        },
      });
    });
  }
}
