/**
 * An instance group, as kops has them: one launch template and one auto-scaling group. Masters, nodes
 * and the bastion are all instance groups; this is where their shared hardening lives (IMDSv2 with hop
 * limit 1, an encrypted gp3 root volume, tags on the template, its instances and volumes, and on the
 * group with propagate_at_launch).
 */
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { ResolvedImage } from "./images";

/** The eight group metrics kops enables on every auto-scaling group. */
export const GROUP_METRICS = [
  "GroupDesiredCapacity",
  "GroupInServiceInstances",
  "GroupMaxSize",
  "GroupMinSize",
  "GroupPendingInstances",
  "GroupStandbyInstances",
  "GroupTerminatingInstances",
  "GroupTotalInstances",
];

/** Props of {@link InstanceGroup}. */
export interface InstanceGroupProps {
  /** The kops instance-group name, also the Terraform name of both resources: `master-us-west-2a`, `nodes`. */
  readonly name: string;
  /** The AWS name of the template and the group: `master-us-west-2a.masters.hacluster.example.com`. */
  readonly awsName: string;
  readonly image: ResolvedImage;
  readonly instanceType: string;
  /** Root volume size in GiB (gp3, always encrypted). */
  readonly rootVolumeSize: number;
  readonly instanceProfileName: string;
  /** The group's own security group first, then any extra groups. */
  readonly securityGroupIds: readonly string[];
  readonly subnetIds: readonly string[];
  readonly minSize: number;
  readonly maxSize: number;
  /** Base64 user data. @default none (the bastion runs nothing of ours) */
  readonly userData?: string;
  /**
   * What an instance's own shutdown does. Masters terminate: a master that cannot come up powers
   * itself off when it cannot even ask its group for a replacement (boot/lib.sh give_up), and its
   * group then replaces it.
   * @default "stop", EC2's default
   */
  readonly instanceInitiatedShutdownBehavior?: "stop" | "terminate";
  /**
   * What must exist before the group launches an instance (the boot scripts, the run-time config,
   * the role's policy, the routes to the internet): an instance launched earlier fails its boot.
   * @default none
   */
  readonly dependsOn?: readonly ITerraformDependable[];
  /**
   * Give instances a public address. Only for instances in public subnets (public topology, the
   * bastion); subnets never assign one themselves.
   * @default false
   */
  readonly associatePublicIp?: boolean;
  /** @default none (no SSH key pair) */
  readonly keyName?: string;
  /** @default none */
  readonly targetGroupArns?: readonly string[];
  /**
   * Seconds before the group health-checks a new instance.
   * @default 300
   */
  readonly healthCheckGracePeriod?: number;
  /** Tags for the template, the instances, their volumes and the group (cluster tags, roles, Name). */
  readonly tags: Readonly<Record<string, string>>;
  /** Tags on the group only (cluster-autoscaler node templates). @default none */
  readonly groupOnlyTags?: Readonly<Record<string, string>>;
}

/** A launch template and its auto-scaling group. */
export class InstanceGroup extends Construct {
  readonly launchTemplate: LaunchTemplate;
  readonly autoscalingGroup: AutoscalingGroup;

  constructor(scope: Construct, id: string, props: InstanceGroupProps) {
    super(scope, id);
    const securityGroups = [...props.securityGroupIds];
    this.launchTemplate = new LaunchTemplate(this, "launch-template", {
      name: props.awsName,
      imageId: props.image.imageId,
      instanceType: props.instanceType,
      iamInstanceProfile: { name: props.instanceProfileName },
      keyName: props.keyName,
      userData: props.userData,
      instanceInitiatedShutdownBehavior: props.instanceInitiatedShutdownBehavior,
      // IMDSv2 only, and a hop limit of 1 so that pods on the pod network cannot get the role's credentials.
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [
        {
          deviceName: props.image.rootDeviceName,
          ebs: { volumeSize: props.rootVolumeSize, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
        },
      ],
      // A public address needs a network interface block; security groups then go inside it.
      ...(props.associatePublicIp
        ? {
            networkInterfaces: [
              { deviceIndex: 0, associatePublicIpAddress: "true", deleteOnTermination: "true", securityGroups },
            ],
          }
        : { vpcSecurityGroupIds: securityGroups }),
      tagSpecifications: ["instance", "volume", "network-interface"].map((resourceType) => ({
        resourceType,
        tags: { ...props.tags },
      })),
      tags: { ...props.tags },
    });
    this.launchTemplate.overrideLogicalId(props.name);

    const groupTags = { ...props.tags, ...(props.groupOnlyTags ?? {}) };
    this.autoscalingGroup = new AutoscalingGroup(this, "autoscaling-group", {
      name: props.awsName,
      minSize: props.minSize,
      maxSize: props.maxSize,
      vpcZoneIdentifier: [...props.subnetIds],
      // Pinned to the template's latest version, so that a template change shows in the plan.
      launchTemplate: { id: this.launchTemplate.id, version: this.launchTemplate.latestVersion.toString() },
      healthCheckType: "EC2",
      dependsOn: props.dependsOn ? [...props.dependsOn] : undefined,
      healthCheckGracePeriod: props.healthCheckGracePeriod ?? 300,
      targetGroupArns: props.targetGroupArns ? [...props.targetGroupArns] : undefined,
      enabledMetrics: GROUP_METRICS,
      metricsGranularity: "1Minute",
      tag: Object.entries(groupTags).map(([key, value]) => ({
        key,
        value,
        propagateAtLaunch: !(props.groupOnlyTags && key in props.groupOnlyTags),
      })),
    });
    this.autoscalingGroup.overrideLogicalId(props.name);
  }
}
