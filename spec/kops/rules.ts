/**
 * What the importer does with each field of a kops manifest, as a table: for every path of kops's
 * `kops.k8s.io/v1alpha2` Cluster, InstanceGroup and SSHCredential, whether convert.ts maps it onto the
 * kopsform spec, or why it is not carried over (what it did in kops, what kopsform does instead), or
 * why there is nothing to carry (kops's own bookkeeping).
 *
 * A pattern names a path with `[]` for list items (`spec.subnets[].cidr`); a pattern ending in `.*`
 * covers that path and everything below it. The most precise pattern wins. A test walks kops's whole
 * field tree (api-fields.ts) and fails on any path no rule covers, and on any rule for a path kops does
 * not have; convert.ts may read only paths whose rule is `mapped`, and a value it did not read is
 * reported by its rule, so that nothing in a manifest goes unmentioned.
 */
import { KOPS_V1ALPHA2_TYPES } from "./api-fields";
import { KopsKind } from "./manifest";

/** The field feeds the spec: convert.ts reads it (and reports what it cannot keep of its value). */
export interface MappedRule {
  readonly status: "mapped";
  /** The spec field(s) it becomes, or what it is checked for. */
  readonly to: string;
}

/** The field is not carried over; the report says so with these words. */
export interface UnsupportedRule {
  readonly status: "unsupported";
  /** What the field did in kops. */
  readonly did: string;
  /** What kopsform does instead. */
  readonly instead: string;
}

/** kops's own bookkeeping: nothing about the cluster to carry. Listed in the report, not counted as left out. */
export interface BookkeepingRule {
  readonly status: "bookkeeping";
  readonly why: string;
}

export type FieldRule = MappedRule | UnsupportedRule | BookkeepingRule;

const mapped = (to: string): MappedRule => ({ status: "mapped", to });
const unsupported = (did: string, instead: string): UnsupportedRule => ({ status: "unsupported", did, instead });
const bookkeeping = (why: string): BookkeepingRule => ({ status: "bookkeeping", why });

/** What kopsform does instead, for the reasons that recur. */
const INSTEAD = {
  kubernetes:
    "kopsform does not configure Kubernetes components: its bootstrap hook (templates/partials/bootstrap.hbs) " +
    "installs Kubernetes; carry the setting into your bootstrap",
  addon: "kopsform installs no add-ons; deploy it into the running cluster (kubectl, Helm)",
  nodeup: "kopsform's boot logic does not run kops's nodeup; do this in your bootstrap hook",
  iam:
    "kopsform's roles hold what its boot logic needs; attach further policies to the roles it outputs " +
    "(masters_role_name, nodes_role_name) in Terraform",
  spot: "kopsform's groups run on-demand instances of one type",
  etcdRuntime: "kopsform's boot scripts run etcd as systemd services with their own settings",
} as const;

const STATE_STORE = "a location in kops's state store; kopsform keeps the spec in git and Terraform state in the spec's backend";
const OBJECT_METADATA = "object metadata kops keeps about its own objects";
const UNUSED = "unused by kops";
const GCE_ONLY = "used on GCE only; kops ignores it on AWS";

/** `metadata` of any kops object: bookkeeping, but for the name (read per kind). */
const METADATA: Readonly<Record<string, FieldRule>> = {
  apiVersion: mapped("checked: kops.k8s.io/v1alpha2"),
  kind: mapped("checked: the kind of object"),
  // `metadata: {}` or `spec: {}`: written, but empty.
  metadata: bookkeeping("an empty object"),
  spec: bookkeeping("an empty object"),
  "metadata.generateName": bookkeeping(OBJECT_METADATA),
  "metadata.namespace": bookkeeping(OBJECT_METADATA),
  "metadata.selfLink": bookkeeping(OBJECT_METADATA),
  "metadata.uid": bookkeeping(OBJECT_METADATA),
  "metadata.resourceVersion": bookkeeping(OBJECT_METADATA),
  "metadata.generation": bookkeeping(OBJECT_METADATA),
  "metadata.creationTimestamp": bookkeeping(OBJECT_METADATA),
  "metadata.deletionTimestamp": bookkeeping(OBJECT_METADATA),
  "metadata.deletionGracePeriodSeconds": bookkeeping(OBJECT_METADATA),
  "metadata.ownerReferences.*": bookkeeping(OBJECT_METADATA),
  "metadata.finalizers": bookkeeping(OBJECT_METADATA),
  "metadata.managedFields.*": bookkeeping(OBJECT_METADATA),
  "metadata.annotations": unsupported(
    "kops reads some annotations of its objects as switches",
    "kopsform has no switches in annotations; everything is a spec field",
  ),
};

