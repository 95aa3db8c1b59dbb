/**
 * One cluster, one stack: the provider, the backend, the cluster's tags and the modules, wired
 * together. No resource is made here; each lives in the module of its concern under modules/.
 */
import { Aspects, TerraformDataSource, TerraformElement, TerraformOutput, TerraformStack, dependable } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct, Node } from "constructs";
import { SubnetRole } from "../spec/address-plan";
import { addonFacts } from "../spec/addons";
import { ClusterSpec } from "../spec/types";
import { ApiEndpoint } from "../modules/api-endpoint";
import { BASTION_INSTANCE_TYPE, Bastion } from "../modules/bastion";
import { BootBundle } from "../modules/boot-bundle";
import { ClusterBucket } from "../modules/cluster-bucket";
import { ClusterKey } from "../modules/cluster-key";
import { ControlPlane } from "../modules/control-plane";
import { RetiredEtcdVolumes } from "../modules/etcd-volumes";
import { Iam } from "../modules/iam";
import { partitionOf } from "../modules/names";
import { Images } from "../modules/images";
import { LaunchTemplateChecks } from "../modules/launch-template-checks";
import { Network } from "../modules/network";
import { NodeTermination } from "../modules/node-termination";
import { Nodes } from "../modules/nodes";
import { RunTimeConfig } from "../modules/run-time-config";
import { SecurityGroups } from "../modules/security-groups";
import { SshKey } from "../modules/ssh-key";
import { DEFAULT_KUBERNETES_RUNTIME } from "../modules/user-data";
import { ClusterTagging, clusterTags } from "../modules/tags";
import { addBackend } from "./backend";
import { writeStackHcl } from "./hcl";
import { withEscapedLiterals } from "./literals";
import { tagLimitProblems } from "./tag-limits";
import { UserError } from "../spec/problems";

/** Props of {@link ClusterStack}. */
export interface ClusterStackProps {
  /** The validated cluster spec; the stack is named after `spec.name`. */
  readonly spec: ClusterSpec;
}

/** Terraform names: letters, digits, `_` and `-`, starting with a letter or `_`. */
const TERRAFORM_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * The Terraform configuration of one cluster.
 *
 * Addresses are readable and stable, like kops's (`aws_launch_template.master-us-west-2a`), never
 * cdktf's path hashes: an element's Terraform name is its construct id, or, where resources of
 * different types share a kops name in one construct (a role and its instance profile), the name
 * given with `overrideLogicalId`. A validation refuses two elements with one address.
 */
