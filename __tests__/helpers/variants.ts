/**
 * The spread of cluster specs that whole-configuration properties (AWS's naming rules, the firewall's
 * invariants) must hold for: every topology with every API load balancer type and admin access, a
 * bastion, DNS zones by name and id, every networking option, node groups, shared VPCs, a retired
 * etcd member, and names at their length limits.
 */
import { NETWORKING_OPTIONS } from "../../spec/schema";
import { SEED_1, SEED_2, SEED_3 } from "./cluster";

export const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq3Yh0bT3t4w1V0Yb0K2fJQm6V2Gm4cFQ0cX1u2t3v4 admin@example.com";

/** A cluster name of the longest length kopsform accepts (80), with a 63-character label. */
export const LONGEST_NAME = `${"k".repeat(63)}.${"l".repeat(4)}.example.com`;

/** A shared VPC and its subnets, for either topology. */
function sharedVpc(topology: "public" | "private"): Record<string, unknown> {
  const zones = ["us-west-2a", "us-west-2b", "us-west-2c"];
  const roles = topology === "private" ? ["private", "utility"] : ["public"];
  return {
    vpc: "vpc-0123456789abcdef0",
    networkCidr: "10.1.0.0/16",
    flowLogs: false,
    subnets: zones.flatMap((zone, z) =>
      roles.map((type, r) => ({ zone, type, id: `subnet-0${z}${r}23456789abcdef` })),
    ),
  };
}

/** Every variant, by a readable label. */
export function specVariants(): [string, Record<string, unknown>][] {
  const variants: [string, Record<string, unknown>][] = [
    ["seed example 1", SEED_1],
    ["seed example 2", SEED_2],
    ["seed example 3", SEED_3],
  ];
  const admin: [string, Record<string, unknown>][] = [
    ["no adminAccess", {}],
    ["adminAccess IPv4 and IPv6", { adminAccess: ["203.0.113.0/24", "2001:db8::/32"] }],
    ["adminAccess 0.0.0.0/0", { adminAccess: ["0.0.0.0/0"] }],
  ];
  for (const topology of ["private", "public"] as const) {
    for (const lbType of [undefined, "public", "internal"] as const) {
      for (const [adminLabel, adminFields] of admin) {
        const extras: Record<string, unknown> =
          topology === "private"
            ? { bastion: true, sshAccess: ["198.51.100.0/24"], sshPublicKey: SSH_KEY, dnsZone: "example.com" }
            : { sshAccess: ["198.51.100.0/24", "2001:db8:1::/48"], sshPublicKey: SSH_KEY, dnsZone: "Z0123456789ABC" };
        variants.push([
          `${topology} topology, API load balancer ${lbType ?? "by default"}, ${adminLabel}`,
          { ...SEED_1, topology, ...(lbType ? { apiLoadBalancerType: lbType } : {}), ...adminFields, ...extras },
        ]);
      }
    }
  }
  for (const networking of NETWORKING_OPTIONS) {
    variants.push([`networking ${networking}`, { ...SEED_1, networking }]);
  }
  variants.push(
    ["a shared VPC, private topology, internet-facing API", { ...SEED_1, ...sharedVpc("private"), adminAccess: ["203.0.113.0/24"] }],
    ["a shared VPC, public topology", { ...SEED_1, topology: "public", ...sharedVpc("public") }],
    [
      "node groups with labels, taints and extra groups, and cloud labels",
      {
        ...SEED_2,
        nodeGroups: [
          {
            name: "gpu-workers-with-a-rather-long-name-0001",
            zones: ["us-west-2a"],
            size: "g4dn.xlarge",
            minSize: 0,
            maxSize: 3,
            labels: { "example.com/gpu": "true" },
            taints: ["nvidia.com/gpu=present:NoSchedule"],
            securityGroups: ["sg-0123456789abcdef0"],
          },
        ],
        cloudLabels: { Team: "Dev", Owner: "John Doe", "cost-center": "a/b:c=d+e@f" },
      },
    ],
    ["five masters over three zones, a member retired", { ...SEED_1, masterCount: 5, etcdMembers: ["a", "b", "c", "a-2", "b-2"], retiredEtcdMembers: ["c-2"] }],
    ["no flow logs, io2 etcd volumes, a customer KMS key", {
      ...SEED_1,
      flowLogs: false,
      etcdStorageType: "io2",
      etcdKmsKeyId: "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      allowApiLoadBalancerDeletion: true,
      apiAccessLogsBucket: "my-lb-logs",
    }],
    [
      "the longest cluster name, in a region with long zone names",
      {
        name: LONGEST_NAME,
        zones: ["ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"],
        masterCount: 5,
        masterZones: ["ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"],
        topology: "private",
        bastion: true,
        sshAccess: ["198.51.100.0/24"],
        sshPublicKey: SSH_KEY,
        adminAccess: ["203.0.113.0/24"],
        dnsZone: "example.com",
        nodeGroups: [{ name: "g".repeat(40), minSize: 1, maxSize: 2 }],
      },
    ],
  );
  return variants;
}