const CNI_SETTINGS = unsupported(
  "configured the CNI kops installed",
  "kopsform records which CNI runs (its firewall rules follow it) and installs none; configure the CNI where you install it",
);

/** Cluster: `kops get cluster NAME -o yaml`. */
const CLUSTER: Readonly<Record<string, FieldRule>> = {
  ...METADATA,
  "metadata.name": mapped("name"),
  "metadata.labels": bookkeeping("labels on the kops object, read by kops's tooling only"),

  "spec.channel": bookkeeping(
    "the release channel `kops upgrade cluster` reads for recommended versions; the spec pins kubernetesVersion and the image itself",
  ),
  "spec.addons.*": unsupported("kops applied these add-on manifests", INSTEAD.addon),
  "spec.configBase": bookkeeping(STATE_STORE),
  "spec.secretStore": bookkeeping(STATE_STORE),
  "spec.keyStore": bookkeeping(STATE_STORE),
  "spec.configStore": bookkeeping(STATE_STORE),
  "spec.cloudProvider": mapped("checked: aws"),
  "spec.project": bookkeeping(GCE_ONLY),
  "spec.gossipConfig.*": unsupported(
    "ran gossip DNS among the masters (removed in kops 1.37)",
    "the API is reached through its load balancer's name, or api.NAME with dnsZone",
  ),
  "spec.dnsControllerGossipConfig.*": unsupported(
    "ran gossip for dns-controller (removed in kops 1.37)",
    "the API is reached through its load balancer's name, or api.NAME with dnsZone",
  ),
  "spec.containerRuntime": unsupported("chose the container runtime (removed from kops)", INSTEAD.kubernetes),
  "spec.kubernetesVersion": mapped("kubernetesVersion"),

  "spec.subnets": mapped("zones, subnets"),
  "spec.subnets[].name": mapped("subnets (instance groups name their subnets)"),
  "spec.subnets[].zone": mapped("zones, subnets[].zone"),
  "spec.subnets[].type": mapped("topology, subnets[].type"),
  "spec.subnets[].cidr": mapped("subnets[].cidr"),
  "spec.subnets[].id": mapped("subnets[].id"),
  "spec.subnets[].region": unsupported("made the subnet regional (not used on AWS)", "every subnet is in one zone"),
  "spec.subnets[].ipv6CIDR": unsupported("gave the subnet an IPv6 block", "kopsform's subnets are IPv4 only"),
  "spec.subnets[].egress": unsupported(
    "sent the zone's egress through a given NAT gateway, instance or transit gateway",
    "a NAT gateway of its own per zone (with a shared VPC, the VPC's own routes)",
  ),
  "spec.subnets[].publicIP": unsupported(
    "gave the zone's NAT gateway an existing Elastic IP",
    "each NAT gateway gets a new Elastic IP",
  ),
  "spec.subnets[].additionalRoutes.*": unsupported(
    "added routes to the subnet's route table",
    "add aws_route resources next to the stack (the route table ids are in its outputs)",
  ),

  "spec.masterPublicName": mapped("checked: api.NAME"),
  "spec.masterInternalName": bookkeeping(UNUSED),
  "spec.networkCIDR": mapped("networkCidr"),
  "spec.additionalNetworkCIDRs": unsupported("added CIDR blocks to the VPC", "the VPC has one block, networkCidr"),
  "spec.networkID": mapped("vpc"),

  "spec.topology": mapped("topology"),
  "spec.topology.masters": bookkeeping("unused by kops; the subnets' types give the topology"),
  "spec.topology.nodes": bookkeeping("unused by kops; the subnets' types give the topology"),
  "spec.topology.bastion": mapped("bastion"),
  "spec.topology.bastion.bastionPublicName": unsupported(
    "named the bastion's load balancer in DNS",
    "the bastion has a public address and no DNS name",
  ),
  "spec.topology.bastion.idleTimeoutSeconds": bookkeeping(UNUSED),
  "spec.topology.bastion.loadBalancer.*": unsupported(
    "put a load balancer in front of the bastions",
    "one bastion instance with a public address in a utility subnet",
  ),
  "spec.topology.dns": mapped("dns"),
  "spec.topology.dns.type": mapped("dns"),

  "spec.dnsZone": mapped("dnsZone"),
  "spec.additionalSans": unsupported("added names to the API server's certificate", INSTEAD.kubernetes),
  "spec.clusterDNSDomain": unsupported("set the cluster's DNS domain (cluster.local)", INSTEAD.kubernetes),
  "spec.serviceClusterIPRange": unsupported("set the range of Service addresses", INSTEAD.kubernetes),
  "spec.podCIDR": unsupported("set the range of pod addresses", INSTEAD.kubernetes),
  "spec.nonMasqueradeCIDR": unsupported("set the cluster's internal address range (pods and Services)", INSTEAD.kubernetes),
  "spec.sshAccess": mapped("sshAccess, allowSshFromAnywhere"),
  "spec.nodePortAccess": unsupported(
    "opened the NodePort range (30000-32767) on the nodes to these CIDRs",
    "no NodePort access from outside; add rules to the nodes' security group (output node_security_group_ids)",
  ),
  "spec.egressProxy.*": unsupported("sent egress through an HTTP proxy", "direct egress (NAT gateways); set a proxy in your bootstrap hook"),
  "spec.sshKeyName": mapped("sshPublicKey"),
  "spec.kubernetesApiAccess": mapped("adminAccess"),
  "spec.isolateMasters": unsupported("kept the masters off the pod network", INSTEAD.kubernetes),
  "spec.updatePolicy": unsupported("chose whether nodeup applies OS updates automatically", INSTEAD.nodeup),
  "spec.externalPolicies": unsupported("attached existing managed policies to the instance roles", INSTEAD.iam),
  "spec.additionalPolicies": unsupported("added inline policies to the instance roles", INSTEAD.iam),
  "spec.fileAssets.*": unsupported("wrote files onto the instances", INSTEAD.nodeup),
  "spec.hooks.*": unsupported("ran systemd units on the instances", INSTEAD.nodeup),

  "spec.etcdClusters": mapped("etcd (main and events)"),
  "spec.etcdClusters[].name": mapped("etcd (main and events)"),
  "spec.etcdClusters[].provider": mapped("checked: etcd run per master"),
  "spec.etcdClusters[].etcdMembers": mapped("masters"),
  "spec.etcdClusters[].etcdMembers[].name": mapped("masters (etcd member names)"),
  "spec.etcdClusters[].etcdMembers[].instanceGroup": mapped("masters"),
  "spec.etcdClusters[].etcdMembers[].volumeType": mapped("etcdStorageType"),
  "spec.etcdClusters[].etcdMembers[].volumeIops": mapped("etcdVolumeIops"),
  "spec.etcdClusters[].etcdMembers[].volumeThroughput": mapped("checked: 125 MiB/s (gp3's baseline)"),
  "spec.etcdClusters[].etcdMembers[].volumeSize": mapped("etcdVolumeSize"),
  "spec.etcdClusters[].etcdMembers[].kmsKeyId": mapped("etcdKmsKeyId"),
  "spec.etcdClusters[].etcdMembers[].encryptedVolume": mapped("encryptEtcdStorage"),
  "spec.etcdClusters[].enableEtcdTLS": bookkeeping(UNUSED),
  "spec.etcdClusters[].enableTLSAuth": bookkeeping(UNUSED),
  "spec.etcdClusters[].version": unsupported("pinned the etcd version", `${INSTEAD.etcdRuntime} (the etcd version is kopsform's)`),
  "spec.etcdClusters[].image": unsupported("ran etcd from this image", `${INSTEAD.etcdRuntime} (the etcd version is kopsform's)`),
  "spec.etcdClusters[].leaderElectionTimeout": unsupported("tuned etcd's election timeout", `${INSTEAD.etcdRuntime} (etcd's defaults)`),
  "spec.etcdClusters[].heartbeatInterval": unsupported("tuned etcd's heartbeat interval", `${INSTEAD.etcdRuntime} (etcd's defaults)`),
  "spec.etcdClusters[].memoryRequest": unsupported("set the memory request of the etcd pods", `${INSTEAD.etcdRuntime}, not pods`),
  "spec.etcdClusters[].cpuRequest": unsupported("set the CPU request of the etcd pods", `${INSTEAD.etcdRuntime}, not pods`),
  "spec.etcdClusters[].backups.*": unsupported(
    "chose where etcd-manager wrote backups (and with which image)",
    "each etcd cluster's leader writes snapshots to the cluster's backup bucket (docs/runtime.md); the spec has no backup settings yet",
  ),
  "spec.etcdClusters[].manager.*": unsupported(
    "configured etcd-manager (backup interval and retention, environment, logging)",
    `${INSTEAD.etcdRuntime}; the spec has no backup or etcd environment settings yet`,
  ),

  "spec.docker.*": unsupported("configured Docker (removed from kops)", INSTEAD.kubernetes),
  "spec.containerd.*": unsupported("configured containerd", INSTEAD.kubernetes),
  "spec.kubeDNS.*": unsupported("configured the cluster's DNS add-on", INSTEAD.kubernetes),
  "spec.kubeAPIServer.*": unsupported("configured the API server", INSTEAD.kubernetes),
  "spec.kubeControllerManager.*": unsupported("configured the controller manager", INSTEAD.kubernetes),
  "spec.cloudControllerManager.*": unsupported("configured the AWS cloud controller manager", INSTEAD.kubernetes),
  "spec.kubeScheduler.*": unsupported("configured the scheduler", INSTEAD.kubernetes),
  "spec.kubeProxy.*": unsupported("configured (or turned off) kube-proxy", INSTEAD.kubernetes),
  "spec.kubelet.*": unsupported("configured the kubelet of the nodes", INSTEAD.kubernetes),
  "spec.masterKubelet.*": unsupported("configured the kubelet of the masters", INSTEAD.kubernetes),
  "spec.cloudConfig.*": unsupported("configured the AWS cloud provider and its storage drivers", INSTEAD.kubernetes),
  "spec.externalDns.*": unsupported("configured dns-controller or external-dns", INSTEAD.addon),
  "spec.ntp.*": unsupported("configured time synchronisation", INSTEAD.nodeup),
  "spec.packages": unsupported("installed extra OS packages", INSTEAD.nodeup),
  "spec.nodeTerminationHandler.*": unsupported("ran the AWS node termination handler", INSTEAD.addon),
  "spec.nodeProblemDetector.*": unsupported("ran the node problem detector", INSTEAD.addon),
  "spec.metricsServer.*": unsupported("ran metrics-server", INSTEAD.addon),
  "spec.certManager.*": unsupported("ran cert-manager", INSTEAD.addon),
  "spec.awsLoadBalancerController.*": unsupported("ran the AWS Load Balancer Controller", INSTEAD.addon),
  "spec.clusterAutoscaler.*": unsupported(
    "ran cluster-autoscaler",
    `${INSTEAD.addon}; node groups with minSize < maxSize carry its discovery tags`,
  ),
  "spec.snapshotController.*": unsupported("ran the CSI snapshot controller", INSTEAD.addon),
  "spec.karpenter.*": unsupported("ran Karpenter", INSTEAD.addon),
  "spec.podIdentityWebhook.*": unsupported("ran the EKS pod identity webhook", INSTEAD.addon),
  "spec.authentication.*": unsupported("configured API authentication (aws-iam-authenticator)", INSTEAD.kubernetes),
  "spec.authorization.*": unsupported("chose the API's authorization mode (RBAC)", INSTEAD.kubernetes),
  "spec.nodeAuthorization.*": unsupported("configured a node authorizer", INSTEAD.kubernetes),
  "spec.serviceAccountIssuerDiscovery.*": unsupported(
    "published the service-account issuer (OIDC) for IAM roles of service accounts",
    INSTEAD.kubernetes,
  ),
  "spec.encryptionConfig": unsupported("encrypted Secrets at rest with an EncryptionConfiguration", INSTEAD.kubernetes),
  "spec.useHostCertificates": unsupported("mounted the host's CA certificates into components", INSTEAD.kubernetes),
  "spec.sysctlParameters": unsupported("set kernel parameters", INSTEAD.nodeup),
  "spec.assets.*": unsupported("pulled files and images from private mirrors", INSTEAD.nodeup),

  "spec.networking": mapped("networking"),
  // Each CNI kops knows is a choice of networking; the settings of those that have any are not carried.
  ...Object.fromEntries(
    Object.entries(KOPS_V1ALPHA2_TYPES.NetworkingSpec).flatMap(([cni, type]) => [
      [`spec.networking.${cni}`, mapped("networking")],
      ...(Object.keys(KOPS_V1ALPHA2_TYPES[type] ?? {}).length > 0 ? [[`spec.networking.${cni}.*`, CNI_SETTINGS]] : []),
    ]),
  ),

  "spec.api": mapped("apiLoadBalancerType"),
  "spec.api.dns": mapped("apiLoadBalancerType"),
  "spec.api.loadBalancer": mapped("apiLoadBalancerType"),
  "spec.api.loadBalancer.class": mapped("checked: Network"),
  "spec.api.loadBalancer.type": mapped("apiLoadBalancerType"),
  "spec.api.loadBalancer.idleTimeoutSeconds": bookkeeping(UNUSED),
  "spec.api.loadBalancer.securityGroupOverride": unsupported(
    "gave the API load balancer an existing security group instead of kops's",
    "the API load balancer has its own group, its rules made from adminAccess",
  ),
  "spec.api.loadBalancer.additionalSecurityGroups": unsupported(
    "added security groups to the API load balancer",
    "the API load balancer has its own group only",
  ),
  "spec.api.loadBalancer.useForInternalApi": mapped("checked: members reach the API through its load balancer"),
  "spec.api.loadBalancer.sslCertificate": unsupported(
    "terminated TLS at the load balancer with an ACM certificate",
    "the network load balancer passes TCP 443 through to the API servers",
  ),
  "spec.api.loadBalancer.sslPolicy": unsupported("chose the TLS policy of the load balancer's listener", "TCP pass-through, no TLS policy"),
  "spec.api.loadBalancer.crossZoneLoadBalancing": mapped("checked: on"),
  "spec.api.loadBalancer.subnets.*": unsupported(
    "placed the API load balancer in given subnets (with fixed addresses or Elastic IPs)",
    "the load balancer is in every zone's private (internal) or utility (public) subnet, with addresses AWS picks",
  ),
  "spec.api.loadBalancer.accessLog": mapped("apiAccessLogsBucket"),
  "spec.api.loadBalancer.accessLog.bucket": mapped("apiAccessLogsBucket"),
  "spec.api.loadBalancer.accessLog.bucketPrefix": mapped("checked: api/NAME"),
  "spec.api.loadBalancer.accessLog.interval": bookkeeping(UNUSED),

  "spec.cloudLabels": mapped("cloudLabels"),
  "spec.iam": mapped("checked: kopsform's IAM roles"),
  "spec.iam.legacy": mapped("checked: scoped roles"),
  "spec.iam.allowContainerRegistry": mapped("checked: ECR access"),
  "spec.iam.permissionsBoundary": unsupported("put a permissions boundary on the instance roles", INSTEAD.iam),
  "spec.iam.useServiceAccountExternalPermissions": unsupported("gave service accounts AWS permissions of their own", INSTEAD.iam),
  "spec.iam.serviceAccountExternalPermissions.*": unsupported("gave service accounts AWS permissions of their own", INSTEAD.iam),
  "spec.DisableSubnetTags": unsupported(
    "chose whether kops tags the subnets",
    "kopsform tags the subnets it creates and never tags shared ones (see Shared networks in the README)",
  ),
  "spec.target.*": unsupported(
    "added settings to the provider block of kops's Terraform output",
    "kopsform's provider block takes none; put them in a Terraform override file next to the stack",
  ),
  "spec.rollingUpdate.*": unsupported("tuned `kops rolling-update` (surge, unavailability, draining)", "the spec holds no rolling-update settings"),
  "spec.warmPool.*": unsupported("kept warm pools of pre-initialised instances", "no warm pools"),
};