export class ClusterStack extends TerraformStack {
  constructor(scope: Construct, props: ClusterStackProps) {
    super(scope, props.spec.name);
    const { spec } = props;
    const tags = clusterTags(spec.name, spec.cloudLabels);
    new AwsProvider(this, "aws", { region: spec.region });
    addBackend(this, spec.backend);

    const network = new Network(this, "network", {
      clusterName: spec.name,
      region: spec.region,
      networkCidr: spec.networkCidr,
      subnets: spec.subnets,
      sharedVpcId: spec.vpc,
      flowLogs: spec.flowLogs,
    });
    const securityGroups = new SecurityGroups(this, "security-groups", {
      clusterName: spec.name,
      vpcId: network.vpcId,
      networking: spec.networking,
      adminAccess: spec.adminAccess,
      clusterEgressAddresses: spec.apiLoadBalancerType === "public" ? network.natPublicIps : [],
      sshAccess: spec.sshAccess,
      bastion: spec.bastion,
    });
    // What the instances use at run time: the cluster's key, its bucket (boot scripts, backups), the
    // boot scripts in it, and the config parameters that tell instances where these are.
    const key = new ClusterKey(this, "cluster-key", { clusterName: spec.name });
    const bucket = new ClusterBucket(this, "cluster-bucket", {
      clusterName: spec.name,
      kmsKeyArn: key.key.arn,
      backupRetentionDays: spec.etcd.backups.retentionDays,
    });
    const bootBundle = new BootBundle(this, "boot-bundle", { clusterName: spec.name, bucket: bucket.bucket.id });
    // Instances run in private subnets, or in public ones in public topology (with public addresses).
    const instanceRole: SubnetRole = spec.topology === "private" ? "private" : "public";
    const publicRole: SubnetRole = spec.topology === "private" ? "utility" : "public";
    // Both load balancers span every zone of the cluster (not only the master zones), so that removing
    // or moving a master never changes their subnets (see modules/api-endpoint.ts).
    const api = new ApiEndpoint(this, "api-endpoint", {
      clusterName: spec.name,
      vpcId: network.vpcId,
      internalSubnetIds: spec.zones.map((z) => network.subnet(instanceRole, z).id),
      publicSubnetIds: spec.apiLoadBalancerType === "public" ? spec.zones.map((z) => network.subnet(publicRole, z).id) : undefined,
      securityGroupId: securityGroups.apiElb.id,
      deletionProtection: spec.apiLoadBalancerDeletionProtection,
      accessLogsBucket: spec.apiAccessLogsBucket,
      dnsZone: spec.dnsZone,
      privateDnsZone: spec.dns === "private",
    });
    const runTimeConfig = new RunTimeConfig(this, "run-time-config", {
      clusterName: spec.name,
      values: {
        bucket: bucket.bucket.id,
        "backup-bucket": spec.etcd.backups.bucket ?? bucket.bucket.id,
        // Where masters' certificates and kubeconfigs, nodes, and pods before any Service works (cilium's
        // kube-proxy replacement) reach the API: the internal load balancer, which admits them by
        // security group wherever they run.
        "api-endpoint": api.internalHostname,
        // The name people reach the API by (export kubecfg: api.NAME, or the outward load balancer's
        // name), which the API servers' certificates must name too.
        "api-names": api.hostname,
      },
    });
    const iam = new Iam(this, "iam", {
      clusterName: spec.name,
      bastion: spec.bastion,
      addons: { region: spec.region, networking: spec.networking },
      runTime: {
        region: spec.region,
        kmsKeyArn: key.key.arn,
        bucketArn: bucket.bucket.arn,
        backupBucketArn: spec.etcd.backups.bucket ? `arn:${partitionOf(spec.region)}:s3:::${spec.etcd.backups.bucket}` : bucket.bucket.arn,
        etcdVolumeKmsKeyArn: spec.etcd.kmsKeyId,
      },
    });
    const bootReady = [bootBundle.object, ...runTimeConfig.parameters, ...network.internetRoutes];
    const images = new Images(this, "images");
    const keyName = spec.sshPublicKey
      ? new SshKey(this, "ssh-key", { clusterName: spec.name, publicKey: spec.sshPublicKey }).keyName
      : undefined;

    const instanceSubnetByZone = Object.fromEntries(spec.zones.map((z) => [z, network.subnet(instanceRole, z).id]));

    const controlPlane = new ControlPlane(this, "control-plane", {
      clusterName: spec.name,
      kubernetesVersion: spec.kubernetesVersion,
      masters: spec.masters,
      instanceType: spec.masterSize,
      image: images.resolve(spec.image, spec.masterSize),
      rootVolumeSize: spec.masterVolumeSize,
      instanceProfileName: iam.masters.profile.name,
      securityGroupIds: [securityGroups.masters.id, ...spec.masterSecurityGroups],
      subnetIdByZone: instanceSubnetByZone,
      associatePublicIp: spec.topology === "public",
      apiTargetGroupArns: api.targetGroups.map((g) => g.arn),
      keyName,
      tags,
      etcd: {
        storageType: spec.etcd.storageType,
        volumeSize: spec.etcd.volumeSize,
        iops: spec.etcd.iops,
        kmsKeyId: spec.etcd.kmsKeyId,
        release: spec.etcd.release,
        backupIntervalMinutes: spec.etcd.backups.intervalMinutes,
      },
      podCidr: spec.kubernetes.podCidr,
      serviceCidr: spec.kubernetes.serviceCidr,
      runtime: { ...DEFAULT_KUBERNETES_RUNTIME, packageRepository: spec.kubernetes.packageRepository },
      bootDependencies: [...bootReady, ...(iam.masters.policy ? [iam.masters.policy] : [])],
      addons: addonFacts(spec),
    });

    // Retired members' volumes: forgotten by Terraform, kept in AWS (see modules/etcd-volumes.ts).
    new RetiredEtcdVolumes(this, "retired-etcd-volumes", { clusterName: spec.name, members: spec.retiredEtcdMembers });

    const nodes = new Nodes(this, "nodes", {
      clusterName: spec.name,
      kubernetesVersion: spec.kubernetesVersion,
      groups: spec.nodeGroups,
      images,
      instanceProfileName: iam.nodes.profile.name,
      securityGroupId: securityGroups.nodes.id,
      subnetIdByZone: instanceSubnetByZone,
      associatePublicIp: spec.topology === "public",
      keyName,
      tags,
      runtime: { ...DEFAULT_KUBERNETES_RUNTIME, packageRepository: spec.kubernetes.packageRepository },
      bootDependencies: [...bootReady, ...(iam.nodes.policy ? [iam.nodes.policy] : [])],
    });

    // Nodes drain before their instances terminate: lifecycle hooks, the events' queue and rules.
    const termination = new NodeTermination(this, "node-termination", {
      clusterName: spec.name,
      groups: nodes.groups.map((g) => ({ name: g.node.id, autoscalingGroup: g.autoscalingGroup })),
    });
    // Its queue's URL is a config parameter like the others: no instance starts before it exists
    // (it depends on the queue only, so this makes no cycle with the groups' lifecycle hooks).
    for (const group of [...controlPlane.groups, ...nodes.groups]) {
      group.autoscalingGroup.dependsOn = [...(group.autoscalingGroup.dependsOn ?? []), dependable(termination.parameter)];
    }

    if (spec.bastion && securityGroups.bastion && iam.bastions) {
      new Bastion(this, "bastion", {
        clusterName: spec.name,
        kubernetesVersion: spec.kubernetesVersion,
        image: images.resolve(spec.image, BASTION_INSTANCE_TYPE),
        instanceProfileName: iam.bastions.profile.name,
        securityGroupId: securityGroups.bastion.id,
        subnetIds: network.subnets({ role: "utility" }).map((s) => s.id),
        keyName,
        tags,
      });
    }

    Aspects.of(this).add(new ClusterTagging(tags));
    Aspects.of(this).add(new LaunchTemplateChecks());

    // Outputs with kops's names, so that scripts written for kops's Terraform keep working.
    const output = (name: string, value: unknown, description: string) =>
      new TerraformOutput(this, name, { value, description });
    output("cluster_name", spec.name, "The cluster's name.");
    output("region", spec.region, "The AWS region, derived from the zones.");
    output("vpc_id", network.vpcId, "The cluster's VPC.");
    output("vpc_cidr_block", spec.networkCidr, "The VPC's CIDR.");
    output("master_autoscaling_group_ids", controlPlane.groups.map((g) => g.autoscalingGroup.id), "One group per master.");
    output("master_security_group_ids", [securityGroups.masters.id, ...spec.masterSecurityGroups], "Groups of the masters.");
    output("masters_role_arn", iam.masters.role.arn, "The masters' IAM role.");
    output("masters_role_name", iam.masters.role.name, "The masters' IAM role.");
    output("node_autoscaling_group_ids", nodes.groups.map((g) => g.autoscalingGroup.id), "One group per node group.");
    const extraNodeGroups = [...new Set(spec.nodeGroups.flatMap((g) => g.securityGroups))];
    output("node_security_group_ids", [securityGroups.nodes.id, ...extraNodeGroups], "Groups of the nodes, every node group's included.");
    output("node_subnet_ids", spec.zones.map((z) => instanceSubnetByZone[z]), "Subnets the nodes run in.");
    output("nodes_role_arn", iam.nodes.role.arn, "The nodes' IAM role.");
    output("nodes_role_name", iam.nodes.role.name, "The nodes' IAM role.");
    if (network.publicRouteTableId) {
      output("route_table_public_id", network.publicRouteTableId, "The public route table.");
    }
    output("subnet_ids", network.subnets({ role: instanceRole }).map((s) => s.id), "Private subnets (public in public topology).");
    if (spec.topology === "private") {
      output("utility_subnet_ids", network.subnets({ role: "utility" }).map((s) => s.id), "Utility (public) subnets.");
    }
    for (const subnet of network.subnets()) {
      const prefix = subnet.role === "utility" ? "utility-" : "";
      output(`subnet_${prefix}${subnet.zone}_id`, subnet.id, `The ${subnet.role} subnet of ${subnet.zone}.`);
    }
    output("kube_api_hostname", api.hostname, "Where kubectl reaches the API (api.NAME with a DNS zone).");
    output(
      "kube_api_internal_hostname",
      api.internalHostname,
      "Where the cluster's members and the bastion reach the API (api.internal.NAME with a DNS zone).",
    );

    this.node.addValidation({ validate: () => duplicateAddresses(this) });
  }