/** InstanceGroup: `kops get ig --name NAME -o yaml`. */
const INSTANCE_GROUP: Readonly<Record<string, FieldRule>> = {
  ...METADATA,
  "metadata.name": mapped("masters, nodeGroups[].name, bastion"),
  "metadata.labels": mapped("checked: kops.k8s.io/cluster names the cluster"),

  "spec.manager": mapped("checked: auto-scaling groups"),
  "spec.role": mapped("masters, nodes, bastion"),
  "spec.image": mapped("image, nodeGroups[].image"),
  "spec.minSize": mapped("nodeCount, nodeGroups[].minSize"),
  "spec.maxSize": mapped("nodeCount, nodeGroups[].maxSize"),
  "spec.autoscale": mapped("checked: cluster-autoscaler tags"),
  "spec.autoscalePriority": unsupported("ranked the group for cluster-autoscaler's priority expander", "no priorities"),
  "spec.machineType": mapped("masterSize, nodeSize, nodeGroups[].size"),
  "spec.rootVolumeSize": mapped("masterVolumeSize, nodeVolumeSize, nodeGroups[].volumeSize"),
  "spec.rootVolumeType": mapped("checked: gp3"),
  "spec.rootVolumeIops": mapped("checked: 3000 (gp3's baseline)"),
  "spec.rootVolumeThroughput": mapped("checked: 125 MiB/s (gp3's baseline)"),
  "spec.rootVolumeEncryption": mapped("checked: encrypted"),
  "spec.rootVolumeEncryptionKey": unsupported("encrypted root volumes with a customer KMS key", "root volumes use the AWS-managed EBS key"),
  "spec.rootVolumeOptimization": unsupported("turned EBS optimisation on or off", "the instance type's default"),
  "spec.rootVolumeDeleteOnTermination": bookkeeping(UNUSED),
  "spec.volumes.*": unsupported("attached further EBS volumes to each instance", "instances have a root volume only (masters: and their etcd volumes)"),
  "spec.volumeMounts.*": unsupported("formatted and mounted further volumes", INSTEAD.nodeup),
  "spec.subnets": mapped("zones of the group"),
  "spec.zones": mapped("zones of the group"),
  "spec.hooks.*": unsupported("ran systemd units on the group's instances", INSTEAD.nodeup),
  "spec.fileAssets.*": unsupported("wrote files onto the group's instances", INSTEAD.nodeup),
  "spec.additionalUserData.*": unsupported("appended user data to kops's", INSTEAD.nodeup),
  "spec.packages": unsupported("installed extra OS packages", INSTEAD.nodeup),
  "spec.sysctlParameters": unsupported("set kernel parameters", INSTEAD.nodeup),
  "spec.updatePolicy": unsupported("chose whether nodeup applies OS updates automatically", INSTEAD.nodeup),
  "spec.containerd.*": unsupported("configured containerd for the group", INSTEAD.kubernetes),
  "spec.kubelet.*": unsupported("configured the group's kubelet", INSTEAD.kubernetes),
  "spec.maxPrice": unsupported("ran spot instances up to this price", INSTEAD.spot),
  "spec.spotDurationInMinutes": unsupported("ran spot blocks", INSTEAD.spot),
  "spec.mixedInstancesPolicy.*": unsupported("mixed instance types and spot capacity in the group", INSTEAD.spot),
  "spec.capacityRebalance": unsupported("replaced spot instances ahead of interruption", INSTEAD.spot),
  "spec.instanceInterruptionBehavior": unsupported("chose what happens to interrupted spot instances", INSTEAD.spot),
  "spec.cpuCredits": unsupported("set the CPU credit option of burstable instances", "AWS's default for the instance type"),
  "spec.associatePublicIp": mapped("checked: public addresses follow the topology"),
  "spec.additionalSecurityGroups": mapped("masterSecurityGroups, nodeSecurityGroups, nodeGroups[].securityGroups"),
  "spec.cloudLabels": mapped("checked: cluster-autoscaler tags"),
  "spec.nodeLabels": mapped("nodeGroups[].labels"),
  "spec.taints": mapped("nodeGroups[].taints"),
  "spec.tenancy": mapped("checked: default tenancy"),
  "spec.suspendProcesses": unsupported("suspended auto-scaling processes", "all processes run"),
  "spec.externalLoadBalancers.*": unsupported(
    "attached the group to further load balancers or target groups",
    "attach them with aws_autoscaling_attachment next to the stack",
  ),
  "spec.detailedInstanceMonitoring": mapped("checked: basic monitoring"),
  "spec.iam.*": unsupported("gave the group an existing instance profile", "one kopsform role and profile per role (masters, nodes, bastions)"),
  "spec.securityGroupOverride": unsupported("gave the group an existing security group instead of kops's", "the role's own group, plus any extra groups"),
  "spec.instanceProtection": unsupported("protected instances from scale-in", "no scale-in protection"),
  "spec.rollingUpdate.*": unsupported("tuned `kops rolling-update` for the group", "the spec holds no rolling-update settings"),
  "spec.compressUserData": bookkeeping("how kops packs its own user data; kopsform writes its own"),
  "spec.instanceMetadata": mapped("checked: IMDSv2, hop limit 1"),
  "spec.instanceMetadata.httpPutResponseHopLimit": mapped("checked: 1"),
  "spec.instanceMetadata.httpTokens": mapped("checked: required"),
  "spec.warmPool.*": unsupported("kept a warm pool of pre-initialised instances", "no warm pools"),
  "spec.guestAccelerators.*": bookkeeping(GCE_ONLY),
  "spec.gcpProvisioningModel": bookkeeping(GCE_ONLY),
  "spec.maxInstanceLifetime": unsupported("replaced instances after this lifetime", "no maximum lifetime"),
};

/** SSHCredential: the cluster's SSH public key, as kops stores it. */
const SSH_CREDENTIAL: Readonly<Record<string, FieldRule>> = {
  ...METADATA,
  "metadata.name": bookkeeping("kops names its SSH key admin"),
  "metadata.labels": mapped("checked: kops.k8s.io/cluster names the cluster"),
  "spec.publicKey": mapped("sshPublicKey"),
};

/** The rules of each kind the importer reads. */
export const FIELD_RULES: Readonly<Record<KopsKind, Readonly<Record<string, FieldRule>>>> = {
  Cluster: CLUSTER,
  InstanceGroup: INSTANCE_GROUP,
  SSHCredential: SSH_CREDENTIAL,
};

/** The rule that decides a path pattern, with the pattern it was found under; undefined when none covers it. */
export function ruleFor(kind: KopsKind, pattern: string): { key: string; rule: FieldRule } | undefined {
  const rules = FIELD_RULES[kind];
  if (rules[pattern]) {
    return { key: pattern, rule: rules[pattern] };
  }
  for (let prefix = pattern; prefix !== ""; prefix = parent(prefix)) {
    const key = `${prefix}.*`;
    if (rules[key]) {
      return { key, rule: rules[key] };
    }
  }
  return undefined;
}

/** `spec.a[].b` -> `spec.a[]` -> `spec.a` -> `spec` -> "". */
function parent(pattern: string): string {
  if (pattern.endsWith("[]")) {
    return pattern.slice(0, -2);
  }
  const dot = pattern.lastIndexOf(".");
  return dot < 0 ? "" : pattern.slice(0, dot);
}