  /**
   * cdktf resolves every element of a stack once more before synthesis, only to find references to
   * other stacks (cross-stack references, which it then wires through outputs and remote state). A
   * cluster stack never refers to another stack (each is even synthesized in its own app), so that
   * pass, a third of a cluster's synthesis time, is skipped; the backend is still ensured.
   */
  prepareStack(): void {
    this.ensureBackendExists();
  }

  /**
   * The configuration, with every literal string escaped so that Terraform reads it as data (see
   * stacks/literals.ts): a spec value never runs as a Terraform expression. Throws {@link UserError}
   * when a resource would carry tags AWS refuses (see stacks/tag-limits.ts).
   */
  toTerraform(): any {
    const config = withEscapedLiterals(this, () => super.toTerraform());
    // AWS's tag limits, ours included: refused here, before anything is written (exit 1).
    const problems = tagLimitProblems(config);
    if (problems.length > 0) {
      throw new UserError(problems.map((p) => `${this.node.id}: ${p}`));
    }
    return config;
  }

  /**
   * The HCL of `cdk.tf`: written by kopsform from the same configuration as the JSON (see
   * stacks/hcl.ts), not by cdktf 0.21's HCL printer, which leaves quotes and backslashes unescaped
   * and puts multi-line values in heredocs.
   */
  toHclTerraform(): { hcl: string; metadata: Record<string, unknown> } {
    return writeStackHcl(this);
  }

  /** The construct id is the Terraform name: readable, and independent of where the construct sits. */
  protected allocateLogicalId(element: TerraformElement | Node): string {
    const id = TerraformElement.isTerraformElement(element) ? element.node.id : element.id;
    if (!TERRAFORM_NAME.test(id)) {
      throw new Error(`"${id}" is not a valid Terraform name; construct ids in kopsform stacks are Terraform names.`);
    }
    return id;
  }
}

/** Two elements of one kind with one name would overwrite each other in the output; refuse that. */
function duplicateAddresses(stack: TerraformStack): string[] {
  const seen = new Map<string, string>();
  const errors: string[] = [];
  for (const node of stack.node.findAll()) {
    if (!TerraformElement.isTerraformElement(node)) {
      continue;
    }
    const type = (node as { terraformResourceType?: string }).terraformResourceType ?? node.constructor.name;
    const kind = node instanceof TerraformDataSource ? `data.${type}` : type;
    const address = `${kind}.${node.friendlyUniqueId}`;
    const other = seen.get(address);
    if (other) {
      errors.push(`${address} is made twice (${other} and ${node.node.path}); give one a different id.`);
    }
    seen.set(address, node.node.path);
  }
  return errors;
}
